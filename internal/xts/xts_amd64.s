//go:build !purego

#include "textflag.h"

// 0x87 is x^7+x^2+x+1, the low part of the XTS polynomial; the 1 in the
// high quadword carries bit 63 into bit 64 in the SSE doubling (MULX).
DATA gfpoly<>+0(SB)/8, $0x87
DATA gfpoly<>+8(SB)/8, $1
GLOBL gfpoly<>(SB), RODATA|NOPTR, $16

// Per-quadword shift counts that turn four copies of T into T·x^i in lane i.
DATA shiftl<>+0(SB)/8, $0
DATA shiftl<>+8(SB)/8, $0
DATA shiftl<>+16(SB)/8, $1
DATA shiftl<>+24(SB)/8, $1
DATA shiftl<>+32(SB)/8, $2
DATA shiftl<>+40(SB)/8, $2
DATA shiftl<>+48(SB)/8, $3
DATA shiftl<>+56(SB)/8, $3
GLOBL shiftl<>(SB), RODATA|NOPTR, $64
DATA shiftr<>+0(SB)/8, $64
DATA shiftr<>+8(SB)/8, $64
DATA shiftr<>+16(SB)/8, $63
DATA shiftr<>+24(SB)/8, $63
DATA shiftr<>+32(SB)/8, $62
DATA shiftr<>+40(SB)/8, $62
DATA shiftr<>+48(SB)/8, $61
DATA shiftr<>+56(SB)/8, $61
GLOBL shiftr<>(SB), RODATA|NOPTR, $64

// KERNELARGS loads the arguments every XTS kernel shares:
// (rk *[15][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte).
#define KERNELARGS \
	MOVQ rk+0(FP), DI; \
	MOVQ rounds+8(FP), CX; \
	MOVQ dst+16(FP), DX; \
	MOVQ src+24(FP), SI; \
	MOVQ unitSize+32(FP), BX; \
	MOVQ nunits+40(FP), R8; \
	MOVQ tweaks+48(FP), R9

// MULX multiplies the tweak t by x (SSE2): double both quadwords, then fold
// the bit shifted out of each into the other (0x87 into the low, 1 into the
// high) using the sign bits spread by PSRAL/PSHUFD. X10 is scratch, X11
// holds gfpoly.
#define MULX(t) \
	MOVOU  t, X10; \
	PSRAL  $31, X10; \
	PSHUFD $0x13, X10, X10; \
	PAND   X11, X10; \
	PADDQ  t, t; \
	PXOR   X10, t

// LOADTWEAK loads block off of src into b xored with the tweak, parks the
// tweak at the same offset of dst (after the load, so in-place works) and
// advances the tweak.
#define LOADTWEAK(off, b) \
	MOVOU off(SI), b; \
	PXOR  X8, b; \
	MOVOU X8, off(DX); \
	MULX(X8)

// UNTWEAK xors the parked tweak back into b and stores it over it.
#define UNTWEAK(off, b) \
	MOVOU off(DX), X10; \
	PXOR  X10, b; \
	MOVOU b, off(DX)

#define ALL8(op, k) \
	op k, X0; op k, X1; op k, X2; op k, X3; \
	op k, X4; op k, X5; op k, X6; op k, X7

// MULXK sets dst = src·x^k in each 128-bit lane for 1 <= k <= 56: shift
// both quadwords left by k, carry the low quadword's top k bits into the
// high one, and fold the high quadword's top k bits back in times 0x87
// (a carry-less product of at most k+8 bits, so no second reduction).
// dst may be src; a and b are scratch.
#define MULXK(k, src, dst, a, b) \
	VPSRLQ     $(64-k), src, a; \
	VPSLLQ     $k, src, dst; \
	VPSLLDQ    $8, a, b; \
	VPCLMULQDQ $0x01, Z31, a, a; \
	VPTERNLOGD $0x96, a, b, dst

// MULX32 is MULXK for k = 32 done with byte shifts, one scratch register.
#define MULX32(t, a) \
	VPSRLDQ    $12, t, a; \
	VPSLLDQ    $4, t, t; \
	VPCLMULQDQ $0x00, Z31, a, a; \
	VPXORQ     a, t, t

#define ALLZ(op, k) \
	op k, Z0, Z0; op k, Z1, Z1; op k, Z2, Z2; op k, Z3, Z3; \
	op k, Z4, Z4; op k, Z5, Z5; op k, Z6, Z6; op k, Z7, Z7

// MULX4 multiplies both tweaks in the ymm t by x^4 (AVX2 + VPCLMULQDQ):
// MULXK for k = 4 without AVX-512's three-way xor. Y9, Y10 scratch, Y12
// holds gfpoly in each lane.
#define MULX4(t) \
	VPSRLQ     $60, t, Y9; \
	VPSLLQ     $4, t, t; \
	VPSLLDQ    $8, Y9, Y10; \
	VPCLMULQDQ $0x01, Y12, Y9, Y9; \
	VPXOR      Y9, t, t; \
	VPXOR      Y10, t, t

