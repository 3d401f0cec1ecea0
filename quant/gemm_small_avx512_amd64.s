//go:build amd64 && !noasm

#include "textflag.h"

// Small-batch AVX-512 VNNI tiles of MatMul for Q8_0 weights: the batch
// sizes of continuous batching (one vector per decoding sequence, 2-16),
// where the 4x4 tile of gemm_avx512_amd64.s wasted its padding vectors and
// spent three float operations (convert, scale product, FMA) per VPDPBUSD;
// groups of eight vectors of any batch up to x4MaxTokens (prompts too) take
// the 2x8 tile.
// Reference loops: gemm_small_avx512_amd64.go. Each kernel below is the
// same loop written out for its shape (rows x vectors) from the macros.
//
// The vectors come in the Batch's x4 layout: per group of four blocks,
// 256 bytes: A (64 bytes: the first 16 quants of blocks 0..3, 16 bytes
// each), B (the last 16 quants of each), the 16 int32 biases of the lanes
// (-128 x the sum of the 8 quants a lane meets) and the 16 float32 scales
// (each block's scale in its 4 lanes). A row's four blocks (136 bytes) are
// loaded as two registers of two whole blocks, made unsigned (XOR 0x80),
// and shuffled by 128-bit lanes into the same A and B order, so one lane
// of two VPDPBUSD sums 8 products of one block: the float work (VCVTDQ2PS,
// VMULPS of the two scales, VFMADD231PS) is done once per four blocks and
// (row, vector) pair instead of once per two.
//
// Registers: R8..R11 the weight rows; the vectors' x4 data at SI, DI, BX,
// DX (then R10..R13 for the 2-row tiles of 5-8 vectors), all at offset AX; CX groups left.
// Accumulators Z0..Z15, acc(row r, vector t) = Z(t*rows + r), which is
// also its place in out. Row i's A, B and scales in Z(16+3i), Z(17+3i),
// Z(18+3i); Z28, Z29 temporaries; Z30 bytes 0x80; Z31 the scale
// permutation.

DATA x4b80<>+0(SB)/4, $0x80808080
GLOBL x4b80<>(SB), RODATA|NOPTR, $4

// x4sperm picks the fp16 scales of four Q8_0 blocks (34 bytes = 17 words
// apart) from two 64-byte loads, each four times, for VPERMT2W.
DATA x4sperm<>+0(SB)/8, $0x0000000000000000
DATA x4sperm<>+8(SB)/8, $0x0011001100110011
DATA x4sperm<>+16(SB)/8, $0x0022002200220022
DATA x4sperm<>+24(SB)/8, $0x0033003300330033
DATA x4sperm<>+32(SB)/8, $0
DATA x4sperm<>+40(SB)/8, $0
DATA x4sperm<>+48(SB)/8, $0
DATA x4sperm<>+56(SB)/8, $0
GLOBL x4sperm<>(SB), RODATA|NOPTR, $64

// X4ROW loads four blocks of row wr into za (A order), zb (B order) and
// their scales zs (each in its four lanes), prefetches the weights 4 KiB
// ahead and advances wr past the blocks. yb is zb's lower half.
#define X4ROW(wr, za, zb, yb, zs) \
	PREFETCHT0   4096(wr) \
	PREFETCHT0   4160(wr) \
	PREFETCHT0   4224(wr) \
	VMOVDQU8     2(wr), yb \
	VINSERTI64X4 $1, 36(wr), zb, zb \
	VMOVDQU8     70(wr), Y28 \
	VINSERTI64X4 $1, 104(wr), Z28, Z28 \
	VPXORD       Z30, zb, zb \
	VPXORD       Z30, Z28, Z28 \
	VSHUFI64X2   $0x88, Z28, zb, za \
	VSHUFI64X2   $0xdd, Z28, zb, zb \
	VMOVDQU16    (wr), Z28 \
	VMOVDQU16    64(wr), Z29 \
	VPERMT2W     Z29, Z31, Z28 \
	VCVTPH2PS    Y28, zs \
	ADDQ         $136, wr

// X4PAIR adds the products of one row's four blocks (za, zb, zs) with one
// vector's (x4 group at vp+AX) into acc: the lanes start from the bias,
// two VPDPBUSD, then convert, times the product of the scales, add.
#define X4PAIR(vp, za, zb, zs, acc) \
	VMOVDQU32   128(vp)(AX*1), Z28 \
	VPDPBUSD    (vp)(AX*1), za, Z28 \
	VPDPBUSD    64(vp)(AX*1), zb, Z28 \
	VCVTDQ2PS   Z28, Z28 \
	VMULPS      192(vp)(AX*1), zs, Z29 \
	VFMADD231PS Z29, Z28, acc

// X4HALF adds the upper 256 bits of an accumulator to its lower half.
#define X4HALF(a, y) \
	VEXTRACTF32X8 $1, a, Y28 \
	VADDPS        Y28, y, y

// X4STORE2 sums the eight lanes of each of two accumulators' lower halves
// (y0, y1, overwritten) and stores the two sums to off(AX).
#define X4STORE2(y0, y1, x0, x1, off) \
	VHADDPS      y1, y0, y0 \
	VEXTRACTF128 $1, y0, x1 \
	VADDPS       x1, x0, x0 \
	VHADDPS      x0, x0, x0 \
	VMOVQ        x0, off(AX)

