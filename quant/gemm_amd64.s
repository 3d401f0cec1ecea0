//go:build amd64 && !noasm

#include "textflag.h"

// AVX2 register-tile kernels of MatMul (gemm.go). Each computes one tile of
// 4 weight rows x 3 activation vectors over the whole row length and stores
// it to out[t*4 + r] (twelve floats); the Go wrappers in gemm_amd64.go walk
// the tiles, keeping a tile of rows in the L1 cache while it meets every
// vector. Their reference loops are the doc comments in gemm_amd64.go.
//
// Registers: R8..R11 the four weight rows, SI/DI/R12 the three vectors'
// quants (or floats), R13/R14/DX their block scales, CX the block (or
// 8-column step) counter; Y0..Y11 accumulators, acc(r, t) = Y(3r+t).

DATA ones16<>+0(SB)/8, $0x0001000100010001
DATA ones16<>+8(SB)/8, $0x0001000100010001
DATA ones16<>+16(SB)/8, $0x0001000100010001
DATA ones16<>+24(SB)/8, $0x0001000100010001
GLOBL ones16<>(SB), RODATA|NOPTR, $32

DATA nib0f<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib0f<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib0f<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA nib0f<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL nib0f<>(SB), RODATA|NOPTR, $32

DATA eights<>+0(SB)/8, $0x0808080808080808
DATA eights<>+8(SB)/8, $0x0808080808080808
DATA eights<>+16(SB)/8, $0x0808080808080808
DATA eights<>+24(SB)/8, $0x0808080808080808
GLOBL eights<>(SB), RODATA|NOPTR, $32

// TILEARGS loads the arguments common to every tile kernel.
#define TILEARGS \
	MOVQ w0+0(FP), R8 \
	MOVQ w1+8(FP), R9 \
	MOVQ w2+16(FP), R10 \
	MOVQ w3+24(FP), R11 \
	MOVQ x+32(FP), SI \
	MOVQ xstride+40(FP), AX \
	LEAQ (SI)(AX*1), DI \
	LEAQ (DI)(AX*1), R12 \
	MOVQ n+64(FP), CX \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
	VXORPS Y2, Y2, Y2 \
	VXORPS Y3, Y3, Y3 \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5 \
	VXORPS Y6, Y6, Y6 \
	VXORPS Y7, Y7, Y7 \
	VXORPS Y8, Y8, Y8 \
	VXORPS Y9, Y9, Y9 \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11

// SCALEARGS loads the three vectors' scale pointers.
#define SCALEARGS \
	MOVQ d+48(FP), R13 \
	MOVQ dstride+56(FP), AX \
	LEAQ (R13)(AX*1), R14 \
	LEAQ (R14)(AX*1), DX

// TILESTORE sums each accumulator's eight lanes and stores the tile to
// out[t*4 + r]: for each vector, VHADDPS pairs of rows twice, then adds the
// two 128-bit halves, leaving (r0, r1, r2, r3).
#define TILESTORE1(a0, a1, a2, a3, off) \
	VHADDPS      a1, a0, Y12 \
	VHADDPS      a3, a2, Y13 \
	VHADDPS      Y13, Y12, Y12 \
	VEXTRACTF128 $1, Y12, X13 \
	VADDPS       X13, X12, X12 \
	VMOVUPS      X12, off(AX)

#define TILESTORE \
	MOVQ out+72(FP), AX \
	TILESTORE1(Y0, Y3, Y6, Y9, 0) \
	TILESTORE1(Y1, Y4, Y7, Y10, 16) \
	TILESTORE1(Y2, Y5, Y8, Y11, 32) \
	VZEROUPPER

// BLOCKSCALES multiplies the fp16 scales of the four rows' current blocks
// (at off(R8)..off(R11)) with each vector's scale and stores the products
// to 0(SP): scale(r, t) at 16t+4r. Clobbers AX, BX, X12, X13.
#define BLOCKSCALES \
	MOVWQZX      (R8), AX \
	MOVWQZX      (R9), BX \
	SHLQ         $16, BX \
	ORQ          BX, AX \
	MOVWQZX      (R10), BX \
	SHLQ         $32, BX \
	ORQ          BX, AX \
	MOVWQZX      (R11), BX \
	SHLQ         $48, BX \
	ORQ          BX, AX \
	VMOVQ        AX, X12 \
	VCVTPH2PS    X12, X12 \
	VBROADCASTSS (R13), X13 \
	VMULPS       X12, X13, X13 \
	VMOVUPS      X13, 0(SP) \
	VBROADCASTSS (R14), X13 \
	VMULPS       X12, X13, X13 \
	VMOVUPS      X13, 16(SP) \
	VBROADCASTSS (DX), X13 \
	VMULPS       X12, X13, X13 \
	VMOVUPS      X13, 32(SP)