// LOADTWEAK2 and UNTWEAK2 are LOADTWEAK and UNTWEAK for two blocks; the
// tweaks alternate between two registers t (Y11, Y13), each advanced by
// x^4, which halves the dependency chain.
#define LOADTWEAK2(off, b, t) \
	VPXOR   off(SI), t, b; \
	VMOVDQU t, off(DX); \
	MULX4(t)

#define UNTWEAK2(off, b) \
	VPXOR   off(DX), b, b; \
	VMOVDQU b, off(DX)

#define ALLY(op, k) \
	op k, Y0, Y0; op k, Y1, Y1; op k, Y2, Y2; op k, Y3, Y3; \
	op k, Y4, Y4; op k, Y5, Y5; op k, Y6, Y6; op k, Y7, Y7

// func xtsEncAESNI(rk *[15][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)
#define NAME ·xtsEncAESNI
#define INS AESENC
#define INSLAST AESENCLAST
#include "aesni_amd64.h"
#undef NAME
#undef INS
#undef INSLAST

// func xtsDecAESNI(rk *[15][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)
#define NAME ·xtsDecAESNI
#define INS AESDEC
#define INSLAST AESDECLAST
#include "aesni_amd64.h"
#undef NAME
#undef INS
#undef INSLAST

// func xtsEncVAES512(rk *[15][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)
#define NAME ·xtsEncVAES512
#define INS VAESENC
#define INSLAST VAESENCLAST
#include "vaes512_amd64.h"
#undef NAME
#undef INS
#undef INSLAST

// func xtsDecVAES512(rk *[15][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)
#define NAME ·xtsDecVAES512
#define INS VAESDEC
#define INSLAST VAESDECLAST
#include "vaes512_amd64.h"
#undef NAME
#undef INS
#undef INSLAST

// func xtsEncVAES256(rk *[15][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)
#define NAME ·xtsEncVAES256
#define INS VAESENC
#define INSLAST VAESENCLAST
#include "vaes256_amd64.h"
#undef NAME
#undef INS
#undef INSLAST

// func xtsDecVAES256(rk *[15][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)
#define NAME ·xtsDecVAES256
#define INS VAESDEC
#define INSLAST VAESDECLAST
#include "vaes256_amd64.h"
#undef NAME
#undef INS
#undef INSLAST

// func cpuid7() (ebx, ecx uint32): CPUID leaf 7 subleaf 0, for the VAES
// and VPCLMULQDQ bits that x/sys/cpu reports only together with AVX-512.
TEXT ·cpuid7(SB), NOSPLIT, $0-8
	MOVL $7, AX
	MOVL $0, CX
	CPUID
	MOVL BX, ebx+0(FP)
	MOVL CX, ecx+4(FP)
	RET

// func ecbEncAESNI(rk *[15][16]byte, rounds int, buf *[16]byte, n int)
// Four blocks in flight, then one at a time; in place.
TEXT ·ecbEncAESNI(SB), NOSPLIT, $0-32
	MOVQ rk+0(FP), DI
	MOVQ rounds+8(FP), CX
	MOVQ buf+16(FP), SI
	MOVQ n+24(FP), BX
	SHLQ $4, CX

four:
	CMPQ  BX, $4
	JB    one
	MOVOU (DI), X4
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	PXOR  X4, X0
	PXOR  X4, X1
	PXOR  X4, X2
	PXOR  X4, X3
	MOVQ  $16, R11

round4:
	MOVOU  (DI)(R11*1), X4
	AESENC X4, X0
	AESENC X4, X1
	AESENC X4, X2
	AESENC X4, X3
	ADDQ   $16, R11
	CMPQ   R11, CX
	JB     round4
	MOVOU      (DI)(CX*1), X4
	AESENCLAST X4, X0
	AESENCLAST X4, X1
	AESENCLAST X4, X2
	AESENCLAST X4, X3
	MOVOU      X0, 0(SI)
	MOVOU      X1, 16(SI)
	MOVOU      X2, 32(SI)
	MOVOU      X3, 48(SI)
	ADDQ       $64, SI
	SUBQ       $4, BX
	JMP        four

one:
	TESTQ BX, BX
	JZ    done
	MOVOU (SI), X0
	MOVOU (DI), X4
	PXOR  X4, X0
	MOVQ  $16, R11

round1:
	MOVOU  (DI)(R11*1), X4
	AESENC X4, X0
	ADDQ   $16, R11
	CMPQ   R11, CX
	JB     round1
	MOVOU      (DI)(CX*1), X4
	AESENCLAST X4, X0
	MOVOU      X0, (SI)
	ADDQ       $16, SI
	DECQ       BX
	JMP        one

done:
	RET