// X4STORE4 sums the eight lanes of each of four accumulators' lower halves
// (y0..y3, overwritten; x1 is y1's lower half, free after the first
// VHADDPS) and stores the four sums to off(AX).
#define X4STORE4(y0, y1, y2, y3, x0, x1, off) \
	VHADDPS      y1, y0, y0 \
	VHADDPS      y3, y2, y2 \
	VHADDPS      y2, y0, y0 \
	VEXTRACTF128 $1, y0, x1 \
	VADDPS       x1, x0, x0 \
	VMOVUPS      x0, off(AX)

// x4sum16 puts the sixteen sums of X4STORE16's last step in order.
DATA x4sum16<>+0(SB)/8, $0x0000000400000000
DATA x4sum16<>+8(SB)/8, $0x0000000c00000008
DATA x4sum16<>+16(SB)/8, $0x0000000500000001
DATA x4sum16<>+24(SB)/8, $0x0000000d00000009
DATA x4sum16<>+32(SB)/8, $0x0000000600000002
DATA x4sum16<>+40(SB)/8, $0x0000000e0000000a
DATA x4sum16<>+48(SB)/8, $0x0000000700000003
DATA x4sum16<>+56(SB)/8, $0x0000000f0000000b
GLOBL x4sum16<>(SB), RODATA|NOPTR, $64

// X4FOLD256 sets Z(a) = [a.lo + a.hi | b.lo + b.hi] (256-bit halves).
#define X4FOLD256(za, zb, yb) \
	VINSERTF64X4 $1, yb, za, Z16 \
	VSHUFF64X2   $0xee, zb, za, Z17 \
	VADDPS       Z17, Z16, za

// X4FOLD128 sets Z(a) = [a.g0+a.g1, a.g2+a.g3, b.g0+b.g1, b.g2+b.g3]
// (128-bit groups).
#define X4FOLD128(za, zb) \
	VSHUFF64X2 $0x88, zb, za, Z16 \
	VSHUFF64X2 $0xdd, zb, za, Z17 \
	VADDPS     Z17, Z16, za

// X4FOLD32 sets, in each 128-bit group, a = [a0+a1, a2+a3, b0+b1, b2+b3].
#define X4FOLD32(za, zb) \
	VSHUFPS $0x88, zb, za, Z16 \
	VSHUFPS $0xdd, zb, za, Z17 \
	VADDPS  Z17, Z16, za

// X4STORE16 sums the sixteen lanes of each of Z0..Z15 and stores the
// sums in order to out (AX): a tree of shuffles and adds (46 operations
// instead of 16 separate horizontal sums), ending transposed, which one
// VPERMPS undoes. Clobbers Z16..Z18 (the tile's rows are done with).
#define X4STORE16 \
	X4FOLD256(Z0, Z1, Y1) \
	X4FOLD256(Z2, Z3, Y3) \
	X4FOLD256(Z4, Z5, Y5) \
	X4FOLD256(Z6, Z7, Y7) \
	X4FOLD256(Z8, Z9, Y9) \
	X4FOLD256(Z10, Z11, Y11) \
	X4FOLD256(Z12, Z13, Y13) \
	X4FOLD256(Z14, Z15, Y15) \
	X4FOLD128(Z0, Z2) \
	X4FOLD128(Z4, Z6) \
	X4FOLD128(Z8, Z10) \
	X4FOLD128(Z12, Z14) \
	X4FOLD32(Z0, Z4) \
	X4FOLD32(Z8, Z12) \
	X4FOLD32(Z0, Z8) \
	VMOVDQU32 x4sum16<>(SB), Z18 \
	VPERMPS   Z0, Z18, Z1 \
	VMOVUPS   Z1, (AX)

// X4SUM16 is X4STORE16 leaving the sixteen sums in Z1 (vector t's two
// rows in qword t) instead of storing them.
#define X4SUM16 \
	X4FOLD256(Z0, Z1, Y1) \
	X4FOLD256(Z2, Z3, Y3) \
	X4FOLD256(Z4, Z5, Y5) \
	X4FOLD256(Z6, Z7, Y7) \
	X4FOLD256(Z8, Z9, Y9) \
	X4FOLD256(Z10, Z11, Y11) \
	X4FOLD256(Z12, Z13, Y13) \
	X4FOLD256(Z14, Z15, Y15) \
	X4FOLD128(Z0, Z2) \
	X4FOLD128(Z4, Z6) \
	X4FOLD128(Z8, Z10) \
	X4FOLD128(Z12, Z14) \
	X4FOLD32(Z0, Z4) \
	X4FOLD32(Z8, Z12) \
	X4FOLD32(Z0, Z8) \
	VMOVDQU32 x4sum16<>(SB), Z18 \
	VPERMPS   Z0, Z18, Z1

// func gemmQ8_0X4R2V8(w0, w1 *byte, x *byte, xstride, n int, out *[16]float32)
TEXT ·gemmQ8_0X4R2V8(SB), NOSPLIT, $0-48
	MOVQ         w0+0(FP), R8
	MOVQ         w1+8(FP), R9
	MOVQ         x+16(FP), SI
	MOVQ         xstride+24(FP), R14
	LEAQ         (SI)(R14*1), DI
	LEAQ         (DI)(R14*1), BX
	LEAQ         (BX)(R14*1), DX
	LEAQ         (DX)(R14*1), R10
	LEAQ         (R10)(R14*1), R11
	LEAQ         (R11)(R14*1), R12
	LEAQ         (R12)(R14*1), R13
	MOVQ         n+32(FP), CX
	XORQ         AX, AX
	VPBROADCASTD x4b80<>(SB), Z30
	VMOVDQU64    x4sperm<>(SB), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPXORD       Z10, Z10, Z10
	VPXORD       Z11, Z11, Z11
	VPXORD       Z12, Z12, Z12
	VPXORD       Z13, Z13, Z13
	VPXORD       Z14, Z14, Z14
	VPXORD       Z15, Z15, Z15
	TESTQ        CX, CX
	JZ           gemmQ8_0X4R2V8_done