// PAIR accumulates one block of one row (signed quants in Y12, their
// absolute values in Y13) times the vector block at (xp), scaled by the
// float at soff(SP), into acc:
//   VPSIGNB gives x the sign of w, so |w| (unsigned) * x' = w * x;
//   VPMADDUBSW sums pairs into int16 (at most 2*128*127: the activations are
//   never -128, so no saturation), VPMADDWD with ones into eight int32,
//   VCVTDQ2PS, then an FMA with the broadcast scale.
#define PAIR(xp, soff, acc) \
	VMOVDQU      (xp), Y14 \
	VPSIGNB      Y12, Y14, Y14 \
	VPMADDUBSW   Y14, Y13, Y14 \
	VPMADDWD     ones16<>(SB), Y14, Y14 \
	VCVTDQ2PS    Y14, Y14 \
	VBROADCASTSS soff(SP), Y15 \
	VFMADD231PS  Y15, Y14, acc

// ROW multiplies the current block of one row (signed quants in Y12) with
// the three vectors into acc(r, 0..2).
#define ROW(r4, a0, a1, a2) \
	VPABSB Y12, Y13 \
	PAIR(SI, r4, a0) \
	PAIR(DI, 16+r4, a1) \
	PAIR(R12, 32+r4, a2)

// LOADQ8 loads the 32 quants of a Q8_0 block at (wr) into Y12.
#define LOADQ8(wr) \
	VMOVDQU 2(wr), Y12

// LOADQ4 expands the 16 nibble bytes of a Q4_0 block at (wr) into 32
// signed quants in Y12: low nibbles (weights 0..15) in the low lane, high
// nibbles (16..31) in the high lane, each minus 8.
#define LOADQ4(wr) \
	VMOVDQU     2(wr), X12 \
	VPSRLW      $4, X12, X13 \
	VINSERTI128 $1, X13, Y12, Y12 \
	VPAND       nib0f<>(SB), Y12, Y12 \
	VPSUBB      eights<>(SB), Y12, Y12

// BLOCKNEXT advances the cursors past one block (weights of bb bytes).
#define BLOCKNEXT(bb) \
	ADDQ $bb, R8 \
	ADDQ $bb, R9 \
	ADDQ $bb, R10 \
	ADDQ $bb, R11 \
	ADDQ $32, SI \
	ADDQ $32, DI \
	ADDQ $32, R12 \
	ADDQ $4, R13 \
	ADDQ $4, R14 \
	ADDQ $4, DX

// QAROUND rounds y (x*id) half away from zero to int32 lanes:
// trunc(y + copysign(0.49999997, y)). Uses Y9, Y10; clobbers Y12.
#define QAROUND(y) \
	VANDPS     Y9, y, Y12 \
	VORPS      Y10, Y12, Y12 \
	VADDPS     Y12, y, y \
	VCVTTPS2DQ y, y

// AQ8STEP widens eight quants at off of each of the four key rows, times
// the rows' block scales (broadcast at 0(SP)..96(SP)), and multiplies them
// with the three queries' next eight elements.
#define AQ8STEP(off) \
	VPMOVSXBD off(R8), Y12 \
	VPMOVSXBD off(R9), Y13 \
	VPMOVSXBD off(R10), Y14 \
	VPMOVSXBD off(R11), Y15 \
	VCVTDQ2PS Y12, Y12 \
	VCVTDQ2PS Y13, Y13 \
	VCVTDQ2PS Y14, Y14 \
	VCVTDQ2PS Y15, Y15 \
	VMULPS    0(SP), Y12, Y12 \
	VMULPS    32(SP), Y13, Y13 \
	VMULPS    64(SP), Y14, Y14 \
	VMULPS    96(SP), Y15, Y15 \
	FROW(Y12, Y0, Y1, Y2) \
	FROW(Y13, Y3, Y4, Y5) \
	FROW(Y14, Y6, Y7, Y8) \
	FROW(Y15, Y9, Y10, Y11) \
	ADDQ $32, SI \
	ADDQ $32, DI \
	ADDQ $32, R12

