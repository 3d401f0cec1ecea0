//go:build amd64 && !noasm

#include "textflag.h"

// AVX-512 register-tile kernels of MatMul: one tile of 4 weight rows x 4
// vectors over whole rows, stored to out[t*4 + r] (sixteen floats). Their
// reference loops are the doc comments in gemm_avx512_amd64.go.
//
// The int8 kernels take two blocks per step in a 512-bit register and use
// VPDPBUSD (AVX512_VNNI), which multiplies unsigned by signed bytes and sums
// groups of four into int32 lanes without saturating. The weights are made
// unsigned (Q8_0: w+128, by flipping the sign bit; Q4_0: the nibbles n = w+8
// as stored) and the vectors stay signed, so each lane gets
// sum(w*x) + c*sum(x) with c = 128 or 8; the lane starts from the batch's
// precomputed bias, -c*sum(x) of the same four bytes, so it ends at exactly
// sum(w*x). Then per block: VCVTDQ2PS, times (weight scale x vector scale),
// added into the accumulator.
//
// Registers: R8..R11 the four weight rows; SI, DI, R12, R13 the four
// vectors' quants (the biases are at the same offsets from bias base BX);
// R14 the first vector's scales, DX the scale stride, AX the fourth's; CX
// the step counter. Z0..Z15 accumulators, acc(r, t) = Z(4r+t); Z16..Z19 the
// rows' unsigned quants, Z20..Z23 the rows' scales, Z24..Z27 the vectors'
// scales, Z28/Z29 temporaries, Z30 0x80 bytes (Q8_0) or 0x0f bytes (Q4_0),
// Z31 the Q4_0 unpacking permutation.

DATA q4perm<>+0(SB)/8, $0
DATA q4perm<>+8(SB)/8, $1
DATA q4perm<>+16(SB)/8, $8
DATA q4perm<>+24(SB)/8, $9
DATA q4perm<>+32(SB)/8, $2
DATA q4perm<>+40(SB)/8, $3
DATA q4perm<>+48(SB)/8, $10
DATA q4perm<>+56(SB)/8, $11
GLOBL q4perm<>(SB), RODATA|NOPTR, $64

DATA bytes80<>+0(SB)/4, $0x80808080
GLOBL bytes80<>(SB), RODATA|NOPTR, $4

DATA bytes0f<>+0(SB)/4, $0x0f0f0f0f
GLOBL bytes0f<>(SB), RODATA|NOPTR, $4

// ARGS512 loads the arguments and clears the accumulators.
#define ARGS512 \
	MOVQ    w0+0(FP), R8 \
	MOVQ    w1+8(FP), R9 \
	MOVQ    w2+16(FP), R10 \
	MOVQ    w3+24(FP), R11 \
	MOVQ    x+32(FP), SI \
	MOVQ    xstride+40(FP), AX \
	LEAQ    (SI)(AX*1), DI \
	LEAQ    (DI)(AX*1), R12 \
	LEAQ    (R12)(AX*1), R13 \
	MOVQ    bias+48(FP), BX \
	SUBQ    SI, BX \
	MOVQ    d+56(FP), R14 \
	MOVQ    dstride+64(FP), DX \
	LEAQ    (R14)(DX*2), AX \
	ADDQ    DX, AX \
	MOVQ    n+72(FP), CX \
	VPXORD  Z0, Z0, Z0 \
	VPXORD  Z1, Z1, Z1 \
	VPXORD  Z2, Z2, Z2 \
	VPXORD  Z3, Z3, Z3 \
	VPXORD  Z4, Z4, Z4 \
	VPXORD  Z5, Z5, Z5 \
	VPXORD  Z6, Z6, Z6 \
	VPXORD  Z7, Z7, Z7 \
	VPXORD  Z8, Z8, Z8 \
	VPXORD  Z9, Z9, Z9 \
	VPXORD  Z10, Z10, Z10 \
	VPXORD  Z11, Z11, Z11 \
	VPXORD  Z12, Z12, Z12 \
	VPXORD  Z13, Z13, Z13 \
	VPXORD  Z14, Z14, Z14 \
	VPXORD  Z15, Z15, Z15

// WSCALES sets zs to the two blocks' weight scales of row wr, each in
// eight lanes (blocks bb bytes apart). Clobbers Y28, Y29.
#define WSCALES(wr, bb, zs) \
	VPBROADCASTW (wr), Y28 \
	VPBROADCASTW bb(wr), Y29 \
	VINSERTI32X4 $1, X29, Y28, Y28 \
	VCVTPH2PS    Y28, zs

// XSCALES sets zs to two blocks' scales of one vector (floats at m, m+4),
// each in eight lanes. Clobbers Y28, Y29.
#define XSCALES(m, m4, zs) \
	VBROADCASTSS m, Y28 \
	VBROADCASTSS m4, Y29 \
	VINSERTF32X8 $1, Y29, Z28, zs

// LOADQ8X2 loads the quants of two Q8_0 blocks of row wr, made unsigned.
#define LOADQ8X2(wr, zq) \
	VMOVDQU8     2(wr), Y28 \
	VINSERTI64X4 $1, 36(wr), Z28, zq \
	VPXORD       Z30, zq, zq

// LOADQ4X2 loads the nibbles of two Q4_0 blocks of row wr as unsigned
// bytes: block k's low nibbles (weights 0..15), its high nibbles (16..31),
// then block k+1's, by 128-bit lane.
#define LOADQ4X2(wr, zq) \
	VMOVDQU8    2(wr), X28 \
	VINSERTI32X4 $1, 20(wr), Y28, Y28 \
	VPSRLW      $4, Y28, Y29 \
	VPERMT2Q    Z29, Z31, Z28 \
	VPANDD      Z30, Z28, zq

// PAIR512 adds row r's two blocks (unsigned quants zq, scales zws) times
// vector t's (quants at (xp), bias at (xp)(BX*1), scales zxs) into acc.
#define PAIR512(xp, zq, zws, zxs, acc) \
	VMOVDQU32   (xp)(BX*1), Z28 \
	VPDPBUSD    (xp), zq, Z28 \
	VCVTDQ2PS   Z28, Z28 \
	VMULPS      zxs, zws, Z29 \
	VFMADD231PS Z29, Z28, acc

// VECS512 loads the four vectors' scales of the current two blocks.
#define VECS512 \
	XSCALES((R14), 4(R14), Z24) \
	XSCALES((R14)(DX*1), 4(R14)(DX*1), Z25) \
	XSCALES((R14)(DX*2), 4(R14)(DX*2), Z26) \
	XSCALES((AX), 4(AX), Z27)