gemmQ8_0X4R2V8_loop:
	X4ROW(R8, Z16, Z17, Y17, Z18)
	X4ROW(R9, Z19, Z20, Y20, Z21)
	X4PAIR(SI, Z16, Z17, Z18, Z0)
	X4PAIR(SI, Z19, Z20, Z21, Z1)
	X4PAIR(DI, Z16, Z17, Z18, Z2)
	X4PAIR(DI, Z19, Z20, Z21, Z3)
	X4PAIR(BX, Z16, Z17, Z18, Z4)
	X4PAIR(BX, Z19, Z20, Z21, Z5)
	X4PAIR(DX, Z16, Z17, Z18, Z6)
	X4PAIR(DX, Z19, Z20, Z21, Z7)
	X4PAIR(R10, Z16, Z17, Z18, Z8)
	X4PAIR(R10, Z19, Z20, Z21, Z9)
	X4PAIR(R11, Z16, Z17, Z18, Z10)
	X4PAIR(R11, Z19, Z20, Z21, Z11)
	X4PAIR(R12, Z16, Z17, Z18, Z12)
	X4PAIR(R12, Z19, Z20, Z21, Z13)
	X4PAIR(R13, Z16, Z17, Z18, Z14)
	X4PAIR(R13, Z19, Z20, Z21, Z15)
	ADDQ         $256, AX
	DECQ         CX
	JNZ          gemmQ8_0X4R2V8_loop

gemmQ8_0X4R2V8_done:
	MOVQ         out+40(FP), AX
	X4STORE16
	VZEROUPPER
	RET

// func gemmQ8_0X4R2V7(w0, w1 *byte, x *byte, xstride, n int, out *[14]float32)
TEXT ·gemmQ8_0X4R2V7(SB), NOSPLIT, $0-48
	MOVQ         w0+0(FP), R8
	MOVQ         w1+8(FP), R9
	MOVQ         x+16(FP), SI
	MOVQ         xstride+24(FP), R14
	LEAQ         (SI)(R14*1), DI
	LEAQ         (DI)(R14*1), BX
	LEAQ         (BX)(R14*1), DX
	LEAQ         (DX)(R14*1), R10
	LEAQ         (R10)(R14*1), R11
	LEAQ         (R11)(R14*1), R12
	MOVQ         n+32(FP), CX
	XORQ         AX, AX
	VPBROADCASTD x4b80<>(SB), Z30
	VMOVDQU64    x4sperm<>(SB), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPXORD       Z10, Z10, Z10
	VPXORD       Z11, Z11, Z11
	VPXORD       Z12, Z12, Z12
	VPXORD       Z13, Z13, Z13
	TESTQ        CX, CX
	JZ           gemmQ8_0X4R2V7_done

gemmQ8_0X4R2V7_loop:
	X4ROW(R8, Z16, Z17, Y17, Z18)
	X4ROW(R9, Z19, Z20, Y20, Z21)
	X4PAIR(SI, Z16, Z17, Z18, Z0)
	X4PAIR(SI, Z19, Z20, Z21, Z1)
	X4PAIR(DI, Z16, Z17, Z18, Z2)
	X4PAIR(DI, Z19, Z20, Z21, Z3)
	X4PAIR(BX, Z16, Z17, Z18, Z4)
	X4PAIR(BX, Z19, Z20, Z21, Z5)
	X4PAIR(DX, Z16, Z17, Z18, Z6)
	X4PAIR(DX, Z19, Z20, Z21, Z7)
	X4PAIR(R10, Z16, Z17, Z18, Z8)
	X4PAIR(R10, Z19, Z20, Z21, Z9)
	X4PAIR(R11, Z16, Z17, Z18, Z10)
	X4PAIR(R11, Z19, Z20, Z21, Z11)
	X4PAIR(R12, Z16, Z17, Z18, Z12)
	X4PAIR(R12, Z19, Z20, Z21, Z13)
	ADDQ         $256, AX
	DECQ         CX
	JNZ          gemmQ8_0X4R2V7_loop

gemmQ8_0X4R2V7_done:
	MOVQ         out+40(FP), AX
	X4HALF(Z0, Y0)
	X4HALF(Z1, Y1)
	X4HALF(Z2, Y2)
	X4HALF(Z3, Y3)
	X4HALF(Z4, Y4)
	X4HALF(Z5, Y5)
	X4HALF(Z6, Y6)
	X4HALF(Z7, Y7)
	X4HALF(Z8, Y8)
	X4HALF(Z9, Y9)
	X4HALF(Z10, Y10)
	X4HALF(Z11, Y11)
	X4HALF(Z12, Y12)
	X4HALF(Z13, Y13)
	X4STORE4(Y0, Y1, Y2, Y3, X0, X1, 0)
	X4STORE4(Y4, Y5, Y6, Y7, X4, X5, 16)
	X4STORE4(Y8, Y9, Y10, Y11, X8, X9, 32)
	X4STORE2(Y12, Y13, X12, X13, 48)
	VZEROUPPER
	RET

