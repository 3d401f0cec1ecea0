//go:build amd64 && !noasm

#include "textflag.h"

// Attention-value kernels (AttnValues, attn_amd64.go): up to four (AVX-512)
// or two (AVX2) queries' weighted sums over nk cache rows of one column
// chunk, o[g][j] += sum_t p[g][t] * V[t][j]. Each row of the chunk is
// loaded and widened to float32 once and multiplied, by a broadcast
// weight, into every query's accumulators, which live in registers for
// the whole loop over the rows.
//
// Arguments (all kernels): o, ldo (floats between the queries' outputs),
// p, ldp (floats between their weights), nq (queries, 1..4 or 1..2), v (the
// first row's chunk), stride (bytes between rows), nk (rows, > 0).
// Registers: DI the outputs, AX ldo in bytes; R10..R13 the queries'
// current weights; R14 nq; SI the current row, R8 stride, R9 rows left.

// VALARGS loads the arguments shared by every kernel.
#define VALARGS \
	MOVQ o+0(FP), DI \
	MOVQ ldo+8(FP), AX \
	SHLQ $2, AX \
	MOVQ p+16(FP), R10 \
	MOVQ ldp+24(FP), BX \
	SHLQ $2, BX \
	LEAQ (R10)(BX*1), R11 \
	LEAQ (R11)(BX*1), R12 \
	LEAQ (R12)(BX*1), R13 \
	MOVQ nq+32(FP), R14 \
	MOVQ v+40(FP), SI \
	MOVQ stride+48(FP), R8 \
	MOVQ nk+56(FP), R9

// VALNEXT advances to the next row and the queries' next weights.
#define VALNEXT \
	ADDQ $4, R10 \
	ADDQ $4, R11 \
	ADDQ $4, R12 \
	ADDQ $4, R13 \
	ADDQ R8, SI \
	DECQ R9

// ---- AVX-512: 64 columns (4 registers) or 16 (one) per query.

// LOAD4 and STORE4 move one query's four accumulators from and to its
// output, then step to the next query's.
#define LOAD4(a0, a1, a2, a3) \
	VMOVUPS (DI), a0 \
	VMOVUPS 64(DI), a1 \
	VMOVUPS 128(DI), a2 \
	VMOVUPS 192(DI), a3 \
	ADDQ    AX, DI

#define STORE4(a0, a1, a2, a3) \
	VMOVUPS a0, (DI) \
	VMOVUPS a1, 64(DI) \
	VMOVUPS a2, 128(DI) \
	VMOVUPS a3, 192(DI) \
	ADDQ    AX, DI

// IFQ jumps to done when the queries are n or fewer: the code between
// two IFQs is query n's.
#define IFQ(n, done) \
	CMPQ R14, $n \
	JLE  done

// FMA4 adds weight (p) times the row's four registers into a query's
// accumulators.
#define FMA4(p, a0, a1, a2, a3) \
	VFMADD231PS.BCST (p), Z16, a0 \
	VFMADD231PS.BCST (p), Z17, a1 \
	VFMADD231PS.BCST (p), Z18, a2 \
	VFMADD231PS.BCST (p), Z19, a3

// VALLOOP4 is the loop of a 64-column kernel: LOADROW widens the current
// row's 64 values into Z16..Z19.
#define VALLOOP4(LOADROW) \
	VALARGS \
	MOVQ DI, DX \
	LOAD4(Z0, Z1, Z2, Z3) \
	IFQ(1, l1) \
	LOAD4(Z4, Z5, Z6, Z7) \
	IFQ(2, l1) \
	LOAD4(Z8, Z9, Z10, Z11) \
	IFQ(3, l1) \
	LOAD4(Z12, Z13, Z14, Z15) \
l1: \
	LOADROW \
	FMA4(R10, Z0, Z1, Z2, Z3) \
	IFQ(1, l2) \
	FMA4(R11, Z4, Z5, Z6, Z7) \
	IFQ(2, l2) \
	FMA4(R12, Z8, Z9, Z10, Z11) \
	IFQ(3, l2) \
	FMA4(R13, Z12, Z13, Z14, Z15) \
l2: \
	VALNEXT \
	JNZ l1 \
	MOVQ DX, DI \
	STORE4(Z0, Z1, Z2, Z3) \
	IFQ(1, done) \
	STORE4(Z4, Z5, Z6, Z7) \
	IFQ(2, done) \
	STORE4(Z8, Z9, Z10, Z11) \
	IFQ(3, done) \
	STORE4(Z12, Z13, Z14, Z15) \
done: \
	VZEROUPPER \
	RET

