// XTS over VAES on 512-bit vectors, 32 blocks (eight zmm) in flight,
// included twice by xts_amd64.s: NAME is the function, INS/INSLAST are
// VAESENC/VAESENCLAST or VAESDEC/VAESDECLAST.
//
// DI round keys, CX rounds, DX dst, SI src, BX unit size, R8 units left,
// R9 tweak of the current unit, R10 bytes left in the unit, R11 scratch.
// Z0-Z7 blocks (and scratch), Z8-Z15 the tweaks of the 32 blocks (four per
// register, in order), Z16-Z30 round keys broadcast to every lane, Z31 the
// reduction constant 0x87 in every lane. K1 masks a final partial vector.
TEXT NAME(SB), NOSPLIT, $0-56
	KERNELARGS

	// AES-128 leaves Z27-Z30 unused; the schedule array is always full size.
	VBROADCASTI32X4 0(DI), Z16
	VBROADCASTI32X4 16(DI), Z17
	VBROADCASTI32X4 32(DI), Z18
	VBROADCASTI32X4 48(DI), Z19
	VBROADCASTI32X4 64(DI), Z20
	VBROADCASTI32X4 80(DI), Z21
	VBROADCASTI32X4 96(DI), Z22
	VBROADCASTI32X4 112(DI), Z23
	VBROADCASTI32X4 128(DI), Z24
	VBROADCASTI32X4 144(DI), Z25
	VBROADCASTI32X4 160(DI), Z26
	VBROADCASTI32X4 176(DI), Z27
	VBROADCASTI32X4 192(DI), Z28
	VBROADCASTI32X4 208(DI), Z29
	VBROADCASTI32X4 224(DI), Z30
	VBROADCASTI32X4 gfpoly<>(SB), Z31

unit:
	// Z8 = T, Tx, Tx^2, Tx^3: the tweak in every lane, lane i shifted by i.
	VBROADCASTI32X4 (R9), Z0
	VPSRLVQ         shiftr<>(SB), Z0, Z1
	VPSLLVQ         shiftl<>(SB), Z0, Z8
	VPSLLDQ         $8, Z1, Z2
	VPCLMULQDQ      $0x01, Z31, Z1, Z1
	VPTERNLOGD      $0x96, Z1, Z2, Z8
	MULXK(4, Z8, Z9, Z0, Z1)
	MULXK(8, Z8, Z10, Z2, Z3)
	MULXK(12, Z8, Z11, Z4, Z5)
	MULXK(16, Z8, Z12, Z6, Z7)
	MULXK(20, Z8, Z13, Z0, Z1)
	MULXK(24, Z8, Z14, Z2, Z3)
	MULXK(28, Z8, Z15, Z4, Z5)
	MOVQ            BX, R10
	CMPQ            R10, $512
	JB              tail

main:
	VPXORQ 0(SI), Z8, Z0
	VPXORQ 64(SI), Z9, Z1
	VPXORQ 128(SI), Z10, Z2
	VPXORQ 192(SI), Z11, Z3
	VPXORQ 256(SI), Z12, Z4
	VPXORQ 320(SI), Z13, Z5
	VPXORQ 384(SI), Z14, Z6
	VPXORQ 448(SI), Z15, Z7
	ALLZ(VPXORQ, Z16)
	ALLZ(INS, Z17)
	ALLZ(INS, Z18)
	ALLZ(INS, Z19)
	ALLZ(INS, Z20)
	ALLZ(INS, Z21)
	ALLZ(INS, Z22)
	ALLZ(INS, Z23)
	ALLZ(INS, Z24)
	ALLZ(INS, Z25)
	CMPQ   CX, $10
	JEQ    main128
	ALLZ(INS, Z26)
	ALLZ(INS, Z27)
	ALLZ(INS, Z28)
	ALLZ(INS, Z29)
	ALLZ(INSLAST, Z30)
	JMP    mainout

main128:
	ALLZ(INSLAST, Z26)

mainout:
	VPXORQ    Z8, Z0, Z0
	VPXORQ    Z9, Z1, Z1
	VPXORQ    Z10, Z2, Z2
	VPXORQ    Z11, Z3, Z3
	VPXORQ    Z12, Z4, Z4
	VPXORQ    Z13, Z5, Z5
	VPXORQ    Z14, Z6, Z6
	VPXORQ    Z15, Z7, Z7
	VMOVDQU64 Z0, 0(DX)
	VMOVDQU64 Z1, 64(DX)
	VMOVDQU64 Z2, 128(DX)
	VMOVDQU64 Z3, 192(DX)
	VMOVDQU64 Z4, 256(DX)
	VMOVDQU64 Z5, 320(DX)
	VMOVDQU64 Z6, 384(DX)
	VMOVDQU64 Z7, 448(DX)

	// Next 32 tweaks: each register times x^32.
	MULX32(Z8, Z0)
	MULX32(Z9, Z1)
	MULX32(Z10, Z2)
	MULX32(Z11, Z3)
	MULX32(Z12, Z4)
	MULX32(Z13, Z5)
	MULX32(Z14, Z6)
	MULX32(Z15, Z7)
	ADDQ $512, SI
	ADDQ $512, DX
	SUBQ $512, R10
	CMPQ R10, $512
	JAE  main

tail:
	// Under 32 blocks left: one vector (four blocks) at a time with the
	// tweaks in Z8; the last vector may hold one to three blocks, so loads
	// and stores go through the quadword mask K1.
	TESTQ R10, R10
	JZ    next
	MOVL  $0xff, AX
	MOVQ  $64, R11
	CMPQ  R10, R11
	JAE   tailmask
	MOVQ  R10, R11
	SHRQ  $3, R11
	MOVL  $1, AX
	SHLXQ R11, AX, AX // 16, 32 or 48 bytes: 2, 4 or 6 quadwords
	DECQ  AX
	MOVQ  R10, R11

tailmask:
	KMOVW       AX, K1
	VMOVDQU64.Z (SI), K1, Z0
	VPXORQ      Z8, Z0, Z0
	VPXORQ      Z16, Z0, Z0
	INS         Z17, Z0, Z0
	INS         Z18, Z0, Z0
	INS         Z19, Z0, Z0
	INS         Z20, Z0, Z0
	INS         Z21, Z0, Z0
	INS         Z22, Z0, Z0
	INS         Z23, Z0, Z0
	INS         Z24, Z0, Z0
	INS         Z25, Z0, Z0
	CMPQ        CX, $10
	JEQ         tail128
	INS         Z26, Z0, Z0
	INS         Z27, Z0, Z0
	INS         Z28, Z0, Z0
	INS         Z29, Z0, Z0
	INSLAST     Z30, Z0, Z0
	JMP         tailout

tail128:
	INSLAST Z26, Z0, Z0

tailout:
	VPXORQ    Z8, Z0, Z0
	VMOVDQU64 Z0, K1, (DX)
	MULXK(4, Z8, Z8, Z1, Z2)
	ADDQ      R11, SI
	ADDQ      R11, DX
	SUBQ      R11, R10
	JMP       tail

next:
	ADDQ $16, R9
	DECQ R8
	JNZ  unit
	VZEROUPPER
	RET