// func gemmQ8_0X4R2V6(w0, w1 *byte, x *byte, xstride, n int, out *[12]float32)
TEXT ·gemmQ8_0X4R2V6(SB), NOSPLIT, $0-48
	MOVQ         w0+0(FP), R8
	MOVQ         w1+8(FP), R9
	MOVQ         x+16(FP), SI
	MOVQ         xstride+24(FP), R14
	LEAQ         (SI)(R14*1), DI
	LEAQ         (DI)(R14*1), BX
	LEAQ         (BX)(R14*1), DX
	LEAQ         (DX)(R14*1), R10
	LEAQ         (R10)(R14*1), R11
	MOVQ         n+32(FP), CX
	XORQ         AX, AX
	VPBROADCASTD x4b80<>(SB), Z30
	VMOVDQU64    x4sperm<>(SB), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPXORD       Z10, Z10, Z10
	VPXORD       Z11, Z11, Z11
	TESTQ        CX, CX
	JZ           gemmQ8_0X4R2V6_done

gemmQ8_0X4R2V6_loop:
	X4ROW(R8, Z16, Z17, Y17, Z18)
	X4ROW(R9, Z19, Z20, Y20, Z21)
	X4PAIR(SI, Z16, Z17, Z18, Z0)
	X4PAIR(SI, Z19, Z20, Z21, Z1)
	X4PAIR(DI, Z16, Z17, Z18, Z2)
	X4PAIR(DI, Z19, Z20, Z21, Z3)
	X4PAIR(BX, Z16, Z17, Z18, Z4)
	X4PAIR(BX, Z19, Z20, Z21, Z5)
	X4PAIR(DX, Z16, Z17, Z18, Z6)
	X4PAIR(DX, Z19, Z20, Z21, Z7)
	X4PAIR(R10, Z16, Z17, Z18, Z8)
	X4PAIR(R10, Z19, Z20, Z21, Z9)
	X4PAIR(R11, Z16, Z17, Z18, Z10)
	X4PAIR(R11, Z19, Z20, Z21, Z11)
	ADDQ         $256, AX
	DECQ         CX
	JNZ          gemmQ8_0X4R2V6_loop

gemmQ8_0X4R2V6_done:
	MOVQ         out+40(FP), AX
	X4HALF(Z0, Y0)
	X4HALF(Z1, Y1)
	X4HALF(Z2, Y2)
	X4HALF(Z3, Y3)
	X4HALF(Z4, Y4)
	X4HALF(Z5, Y5)
	X4HALF(Z6, Y6)
	X4HALF(Z7, Y7)
	X4HALF(Z8, Y8)
	X4HALF(Z9, Y9)
	X4HALF(Z10, Y10)
	X4HALF(Z11, Y11)
	X4STORE4(Y0, Y1, Y2, Y3, X0, X1, 0)
	X4STORE4(Y4, Y5, Y6, Y7, X4, X5, 16)
	X4STORE4(Y8, Y9, Y10, Y11, X8, X9, 32)
	VZEROUPPER
	RET

// func gemmQ8_0X4R2V5(w0, w1 *byte, x *byte, xstride, n int, out *[10]float32)
TEXT ·gemmQ8_0X4R2V5(SB), NOSPLIT, $0-48
	MOVQ         w0+0(FP), R8
	MOVQ         w1+8(FP), R9
	MOVQ         x+16(FP), SI
	MOVQ         xstride+24(FP), R14
	LEAQ         (SI)(R14*1), DI
	LEAQ         (DI)(R14*1), BX
	LEAQ         (BX)(R14*1), DX
	LEAQ         (DX)(R14*1), R10
	MOVQ         n+32(FP), CX
	XORQ         AX, AX
	VPBROADCASTD x4b80<>(SB), Z30
	VMOVDQU64    x4sperm<>(SB), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	TESTQ        CX, CX
	JZ           gemmQ8_0X4R2V5_done

gemmQ8_0X4R2V5_loop:
	X4ROW(R8, Z16, Z17, Y17, Z18)
	X4ROW(R9, Z19, Z20, Y20, Z21)
	X4PAIR(SI, Z16, Z17, Z18, Z0)
	X4PAIR(SI, Z19, Z20, Z21, Z1)
	X4PAIR(DI, Z16, Z17, Z18, Z2)
	X4PAIR(DI, Z19, Z20, Z21, Z3)
	X4PAIR(BX, Z16, Z17, Z18, Z4)
	X4PAIR(BX, Z19, Z20, Z21, Z5)
	X4PAIR(DX, Z16, Z17, Z18, Z6)
	X4PAIR(DX, Z19, Z20, Z21, Z7)
	X4PAIR(R10, Z16, Z17, Z18, Z8)
	X4PAIR(R10, Z19, Z20, Z21, Z9)
	ADDQ         $256, AX
	DECQ         CX
	JNZ          gemmQ8_0X4R2V5_loop

gemmQ8_0X4R2V5_done:
	MOVQ         out+40(FP), AX
	X4HALF(Z0, Y0)
	X4HALF(Z1, Y1)
	X4HALF(Z2, Y2)
	X4HALF(Z3, Y3)
	X4HALF(Z4, Y4)
	X4HALF(Z5, Y5)
	X4HALF(Z6, Y6)
	X4HALF(Z7, Y7)
	X4HALF(Z8, Y8)
	X4HALF(Z9, Y9)
	X4STORE4(Y0, Y1, Y2, Y3, X0, X1, 0)
	X4STORE4(Y4, Y5, Y6, Y7, X4, X5, 16)
	X4STORE2(Y8, Y9, X8, X9, 32)
	VZEROUPPER
	RET