// AQ8SCALE broadcasts the fp16 scale of row w's block to off(SP).
#define AQ8SCALE(w, off) \
	VPBROADCASTW (w), X12 \
	VCVTPH2PS    X12, Y12 \
	VMOVUPS      Y12, off(SP)

// func gemmQ8_0Tile(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[12]float32)
TEXT ·gemmQ8_0Tile(SB), NOSPLIT, $64-80
	TILEARGS
	SCALEARGS
	TESTQ CX, CX
	JZ    q8done

q8loop:
	BLOCKSCALES
	LOADQ8(R8)
	ROW(0, Y0, Y1, Y2)
	LOADQ8(R9)
	ROW(4, Y3, Y4, Y5)
	LOADQ8(R10)
	ROW(8, Y6, Y7, Y8)
	LOADQ8(R11)
	ROW(12, Y9, Y10, Y11)
	BLOCKNEXT(34)
	DECQ CX
	JNZ  q8loop

q8done:
	TILESTORE
	RET

// func gemmQ4_0Tile(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[12]float32)
TEXT ·gemmQ4_0Tile(SB), NOSPLIT, $64-80
	TILEARGS
	SCALEARGS
	TESTQ CX, CX
	JZ    q4done

q4loop:
	BLOCKSCALES
	LOADQ4(R8)
	ROW(0, Y0, Y1, Y2)
	LOADQ4(R9)
	ROW(4, Y3, Y4, Y5)
	LOADQ4(R10)
	ROW(8, Y6, Y7, Y8)
	LOADQ4(R11)
	ROW(12, Y9, Y10, Y11)
	BLOCKNEXT(18)
	DECQ CX
	JNZ  q4loop

q4done:
	TILESTORE
	RET

// FROW multiplies eight weights of one row (float32 in wreg) with eight
// elements of each of the three vectors into acc(r, 0..2).
#define FROW(wreg, a0, a1, a2) \
	VFMADD231PS (SI), wreg, a0 \
	VFMADD231PS (DI), wreg, a1 \
	VFMADD231PS (R12), wreg, a2

// FNEXT advances the cursors by eight elements (weights of eb bytes each).
#define FNEXT(wb) \
	ADDQ $wb, R8 \
	ADDQ $wb, R9 \
	ADDQ $wb, R10 \
	ADDQ $wb, R11 \
	ADDQ $32, SI \
	ADDQ $32, DI \
	ADDQ $32, R12

// func gemmF32Tile(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[12]float32)
// n counts steps of eight columns; d and dstride are unused.
TEXT ·gemmF32Tile(SB), NOSPLIT, $0-80
	TILEARGS
	TESTQ CX, CX
	JZ    f32done

f32loop:
	VMOVUPS (R8), Y12
	VMOVUPS (R9), Y13
	VMOVUPS (R10), Y14
	VMOVUPS (R11), Y15
	FROW(Y12, Y0, Y1, Y2)
	FROW(Y13, Y3, Y4, Y5)
	FROW(Y14, Y6, Y7, Y8)
	FROW(Y15, Y9, Y10, Y11)
	FNEXT(32)
	DECQ CX
	JNZ  f32loop

f32done:
	TILESTORE
	RET

// func gemmF16Tile(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[12]float32)
TEXT ·gemmF16Tile(SB), NOSPLIT, $0-80
	TILEARGS
	TESTQ CX, CX
	JZ    f16done

f16loop:
	VCVTPH2PS (R8), Y12
	VCVTPH2PS (R9), Y13
	VCVTPH2PS (R10), Y14
	VCVTPH2PS (R11), Y15
	FROW(Y12, Y0, Y1, Y2)
	FROW(Y13, Y3, Y4, Y5)
	FROW(Y14, Y6, Y7, Y8)
	FROW(Y15, Y9, Y10, Y11)
	FNEXT(16)
	DECQ CX
	JNZ  f16loop

f16done:
	TILESTORE
	RET