// PAIRS512 multiplies the four rows with the four vectors.
#define PAIRS512 \
	PAIR512(SI, Z16, Z20, Z24, Z0) \
	PAIR512(DI, Z16, Z20, Z25, Z1) \
	PAIR512(R12, Z16, Z20, Z26, Z2) \
	PAIR512(R13, Z16, Z20, Z27, Z3) \
	PAIR512(SI, Z17, Z21, Z24, Z4) \
	PAIR512(DI, Z17, Z21, Z25, Z5) \
	PAIR512(R12, Z17, Z21, Z26, Z6) \
	PAIR512(R13, Z17, Z21, Z27, Z7) \
	PAIR512(SI, Z18, Z22, Z24, Z8) \
	PAIR512(DI, Z18, Z22, Z25, Z9) \
	PAIR512(R12, Z18, Z22, Z26, Z10) \
	PAIR512(R13, Z18, Z22, Z27, Z11) \
	PAIR512(SI, Z19, Z23, Z24, Z12) \
	PAIR512(DI, Z19, Z23, Z25, Z13) \
	PAIR512(R12, Z19, Z23, Z26, Z14) \
	PAIR512(R13, Z19, Z23, Z27, Z15)

// NEXT512 advances past two blocks (weights of bb bytes each).
#define NEXT512(bb2) \
	ADDQ $bb2, R8 \
	ADDQ $bb2, R9 \
	ADDQ $bb2, R10 \
	ADDQ $bb2, R11 \
	ADDQ $64, SI \
	ADDQ $64, DI \
	ADDQ $64, R12 \
	ADDQ $64, R13 \
	ADDQ $8, R14 \
	ADDQ $8, AX

// HALF adds the upper 256 bits of each of four accumulators to its lower.
#define HALF(a, y) \
	VEXTRACTF32X8 $1, a, Y28 \
	VADDPS        Y28, y, y

// STORE4 sums the eight lanes of the four rows' accumulators (lower halves
// y0..y3, overwritten; VHADDPS has no encoding for Y16..Y31) of one vector
// and stores (r0, r1, r2, r3) to off(AX).
#define STORE4(y0, y1, y2, y3, x0, x1, off) \
	VHADDPS      y1, y0, y0 \
	VHADDPS      y3, y2, y2 \
	VHADDPS      y2, y0, y0 \
	VEXTRACTF128 $1, y0, x1 \
	VADDPS       x1, x0, x0 \
	VMOVUPS      x0, off(AX)

// STORE512 reduces the sixteen accumulators and stores the tile.
#define STORE512 \
	HALF(Z0, Y0) \
	HALF(Z1, Y1) \
	HALF(Z2, Y2) \
	HALF(Z3, Y3) \
	HALF(Z4, Y4) \
	HALF(Z5, Y5) \
	HALF(Z6, Y6) \
	HALF(Z7, Y7) \
	HALF(Z8, Y8) \
	HALF(Z9, Y9) \
	HALF(Z10, Y10) \
	HALF(Z11, Y11) \
	HALF(Z12, Y12) \
	HALF(Z13, Y13) \
	HALF(Z14, Y14) \
	HALF(Z15, Y15) \
	MOVQ out+80(FP), AX \
	STORE4(Y0, Y4, Y8, Y12, X0, X4, 0) \
	STORE4(Y1, Y5, Y9, Y13, X1, X5, 16) \
	STORE4(Y2, Y6, Y10, Y14, X2, X6, 32) \
	STORE4(Y3, Y7, Y11, Y15, X3, X7, 48) \
	VZEROUPPER

// func gemmQ8_0TileVNNI(w0, w1, w2, w3 *byte, x *byte, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)
// n counts pairs of blocks.
TEXT ·gemmQ8_0TileVNNI(SB), NOSPLIT, $0-88
	ARGS512
	VPBROADCASTD bytes80<>(SB), Z30
	TESTQ        CX, CX
	JZ           vq8done

vq8loop:
	LOADQ8X2(R8, Z16)
	LOADQ8X2(R9, Z17)
	LOADQ8X2(R10, Z18)
	LOADQ8X2(R11, Z19)
	WSCALES(R8, 34, Z20)
	WSCALES(R9, 34, Z21)
	WSCALES(R10, 34, Z22)
	WSCALES(R11, 34, Z23)
	VECS512
	PAIRS512
	NEXT512(68)
	DECQ CX
	JNZ  vq8loop

vq8done:
	STORE512
	RET

// func gemmQ4_0TileVNNI(w0, w1, w2, w3 *byte, x *byte, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)
// n counts pairs of blocks; bias holds -8*sum(x) per group of four.
TEXT ·gemmQ4_0TileVNNI(SB), NOSPLIT, $0-88
	ARGS512
	VPBROADCASTD bytes0f<>(SB), Z30
	VMOVDQU64    q4perm<>(SB), Z31
	TESTQ        CX, CX
	JZ           vq4done

vq4loop:
	LOADQ4X2(R8, Z16)
	LOADQ4X2(R9, Z17)
	LOADQ4X2(R10, Z18)
	LOADQ4X2(R11, Z19)
	WSCALES(R8, 18, Z20)
	WSCALES(R9, 18, Z21)
	WSCALES(R10, 18, Z22)
	WSCALES(R11, 18, Z23)
	VECS512
	PAIRS512
	NEXT512(36)
	DECQ CX
	JNZ  vq4loop

vq4done:
	STORE512
	RET

// FROW512 multiplies sixteen weights of one row (float32 in zw) with
// sixteen elements of each of the four vectors (Z20..Z23) into acc(r, 0..3).
#define FROW512(zw, a0, a1, a2, a3) \
	VFMADD231PS Z20, zw, a0 \
	VFMADD231PS Z21, zw, a1 \
	VFMADD231PS Z22, zw, a2 \
	VFMADD231PS Z23, zw, a3

// FVECS512 loads sixteen elements of each vector into Z20..Z23.
#define FVECS512 \
	VMOVUPS (SI), Z20 \
	VMOVUPS (DI), Z21 \
	VMOVUPS (R12), Z22 \
	VMOVUPS (R13), Z23

// FNEXT512 advances the cursors by sixteen elements (weights of wb bytes).
#define FNEXT512(wb) \
	ADDQ $wb, R8 \
	ADDQ $wb, R9 \
	ADDQ $wb, R10 \
	ADDQ $wb, R11 \
	ADDQ $64, SI \
	ADDQ $64, DI \
	ADDQ $64, R12 \
	ADDQ $64, R13