// func gemmQ8_0X4R4V4(w0, w1, w2, w3 *byte, x *byte, xstride, n int, out *[16]float32)
TEXT ·gemmQ8_0X4R4V4(SB), NOSPLIT, $0-64
	MOVQ         w0+0(FP), R8
	MOVQ         w1+8(FP), R9
	MOVQ         w2+16(FP), R10
	MOVQ         w3+24(FP), R11
	MOVQ         x+32(FP), SI
	MOVQ         xstride+40(FP), R12
	LEAQ         (SI)(R12*1), DI
	LEAQ         (DI)(R12*1), BX
	LEAQ         (BX)(R12*1), DX
	MOVQ         n+48(FP), CX
	XORQ         AX, AX
	VPBROADCASTD x4b80<>(SB), Z30
	VMOVDQU64    x4sperm<>(SB), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPXORD       Z10, Z10, Z10
	VPXORD       Z11, Z11, Z11
	VPXORD       Z12, Z12, Z12
	VPXORD       Z13, Z13, Z13
	VPXORD       Z14, Z14, Z14
	VPXORD       Z15, Z15, Z15
	TESTQ        CX, CX
	JZ           gemmQ8_0X4R4V4_done

gemmQ8_0X4R4V4_loop:
	X4ROW(R8, Z16, Z17, Y17, Z18)
	X4ROW(R9, Z19, Z20, Y20, Z21)
	X4ROW(R10, Z22, Z23, Y23, Z24)
	X4ROW(R11, Z25, Z26, Y26, Z27)
	X4PAIR(SI, Z16, Z17, Z18, Z0)
	X4PAIR(SI, Z19, Z20, Z21, Z1)
	X4PAIR(SI, Z22, Z23, Z24, Z2)
	X4PAIR(SI, Z25, Z26, Z27, Z3)
	X4PAIR(DI, Z16, Z17, Z18, Z4)
	X4PAIR(DI, Z19, Z20, Z21, Z5)
	X4PAIR(DI, Z22, Z23, Z24, Z6)
	X4PAIR(DI, Z25, Z26, Z27, Z7)
	X4PAIR(BX, Z16, Z17, Z18, Z8)
	X4PAIR(BX, Z19, Z20, Z21, Z9)
	X4PAIR(BX, Z22, Z23, Z24, Z10)
	X4PAIR(BX, Z25, Z26, Z27, Z11)
	X4PAIR(DX, Z16, Z17, Z18, Z12)
	X4PAIR(DX, Z19, Z20, Z21, Z13)
	X4PAIR(DX, Z22, Z23, Z24, Z14)
	X4PAIR(DX, Z25, Z26, Z27, Z15)
	ADDQ         $256, AX
	DECQ         CX
	JNZ          gemmQ8_0X4R4V4_loop

gemmQ8_0X4R4V4_done:
	MOVQ         out+56(FP), AX
	X4STORE16
	VZEROUPPER
	RET

// func gemmQ8_0X4R4V3(w0, w1, w2, w3 *byte, x *byte, xstride, n int, out *[12]float32)
TEXT ·gemmQ8_0X4R4V3(SB), NOSPLIT, $0-64
	MOVQ         w0+0(FP), R8
	MOVQ         w1+8(FP), R9
	MOVQ         w2+16(FP), R10
	MOVQ         w3+24(FP), R11
	MOVQ         x+32(FP), SI
	MOVQ         xstride+40(FP), R12
	LEAQ         (SI)(R12*1), DI
	LEAQ         (DI)(R12*1), BX
	MOVQ         n+48(FP), CX
	XORQ         AX, AX
	VPBROADCASTD x4b80<>(SB), Z30
	VMOVDQU64    x4sperm<>(SB), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPXORD       Z10, Z10, Z10
	VPXORD       Z11, Z11, Z11
	TESTQ        CX, CX
	JZ           gemmQ8_0X4R4V3_done

gemmQ8_0X4R4V3_loop:
	X4ROW(R8, Z16, Z17, Y17, Z18)
	X4ROW(R9, Z19, Z20, Y20, Z21)
	X4ROW(R10, Z22, Z23, Y23, Z24)
	X4ROW(R11, Z25, Z26, Y26, Z27)
	X4PAIR(SI, Z16, Z17, Z18, Z0)
	X4PAIR(SI, Z19, Z20, Z21, Z1)
	X4PAIR(SI, Z22, Z23, Z24, Z2)
	X4PAIR(SI, Z25, Z26, Z27, Z3)
	X4PAIR(DI, Z16, Z17, Z18, Z4)
	X4PAIR(DI, Z19, Z20, Z21, Z5)
	X4PAIR(DI, Z22, Z23, Z24, Z6)
	X4PAIR(DI, Z25, Z26, Z27, Z7)
	X4PAIR(BX, Z16, Z17, Z18, Z8)
	X4PAIR(BX, Z19, Z20, Z21, Z9)
	X4PAIR(BX, Z22, Z23, Z24, Z10)
	X4PAIR(BX, Z25, Z26, Z27, Z11)
	ADDQ         $256, AX
	DECQ         CX
	JNZ          gemmQ8_0X4R4V3_loop

