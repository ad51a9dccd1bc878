// XTS over AES-NI, eight blocks in flight, included twice by xts_amd64.s:
// NAME is the function, INS/INSLAST are AESENC/AESENCLAST or
// AESDEC/AESDECLAST (the caller passes the matching key schedule).
//
// DI round keys, CX rounds*16 (offset of the last round key), DX dst,
// SI src, BX unit size, R8 units left, R9 tweak of the current unit,
// R10 bytes left in the unit, R11 round key offset.
// X0-X7 blocks, X8 tweak, X9 round key, X10 scratch, X11 GF(2^128) mask.
// The eight tweaks of a batch are parked in dst and xored back from there,
// because legacy SSE has only sixteen registers.
TEXT NAME(SB), NOSPLIT, $0-56
	KERNELARGS
	MOVOU gfpoly<>(SB), X11
	SHLQ $4, CX

unit:
	MOVOU (R9), X8
	MOVQ  BX, R10
	CMPQ  R10, $128
	JB    single

eight:
	LOADTWEAK(0, X0)
	LOADTWEAK(16, X1)
	LOADTWEAK(32, X2)
	LOADTWEAK(48, X3)
	LOADTWEAK(64, X4)
	LOADTWEAK(80, X5)
	LOADTWEAK(96, X6)
	LOADTWEAK(112, X7)
	MOVOU (DI), X9
	ALL8(PXOR, X9)
	MOVQ  $16, R11

round8:
	MOVOU (DI)(R11*1), X9
	ALL8(INS, X9)
	ADDQ  $16, R11
	CMPQ  R11, CX
	JB    round8
	MOVOU (DI)(CX*1), X9
	ALL8(INSLAST, X9)
	UNTWEAK(0, X0)
	UNTWEAK(16, X1)
	UNTWEAK(32, X2)
	UNTWEAK(48, X3)
	UNTWEAK(64, X4)
	UNTWEAK(80, X5)
	UNTWEAK(96, X6)
	UNTWEAK(112, X7)
	ADDQ  $128, SI
	ADDQ  $128, DX
	SUBQ  $128, R10
	CMPQ  R10, $128
	JAE   eight

single:
	TESTQ R10, R10
	JZ    next
	MOVOU (SI), X0
	PXOR  X8, X0
	MOVOU (DI), X9
	PXOR  X9, X0
	MOVQ  $16, R11

round1:
	MOVOU   (DI)(R11*1), X9
	INS     X9, X0
	ADDQ    $16, R11
	CMPQ    R11, CX
	JB      round1
	MOVOU   (DI)(CX*1), X9
	INSLAST X9, X0
	PXOR    X8, X0
	MOVOU   X0, (DX)
	MULX(X8)
	ADDQ    $16, SI
	ADDQ    $16, DX
	SUBQ    $16, R10
	JMP     single

next:
	ADDQ $16, R9
	DECQ R8
	JNZ  unit
	RET