// func gemmF32Tile512(w0, w1, w2, w3 *byte, x *float32, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)
// n counts steps of sixteen columns; bias, d and dstride are unused.
TEXT ·gemmF32Tile512(SB), NOSPLIT, $0-88
	ARGS512
	TESTQ CX, CX
	JZ    vf32done

vf32loop:
	FVECS512
	VMOVUPS (R8), Z16
	VMOVUPS (R9), Z17
	VMOVUPS (R10), Z18
	VMOVUPS (R11), Z19
	FROW512(Z16, Z0, Z1, Z2, Z3)
	FROW512(Z17, Z4, Z5, Z6, Z7)
	FROW512(Z18, Z8, Z9, Z10, Z11)
	FROW512(Z19, Z12, Z13, Z14, Z15)
	FNEXT512(64)
	DECQ CX
	JNZ  vf32loop

vf32done:
	STORE512
	RET

// func gemmF16Tile512(w0, w1, w2, w3 *byte, x *float32, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)
TEXT ·gemmF16Tile512(SB), NOSPLIT, $0-88
	ARGS512
	TESTQ CX, CX
	JZ    vf16done

vf16loop:
	FVECS512
	VCVTPH2PS (R8), Z16
	VCVTPH2PS (R9), Z17
	VCVTPH2PS (R10), Z18
	VCVTPH2PS (R11), Z19
	FROW512(Z16, Z0, Z1, Z2, Z3)
	FROW512(Z17, Z4, Z5, Z6, Z7)
	FROW512(Z18, Z8, Z9, Z10, Z11)
	FROW512(Z19, Z12, Z13, Z14, Z15)
	FNEXT512(32)
	DECQ CX
	JNZ  vf16loop

vf16done:
	STORE512
	RET

// func gemmBF16FTile512(w0, w1, w2, w3 *byte, x *float32, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)
// BF16 weights with float32 vectors: each bfloat16 widens exactly to
// float32 by a zero-extend and a 16-bit shift, then FMA as F32. n counts
// steps of sixteen columns; bias, d and dstride are unused.
TEXT ·gemmBF16FTile512(SB), NOSPLIT, $0-88
	ARGS512
	TESTQ CX, CX
	JZ    vbf16fdone

vbf16floop:
	FVECS512
	VPMOVZXWD (R8), Z16
	VPMOVZXWD (R9), Z17
	VPMOVZXWD (R10), Z18
	VPMOVZXWD (R11), Z19
	VPSLLD    $16, Z16, Z16
	VPSLLD    $16, Z17, Z17
	VPSLLD    $16, Z18, Z18
	VPSLLD    $16, Z19, Z19
	FROW512(Z16, Z0, Z1, Z2, Z3)
	FROW512(Z17, Z4, Z5, Z6, Z7)
	FROW512(Z18, Z8, Z9, Z10, Z11)
	FROW512(Z19, Z12, Z13, Z14, Z15)
	FNEXT512(32)
	DECQ CX
	JNZ  vbf16floop

vbf16fdone:
	STORE512
	RET

// AQ8HALF512 widens sixteen quants at off of each of the four key rows,
// times the rows' block scales (Z24..Z27), and multiplies them with the
// four queries' next sixteen elements.
#define AQ8HALF512(off) \
	VPMOVSXBD off(R8), Z16 \
	VPMOVSXBD off(R9), Z17 \
	VPMOVSXBD off(R10), Z18 \
	VPMOVSXBD off(R11), Z19 \
	VCVTDQ2PS Z16, Z16 \
	VCVTDQ2PS Z17, Z17 \
	VCVTDQ2PS Z18, Z18 \
	VCVTDQ2PS Z19, Z19 \
	VMULPS    Z24, Z16, Z16 \
	VMULPS    Z25, Z17, Z17 \
	VMULPS    Z26, Z18, Z18 \
	VMULPS    Z27, Z19, Z19 \
	FVECS512 \
	FROW512(Z16, Z0, Z1, Z2, Z3) \
	FROW512(Z17, Z4, Z5, Z6, Z7) \
	FROW512(Z18, Z8, Z9, Z10, Z11) \
	FROW512(Z19, Z12, Z13, Z14, Z15) \
	ADDQ $64, SI \
	ADDQ $64, DI \
	ADDQ $64, R12 \
	ADDQ $64, R13

// func attnQ8Tile512(w0, w1, w2, w3 *byte, x *float32, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)
// Q8_0 key rows (n blocks each) with float32 queries, for AttnScores: the
// keys are widened and scaled, the queries not quantised. bias, d and
// dstride are unused.
TEXT ·attnQ8Tile512(SB), NOSPLIT, $0-88
	ARGS512
	TESTQ CX, CX
	JZ    aq8done

aq8loop:
	VPBROADCASTW (R8), Y24
	VPBROADCASTW (R9), Y25
	VPBROADCASTW (R10), Y26
	VPBROADCASTW (R11), Y27
	VCVTPH2PS    Y24, Z24
	VCVTPH2PS    Y25, Z25
	VCVTPH2PS    Y26, Z26
	VCVTPH2PS    Y27, Z27
	AQ8HALF512(2)
	AQ8HALF512(18)
	ADDQ         $34, R8
	ADDQ         $34, R9
	ADDQ         $34, R10
	ADDQ         $34, R11
	DECQ         CX
	JNZ          aq8loop

aq8done:
	STORE512
	RET

// func gemvF16512(w *byte, stride, rows int, x *float32, n int, out *float32)
// One vector, F16 weights: out[r] = dot(row r, x) over n columns (a
// multiple of 16), sixteen per VCVTPH2PS + FMA, four accumulators.
// Registers: R11 row start, SI weights, DI x, CX columns left, R8 rows
// left, R9 stride, R10 out; Z0..Z3 accumulators.
TEXT ·gemvF16512(SB), NOSPLIT, $0-48
	MOVQ  w+0(FP), R11
	MOVQ  stride+8(FP), R9
	MOVQ  rows+16(FP), R8
	MOVQ  out+40(FP), R10
	TESTQ R8, R8
	JZ    gf16ret