gemmQ8_0X4R4V3_done:
	MOVQ         out+56(FP), AX
	X4HALF(Z0, Y0)
	X4HALF(Z1, Y1)
	X4HALF(Z2, Y2)
	X4HALF(Z3, Y3)
	X4HALF(Z4, Y4)
	X4HALF(Z5, Y5)
	X4HALF(Z6, Y6)
	X4HALF(Z7, Y7)
	X4HALF(Z8, Y8)
	X4HALF(Z9, Y9)
	X4HALF(Z10, Y10)
	X4HALF(Z11, Y11)
	X4STORE4(Y0, Y1, Y2, Y3, X0, X1, 0)
	X4STORE4(Y4, Y5, Y6, Y7, X4, X5, 16)
	X4STORE4(Y8, Y9, Y10, Y11, X8, X9, 32)
	VZEROUPPER
	RET

// func gemmQ8_0X4R4V2(w0, w1, w2, w3 *byte, x *byte, xstride, n int, out *[8]float32)
TEXT ·gemmQ8_0X4R4V2(SB), NOSPLIT, $0-64
	MOVQ         w0+0(FP), R8
	MOVQ         w1+8(FP), R9
	MOVQ         w2+16(FP), R10
	MOVQ         w3+24(FP), R11
	MOVQ         x+32(FP), SI
	MOVQ         xstride+40(FP), R12
	LEAQ         (SI)(R12*1), DI
	MOVQ         n+48(FP), CX
	XORQ         AX, AX
	VPBROADCASTD x4b80<>(SB), Z30
	VMOVDQU64    x4sperm<>(SB), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	TESTQ        CX, CX
	JZ           gemmQ8_0X4R4V2_done

gemmQ8_0X4R4V2_loop:
	X4ROW(R8, Z16, Z17, Y17, Z18)
	X4ROW(R9, Z19, Z20, Y20, Z21)
	X4ROW(R10, Z22, Z23, Y23, Z24)
	X4ROW(R11, Z25, Z26, Y26, Z27)
	X4PAIR(SI, Z16, Z17, Z18, Z0)
	X4PAIR(SI, Z19, Z20, Z21, Z1)
	X4PAIR(SI, Z22, Z23, Z24, Z2)
	X4PAIR(SI, Z25, Z26, Z27, Z3)
	X4PAIR(DI, Z16, Z17, Z18, Z4)
	X4PAIR(DI, Z19, Z20, Z21, Z5)
	X4PAIR(DI, Z22, Z23, Z24, Z6)
	X4PAIR(DI, Z25, Z26, Z27, Z7)
	ADDQ         $256, AX
	DECQ         CX
	JNZ          gemmQ8_0X4R4V2_loop

gemmQ8_0X4R4V2_done:
	MOVQ         out+56(FP), AX
	X4HALF(Z0, Y0)
	X4HALF(Z1, Y1)
	X4HALF(Z2, Y2)
	X4HALF(Z3, Y3)
	X4HALF(Z4, Y4)
	X4HALF(Z5, Y5)
	X4HALF(Z6, Y6)
	X4HALF(Z7, Y7)
	X4STORE4(Y0, Y1, Y2, Y3, X0, X1, 0)
	X4STORE4(Y4, Y5, Y6, Y7, X4, X5, 16)
	VZEROUPPER
	RET

// func gemmQ8_0X4R4V1(w0, w1, w2, w3 *byte, x *byte, xstride, n int, out *[4]float32)
TEXT ·gemmQ8_0X4R4V1(SB), NOSPLIT, $0-64
	MOVQ         w0+0(FP), R8
	MOVQ         w1+8(FP), R9
	MOVQ         w2+16(FP), R10
	MOVQ         w3+24(FP), R11
	MOVQ         x+32(FP), SI
	MOVQ         n+48(FP), CX
	XORQ         AX, AX
	VPBROADCASTD x4b80<>(SB), Z30
	VMOVDQU64    x4sperm<>(SB), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	TESTQ        CX, CX
	JZ           gemmQ8_0X4R4V1_done

gemmQ8_0X4R4V1_loop:
	X4ROW(R8, Z16, Z17, Y17, Z18)
	X4ROW(R9, Z19, Z20, Y20, Z21)
	X4ROW(R10, Z22, Z23, Y23, Z24)
	X4ROW(R11, Z25, Z26, Y26, Z27)
	X4PAIR(SI, Z16, Z17, Z18, Z0)
	X4PAIR(SI, Z19, Z20, Z21, Z1)
	X4PAIR(SI, Z22, Z23, Z24, Z2)
	X4PAIR(SI, Z25, Z26, Z27, Z3)
	ADDQ         $256, AX
	DECQ         CX
	JNZ          gemmQ8_0X4R4V1_loop

gemmQ8_0X4R4V1_done:
	MOVQ         out+56(FP), AX
	X4HALF(Z0, Y0)
	X4HALF(Z1, Y1)
	X4HALF(Z2, Y2)
	X4HALF(Z3, Y3)
	X4STORE4(Y0, Y1, Y2, Y3, X0, X1, 0)
	VZEROUPPER
	RET