// func attnQ8Tile(w0, w1, w2, w3 *byte, x *float32, xstride int, d *float32, dstride int, n int, out *[12]float32)
// Q8_0 key rows (n blocks each) with float32 queries, for AttnScores: the
// keys are widened and scaled, the queries not quantised. d and dstride
// are unused.
TEXT ·attnQ8Tile(SB), NOSPLIT, $128-80
	TILEARGS
	TESTQ CX, CX
	JZ    aq8done

aq8loop:
	AQ8SCALE(R8, 0)
	AQ8SCALE(R9, 32)
	AQ8SCALE(R10, 64)
	AQ8SCALE(R11, 96)
	AQ8STEP(2)
	AQ8STEP(10)
	AQ8STEP(18)
	AQ8STEP(26)
	ADDQ $34, R8
	ADDQ $34, R9
	ADDQ $34, R10
	ADDQ $34, R11
	DECQ CX
	JNZ  aq8loop

aq8done:
	TILESTORE
	RET

DATA q4shift<>+0(SB)/8, $0
DATA q4shift<>+8(SB)/8, $0
DATA q4shift<>+16(SB)/8, $4
DATA q4shift<>+24(SB)/8, $4
GLOBL q4shift<>(SB), RODATA|NOPTR, $32

// Q4GEMV accumulates one Q4_0 block (nibbles at wq) times the vector block
// at xq, scaled by the float at soff(SP), into acc, without the -8:
//   VBROADCASTI128 + VPSRLVQ by (0,0,4,4) + VPAND 0x0f: nibbles n, 0..15,
//   weights 0..15 in the low lane and 16..31 in the high lane;
//   VPMADDUBSW(n, x): int16 pair sums of n*x (at most 2*15*127), VPMADDWD
//   with ones, VCVTDQ2PS, FMA with the broadcast scale.
// The -8*sum(x) of every block is subtracted once per row (see
// gemvQ4_0AVX2). Y12 holds the shift counts, Y14 0x0f bytes, Y15 int16
// ones. Clobbers Y5, Y6.
#define Q4GEMV(wq, xq, soff, acc) \
	VBROADCASTI128 wq, Y5 \
	VPSRLVQ        Y12, Y5, Y5 \
	VPAND          Y14, Y5, Y5 \
	VPMADDUBSW     xq, Y5, Y5 \
	VPMADDWD       Y15, Y5, Y5 \
	VCVTDQ2PS      Y5, Y5 \
	VBROADCASTSS   soff(SP), Y6 \
	VFMADD231PS    Y6, Y5, acc

// func gemvQ4_0AVX2(w *byte, stride, rows int, xq *byte, xd, xc *float32, n int, out *float32)
// Each row: out[r] = sum_k fp16(wd_k)*xd[k]*sum_i(n_ki*x_ki) - sum_k fp16(wd_k)*xc[k],
// xc[k] = 8*xd[k]*sum_i(x_ki). n counts blocks.
// Registers: R11 row start, SI weights, DI x quants, R13 xd, R14 xc, CX
// blocks left, R8 rows left, R9 stride, R10 out; Y0..Y3 accumulators, Y4
// the correction's eight lanes (X10 the single-block tail's: a VEX scalar
// op would clear Y4's upper half). Eight blocks per iteration: their scales
// gathered by VPINSRW (one instruction each, against three for a scalar
// load, shift and OR), converted and multiplied together.
TEXT ·gemvQ4_0AVX2(SB), NOSPLIT, $32-64
	MOVQ         w+0(FP), R11
	MOVQ         stride+8(FP), R9
	MOVQ         rows+16(FP), R8
	MOVQ         out+56(FP), R10
	VPCMPEQW     Y15, Y15, Y15
	VPSRLW       $15, Y15, Y15
	VMOVDQU      nib0f<>(SB), Y14
	VMOVDQU      q4shift<>(SB), Y12
	TESTQ        R8, R8
	JZ           gq4ret