gf16row:
	MOVQ   R11, SI
	MOVQ   x+24(FP), DI
	MOVQ   n+32(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

gf16loop64:
	CMPQ        CX, $64
	JL          gf16loop16
	// each line of the weights once 3072 bytes ahead into L2 and 1024
	// ahead into L1 (a step is two whole lines), as the other one-vector
	// kernels do: the hardware prefetcher alone left one thread at 53-80%
	// of the read bandwidth on a 960 MiB matrix, PREFETCHT0 2048 ahead
	// 72-86%, PREFETCHT2 3072 ahead read 6-7% faster than that from memory
	// and 20-50% faster from L3 (a model that fits in the last-level
	// cache); adding PREFETCHT0 1024 took 1.5-2% less time on the
	// TinyLlama shape's matrices in file order and gave two threads 1-3.5%
	// more tokens/s (one thread level)
	PREFETCHT2  3072(SI)
	PREFETCHT2  3136(SI)
	PREFETCHT0  1024(SI)
	PREFETCHT0  1088(SI)
	VCVTPH2PS   (SI), Z4
	VCVTPH2PS   32(SI), Z5
	VCVTPH2PS   64(SI), Z6
	VCVTPH2PS   96(SI), Z7
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	VFMADD231PS 128(DI), Z6, Z2
	VFMADD231PS 192(DI), Z7, Z3
	ADDQ        $128, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	JMP         gf16loop64

gf16loop16:
	CMPQ        CX, $16
	JL          gf16done
	VCVTPH2PS   (SI), Z4
	VFMADD231PS (DI), Z4, Z0
	ADDQ        $32, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         gf16loop16

gf16done:
	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z2, Z0, Z0
	VEXTRACTF32X8 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	VMOVSS        X0, (R10)
	ADDQ          $4, R10
	ADDQ          R9, R11
	DECQ          R8
	JNZ           gf16row

gf16ret:
	VZEROUPPER
	RET

// q4perm8 picks the fp16 scales of eight Q4_0 blocks (18 bytes = 9 words
// apart) out of two 64-byte loads, for VPERMT2W: words 0, 9, ..., 63.
DATA q4perm8<>+0(SB)/8, $0x001b001200090000
DATA q4perm8<>+8(SB)/8, $0x003f0036002d0024
DATA q4perm8<>+16(SB)/8, $0
DATA q4perm8<>+24(SB)/8, $0
DATA q4perm8<>+32(SB)/8, $0
DATA q4perm8<>+40(SB)/8, $0
DATA q4perm8<>+48(SB)/8, $0
DATA q4perm8<>+56(SB)/8, $0
GLOBL q4perm8<>(SB), RODATA|NOPTR, $64

// q4shift512 shifts the high nibbles down in the odd 128-bit lanes.
DATA q4shift512<>+0(SB)/8, $0
DATA q4shift512<>+8(SB)/8, $0
DATA q4shift512<>+16(SB)/8, $4
DATA q4shift512<>+24(SB)/8, $4
DATA q4shift512<>+32(SB)/8, $0
DATA q4shift512<>+40(SB)/8, $0
DATA q4shift512<>+48(SB)/8, $4
DATA q4shift512<>+56(SB)/8, $4
GLOBL q4shift512<>(SB), RODATA|NOPTR, $64

// pairsel spreads a block pair's two floats over their lanes, for VPERMPS:
// at offset 64j, dword indices 2j (lanes 0..7) and 2j+1 (lanes 8..15).
DATA pairsel<>+0(SB)/8, $0x0000000000000000
DATA pairsel<>+8(SB)/8, $0x0000000000000000
DATA pairsel<>+16(SB)/8, $0x0000000000000000
DATA pairsel<>+24(SB)/8, $0x0000000000000000
DATA pairsel<>+32(SB)/8, $0x0000000100000001
DATA pairsel<>+40(SB)/8, $0x0000000100000001
DATA pairsel<>+48(SB)/8, $0x0000000100000001
DATA pairsel<>+56(SB)/8, $0x0000000100000001
DATA pairsel<>+64(SB)/8, $0x0000000200000002
DATA pairsel<>+72(SB)/8, $0x0000000200000002
DATA pairsel<>+80(SB)/8, $0x0000000200000002
DATA pairsel<>+88(SB)/8, $0x0000000200000002
DATA pairsel<>+96(SB)/8, $0x0000000300000003
DATA pairsel<>+104(SB)/8, $0x0000000300000003
DATA pairsel<>+112(SB)/8, $0x0000000300000003
DATA pairsel<>+120(SB)/8, $0x0000000300000003
DATA pairsel<>+128(SB)/8, $0x0000000400000004
DATA pairsel<>+136(SB)/8, $0x0000000400000004
DATA pairsel<>+144(SB)/8, $0x0000000400000004
DATA pairsel<>+152(SB)/8, $0x0000000400000004
DATA pairsel<>+160(SB)/8, $0x0000000500000005
DATA pairsel<>+168(SB)/8, $0x0000000500000005
DATA pairsel<>+176(SB)/8, $0x0000000500000005
DATA pairsel<>+184(SB)/8, $0x0000000500000005
DATA pairsel<>+192(SB)/8, $0x0000000600000006
DATA pairsel<>+200(SB)/8, $0x0000000600000006
DATA pairsel<>+208(SB)/8, $0x0000000600000006
DATA pairsel<>+216(SB)/8, $0x0000000600000006
DATA pairsel<>+224(SB)/8, $0x0000000700000007
DATA pairsel<>+232(SB)/8, $0x0000000700000007
DATA pairsel<>+240(SB)/8, $0x0000000700000007
DATA pairsel<>+248(SB)/8, $0x0000000700000007
GLOBL pairsel<>(SB), RODATA|NOPTR, $256

// HSUMROW512 adds the sixteen lanes of Z0 to one float in X0 and stores it
// to (R10), then advances to the next row.
#define HSUMROW512 \
	VEXTRACTF32X8 $1, Z0, Y1 \
	VADDPS        Y1, Y0, Y0 \
	VEXTRACTF128  $1, Y0, X1 \
	VADDPS        X1, X0, X0 \
	VHADDPS       X0, X0, X0 \
	VHADDPS       X0, X0, X0 \
	VMOVSS        X0, (R10) \
	ADDQ          $4, R10 \
	ADDQ          R9, R11 \
	DECQ          R8

// Q4STEP512 adds blocks 2j and 2j+1 of the current eight (nibbles at
// nib0 and nib1 from SI, vector quants at xoff from DI; scale products in
// Z23, lane selector zsel) into acc:
//   VBROADCASTI32X4 twice + VSHUFI64X2: block 2j's nibbles in lanes 0, 1,
//   block 2j+1's in lanes 2, 3; VPSRLVQ shifts lanes 1 and 3 by 4, VPANDD
//   0x0f: 32 unsigned weights per block (the -8 comes off per row, see
//   gemvQ4_0AVX2); VPDPBUSD with the vector's signed quants; VCVTDQ2PS;
//   VPERMPS spreads the two blocks' scale products over their lanes; FMA.
#define Q4STEP512(nib0, nib1, xoff, zsel, acc) \
	VBROADCASTI32X4 nib0(SI), Z5 \
	VBROADCASTI32X4 nib1(SI), Z6 \
	VSHUFI64X2      $0, Z6, Z5, Z5 \
	VPSRLVQ         Z12, Z5, Z5 \
	VPANDD          Z14, Z5, Z5 \
	VPXORD          Z7, Z7, Z7 \
	VPDPBUSD        xoff(DI), Z5, Z7 \
	VCVTDQ2PS       Z7, Z7 \
	VPERMPS         Z23, zsel, Z8 \
	VFMADD231PS     Z8, Z7, acc

// func gemvQ4_0VNNI512(w *byte, stride, rows int, xq *byte, xd, xc *float32, n int, out *float32)
// gemvQ4_0AVX2 on 512-bit registers, two blocks per VPDPBUSD, eight
// blocks per iteration, their scales picked from two loads by VPERMT2W;
// n (blocks) is a multiple of 8.
// Registers: R11 row start, SI weights, DI x quants, R13 xd, R14 xc, CX
// blocks left, R8 rows left, R9 stride, R10 out; Z0..Z3 accumulators, Y4
// the correction's eight lanes.
TEXT ·gemvQ4_0VNNI512(SB), NOSPLIT, $0-64
	MOVQ         w+0(FP), R11
	MOVQ         stride+8(FP), R9
	MOVQ         rows+16(FP), R8
	MOVQ         out+56(FP), R10
	VPBROADCASTD bytes0f<>(SB), Z14
	VMOVDQU64    q4shift512<>(SB), Z12
	VMOVDQU64    q4perm8<>(SB), Z16
	VMOVDQU32    pairsel<>+0(SB), Z24
	VMOVDQU32    pairsel<>+64(SB), Z25
	VMOVDQU32    pairsel<>+128(SB), Z26
	VMOVDQU32    pairsel<>+192(SB), Z27
	TESTQ        R8, R8
	JZ           q4v5ret

q4v5row:
	MOVQ   R11, SI
	MOVQ   xq+24(FP), DI
	MOVQ   xd+32(FP), R13
	MOVQ   xc+40(FP), R14
	MOVQ   n+48(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Y4, Y4, Y4
	TESTQ  CX, CX
	JZ     q4v5done

q4v5loop:
	// weights 2048 bytes ahead into L1: this kernel is compute-bound (one
	// thread reads 25 GB/s from L2), and PREFETCHT2 2048-4096 ahead, which
	// helps Q8_0 and F16, read 2-8% slower from memory here
	PREFETCHT0  2048(SI)
	PREFETCHT0  2112(SI)
	PREFETCHT0  2176(SI)
	VMOVDQU16   (SI), Z20
	VMOVDQU16   64(SI), Z21
	VPERMT2W    Z21, Z16, Z20
	VCVTPH2PS   X20, Y22
	VMULPS      (R13), Y22, Y23
	VFMADD231PS (R14), Y22, Y4
	Q4STEP512(2, 20, 0, Z24, Z0)
	Q4STEP512(38, 56, 64, Z25, Z1)
	Q4STEP512(74, 92, 128, Z26, Z2)
	Q4STEP512(110, 128, 192, Z27, Z3)
	ADDQ        $144, SI
	ADDQ        $256, DI
	ADDQ        $32, R13
	ADDQ        $32, R14
	SUBQ        $8, CX
	JNZ         q4v5loop

q4v5done:
	VADDPS    Z1, Z0, Z0
	VADDPS    Z3, Z2, Z2
	VADDPS    Z2, Z0, Z0
	VXORPS    Y5, Y5, Y5
	VSUBPS    Z4, Z5, Z5
	VADDPS    Z5, Z0, Z0
	HSUMROW512
	JNZ       q4v5row

q4v5ret:
	VZEROUPPER
	RET

// q4x4nib0 gathers the nibbles of the first four Q4_0 blocks of eight
// (bytes 18j+2..18j+17 for block j) into lane j, for VPERMT2B on bytes
// 0..63 and 64..127 of the eight; q4x4nib1 those of the last four (bytes
// 72+18j+2..) out of bytes 64..127 and 128..143.
DATA q4x4nib0<>+0(SB)/8, $0x0908070605040302
DATA q4x4nib0<>+8(SB)/8, $0x11100f0e0d0c0b0a
DATA q4x4nib0<>+16(SB)/8, $0x1b1a191817161514
DATA q4x4nib0<>+24(SB)/8, $0x232221201f1e1d1c
DATA q4x4nib0<>+32(SB)/8, $0x2d2c2b2a29282726
DATA q4x4nib0<>+40(SB)/8, $0x3534333231302f2e
DATA q4x4nib0<>+48(SB)/8, $0x3f3e3d3c3b3a3938
DATA q4x4nib0<>+56(SB)/8, $0x4746454443424140
GLOBL q4x4nib0<>(SB), RODATA|NOPTR, $64

DATA q4x4nib1<>+0(SB)/8, $0x11100f0e0d0c0b0a
DATA q4x4nib1<>+8(SB)/8, $0x1918171615141312
DATA q4x4nib1<>+16(SB)/8, $0x232221201f1e1d1c
DATA q4x4nib1<>+24(SB)/8, $0x2b2a292827262524
DATA q4x4nib1<>+32(SB)/8, $0x3534333231302f2e
DATA q4x4nib1<>+40(SB)/8, $0x3d3c3b3a39383736
DATA q4x4nib1<>+48(SB)/8, $0x4746454443424140
DATA q4x4nib1<>+56(SB)/8, $0x4f4e4d4c4b4a4948
GLOBL q4x4nib1<>(SB), RODATA|NOPTR, $64

// q4x4scl picks the fp16 scales of eight Q4_0 blocks (bytes 18j, 18j+1)
// out of bytes 0..63 and 64..127, for VPERMT2B.
DATA q4x4scl<>+0(SB)/8, $0x3736252413120100
DATA q4x4scl<>+8(SB)/8, $0x7f7e6d6c5b5a4948
DATA q4x4scl<>+16(SB)/8, $0x0000000000000000
DATA q4x4scl<>+24(SB)/8, $0x0000000000000000
DATA q4x4scl<>+32(SB)/8, $0x0000000000000000
DATA q4x4scl<>+40(SB)/8, $0x0000000000000000
DATA q4x4scl<>+48(SB)/8, $0x0000000000000000
DATA q4x4scl<>+56(SB)/8, $0x0000000000000000
GLOBL q4x4scl<>(SB), RODATA|NOPTR, $64

// q4x4sel spreads the scale products of eight blocks over the four lanes
// of their group, for VPERMPS: at offset 64g, dword 4g+j in lanes 4j..4j+3.
DATA q4x4sel<>+0(SB)/8, $0x0000000000000000
DATA q4x4sel<>+8(SB)/8, $0x0000000000000000
DATA q4x4sel<>+16(SB)/8, $0x0000000100000001
DATA q4x4sel<>+24(SB)/8, $0x0000000100000001
DATA q4x4sel<>+32(SB)/8, $0x0000000200000002
DATA q4x4sel<>+40(SB)/8, $0x0000000200000002
DATA q4x4sel<>+48(SB)/8, $0x0000000300000003
DATA q4x4sel<>+56(SB)/8, $0x0000000300000003
DATA q4x4sel<>+64(SB)/8, $0x0000000400000004
DATA q4x4sel<>+72(SB)/8, $0x0000000400000004
DATA q4x4sel<>+80(SB)/8, $0x0000000500000005
DATA q4x4sel<>+88(SB)/8, $0x0000000500000005
DATA q4x4sel<>+96(SB)/8, $0x0000000600000006
DATA q4x4sel<>+104(SB)/8, $0x0000000600000006
DATA q4x4sel<>+112(SB)/8, $0x0000000700000007
DATA q4x4sel<>+120(SB)/8, $0x0000000700000007
GLOBL q4x4sel<>(SB), RODATA|NOPTR, $128

// Q4X4LOAD reads eight blocks (144 bytes from SI) with one load per byte:
// Z20 bytes 0..63, Z21 64..127, X18 128..143 (the rest of Z18 zero). Three
// VPERMT2B on these registers, not on memory operands, put the first four
// blocks' nibble bytes in Z5 (block j in lane j), the last four's in Z21
// and the eight fp16 scales in X20; Z23 gets the scales times the vector's
// (at R13). The loop before loaded each group as 64 bytes at w and w+8
// and the scales' 128 bytes again: six weight loads per eight blocks, most
// of them splitting two cache lines at a 144-byte stride. Loading once
// made it 17% faster from L2 (26.5 -> 30.9 GB/s).
#define Q4X4LOAD \
	VMOVDQU8  (SI), Z20 \
	VMOVDQU8  64(SI), Z21 \
	VMOVDQU8  128(SI), X18 \
	VMOVDQA64 Z20, Z5 \
	VPERMT2B  Z21, Z15, Z5 \
	VPERMT2B  Z21, Z16, Z20 \
	VPERMT2B  Z18, Z17, Z21 \
	VCVTPH2PS X20, Y22 \
	VMULPS    (R13), Y22, Y23

// Q4X4DOT adds a group of four blocks (nibble bytes in zn, Z6 its high
// nibbles, made by the caller; the group's x4 layout at x0 from DI, lane
// selector zsel) into acc: the low nibbles (AND 0x0f) meet the layout's
// first 16 quants of each block, the high ones the last 16, both VPDPBUSD
// onto the lanes' -8 x sum biases (at x0+128), so each lane holds an
// exact part of sum((w-8)*x); VCVTDQ2PS, VPERMPS spreads the blocks'
// scale products (Z23) over their lanes, FMA.
#define Q4X4DOT(zn, x0, x64, x128, zsel, acc) \
	VPANDD      Z14, zn, zn \
	VMOVDQU32   x128(DI), Z7 \
	VPDPBUSD    x0(DI), zn, Z7 \
	VPDPBUSD    x64(DI), Z6, Z7 \
	VCVTDQ2PS   Z7, Z7 \
	VPERMPS     Z23, zsel, Z8 \
	VFMADD231PS Z8, Z7, acc

// Q4X4HI sets Z6 to the high nibbles of zn's bytes (shift and mask;
// VGF2P8AFFINEQB does it in one instruction, which read 5% faster from L2
// but no faster in a model's sequence of matrices: not used).
#define Q4X4HI(zn) \
	VPSRLW $4, zn, Z6 \
	VPANDD Z14, Z6, Z6

// Q4X4ARGS loads the arguments and constants of the x4 kernels.
#define Q4X4ARGS \
	MOVQ         w+0(FP), R11 \
	MOVQ         stride+8(FP), R9 \
	MOVQ         rows+16(FP), R8 \
	MOVQ         out+48(FP), R10 \
	VPBROADCASTD bytes0f<>(SB), Z14 \
	VMOVDQU64    q4x4nib0<>(SB), Z15 \
	VMOVDQU64    q4x4nib1<>(SB), Z17 \
	VMOVDQU64    q4x4scl<>(SB), Z16 \
	VMOVDQU32    q4x4sel<>+0(SB), Z24 \
	VMOVDQU32    q4x4sel<>+64(SB), Z25

// Q4X4ROW starts a row: cursors and accumulators.
#define Q4X4ROW \
	MOVQ   R11, SI \
	MOVQ   x4+24(FP), DI \
	MOVQ   xd+32(FP), R13 \
	MOVQ   n+40(FP), CX \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1

// Q4X4PF prefetches the weights 4096 bytes ahead into L2 and 2048 ahead
// into L1. With T0 2048 alone (the old loop's best setting, kq1t/tg7) the
// faster loop read a model's matrices in sequence 3-16% slower than the
// old one did; with both, 2% faster (and 6-7% on a model that fits the
// L3 cache).
#define Q4X4PF \
	PREFETCHT2 4096(SI) \
	PREFETCHT2 4160(SI) \
	PREFETCHT2 4224(SI) \
	PREFETCHT0 2048(SI) \
	PREFETCHT0 2112(SI) \
	PREFETCHT0 2176(SI)

// Q4X4NEXT advances past eight blocks (the layout's two groups of 192
// bytes).
#define Q4X4NEXT \
	ADDQ $144, SI \
	ADDQ $384, DI \
	ADDQ $32, R13 \
	SUBQ $8, CX

// func gemvQ4_0X4VNNI512(w *byte, stride, rows int, x4 *byte, xd *float32, n int, out *float32)
// One Q4_0 vector in the x4 layout (Batch.setX4 for Q4_0: per group of
// four blocks 64 bytes of low quants, 64 of high quants, 64 of -8 x sum
// biases): eight blocks per iteration, as two groups of four; n (blocks)
// is a multiple of 8. Registers: R11 row start, SI weights, DI x4, R13
// xd, CX blocks left, R8 rows left, R9 stride, R10 out; Z0, Z1
// accumulators.
TEXT ·gemvQ4_0X4VNNI512(SB), NOSPLIT, $0-56
	Q4X4ARGS
	TESTQ R8, R8
	JZ    q4x4ret

q4x4row:
	Q4X4ROW
	TESTQ CX, CX
	JZ    q4x4done

q4x4loop:
	Q4X4PF
	Q4X4LOAD
	Q4X4HI(Z5)
	Q4X4DOT(Z5, 0, 64, 128, Z24, Z0)
	Q4X4HI(Z21)
	Q4X4DOT(Z21, 192, 256, 320, Z25, Z1)
	Q4X4NEXT
	JNZ  q4x4loop

q4x4done:
	VADDPS Z1, Z0, Z0
	HSUMROW512
	JNZ    q4x4row

q4x4ret:
	VZEROUPPER
	RET

// q8perm4 picks the fp16 scales of four Q8_0 blocks (34 bytes = 17 words
// apart) out of two 64-byte loads, for VPERMT2W: words 0, 17, 34, 51.
DATA q8perm4<>+0(SB)/8, $0x0033002200110000
DATA q8perm4<>+8(SB)/8, $0
DATA q8perm4<>+16(SB)/8, $0
DATA q8perm4<>+24(SB)/8, $0
DATA q8perm4<>+32(SB)/8, $0
DATA q8perm4<>+40(SB)/8, $0
DATA q8perm4<>+48(SB)/8, $0
DATA q8perm4<>+56(SB)/8, $0
GLOBL q8perm4<>(SB), RODATA|NOPTR, $64

// Q8STEP512 adds blocks 2j and 2j+1 of the current four (quants at q0 and
// q1 from SI, vector quants at xoff from DI) into acc: the weights made
// unsigned (XOR 0x80), VPDPBUSD onto zero, so that each lane holds its
// part of sum((w+128)*x) (the 128*sum(x) comes off per row, below),
// VCVTDQ2PS, VPERMPS spreads the two blocks' scale products (Z23) over
// their lanes, FMA.
#define Q8STEP512(q0, q1, xoff, zsel, acc) \
	VMOVDQU8     q0(SI), Y5 \
	VINSERTI64X4 $1, q1(SI), Z5, Z5 \
	VPXORD       Z30, Z5, Z5 \
	VPXORD       Z7, Z7, Z7 \
	VPDPBUSD     xoff(DI), Z5, Z7 \
	VCVTDQ2PS    Z7, Z7 \
	VPERMPS      Z23, zsel, Z8 \
	VFMADD231PS  Z8, Z7, acc

// float32 16: xc holds 8 x d x sum(x) per block, the offset is 128
DATA f32sixteen<>+0(SB)/4, $0x41800000
GLOBL f32sixteen<>(SB), RODATA|NOPTR, $4

// func gemvQ8_0VNNI512(w *byte, stride, rows int, xq *byte, xc, xd *float32, n int, out *float32)
// One vector, Q8_0 weights: out[r] = sum_k fp16(wd_k)*xd[k]*sum_i(w_ki*x_ki),
// two blocks per VPDPBUSD, four per iteration; n (blocks) is a multiple
// of 4. The +128 that makes the weights unsigned is taken off per row in
// floats, as gemvQ4_0VNNI512 does with its -8: sum_k fp16(wd_k)*16*xc[k]
// (xc = 8 x xd x the sum of the block's quants) in Y4. The batched
// kernels add an int32 bias per group of four quants instead, but that
// doubles the vector's bytes (64 per block), and on rows of 5632 columns
// (an 11 KiB vector beside the weights streaming through the L1 cache)
// one thread read only 0.75-0.77 of the bandwidth from memory, against
// 0.84 with the 36 bytes per block read here (0.83-0.84 either way at 2048).
// Registers: R11 row start, SI weights, DI x quants, R14 xc, R13 xd, CX
// blocks left, R8 rows left, R9 stride, R10 out, R12 the next line to
// prefetch, AX scratch; Z0, Z1 accumulators,
// Y4 the correction's four lanes, Z28 16.
TEXT ·gemvQ8_0VNNI512(SB), NOSPLIT, $0-64
	MOVQ         w+0(FP), R11
	MOVQ         stride+8(FP), R9
	MOVQ         rows+16(FP), R8
	MOVQ         out+56(FP), R10
	VPBROADCASTD bytes80<>(SB), Z30
	VBROADCASTSS f32sixteen<>(SB), Z28
	VMOVDQU64    q8perm4<>(SB), Z16
	VMOVDQU32    pairsel<>+0(SB), Z24
	VMOVDQU32    pairsel<>+64(SB), Z25
	XORQ         R12, R12
	TESTQ        R8, R8
	JZ           q8v5ret

q8v5row:
	MOVQ    R11, SI
	MOVQ    xq+24(FP), DI
	MOVQ    xc+32(FP), R14
	MOVQ    xd+40(FP), R13
	MOVQ    n+48(FP), CX
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z4, Z4, Z4
	LEAQ    3072(SI), AX
	ANDQ    $-64, AX
	CMPQ    R12, AX
	CMOVQLT AX, R12
	TESTQ   CX, CX
	JZ      q8v5done

q8v5loop:
	// Prefetch: each line of the weights once, 3072 bytes ahead into L2
	// and 1024 ahead into L1. R12 is the next line for L2; it runs on
	// across rows (they are usually contiguous) and two lines per
	// 136-byte step leave it 8 bytes behind, so a third line follows
	// when it is less than 3072 bytes ahead of the next step. On the
	// TinyLlama shape's matrices in file order one thread took 6-8% less
	// time than with the three PREFETCHT2 3072 per step (1.4 per line)
	// used before (T2 4096 + T0 2048: 3-6% less, T2 2048 + T0 1024: 2%);
	// PREFETCHT0 2048 alone had read 4-16% slower than those from memory
	// and 15-60% slower from L3.
	PREFETCHT2  (R12)
	PREFETCHT0  -2048(R12)
	PREFETCHT2  64(R12)
	PREFETCHT0  -1984(R12)
	ADDQ        $128, R12
	LEAQ        3208(SI), AX
	CMPQ        R12, AX
	JAE         q8v5pf
	PREFETCHT2  (R12)
	PREFETCHT0  -2048(R12)
	ADDQ        $64, R12

q8v5pf:
	VMOVDQU16   (SI), Z20
	VMOVDQU16   64(SI), Z21
	VPERMT2W    Z21, Z16, Z20
	VCVTPH2PS   X20, X22
	VMULPS      (R13), X22, X23
	VFMADD231PS (R14), X22, X4
	Q8STEP512(2, 36, 0, Z24, Z0)
	Q8STEP512(70, 104, 64, Z25, Z1)
	ADDQ        $136, SI
	ADDQ        $128, DI
	ADDQ        $16, R14
	ADDQ        $16, R13
	SUBQ        $4, CX
	JNZ         q8v5loop

q8v5done:
	VADDPS     Z1, Z0, Z0
	VMULPS     Z28, Z4, Z4
	VSUBPS     Z4, Z0, Z0
	HSUMROW512
	JNZ        q8v5row

q8v5ret:
	VZEROUPPER
	RET

DATA qabs<>+0(SB)/4, $0x7fffffff
GLOBL qabs<>(SB), RODATA|NOPTR, $4

DATA qsign<>+0(SB)/4, $0x80000000
GLOBL qsign<>(SB), RODATA|NOPTR, $4

DATA qhalf<>+0(SB)/4, $0x3effffff
GLOBL qhalf<>(SB), RODATA|NOPTR, $4

DATA qones<>+0(SB)/4, $0x01010101
GLOBL qones<>(SB), RODATA|NOPTR, $4

// func quantizeBatch512(q *byte, d *float32, bias, bias4 *int32, xc *float32, q34 *byte, x *float32, n int)
// quantizeBatchGeneric (gemm.go) on AVX-512, bit for bit: per block of 32,
// amax by VMAXPS, d = amax/127 and id = 1/d as Go computes them, the fp16
// scale by VCVTPS2PH (round to nearest even, as FP32ToFP16), the quants
// round(x*id) half away from zero as trunc(x*id + copysign(0.49999997)),
// which is exact below 2^22; the group sums by VPDPBUSD with ones.
// Registers: SI x, DI q, R8 d, R9 bias, R10 bias4, R11 xc, R12 q34 (or
// 0), CX blocks left; Z20 |x| mask, Z21 sign mask, Z22 0.49999997, Y23
// bytes of 1, X24 127, X25 1, X26 8.
TEXT ·quantizeBatch512(SB), NOSPLIT, $0-64
	MOVQ q+0(FP), DI
	MOVQ d+8(FP), R8
	MOVQ bias+16(FP), R9
	MOVQ bias4+24(FP), R10
	MOVQ xc+32(FP), R11
	MOVQ q34+40(FP), R12
	MOVQ x+48(FP), SI
	MOVQ n+56(FP), CX
	TESTQ CX, CX
	JZ    qbdone
	VPBROADCASTD qabs<>(SB), Z20
	VPBROADCASTD qsign<>(SB), Z21
	VPBROADCASTD qhalf<>(SB), Z22
	VPBROADCASTD qones<>(SB), Y23
	MOVL         $0x42fe0000, AX // 127
	VMOVD        AX, X24
	MOVL         $0x3f800000, AX // 1
	VMOVD        AX, X25
	MOVL         $0x41000000, AX // 8
	VMOVD        AX, X26

qbloop:
	VMOVUPS       (SI), Z0
	VMOVUPS       64(SI), Z1
	VANDPS        Z20, Z0, Z2
	VANDPS        Z20, Z1, Z3
	VMAXPS        Z3, Z2, Z2
	VEXTRACTF64X4 $1, Z2, Y3
	VMAXPS        Y3, Y2, Y2
	VEXTRACTF128  $1, Y2, X3
	VMAXPS        X3, X2, X2
	VMOVHLPS      X2, X3, X3
	VMAXPS        X3, X2, X2
	VMOVSHDUP     X2, X3
	VMAXSS        X3, X2, X2
	VDIVSS        X24, X2, X4 // d = amax/127
	VXORPS        X5, X5, X5
	VUCOMISS      X5, X4
	JEQ           qbzero
	VDIVSS        X4, X25, X5 // id = 1/d

qbscaled:
	VCVTPS2PH    $0, X4, X6
	VCVTPH2PS    X6, X7
	VMOVSS       X7, (R8)
	VBROADCASTSS X5, Z5
	VMULPS       Z5, Z0, Z0
	VMULPS       Z5, Z1, Z1
	VANDPS       Z21, Z0, Z8
	VANDPS       Z21, Z1, Z9
	VORPS        Z22, Z8, Z8
	VORPS        Z22, Z9, Z9
	VADDPS       Z8, Z0, Z0
	VADDPS       Z9, Z1, Z1
	VCVTTPS2DQ   Z0, Z0
	VCVTTPS2DQ   Z1, Z1
	VPMOVDB      Z0, X10
	VPMOVDB      Z1, X11
	VINSERTI128  $1, X11, Y10, Y10
	VMOVDQU      Y10, (DI)
	TESTQ        R12, R12
	JZ           qbsums
	VPEXTRW      $0, X6, (R12)
	VMOVDQU      Y10, 2(R12)
	ADDQ         $34, R12

qbsums:
	VPXORD       Y12, Y12, Y12
	VPDPBUSD     Y10, Y23, Y12 // sum of each group of four quants
	VPSLLD       $7, Y12, Y13
	VPXORD       Y15, Y15, Y15
	VPSUBD       Y13, Y15, Y13 // -128 * sum
	VMOVDQU      Y13, (R9)
	VPSLLD       $3, Y12, Y13
	VPSUBD       Y13, Y15, Y13 // -8 * sum
	VMOVDQU      Y13, (R10)
	VEXTRACTI128 $1, Y12, X13
	VPADDD       X13, X12, X12
	VPSHUFD      $0x4e, X12, X13
	VPADDD       X13, X12, X12
	VPSHUFD      $0xb1, X12, X13
	VPADDD       X13, X12, X12
	VCVTDQ2PS    X12, X12
	VMULSS       X26, X7, X13  // 8 * d
	VMULSS       X12, X13, X13 // * sum
	VMOVSS       X13, (R11)
	ADDQ         $128, SI
	ADDQ         $32, DI
	ADDQ         $4, R8
	ADDQ         $32, R9
	ADDQ         $32, R10
	ADDQ         $4, R11
	DECQ         CX
	JNZ          qbloop

qbdone:
	VZEROUPPER
	RET

qbzero:
	VXORPS X5, X5, X5 // id = 0: every quant is 0
	JMP    qbscaled