// The x8 layout (Batch.setX8) feeds the 2x8 tile below with eight blocks
// per step: per group, four 64-byte segments of quants (segment m: quants
// 8m..8m+7 of each block, block j at qword x8Pos[j]), the 16 int32 biases
// and the 16 scales (each block's in its two lanes). A row's eight blocks
// (272 bytes) are loaded as four registers [block k | block k+4], made
// unsigned and put in the segments' order by VPUNPCK{L,H}QDQ and
// VSHUFI64X2, so four VPDPBUSD fill a lane with 16 products of one block:
// the float work is done once per eight blocks and (row, vector) pair.

// x8sperm picks the fp16 scales of blocks 0, 1 (table 1, words 0 and 17)
// and 4, 5 (table 2 = 136 bytes on, words 32 and 49), each twice, into
// words 0..7 (then blocks 2, 3, 6, 7 from 68 bytes on, into words 8..15
// by VINSERTI32X4).
DATA x8sperm<>+0(SB)/8, $0x0011001100000000
DATA x8sperm<>+8(SB)/8, $0x0031003100200020
DATA x8sperm<>+16(SB)/8, $0x0011001100000000
DATA x8sperm<>+24(SB)/8, $0x0031003100200020
DATA x8sperm<>+32(SB)/8, $0
DATA x8sperm<>+40(SB)/8, $0
DATA x8sperm<>+48(SB)/8, $0
DATA x8sperm<>+56(SB)/8, $0
GLOBL x8sperm<>(SB), RODATA|NOPTR, $64

// X8ROW loads eight blocks of row wr into q0..q3 (the segments' order)
// and their scales zs (each block's in its two lanes), prefetches the
// weights 4 KiB ahead and advances wr past the blocks. y0..y3 are q0..q3's
// lower halves. Clobbers Z26..Z29.
#define X8ROW(wr, q0, q1, q2, q3, y0, y1, y2, y3, zs) \
	PREFETCHT0   4096(wr) \
	PREFETCHT0   4160(wr) \
	PREFETCHT0   4224(wr) \
	PREFETCHT0   4288(wr) \
	PREFETCHT0   4352(wr) \
	VMOVDQU16    (wr), Z26 \
	VPERMT2W     136(wr), Z31, Z26 \
	VMOVDQU16    68(wr), Z27 \
	VPERMT2W     204(wr), Z31, Z27 \
	VINSERTI32X4 $1, X27, Y26, Y26 \
	VCVTPH2PS    Y26, zs \
	VMOVDQU8     2(wr), y0 \
	VINSERTI64X4 $1, 138(wr), q0, q0 \
	VMOVDQU8     36(wr), y1 \
	VINSERTI64X4 $1, 172(wr), q1, q1 \
	VMOVDQU8     70(wr), y2 \
	VINSERTI64X4 $1, 206(wr), q2, q2 \
	VMOVDQU8     104(wr), y3 \
	VINSERTI64X4 $1, 240(wr), q3, q3 \
	VPXORD       Z30, q0, q0 \
	VPXORD       Z30, q1, q1 \
	VPXORD       Z30, q2, q2 \
	VPXORD       Z30, q3, q3 \
	VPUNPCKLQDQ  q1, q0, Z26 \
	VPUNPCKHQDQ  q1, q0, Z27 \
	VPUNPCKLQDQ  q3, q2, Z28 \
	VPUNPCKHQDQ  q3, q2, Z29 \
	VSHUFI64X2   $0x88, Z28, Z26, q0 \
	VSHUFI64X2   $0xdd, Z28, Z26, q2 \
	VSHUFI64X2   $0x88, Z29, Z27, q1 \
	VSHUFI64X2   $0xdd, Z29, Z27, q3 \
	ADDQ         $272, wr

// X8PAIR adds the products of one row's eight blocks (q0..q3, zs) with
// one vector's (x8 group at vp+AX) into acc: the lanes start from the
// bias, four VPDPBUSD, then convert, times the product of the scales, add.
#define X8PAIR(vp, q0, q1, q2, q3, zs, acc) \
	VMOVDQU32   256(vp)(AX*1), Z28 \
	VPDPBUSD    (vp)(AX*1), q0, Z28 \
	VPDPBUSD    64(vp)(AX*1), q1, Z28 \
	VPDPBUSD    128(vp)(AX*1), q2, Z28 \
	VPDPBUSD    192(vp)(AX*1), q3, Z28 \
	VCVTDQ2PS   Z28, Z28 \
	VMULPS      320(vp)(AX*1), zs, Z29 \
	VFMADD231PS Z29, Z28, acc

// X8PAIRS2 runs X8PAIR for the two rows (Z16..Z20, Z21..Z25) and vector vp
// into acc0 (row 0) and acc1 (row 1).
#define X8PAIRS2(vp, acc0, acc1) \
	X8PAIR(vp, Z16, Z17, Z18, Z19, Z20, acc0) \
	X8PAIR(vp, Z21, Z22, Z23, Z24, Z25, acc1)

// func gemmQ8_0X8R2V8(w0, w1 *byte, x *byte, xstride, n int, out *[16]float32)
TEXT ·gemmQ8_0X8R2V8(SB), NOSPLIT, $0-48
	MOVQ         w0+0(FP), R8
	MOVQ         w1+8(FP), R9
	MOVQ         x+16(FP), SI
	MOVQ         xstride+24(FP), R14
	LEAQ         (SI)(R14*1), DI
	LEAQ         (DI)(R14*1), BX
	LEAQ         (BX)(R14*1), DX
	LEAQ         (DX)(R14*1), R10
	LEAQ         (R10)(R14*1), R11
	LEAQ         (R11)(R14*1), R12
	LEAQ         (R12)(R14*1), R13
	MOVQ         n+32(FP), CX
	XORQ         AX, AX
	VPBROADCASTD x4b80<>(SB), Z30
	VMOVDQU64    x8sperm<>(SB), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPXORD       Z10, Z10, Z10
	VPXORD       Z11, Z11, Z11
	VPXORD       Z12, Z12, Z12
	VPXORD       Z13, Z13, Z13
	VPXORD       Z14, Z14, Z14
	VPXORD       Z15, Z15, Z15
	TESTQ        CX, CX
	JZ           gemmQ8_0X8R2V8_done