// VALLOOP1 is the loop of a 16-column kernel (LOADROW into Z16).
#define VALLOOP1(LOADROW) \
	VALARGS \
	MOVQ DI, DX \
	VMOVUPS (DI), Z0 \
	ADDQ AX, DI \
	IFQ(1, l1) \
	VMOVUPS (DI), Z1 \
	ADDQ AX, DI \
	IFQ(2, l1) \
	VMOVUPS (DI), Z2 \
	ADDQ AX, DI \
	IFQ(3, l1) \
	VMOVUPS (DI), Z3 \
l1: \
	LOADROW \
	VFMADD231PS.BCST (R10), Z16, Z0 \
	IFQ(1, l2) \
	VFMADD231PS.BCST (R11), Z16, Z1 \
	IFQ(2, l2) \
	VFMADD231PS.BCST (R12), Z16, Z2 \
	IFQ(3, l2) \
	VFMADD231PS.BCST (R13), Z16, Z3 \
l2: \
	VALNEXT \
	JNZ l1 \
	MOVQ DX, DI \
	VMOVUPS Z0, (DI) \
	ADDQ AX, DI \
	IFQ(1, done) \
	VMOVUPS Z1, (DI) \
	ADDQ AX, DI \
	IFQ(2, done) \
	VMOVUPS Z2, (DI) \
	ADDQ AX, DI \
	IFQ(3, done) \
	VMOVUPS Z3, (DI) \
done: \
	VZEROUPPER \
	RET

#define ROWF32X4 \
	VMOVUPS (SI), Z16 \
	VMOVUPS 64(SI), Z17 \
	VMOVUPS 128(SI), Z18 \
	VMOVUPS 192(SI), Z19

#define ROWF16X4 \
	VCVTPH2PS (SI), Z16 \
	VCVTPH2PS 32(SI), Z17 \
	VCVTPH2PS 64(SI), Z18 \
	VCVTPH2PS 96(SI), Z19

// Q8HALF widens sixteen int8 quants at off(SI) times the scale in zs.
#define Q8HALF(off, zs, zd) \
	VPMOVSXBD off(SI), zd \
	VCVTDQ2PS zd, zd \
	VMULPS    zs, zd, zd

// Q8SCALE broadcasts the fp16 scale of the block at off(SI) into zs.
#define Q8SCALE(off, ys, zs) \
	VPBROADCASTW off(SI), ys \
	VCVTPH2PS    ys, zs

#define ROWQ8X4 \
	Q8SCALE(0, Y24, Z24) \
	Q8SCALE(34, Y25, Z25) \
	Q8HALF(2, Z24, Z16) \
	Q8HALF(18, Z24, Z17) \
	Q8HALF(36, Z25, Z18) \
	Q8HALF(52, Z25, Z19)

#define ROWF32X1 VMOVUPS (SI), Z16
#define ROWF16X1 VCVTPH2PS (SI), Z16

// func attnValF32C64(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)
TEXT ·attnValF32C64(SB), NOSPLIT, $0-64
	VALLOOP4(ROWF32X4)

// func attnValF16C64(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)
TEXT ·attnValF16C64(SB), NOSPLIT, $0-64
	VALLOOP4(ROWF16X4)

// func attnValQ8C64(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)
// v points at the first of two Q8_0 blocks.
TEXT ·attnValQ8C64(SB), NOSPLIT, $0-64
	VALLOOP4(ROWQ8X4)

// func attnValF32C16(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)
TEXT ·attnValF32C16(SB), NOSPLIT, $0-64
	VALLOOP1(ROWF32X1)

// func attnValF16C16(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)
TEXT ·attnValF16C16(SB), NOSPLIT, $0-64
	VALLOOP1(ROWF16X1)

// ---- AVX2: 32 columns (4 registers) or 8 (one) per query, up to two
// queries.

#define YLOAD4(a0, a1, a2, a3) \
	VMOVUPS (DI), a0 \
	VMOVUPS 32(DI), a1 \
	VMOVUPS 64(DI), a2 \
	VMOVUPS 96(DI), a3 \
	ADDQ    AX, DI

#define YSTORE4(a0, a1, a2, a3) \
	VMOVUPS a0, (DI) \
	VMOVUPS a1, 32(DI) \
	VMOVUPS a2, 64(DI) \
	VMOVUPS a3, 96(DI) \
	ADDQ    AX, DI

#define YFMA4(p, a0, a1, a2, a3) \
	VBROADCASTSS (p), Y12 \
	VFMADD231PS  Y12, Y8, a0 \
	VFMADD231PS  Y12, Y9, a1 \
	VFMADD231PS  Y12, Y10, a2 \
	VFMADD231PS  Y12, Y11, a3

