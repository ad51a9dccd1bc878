// XTS over VAES on 256-bit vectors (AVX2, no AVX-512: Zen 3, Alder Lake),
// 16 blocks (eight ymm) in flight, included twice by xts_amd64.s: NAME is
// the function, INS/INSLAST are VAESENC/VAESENCLAST or VAESDEC/VAESDECLAST.
//
// DI round keys, CX rounds*16 (offset of the last round key), DX dst,
// SI src, BX unit size, R8 units left, R9 tweak of the current unit,
// R10 bytes left in the unit, R11 round key offset.
// Y0-Y7 blocks, Y8 round key (both lanes), Y9-Y10 scratch, Y11 the next two
// tweaks and Y13 the two after them, Y12 the reduction constant 0x87 in
// each lane. With sixteen
// registers the tweaks of a batch are parked in dst, as in the SSE path.
TEXT NAME(SB), NOSPLIT, $0-56
	KERNELARGS
	VBROADCASTI128 gfpoly<>(SB), Y12
	SHLQ $4, CX

unit:
	// Y11 = T, Tx.
	VBROADCASTI128 (R9), Y11
	VPSRLVQ        shiftr<>(SB), Y11, Y9
	VPSLLVQ        shiftl<>(SB), Y11, Y11
	VPSLLDQ        $8, Y9, Y10
	VPCLMULQDQ     $0x01, Y12, Y9, Y9
	VPXOR          Y9, Y11, Y11
	VPXOR          Y10, Y11, Y11
	VPSRLQ         $62, Y11, Y9 // Y13 = Y11·x^2
	VPSLLQ         $2, Y11, Y13
	VPSLLDQ        $8, Y9, Y10
	VPCLMULQDQ     $0x01, Y12, Y9, Y9
	VPXOR          Y9, Y13, Y13
	VPXOR          Y10, Y13, Y13
	MOVQ           BX, R10
	CMPQ           R10, $256
	JB             pair

sixteen:
	LOADTWEAK2(0, Y0, Y11)
	LOADTWEAK2(32, Y1, Y13)
	LOADTWEAK2(64, Y2, Y11)
	LOADTWEAK2(96, Y3, Y13)
	LOADTWEAK2(128, Y4, Y11)
	LOADTWEAK2(160, Y5, Y13)
	LOADTWEAK2(192, Y6, Y11)
	LOADTWEAK2(224, Y7, Y13)
	VBROADCASTI128 (DI), Y8
	ALLY(VPXOR, Y8)
	MOVQ           $16, R11

round16:
	VBROADCASTI128 (DI)(R11*1), Y8
	ALLY(INS, Y8)
	ADDQ           $16, R11
	CMPQ           R11, CX
	JB             round16
	VBROADCASTI128 (DI)(CX*1), Y8
	ALLY(INSLAST, Y8)
	UNTWEAK2(0, Y0)
	UNTWEAK2(32, Y1)
	UNTWEAK2(64, Y2)
	UNTWEAK2(96, Y3)
	UNTWEAK2(128, Y4)
	UNTWEAK2(160, Y5)
	UNTWEAK2(192, Y6)
	UNTWEAK2(224, Y7)
	ADDQ           $256, SI
	ADDQ           $256, DX
	SUBQ           $256, R10
	CMPQ           R10, $256
	JAE            sixteen

pair:
	// Two blocks at a time, then a last odd block in the low lane.
	CMPQ           R10, $32
	JB             single
	VPXOR          (SI), Y11, Y0
	VBROADCASTI128 (DI), Y8
	VPXOR          Y8, Y0, Y0
	MOVQ           $16, R11

round2:
	VBROADCASTI128 (DI)(R11*1), Y8
	INS            Y8, Y0, Y0
	ADDQ           $16, R11
	CMPQ           R11, CX
	JB             round2
	VBROADCASTI128 (DI)(CX*1), Y8
	INSLAST        Y8, Y0, Y0
	VPXOR          Y11, Y0, Y0
	VMOVDQU        Y0, (DX)
	MULX4(Y11)
	VMOVDQU        Y11, Y9 // the next pair is in Y13
	VMOVDQU        Y13, Y11
	VMOVDQU        Y9, Y13
	ADDQ           $32, SI
	ADDQ           $32, DX
	SUBQ           $32, R10
	JMP            pair

single:
	TESTQ   R10, R10
	JZ      next
	VMOVDQU (SI), X0
	VPXOR   X11, X0, X0
	VPXOR   (DI), X0, X0
	MOVQ    $16, R11

round1:
	INS     (DI)(R11*1), X0, X0
	ADDQ    $16, R11
	CMPQ    R11, CX
	JB      round1
	INSLAST (DI)(CX*1), X0, X0
	VPXOR   X11, X0, X0
	VMOVDQU X0, (DX)
	ADDQ    $16, SI
	ADDQ    $16, DX

next:
	ADDQ $16, R9
	DECQ R8
	JNZ  unit
	VZEROUPPER
	RET