gemmQ8_0X8R2V8_loop:
	X8ROW(R8, Z16, Z17, Z18, Z19, Y16, Y17, Y18, Y19, Z20)
	X8ROW(R9, Z21, Z22, Z23, Z24, Y21, Y22, Y23, Y24, Z25)
	X8PAIRS2(SI, Z0, Z1)
	X8PAIRS2(DI, Z2, Z3)
	X8PAIRS2(BX, Z4, Z5)
	X8PAIRS2(DX, Z6, Z7)
	X8PAIRS2(R10, Z8, Z9)
	X8PAIRS2(R11, Z10, Z11)
	X8PAIRS2(R12, Z12, Z13)
	X8PAIRS2(R13, Z14, Z15)
	ADDQ         $384, AX
	DECQ         CX
	JNZ          gemmQ8_0X8R2V8_loop

gemmQ8_0X8R2V8_done:
	MOVQ         out+40(FP), AX
	X4STORE16
	VZEROUPPER
	RET

// X8OUT2 stores qwords 2i and 2i+1 of Z1 (xi: its 128-bit group i) to
// the outputs of vectors 2i and 2i+1 (pointers at AX) at offset R15.
#define X8OUT2(xi, i) \
	MOVQ    (16*i)(AX), CX \
	VMOVQ   xi, (CX)(R15*1) \
	MOVQ    (16*i+8)(AX), CX \
	VPEXTRQ $1, xi, (CX)(R15*1)

// func gemmQ8_0X8R2V8Rows(w *byte, rb, end int, x *byte, xstride, n int, outs *[8]*float32)
//
// gemmQ8_0X8R2V8 for the row pairs of w (rows rb bytes apart) up to
// end/8 pairs, storing pair p's two sums of vector t to outs[t][2p:2p+2]
// (at byte end-8 the last): no call, accumulator set-up or Go copy per
// pair.
TEXT ·gemmQ8_0X8R2V8Rows(SB), NOSPLIT, $0-56
	MOVQ         w+0(FP), R14
	MOVQ         x+24(FP), SI
	MOVQ         xstride+32(FP), CX
	LEAQ         (SI)(CX*1), DI
	LEAQ         (DI)(CX*1), BX
	LEAQ         (BX)(CX*1), DX
	LEAQ         (DX)(CX*1), R10
	LEAQ         (R10)(CX*1), R11
	LEAQ         (R11)(CX*1), R12
	LEAQ         (R12)(CX*1), R13
	VPBROADCASTD x4b80<>(SB), Z30
	VMOVDQU64    x8sperm<>(SB), Z31
	XORQ         R15, R15

gemmQ8_0X8R2V8Rows_pair:
	MOVQ         R14, R8
	MOVQ         R14, R9
	ADDQ         rb+8(FP), R9
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPXORD       Z10, Z10, Z10
	VPXORD       Z11, Z11, Z11
	VPXORD       Z12, Z12, Z12
	VPXORD       Z13, Z13, Z13
	VPXORD       Z14, Z14, Z14
	VPXORD       Z15, Z15, Z15
	XORQ         AX, AX
	MOVQ         n+40(FP), CX
	TESTQ        CX, CX
	JZ           gemmQ8_0X8R2V8Rows_sum

gemmQ8_0X8R2V8Rows_loop:
	X8ROW(R8, Z16, Z17, Z18, Z19, Y16, Y17, Y18, Y19, Z20)
	X8ROW(R9, Z21, Z22, Z23, Z24, Y21, Y22, Y23, Y24, Z25)
	X8PAIRS2(SI, Z0, Z1)
	X8PAIRS2(DI, Z2, Z3)
	X8PAIRS2(BX, Z4, Z5)
	X8PAIRS2(DX, Z6, Z7)
	X8PAIRS2(R10, Z8, Z9)
	X8PAIRS2(R11, Z10, Z11)
	X8PAIRS2(R12, Z12, Z13)
	X8PAIRS2(R13, Z14, Z15)
	ADDQ         $384, AX
	DECQ         CX
	JNZ          gemmQ8_0X8R2V8Rows_loop

gemmQ8_0X8R2V8Rows_sum:
	X4SUM16
	MOVQ          outs+48(FP), AX
	X8OUT2(X1, 0)
	VEXTRACTF32X4 $1, Z1, X2
	X8OUT2(X2, 1)
	VEXTRACTF32X4 $2, Z1, X2
	X8OUT2(X2, 2)
	VEXTRACTF32X4 $3, Z1, X2
	X8OUT2(X2, 3)
	ADDQ          rb+8(FP), R14
	ADDQ          rb+8(FP), R14
	ADDQ          $8, R15
	CMPQ          R15, end+16(FP)
	JLT           gemmQ8_0X8R2V8Rows_pair
	VZEROUPPER
	RET