// YVALLOOP4 is the loop of a 32-column AVX2 kernel: LOADROW widens the
// current row's 32 values into Y8..Y11.
#define YVALLOOP4(LOADROW) \
	VALARGS \
	MOVQ DI, DX \
	YLOAD4(Y0, Y1, Y2, Y3) \
	IFQ(1, l1) \
	YLOAD4(Y4, Y5, Y6, Y7) \
l1: \
	LOADROW \
	YFMA4(R10, Y0, Y1, Y2, Y3) \
	IFQ(1, l2) \
	YFMA4(R11, Y4, Y5, Y6, Y7) \
l2: \
	VALNEXT \
	JNZ l1 \
	MOVQ DX, DI \
	YSTORE4(Y0, Y1, Y2, Y3) \
	IFQ(1, done) \
	YSTORE4(Y4, Y5, Y6, Y7) \
done: \
	VZEROUPPER \
	RET

// YVALLOOP1 is the loop of an 8-column AVX2 kernel (LOADROW into Y8).
#define YVALLOOP1(LOADROW) \
	VALARGS \
	MOVQ DI, DX \
	VMOVUPS (DI), Y0 \
	IFQ(1, l1) \
	VMOVUPS (DI)(AX*1), Y1 \
l1: \
	LOADROW \
	VBROADCASTSS (R10), Y12 \
	VFMADD231PS  Y12, Y8, Y0 \
	IFQ(1, l2) \
	VBROADCASTSS (R11), Y13 \
	VFMADD231PS  Y13, Y8, Y1 \
l2: \
	VALNEXT \
	JNZ l1 \
	MOVQ DX, DI \
	VMOVUPS Y0, (DI) \
	IFQ(1, done) \
	VMOVUPS Y1, (DI)(AX*1) \
done: \
	VZEROUPPER \
	RET

#define YROWF32X4 \
	VMOVUPS (SI), Y8 \
	VMOVUPS 32(SI), Y9 \
	VMOVUPS 64(SI), Y10 \
	VMOVUPS 96(SI), Y11

#define YROWF16X4 \
	VCVTPH2PS (SI), Y8 \
	VCVTPH2PS 16(SI), Y9 \
	VCVTPH2PS 32(SI), Y10 \
	VCVTPH2PS 48(SI), Y11

// YQ8 widens eight int8 quants at off(SI) times the scale in Y13.
#define YQ8(off, yd) \
	VPMOVSXBD off(SI), yd \
	VCVTDQ2PS yd, yd \
	VMULPS    Y13, yd, yd

#define YROWQ8X4 \
	VPBROADCASTW (SI), X13 \
	VCVTPH2PS    X13, Y13 \
	YQ8(2, Y8) \
	YQ8(10, Y9) \
	YQ8(18, Y10) \
	YQ8(26, Y11)

#define YROWF32X1 VMOVUPS (SI), Y8
#define YROWF16X1 VCVTPH2PS (SI), Y8

// func attnValF32C32(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)
TEXT ·attnValF32C32(SB), NOSPLIT, $0-64
	YVALLOOP4(YROWF32X4)

// func attnValF16C32(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)
TEXT ·attnValF16C32(SB), NOSPLIT, $0-64
	YVALLOOP4(YROWF16X4)

// func attnValQ8C32(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)
// v points at a Q8_0 block.
TEXT ·attnValQ8C32(SB), NOSPLIT, $0-64
	YVALLOOP4(YROWQ8X4)

// func attnValF32C8(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)
TEXT ·attnValF32C8(SB), NOSPLIT, $0-64
	YVALLOOP1(YROWF32X1)

// func attnValF16C8(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)
TEXT ·attnValF16C8(SB), NOSPLIT, $0-64
	YVALLOOP1(YROWF16X1)

// func encodeF16F16C(dst *byte, x *float32, n int)
// Eight float32 to fp16 per VCVTPS2PH (round to nearest even, as
// FP32ToFP16); n is a multiple of 8.
TEXT ·encodeF16F16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   e16done

e16loop:
	VMOVUPS   (SI), Y0
	VCVTPS2PH $0, Y0, X0
	VMOVDQU   X0, (DI)
	ADDQ      $32, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       e16loop

e16done:
	VZEROUPPER
	RET

// func prefetchLines(p *byte, n int)
// PREFETCHT0 of every 64-byte line of [p, p+n), n > 0.
TEXT ·prefetchLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	ADDQ SI, CX

prefetch:
	PREFETCHT0 (SI)
	ADDQ       $64, SI
	CMPQ       SI, CX
	JB         prefetch
	RET