gq4row:
	MOVQ   R11, SI
	MOVQ   xq+24(FP), DI
	MOVQ   xd+32(FP), R13
	MOVQ   xc+40(FP), R14
	MOVQ   n+48(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS X10, X10, X10

gq4loop8:
	CMPQ        CX, $8
	JL          gq4loop1
	// weights 2048 bytes ahead, as the rows and K-quant kernels do
	PREFETCHT0  2048(SI)
	PREFETCHT0  2112(SI)
	PREFETCHT0  2176(SI)
	VMOVD       (SI), X7
	VPINSRW     $1, 18(SI), X7, X7
	VPINSRW     $2, 36(SI), X7, X7
	VPINSRW     $3, 54(SI), X7, X7
	VPINSRW     $4, 72(SI), X7, X7
	VPINSRW     $5, 90(SI), X7, X7
	VPINSRW     $6, 108(SI), X7, X7
	VPINSRW     $7, 126(SI), X7, X7
	VCVTPH2PS   X7, Y7
	VMULPS      (R13), Y7, Y8
	VMOVUPS     Y8, 0(SP)
	VFMADD231PS (R14), Y7, Y4
	Q4GEMV(2(SI), (DI), 0, Y0)
	Q4GEMV(20(SI), 32(DI), 4, Y1)
	Q4GEMV(38(SI), 64(DI), 8, Y2)
	Q4GEMV(56(SI), 96(DI), 12, Y3)
	Q4GEMV(74(SI), 128(DI), 16, Y0)
	Q4GEMV(92(SI), 160(DI), 20, Y1)
	Q4GEMV(110(SI), 192(DI), 24, Y2)
	Q4GEMV(128(SI), 224(DI), 28, Y3)
	ADDQ        $144, SI
	ADDQ        $256, DI
	ADDQ        $32, R13
	ADDQ        $32, R14
	SUBQ        $8, CX
	JMP         gq4loop8

gq4loop1:
	TESTQ       CX, CX
	JZ          gq4done
	MOVWQZX     (SI), AX
	VMOVQ       AX, X7
	VCVTPH2PS   X7, X7
	VMULSS      (R13), X7, X8
	VMOVSS      X8, 0(SP)
	VFMADD231SS (R14), X7, X10
	Q4GEMV(2(SI), (DI), 0, Y0)
	ADDQ        $18, SI
	ADDQ        $32, DI
	ADDQ        $4, R13
	ADDQ        $4, R14
	DECQ        CX
	JMP         gq4loop1

gq4done:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VSUBPS       Y4, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VSUBPS       X10, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (R10)
	ADDQ         $4, R10
	ADDQ         R9, R11
	DECQ         R8
	JNZ          gq4row

gq4ret:
	VZEROUPPER
	RET

DATA qabs2<>+0(SB)/4, $0x7fffffff
GLOBL qabs2<>(SB), RODATA|NOPTR, $4

DATA qsign2<>+0(SB)/4, $0x80000000
GLOBL qsign2<>(SB), RODATA|NOPTR, $4

DATA qhalf2<>+0(SB)/4, $0x3effffff
GLOBL qhalf2<>(SB), RODATA|NOPTR, $4

DATA qones2<>+0(SB)/4, $0x01010101
GLOBL qones2<>(SB), RODATA|NOPTR, $4

// qperm puts the dwords of VPACKSSWB's lane-wise result in order.
DATA qperm<>+0(SB)/4, $0
DATA qperm<>+4(SB)/4, $4
DATA qperm<>+8(SB)/4, $1
DATA qperm<>+12(SB)/4, $5
DATA qperm<>+16(SB)/4, $2
DATA qperm<>+20(SB)/4, $6
DATA qperm<>+24(SB)/4, $3
DATA qperm<>+28(SB)/4, $7
GLOBL qperm<>(SB), RODATA|NOPTR, $32

// func quantizeBatchAVX2(q *byte, d *float32, bias, bias4 *int32, xc *float32, q34 *byte, x *float32, n int)
// quantizeBatchGeneric (gemm.go) on AVX2 and F16C, bit for bit, as
// quantizeBatch512 computes it; the quants packed by VPACKSSDW/VPACKSSWB
// and VPERMD, the group sums by VPMADDUBSW with bytes of 1 and VPMADDWD
// with words of 1. Registers as in quantizeBatch512; Y8..Y11 |x| mask,
// sign mask, 0.49999997, bytes of 1; Y15 words of 1.
TEXT ·quantizeBatchAVX2(SB), NOSPLIT, $0-64
	MOVQ q+0(FP), DI
	MOVQ d+8(FP), R8
	MOVQ bias+16(FP), R9
	MOVQ bias4+24(FP), R10
	MOVQ xc+32(FP), R11
	MOVQ q34+40(FP), R12
	MOVQ x+48(FP), SI
	MOVQ n+56(FP), CX
	TESTQ CX, CX
	JZ    qadone
	VBROADCASTSS qabs2<>(SB), Y8
	VBROADCASTSS qsign2<>(SB), Y9
	VBROADCASTSS qhalf2<>(SB), Y10
	VBROADCASTSS qones2<>(SB), Y11
	VMOVDQU      ones16<>(SB), Y15

qaloop:
	VMOVUPS      (SI), Y0
	VMOVUPS      32(SI), Y1
	VMOVUPS      64(SI), Y2
	VMOVUPS      96(SI), Y3
	VANDPS       Y8, Y0, Y4
	VANDPS       Y8, Y1, Y5
	VANDPS       Y8, Y2, Y6
	VANDPS       Y8, Y3, Y7
	VMAXPS       Y5, Y4, Y4
	VMAXPS       Y7, Y6, Y6
	VMAXPS       Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS       X5, X4, X4
	VMOVHLPS     X4, X5, X5
	VMAXPS       X5, X4, X4
	VMOVSHDUP    X4, X5
	VMAXSS       X5, X4, X4
	MOVL         $0x42fe0000, AX // 127
	VMOVD        AX, X5
	VDIVSS       X5, X4, X4      // d = amax/127
	VXORPS       X5, X5, X5
	VUCOMISS     X5, X4
	JEQ          qazero
	MOVL         $0x3f800000, AX // 1
	VMOVD        AX, X5
	VDIVSS       X4, X5, X5      // id = 1/d

qascaled:
	VCVTPS2PH    $0, X4, X6
	VCVTPH2PS    X6, X7
	VMOVSS       X7, (R8)
	VBROADCASTSS X5, Y5
	VMULPS       Y5, Y0, Y0
	VMULPS       Y5, Y1, Y1
	VMULPS       Y5, Y2, Y2
	VMULPS       Y5, Y3, Y3
	QAROUND(Y0)
	QAROUND(Y1)
	QAROUND(Y2)
	QAROUND(Y3)
	VPACKSSDW    Y1, Y0, Y0
	VPACKSSDW    Y3, Y2, Y2
	VPACKSSWB    Y2, Y0, Y0
	VMOVDQU      qperm<>(SB), Y4
	VPERMD       Y0, Y4, Y0
	VMOVDQU      Y0, (DI)
	TESTQ        R12, R12
	JZ           qasums
	VPEXTRW      $0, X6, (R12)
	VMOVDQU      Y0, 2(R12)
	ADDQ         $34, R12

qasums:
	VPMADDUBSW   Y0, Y11, Y1 // pairs of quants
	VPMADDWD     Y15, Y1, Y1 // groups of four
	VPSLLD       $7, Y1, Y2
	VPXOR        Y3, Y3, Y3
	VPSUBD       Y2, Y3, Y2  // -128 * sum
	VMOVDQU      Y2, (R9)
	VPSLLD       $3, Y1, Y2
	VPSUBD       Y2, Y3, Y2  // -8 * sum
	VMOVDQU      Y2, (R10)
	VEXTRACTI128 $1, Y1, X2
	VPADDD       X2, X1, X1
	VPSHUFD      $0x4e, X1, X2
	VPADDD       X2, X1, X1
	VPSHUFD      $0xb1, X1, X2
	VPADDD       X2, X1, X1
	VCVTDQ2PS    X1, X1
	MOVL         $0x41000000, AX // 8
	VMOVD        AX, X2
	VMULSS       X2, X7, X2      // 8 * d
	VMULSS       X1, X2, X2      // * sum
	VMOVSS       X2, (R11)
	ADDQ         $128, SI
	ADDQ         $32, DI
	ADDQ         $4, R8
	ADDQ         $32, R9
	ADDQ         $32, R10
	ADDQ         $4, R11
	DECQ         CX
	JNZ          qaloop

qadone:
	VZEROUPPER
	RET

qazero:
	VXORPS X5, X5, X5 // id = 0: every quant is 0
	JMP    qascaled
