//go:build amd64 && !noasm

#include "textflag.h"

DATA pones16<>+0(SB)/8, $0x0001000100010001
DATA pones16<>+8(SB)/8, $0x0001000100010001
DATA pones16<>+16(SB)/8, $0x0001000100010001
DATA pones16<>+24(SB)/8, $0x0001000100010001
GLOBL pones16<>(SB), RODATA|NOPTR, $32

DATA pnib0f<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA pnib0f<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL pnib0f<>(SB), RODATA|NOPTR, $16

DATA pnib0f32<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA pnib0f32<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA pnib0f32<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA pnib0f32<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL pnib0f32<>(SB), RODATA|NOPTR, $32

DATA pbits45<>+0(SB)/8, $0x3030303030303030
DATA pbits45<>+8(SB)/8, $0x3030303030303030
DATA pbits45<>+16(SB)/8, $0x3030303030303030
DATA pbits45<>+24(SB)/8, $0x3030303030303030
GLOBL pbits45<>(SB), RODATA|NOPTR, $32

// The packed float32 GEMM of the AVX2 tier (gemm_packed_avx2_amd64.go):
// weights converted to float32 a panel at a time, activations packed by
// Batch in groups of 16 vectors, k-major (16 floats per column), and a
// register tile of 6 weight rows x 16 vectors: per column two loads of
// activations, six broadcasts of weights and twelve FMAs, so the loop is
// bound by the two FMA ports and has no conversions or horizontal sums.
//
// Registers: R8 row 0 of a panel, R9 row 3, R10 the row stride (bytes),
// SI the activations, DI the output tile, R11 its row stride (bytes),
// CX the column counter, BX the panel counter; Y0..Y11 accumulators,
// acc(r, v) = Y(2r+v) (vectors 8v..8v+7 of weight row r); Y12, Y13 the
// activations of one column, Y14, Y15 broadcast weights.

// PCOL multiplies column off (0..3 within the step of four) into the tile.
#define PCOL(off) \
	VMOVUPS (off*64)(SI), Y12 \
	VMOVUPS (off*64+32)(SI), Y13 \
	VBROADCASTSS (off*4)(R8), Y14 \
	VBROADCASTSS (off*4)(R8)(R10*1), Y15 \
	VFMADD231PS Y12, Y14, Y0 \
	VFMADD231PS Y13, Y14, Y1 \
	VFMADD231PS Y12, Y15, Y2 \
	VFMADD231PS Y13, Y15, Y3 \
	VBROADCASTSS (off*4)(R8)(R10*2), Y14 \
	VBROADCASTSS (off*4)(R9), Y15 \
	VFMADD231PS Y12, Y14, Y4 \
	VFMADD231PS Y13, Y14, Y5 \
	VFMADD231PS Y12, Y15, Y6 \
	VFMADD231PS Y13, Y15, Y7 \
	VBROADCASTSS (off*4)(R9)(R10*1), Y14 \
	VBROADCASTSS (off*4)(R9)(R10*2), Y15 \
	VFMADD231PS Y12, Y14, Y8 \
	VFMADD231PS Y13, Y14, Y9 \
	VFMADD231PS Y12, Y15, Y10 \
	VFMADD231PS Y13, Y15, Y11

// func gemmPacked6x16(w *float32, wstride int, x *float32, c *float32, cstride int, k, panels int, first bool)
// For each of panels panels (6 weight rows, wstride bytes apart, the next
// panel 6 rows on; output rows 6 on): out(r, t) (+)= sum_{j<k} w[r][j] *
// x[16j + t] for r < 6, t < 16, stored at c + r*cstride + 4t; first
// starts from zero instead of the stored tile. k is a multiple of 4.
TEXT ·gemmPacked6x16(SB), NOSPLIT, $0-57
	MOVQ w+0(FP), R12
	MOVQ wstride+8(FP), R10
	MOVQ c+24(FP), R13
	MOVQ cstride+32(FP), R11
	MOVQ panels+48(FP), BX
	LEAQ (R11)(R11*2), AX

panel:
	MOVQ R12, R8
	LEAQ (R12)(R10*2), R9
	ADDQ R10, R9
	MOVQ R13, DI
	MOVQ x+16(FP), SI
	MOVQ k+40(FP), CX
	CMPB first+56(FP), $0
	JNE  zero
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS (DI)(R11*1), Y2
	VMOVUPS 32(DI)(R11*1), Y3
	VMOVUPS (DI)(R11*2), Y4
	VMOVUPS 32(DI)(R11*2), Y5
	VMOVUPS (DI)(AX*1), Y6
	VMOVUPS 32(DI)(AX*1), Y7
	LEAQ    (DI)(R11*4), DX
	VMOVUPS (DX), Y8
	VMOVUPS 32(DX), Y9
	VMOVUPS (DX)(R11*1), Y10
	VMOVUPS 32(DX)(R11*1), Y11
	JMP  loop

zero:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

loop:
	PCOL(0)
	PCOL(1)
	PCOL(2)
	PCOL(3)
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $256, SI
	SUBQ $4, CX
	JG   loop

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, (DI)(R11*1)
	VMOVUPS Y3, 32(DI)(R11*1)
	VMOVUPS Y4, (DI)(R11*2)
	VMOVUPS Y5, 32(DI)(R11*2)
	VMOVUPS Y6, (DI)(AX*1)
	VMOVUPS Y7, 32(DI)(AX*1)
	LEAQ    (DI)(R11*4), DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	VMOVUPS Y10, (DX)(R11*1)
	VMOVUPS Y11, 32(DX)(R11*1)

	// Next panel: six rows of weights and of the output tile on.
	LEAQ (R10)(R10*2), DX
	LEAQ (R12)(DX*2), R12
	LEAQ (R11)(R11*2), DX
	LEAQ (R13)(DX*2), R13
	DECQ BX
	JNZ  panel
	VZEROUPPER
	RET

// The weight converters write float32 rows for the packed kernel. The
// driver converts a row pkCols (256) columns at a time and then computes
// for a while, so each converter prefetches the row's next 256 columns
// into L2 (PREFETCHT1 one column block ahead: 8 blocks of 34 or 18 bytes,
// or 512 bytes of binary16): without it the first touch of the weights
// stalls (in a pp512 profile the converters took 13% of the tile's time,
// most of it waiting for memory: the rows are 48 short streams).

// func cvtQ8_0F32(dst *float32, src *byte, n int)
// n Q8_0 blocks (34 bytes: fp16 scale, 32 int8) to 32 floats each, q*d.
TEXT ·cvtQ8_0F32(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JZ   q8done

q8loop:
	PREFETCHT1 272(SI)
	MOVWLZX (SI), AX
	VMOVD   AX, X4
	VCVTPH2PS X4, X4
	VBROADCASTSS X4, Y4
	VPMOVSXBD 2(SI), Y0
	VPMOVSXBD 10(SI), Y1
	VPMOVSXBD 18(SI), Y2
	VPMOVSXBD 26(SI), Y3
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	VMULPS  Y4, Y0, Y0
	VMULPS  Y4, Y1, Y1
	VMULPS  Y4, Y2, Y2
	VMULPS  Y4, Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $34, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     q8loop

q8done:
	VZEROUPPER
	RET

// func cvtQ4_0F32(dst *float32, src *byte, n int)
// n Q4_0 blocks (18 bytes: fp16 scale, 16 bytes of nibbles: weights 0..15
// low, 16..31 high, each minus 8) to 32 floats each.
TEXT ·cvtQ4_0F32(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JZ   q4done
	MOVL $15, AX
	VMOVD AX, X6
	VPBROADCASTD X6, Y6
	MOVL $8, AX
	VMOVD AX, X7
	VPBROADCASTD X7, Y7

q4loop:
	PREFETCHT1 144(SI)
	MOVWLZX (SI), AX
	VMOVD   AX, X4
	VCVTPH2PS X4, X4
	VBROADCASTSS X4, Y4
	VPMOVZXBD 2(SI), Y0
	VPMOVZXBD 10(SI), Y1
	VPSRLD  $4, Y0, Y2
	VPSRLD  $4, Y1, Y3
	VPAND   Y6, Y0, Y0
	VPAND   Y6, Y1, Y1
	VPSUBD  Y7, Y0, Y0
	VPSUBD  Y7, Y1, Y1
	VPSUBD  Y7, Y2, Y2
	VPSUBD  Y7, Y3, Y3
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	VMULPS  Y4, Y0, Y0
	VMULPS  Y4, Y1, Y1
	VMULPS  Y4, Y2, Y2
	VMULPS  Y4, Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $18, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     q4loop

q4done:
	VZEROUPPER
	RET

// func cvtF16F32(dst *float32, src *byte, n int)
// n steps of 8 binary16 values to float32.
TEXT ·cvtF16F32(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JZ   f16cdone

f16cloop:
	TESTQ   $3, CX
	JNZ     f16cnopf
	PREFETCHT1 512(SI)

f16cnopf:
	VCVTPH2PS (SI), Y0
	VMOVUPS Y0, (DI)
	ADDQ    $16, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     f16cloop

f16cdone:
	VZEROUPPER
	RET

// func cvtBF16F32(dst *float32, src *byte, n int)
// n steps of 8 bfloat16 values to float32 (the 16 bits shifted up).
TEXT ·cvtBF16F32(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JZ   bf16cdone

bf16cloop:
	TESTQ   $3, CX
	JNZ     bf16cnopf
	PREFETCHT1 512(SI)

bf16cnopf:
	VPMOVZXWD (SI), Y0
	VPSLLD  $16, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $16, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     bf16cloop

bf16cdone:
	VZEROUPPER
	RET

// STORE8 stores the eight floats of Y0 64 bytes apart from (DI) (one
// column each of the packed layout), then moves DI on by 512.
#define STORE8 \
	VMOVSS     X0, (DI) \
	VEXTRACTPS $1, X0, 64(DI) \
	VEXTRACTPS $2, X0, 128(DI) \
	VEXTRACTPS $3, X0, 192(DI) \
	VEXTRACTF128 $1, Y0, X1 \
	VMOVSS     X1, 256(DI) \
	VEXTRACTPS $1, X1, 320(DI) \
	VEXTRACTPS $2, X1, 384(DI) \
	VEXTRACTPS $3, X1, 448(DI) \
	ADDQ       $512, DI

// func packQ8F32(dst *float32, q *byte, d *float32, n int)
// Batch.setPacked for Q8_0-style activations: n blocks of 32 int8 quants
// q with scales d, as q*d, element e to dst[16e].
TEXT ·packQ8F32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ d+16(FP), DX
	MOVQ n+24(FP), CX
	TESTQ CX, CX
	JZ   pq8done

pq8loop:
	VBROADCASTSS (DX), Y4
	VPMOVSXBD (SI), Y0
	VCVTDQ2PS Y0, Y0
	VMULPS    Y4, Y0, Y0
	STORE8
	VPMOVSXBD 8(SI), Y0
	VCVTDQ2PS Y0, Y0
	VMULPS    Y4, Y0, Y0
	STORE8
	VPMOVSXBD 16(SI), Y0
	VCVTDQ2PS Y0, Y0
	VMULPS    Y4, Y0, Y0
	STORE8
	VPMOVSXBD 24(SI), Y0
	VCVTDQ2PS Y0, Y0
	VMULPS    Y4, Y0, Y0
	STORE8
	ADDQ $32, SI
	ADDQ $4, DX
	DECQ CX
	JNZ  pq8loop

pq8done:
	VZEROUPPER
	RET

// func packF32(dst, src *float32, n int)
// Batch.setPacked for float activations: n steps of 8, element e to dst[16e].
TEXT ·packF32(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JZ   pf32done

pf32loop:
	VMOVUPS (SI), Y0
	STORE8
	ADDQ $32, SI
	DECQ CX
	JNZ  pf32loop

pf32done:
	VZEROUPPER
	RET

// func scatter8x8(c *float32, cstride int, outs *[]float32, col int)
// Writes an 8x8 block of the output tile (rows r of c, cstride bytes
// apart, 8 vectors each) transposed: outs[v][col+r] = c[r][v] for r, v <
// 8 (outs points at the first of 8 slices). Three shuffle stages:
// VUNPCKL/HPS pairs rows, VSHUFPS quads, VPERM2F128 swaps 128-bit halves.
TEXT ·scatter8x8(SB), NOSPLIT, $0-32
	MOVQ c+0(FP), SI
	MOVQ cstride+8(FP), AX
	MOVQ outs+16(FP), DX
	MOVQ col+24(FP), BX
	SHLQ $2, BX
	LEAQ (AX)(AX*2), CX
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(AX*1), Y1
	VMOVUPS (SI)(AX*2), Y2
	VMOVUPS (SI)(CX*1), Y3
	LEAQ    (SI)(AX*4), SI
	VMOVUPS (SI), Y4
	VMOVUPS (SI)(AX*1), Y5
	VMOVUPS (SI)(AX*2), Y6
	VMOVUPS (SI)(CX*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	MOVQ    0(DX), DI
	VMOVUPS Y8, (DI)(BX*1)
	MOVQ    24(DX), DI
	VMOVUPS Y9, (DI)(BX*1)
	MOVQ    48(DX), DI
	VMOVUPS Y10, (DI)(BX*1)
	MOVQ    72(DX), DI
	VMOVUPS Y11, (DI)(BX*1)
	MOVQ    96(DX), DI
	VMOVUPS Y12, (DI)(BX*1)
	MOVQ    120(DX), DI
	VMOVUPS Y13, (DI)(BX*1)
	MOVQ    144(DX), DI
	VMOVUPS Y14, (DI)(BX*1)
	MOVQ    168(DX), DI
	VMOVUPS Y15, (DI)(BX*1)
	VZEROUPPER
	RET

// func prefetchRows(p *byte, stride, rows, bytes int)
// PREFETCHT1 the first bytes bytes (whole cache lines) of rows rows,
// stride bytes apart, from p.
TEXT ·prefetchRows(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	MOVQ stride+8(FP), DX
	MOVQ rows+16(FP), CX
	MOVQ bytes+24(FP), BX
	TESTQ CX, CX
	JZ   pfrdone

pfrrow:
	XORQ AX, AX

pfrline:
	PREFETCHT1 (SI)(AX*1)
	ADDQ $64, AX
	CMPQ AX, BX
	JLT  pfrline
	ADDQ DX, SI
	DECQ CX
	JNZ  pfrrow

pfrdone:
	RET

// The Q4_0 integer panel kernel (gemmPanelIntAVX2): weights as unsigned
// nibble bytes in panels of 8 rows, activations the batch's int8 quants.
// A panel block (288 bytes, cvtQ4_0I8) is 8 steps of 32 bytes, step s
// holding elements 4s..4s+3 of the block for rows 0..7 (4 bytes per row),
// then the rows' fp16 scales as 8 float32. One step multiplies the step
// with 4 quants of a vector broadcast to every row: VPMADDUBSW gives each
// row two int16 pair sums, added over the 8 steps of a block (at most 16
// products of 15 x 128: 30720, no overflow). At the block's end VPMADDWD
// with ones gives the int32 sum of nibble x quant per row, and
// out += (sum*dx - xc)*dw, xc being 8*dx*sum(quants) (Batch.xc): the -8 of
// the nibbles. Per block of 8 rows x 6 vectors: 48 VPMADDUBSW and 42 VPADDW
// for 1536 multiply-adds, where the float32 tile needs 192 FMAs.
//
// Registers: SI weights, R8 vector 0's quants (R9 vector 3's), DX their
// stride, R10/R11 the scales of vectors 0 and 3, R12/R13 their xc, BX the
// stride of both, CX the block counter; Y0..Y5 int16 sums of vectors
// 0..5, Y6..Y11 their float32 outputs (rows 0..7), Y12 the step's weights,
// Y13..Y15 scratch.

#define Q4FIRST(s) \
	VMOVDQU      (s*32)(SI), Y12 \
	VPBROADCASTD (s*4)(R8), Y13 \
	VPMADDUBSW   Y13, Y12, Y0 \
	VPBROADCASTD (s*4)(R8)(DX*1), Y13 \
	VPMADDUBSW   Y13, Y12, Y1 \
	VPBROADCASTD (s*4)(R8)(DX*2), Y13 \
	VPMADDUBSW   Y13, Y12, Y2 \
	VPBROADCASTD (s*4)(R9), Y13 \
	VPMADDUBSW   Y13, Y12, Y3 \
	VPBROADCASTD (s*4)(R9)(DX*1), Y13 \
	VPMADDUBSW   Y13, Y12, Y4 \
	VPBROADCASTD (s*4)(R9)(DX*2), Y13 \
	VPMADDUBSW   Y13, Y12, Y5

#define Q4STEP(s) \
	VMOVDQU      (s*32)(SI), Y12 \
	VPBROADCASTD (s*4)(R8), Y13 \
	VPMADDUBSW   Y13, Y12, Y13 \
	VPADDW       Y13, Y0, Y0 \
	VPBROADCASTD (s*4)(R8)(DX*1), Y14 \
	VPMADDUBSW   Y14, Y12, Y14 \
	VPADDW       Y14, Y1, Y1 \
	VPBROADCASTD (s*4)(R8)(DX*2), Y15 \
	VPMADDUBSW   Y15, Y12, Y15 \
	VPADDW       Y15, Y2, Y2 \
	VPBROADCASTD (s*4)(R9), Y13 \
	VPMADDUBSW   Y13, Y12, Y13 \
	VPADDW       Y13, Y3, Y3 \
	VPBROADCASTD (s*4)(R9)(DX*1), Y14 \
	VPMADDUBSW   Y14, Y12, Y14 \
	VPADDW       Y14, Y4, Y4 \
	VPBROADCASTD (s*4)(R9)(DX*2), Y15 \
	VPMADDUBSW   Y15, Y12, Y15 \
	VPADDW       Y15, Y5, Y5

// Q4END folds the block's int16 sums acc into the float outputs f:
// f += (sum*dx - xc) * dw.
#define Q4END(acc, f, dsrc, xcsrc) \
	VPMADDWD     pones16<>(SB), acc, Y14 \
	VCVTDQ2PS    Y14, Y14 \
	VBROADCASTSS dsrc, Y15 \
	VBROADCASTSS xcsrc, Y13 \
	VFMSUB213PS  Y13, Y15, Y14 \
	VFMADD231PS  256(SI), Y14, f

// func gemmQ4_0I8x6(w *byte, x *byte, xstride int, d, xc *float32, dstride int, n int, out *[6]*float32, acc bool)
// For n panel blocks at w and 6 vectors (quants x, xstride bytes apart;
// scales d and xc, dstride bytes apart): out[t][r] (+)= the product of
// rows r < 8 with vector t over the n blocks; acc adds to out instead of
// storing.
TEXT ·gemmQ4_0I8x6(SB), NOSPLIT, $0-65
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), R8
	MOVQ xstride+16(FP), DX
	LEAQ (R8)(DX*2), R9
	ADDQ DX, R9
	MOVQ d+24(FP), R10
	MOVQ xc+32(FP), R12
	MOVQ dstride+40(FP), BX
	LEAQ (R10)(BX*2), R11
	ADDQ BX, R11
	LEAQ (R12)(BX*2), R13
	ADDQ BX, R13
	MOVQ n+48(FP), CX
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

q4iloop:
	Q4FIRST(0)
	Q4STEP(1)
	Q4STEP(2)
	Q4STEP(3)
	Q4STEP(4)
	Q4STEP(5)
	Q4STEP(6)
	Q4STEP(7)
	Q4END(Y0, Y6, (R10), (R12))
	Q4END(Y1, Y7, (R10)(BX*1), (R12)(BX*1))
	Q4END(Y2, Y8, (R10)(BX*2), (R12)(BX*2))
	Q4END(Y3, Y9, (R11), (R13))
	Q4END(Y4, Y10, (R11)(BX*1), (R13)(BX*1))
	Q4END(Y5, Y11, (R11)(BX*2), (R13)(BX*2))
	ADDQ $288, SI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $4, R10
	ADDQ $4, R11
	ADDQ $4, R12
	ADDQ $4, R13
	DECQ CX
	JNZ  q4iloop

	MOVQ out+56(FP), DI
	CMPB acc+64(FP), $0
	JEQ  q4istore
	MOVQ 0(DI), AX
	VADDPS (AX), Y6, Y6
	MOVQ 8(DI), AX
	VADDPS (AX), Y7, Y7
	MOVQ 16(DI), AX
	VADDPS (AX), Y8, Y8
	MOVQ 24(DI), AX
	VADDPS (AX), Y9, Y9
	MOVQ 32(DI), AX
	VADDPS (AX), Y10, Y10
	MOVQ 40(DI), AX
	VADDPS (AX), Y11, Y11

q4istore:
	MOVQ 0(DI), AX
	VMOVUPS Y6, (AX)
	MOVQ 8(DI), AX
	VMOVUPS Y7, (AX)
	MOVQ 16(DI), AX
	VMOVUPS Y8, (AX)
	MOVQ 24(DI), AX
	VMOVUPS Y9, (AX)
	MOVQ 32(DI), AX
	VMOVUPS Y10, (AX)
	MOVQ 40(DI), AX
	VMOVUPS Y11, (AX)
	VZEROUPPER
	RET

// TRANSPOSE8 transposes the 8 rows of 8 dwords in Y0..Y7 and stores
// them at off(DI): dword r of row s at off+32s+4r (the shuffles of
// scatter8x8). It uses every Y register.
#define TRANSPOSE8(off) \
	VUNPCKLPS Y1, Y0, Y8 \
	VUNPCKHPS Y1, Y0, Y9 \
	VUNPCKLPS Y3, Y2, Y10 \
	VUNPCKHPS Y3, Y2, Y11 \
	VUNPCKLPS Y5, Y4, Y12 \
	VUNPCKHPS Y5, Y4, Y13 \
	VUNPCKLPS Y7, Y6, Y14 \
	VUNPCKHPS Y7, Y6, Y15 \
	VSHUFPS $0x44, Y10, Y8, Y0 \
	VSHUFPS $0xEE, Y10, Y8, Y1 \
	VSHUFPS $0x44, Y11, Y9, Y2 \
	VSHUFPS $0xEE, Y11, Y9, Y3 \
	VSHUFPS $0x44, Y14, Y12, Y4 \
	VSHUFPS $0xEE, Y14, Y12, Y5 \
	VSHUFPS $0x44, Y15, Y13, Y6 \
	VSHUFPS $0xEE, Y15, Y13, Y7 \
	VPERM2F128 $0x20, Y4, Y0, Y8 \
	VPERM2F128 $0x20, Y5, Y1, Y9 \
	VPERM2F128 $0x20, Y6, Y2, Y10 \
	VPERM2F128 $0x20, Y7, Y3, Y11 \
	VPERM2F128 $0x31, Y4, Y0, Y12 \
	VPERM2F128 $0x31, Y5, Y1, Y13 \
	VPERM2F128 $0x31, Y6, Y2, Y14 \
	VPERM2F128 $0x31, Y7, Y3, Y15 \
	VMOVDQU Y8, (off)(DI) \
	VMOVDQU Y9, (off+32)(DI) \
	VMOVDQU Y10, (off+64)(DI) \
	VMOVDQU Y11, (off+96)(DI) \
	VMOVDQU Y12, (off+128)(DI) \
	VMOVDQU Y13, (off+160)(DI) \
	VMOVDQU Y14, (off+192)(DI) \
	VMOVDQU Y15, (off+224)(DI)

// Q4ROW expands block AX/18 of row r (pointer r of the array at SI) into
// Y: its 32 weights as unsigned bytes in element order (low nibbles are
// elements 0..15, high nibbles 16..31).
#define Q4ROW(r, Y) \
	MOVQ        (r*8)(SI), DX \
	VMOVDQU     2(DX)(AX*1), X14 \
	VPSRLW      $4, X14, X13 \
	VPAND       pnib0f<>(SB), X14, X14 \
	VPAND       pnib0f<>(SB), X13, X13 \
	VINSERTI128 $1, X13, Y14, Y \
	PREFETCHT0  (18*16)(DX)(AX*1)

#define Q4SCALE(r) \
	MOVQ    (r*8)(SI), DX \
	VPINSRW $r, (DX)(AX*1), X8, X8

// func cvtQ4_0I8(dst *byte, rows *[8]*byte, k0, n int)
// Writes n panel blocks of gemmQ4_0I8x6 from blocks k0..k0+n-1 of the 8
// Q4_0 rows: per block 8 steps of 32 bytes (element 4s+j of row r at
// 32s+4r+j) and the 8 scales as float32.
TEXT ·cvtQ4_0I8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ rows+8(FP), SI
	MOVQ k0+16(FP), AX
	IMULQ $18, AX
	MOVQ n+24(FP), CX
	TESTQ CX, CX
	JZ   cq4done

cq4loop:
	Q4SCALE(0)
	Q4SCALE(1)
	Q4SCALE(2)
	Q4SCALE(3)
	Q4SCALE(4)
	Q4SCALE(5)
	Q4SCALE(6)
	Q4SCALE(7)
	VCVTPH2PS X8, Y8
	VMOVUPS   Y8, 256(DI)
	Q4ROW(0, Y0)
	Q4ROW(1, Y1)
	Q4ROW(2, Y2)
	Q4ROW(3, Y3)
	Q4ROW(4, Y4)
	Q4ROW(5, Y5)
	Q4ROW(6, Y6)
	Q4ROW(7, Y7)
	TRANSPOSE8(0)
	ADDQ $18, AX
	ADDQ $288, DI
	DECQ CX
	JNZ  cq4loop

cq4done:
	VZEROUPPER
	RET

// The Q8_0 integer panel kernel (gemmPanelIntAVX2): weights as int16 in
// panels of 16 rows, activations the batch's quants widened to int16
// (Batch.q16). A panel block (1088 bytes: two of cvtQ8_0I16's 8-row
// blocks side by side, rows 0..7 at 0 and rows 8..15 at 544) is, per 8
// rows, 16 steps of 32 bytes, step s holding elements 2s, 2s+1 of the
// block for the 8 rows, then the rows' scales as 8 float32. A step
// multiplies both halves with a pair of quants of a vector broadcast to
// every row: VPMADDWD gives each row the int32 sum of the two products,
// added over the block's 16 steps (exact). At the block's end out +=
// sum * (dw*dx). Per step: 2 loads, 6 broadcasts, 12 VPMADDWD and 12
// VPADDD for 192 multiply-adds (the float32 tile: 24 FMAs and 10 loads
// for as many). Q8_0 weights are signed, so VPMADDUBSW (unsigned x signed)
// would need a sign transfer per product, or a split into nibbles, both
// dearer.
//
// Registers as in gemmQ4_0I8x6, without xc: Y0..Y5 the int32 sums of rows
// 0..7 for vectors 0..5, Y6..Y11 of rows 8..15, Y12/Y13 the step's
// weights; the float32 outputs live in the frame (DI), row half h of
// vector t at 64t+32h.

#define Q8FIRST16 \
	VMOVDQU      (SI), Y12 \
	VMOVDQU      544(SI), Y13 \
	VPBROADCASTD (R8), Y14 \
	VPMADDWD     Y14, Y12, Y0 \
	VPMADDWD     Y14, Y13, Y6 \
	VPBROADCASTD (R8)(DX*1), Y14 \
	VPMADDWD     Y14, Y12, Y1 \
	VPMADDWD     Y14, Y13, Y7 \
	VPBROADCASTD (R8)(DX*2), Y14 \
	VPMADDWD     Y14, Y12, Y2 \
	VPMADDWD     Y14, Y13, Y8 \
	VPBROADCASTD (R9), Y14 \
	VPMADDWD     Y14, Y12, Y3 \
	VPMADDWD     Y14, Y13, Y9 \
	VPBROADCASTD (R9)(DX*1), Y14 \
	VPMADDWD     Y14, Y12, Y4 \
	VPMADDWD     Y14, Y13, Y10 \
	VPBROADCASTD (R9)(DX*2), Y14 \
	VPMADDWD     Y14, Y12, Y5 \
	VPMADDWD     Y14, Y13, Y11

#define Q8STEP16(s) \
	VMOVDQU      (s*32)(SI), Y12 \
	VMOVDQU      (544+s*32)(SI), Y13 \
	VPBROADCASTD (s*4)(R8), Y14 \
	VPMADDWD     Y14, Y12, Y15 \
	VPADDD       Y15, Y0, Y0 \
	VPMADDWD     Y14, Y13, Y15 \
	VPADDD       Y15, Y6, Y6 \
	VPBROADCASTD (s*4)(R8)(DX*1), Y14 \
	VPMADDWD     Y14, Y12, Y15 \
	VPADDD       Y15, Y1, Y1 \
	VPMADDWD     Y14, Y13, Y15 \
	VPADDD       Y15, Y7, Y7 \
	VPBROADCASTD (s*4)(R8)(DX*2), Y14 \
	VPMADDWD     Y14, Y12, Y15 \
	VPADDD       Y15, Y2, Y2 \
	VPMADDWD     Y14, Y13, Y15 \
	VPADDD       Y15, Y8, Y8 \
	VPBROADCASTD (s*4)(R9), Y14 \
	VPMADDWD     Y14, Y12, Y15 \
	VPADDD       Y15, Y3, Y3 \
	VPMADDWD     Y14, Y13, Y15 \
	VPADDD       Y15, Y9, Y9 \
	VPBROADCASTD (s*4)(R9)(DX*1), Y14 \
	VPMADDWD     Y14, Y12, Y15 \
	VPADDD       Y15, Y4, Y4 \
	VPMADDWD     Y14, Y13, Y15 \
	VPADDD       Y15, Y10, Y10 \
	VPBROADCASTD (s*4)(R9)(DX*2), Y14 \
	VPMADDWD     Y14, Y12, Y15 \
	VPADDD       Y15, Y5, Y5 \
	VPMADDWD     Y14, Y13, Y15 \
	VPADDD       Y15, Y11, Y11

// Q8END16: f += sum * (dw*dx) for one row half of one vector.
#define Q8END16(acc, dsrc, dw, f) \
	VCVTDQ2PS    acc, Y14 \
	VBROADCASTSS dsrc, Y15 \
	VMULPS       dw(SI), Y15, Y15 \
	VMOVUPS      f(DI), Y12 \
	VFMADD231PS  Y15, Y14, Y12 \
	VMOVUPS      Y12, f(DI)

// func gemmQ8_0I16x16(w *byte, x *int16, xstride int, d *float32, dstride int, n int, out *[6]*float32, acc bool)
// For n panel blocks at w and 6 vectors (int16 quants x, xstride bytes
// apart; scales d, dstride bytes apart): out[t][r] (+)= the product of rows
// r < 16 with vector t over the n blocks; acc adds to out instead of
// storing.
TEXT ·gemmQ8_0I16x16(SB), NOSPLIT, $384-57
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), R8
	MOVQ xstride+16(FP), DX
	LEAQ (R8)(DX*2), R9
	ADDQ DX, R9
	MOVQ d+24(FP), R10
	MOVQ dstride+32(FP), BX
	LEAQ (R10)(BX*2), R11
	ADDQ BX, R11
	MOVQ n+40(FP), CX
	LEAQ 0(SP), DI
	VXORPS Y15, Y15, Y15
	VMOVUPS Y15, 0(DI)
	VMOVUPS Y15, 32(DI)
	VMOVUPS Y15, 64(DI)
	VMOVUPS Y15, 96(DI)
	VMOVUPS Y15, 128(DI)
	VMOVUPS Y15, 160(DI)
	VMOVUPS Y15, 192(DI)
	VMOVUPS Y15, 224(DI)
	VMOVUPS Y15, 256(DI)
	VMOVUPS Y15, 288(DI)
	VMOVUPS Y15, 320(DI)
	VMOVUPS Y15, 352(DI)

q8xloop:
	Q8FIRST16
	Q8STEP16(1)
	Q8STEP16(2)
	Q8STEP16(3)
	Q8STEP16(4)
	Q8STEP16(5)
	Q8STEP16(6)
	Q8STEP16(7)
	Q8STEP16(8)
	Q8STEP16(9)
	Q8STEP16(10)
	Q8STEP16(11)
	Q8STEP16(12)
	Q8STEP16(13)
	Q8STEP16(14)
	Q8STEP16(15)
	Q8END16(Y0, (R10), 512, 0)
	Q8END16(Y6, (R10), 1056, 32)
	Q8END16(Y1, (R10)(BX*1), 512, 64)
	Q8END16(Y7, (R10)(BX*1), 1056, 96)
	Q8END16(Y2, (R10)(BX*2), 512, 128)
	Q8END16(Y8, (R10)(BX*2), 1056, 160)
	Q8END16(Y3, (R11), 512, 192)
	Q8END16(Y9, (R11), 1056, 224)
	Q8END16(Y4, (R11)(BX*1), 512, 256)
	Q8END16(Y10, (R11)(BX*1), 1056, 288)
	Q8END16(Y5, (R11)(BX*2), 512, 320)
	Q8END16(Y11, (R11)(BX*2), 1056, 352)
	ADDQ $1088, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $4, R10
	ADDQ $4, R11
	DECQ CX
	JNZ  q8xloop

	MOVQ out+48(FP), SI
	CMPB acc+56(FP), $0
	JEQ  q8xstore
	MOVQ 0(SI), AX
	VMOVUPS 0(DI), Y0
	VADDPS (AX), Y0, Y0
	VMOVUPS Y0, 0(DI)
	VMOVUPS 32(DI), Y1
	VADDPS 32(AX), Y1, Y1
	VMOVUPS Y1, 32(DI)
	MOVQ 8(SI), AX
	VMOVUPS 64(DI), Y0
	VADDPS (AX), Y0, Y0
	VMOVUPS Y0, 64(DI)
	VMOVUPS 96(DI), Y1
	VADDPS 32(AX), Y1, Y1
	VMOVUPS Y1, 96(DI)
	MOVQ 16(SI), AX
	VMOVUPS 128(DI), Y0
	VADDPS (AX), Y0, Y0
	VMOVUPS Y0, 128(DI)
	VMOVUPS 160(DI), Y1
	VADDPS 32(AX), Y1, Y1
	VMOVUPS Y1, 160(DI)
	MOVQ 24(SI), AX
	VMOVUPS 192(DI), Y0
	VADDPS (AX), Y0, Y0
	VMOVUPS Y0, 192(DI)
	VMOVUPS 224(DI), Y1
	VADDPS 32(AX), Y1, Y1
	VMOVUPS Y1, 224(DI)
	MOVQ 32(SI), AX
	VMOVUPS 256(DI), Y0
	VADDPS (AX), Y0, Y0
	VMOVUPS Y0, 256(DI)
	VMOVUPS 288(DI), Y1
	VADDPS 32(AX), Y1, Y1
	VMOVUPS Y1, 288(DI)
	MOVQ 40(SI), AX
	VMOVUPS 320(DI), Y0
	VADDPS (AX), Y0, Y0
	VMOVUPS Y0, 320(DI)
	VMOVUPS 352(DI), Y1
	VADDPS 32(AX), Y1, Y1
	VMOVUPS Y1, 352(DI)

q8xstore:
	MOVQ 0(SI), AX
	VMOVUPS 0(DI), Y0
	VMOVUPS Y0, (AX)
	VMOVUPS 32(DI), Y1
	VMOVUPS Y1, 32(AX)
	MOVQ 8(SI), AX
	VMOVUPS 64(DI), Y0
	VMOVUPS Y0, (AX)
	VMOVUPS 96(DI), Y1
	VMOVUPS Y1, 32(AX)
	MOVQ 16(SI), AX
	VMOVUPS 128(DI), Y0
	VMOVUPS Y0, (AX)
	VMOVUPS 160(DI), Y1
	VMOVUPS Y1, 32(AX)
	MOVQ 24(SI), AX
	VMOVUPS 192(DI), Y0
	VMOVUPS Y0, (AX)
	VMOVUPS 224(DI), Y1
	VMOVUPS Y1, 32(AX)
	MOVQ 32(SI), AX
	VMOVUPS 256(DI), Y0
	VMOVUPS Y0, (AX)
	VMOVUPS 288(DI), Y1
	VMOVUPS Y1, 32(AX)
	MOVQ 40(SI), AX
	VMOVUPS 320(DI), Y0
	VMOVUPS Y0, (AX)
	VMOVUPS 352(DI), Y1
	VMOVUPS Y1, 32(AX)
	VZEROUPPER
	RET

// Q8ROW widens quants h*16..h*16+15 of block AX/34 of row r into Y.
#define Q8ROW(r, h, Y) \
	MOVQ      (r*8)(SI), DX \
	VPMOVSXBW (2+16*h)(DX)(AX*1), Y

#define Q8SCALE(r) \
	MOVQ    (r*8)(SI), DX \
	VPINSRW $r, (DX)(AX*1), X8, X8

// func cvtQ8_0I16(dst *byte, rows *[8]*byte, k0, n, stride int)
// Writes n 8-row blocks (stride bytes apart) of gemmQ8_0I16x16's panel
// from blocks k0..k0+n-1 of the 8 Q8_0 rows: per block 16 steps of 32
// bytes (element 2s+j of row r as int16 at 32s+4r+2j) and the 8 scales as
// float32.
TEXT ·cvtQ8_0I16(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ stride+32(FP), R8
	MOVQ rows+8(FP), SI
	MOVQ k0+16(FP), AX
	IMULQ $34, AX
	MOVQ n+24(FP), CX
	TESTQ CX, CX
	JZ   cq8done

cq8loop:
	Q8SCALE(0)
	Q8SCALE(1)
	Q8SCALE(2)
	Q8SCALE(3)
	Q8SCALE(4)
	Q8SCALE(5)
	Q8SCALE(6)
	Q8SCALE(7)
	VCVTPH2PS X8, Y8
	VMOVUPS   Y8, 512(DI)
	Q8ROW(0, 0, Y0)
	Q8ROW(1, 0, Y1)
	Q8ROW(2, 0, Y2)
	Q8ROW(3, 0, Y3)
	Q8ROW(4, 0, Y4)
	Q8ROW(5, 0, Y5)
	Q8ROW(6, 0, Y6)
	Q8ROW(7, 0, Y7)
	TRANSPOSE8(0)
	Q8ROW(0, 1, Y0)
	Q8ROW(1, 1, Y1)
	Q8ROW(2, 1, Y2)
	Q8ROW(3, 1, Y3)
	Q8ROW(4, 1, Y4)
	Q8ROW(5, 1, Y5)
	Q8ROW(6, 1, Y6)
	Q8ROW(7, 1, Y7)
	TRANSPOSE8(256)
	MOVQ       (SI), DX
	PREFETCHT0 (34*8)(DX)(AX*1)
	MOVQ       8(SI), DX
	PREFETCHT0 (34*8)(DX)(AX*1)
	MOVQ       16(SI), DX
	PREFETCHT0 (34*8)(DX)(AX*1)
	MOVQ       24(SI), DX
	PREFETCHT0 (34*8)(DX)(AX*1)
	MOVQ       32(SI), DX
	PREFETCHT0 (34*8)(DX)(AX*1)
	MOVQ       40(SI), DX
	PREFETCHT0 (34*8)(DX)(AX*1)
	MOVQ       48(SI), DX
	PREFETCHT0 (34*8)(DX)(AX*1)
	MOVQ       56(SI), DX
	PREFETCHT0 (34*8)(DX)(AX*1)
	ADDQ $34, AX
	ADDQ R8, DI
	DECQ CX
	JNZ  cq8loop

cq8done:
	VZEROUPPER
	RET

// func widenQ8(dst *int16, src *byte, n int)
// dst[i] = int8(src[i]) for i < 32n.
TEXT ·widenQ8(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JZ   wq8done

wq8loop:
	VPMOVSXBW (SI), Y0
	VPMOVSXBW 16(SI), Y1
	VMOVDQU   Y0, (DI)
	VMOVDQU   Y1, 32(DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  wq8loop

wq8done:
	VZEROUPPER
	RET


// The K-quant integer panel kernels (gemmKIntAVX2): as gemmQ4_0I8x6, for
// super-blocks of 256 weights with Q8_K activations. Every K type has the
// same panel super-block (2880 bytes, kPanelSB in Go): 64 steps of 32
// bytes (step s: elements 4s..4s+3 of rows 0..7 as unsigned levels, at
// 32s+4r+j, written by cvtQ*_KI8: Q2_K 0..3, Q3_K 0..7 (the level plus 4),
// Q4_K 0..15, Q5_K 0..31, Q6_K 0..63 (plus 32)); at 2048, for each of the
// 16 chunks of 16 elements, the rows' scales as int16 pairs (row r in
// lanes 2r, 2r+1; Q4_K and Q5_K give each sub-block of 32 both of its
// chunks); at 2560, for each pair of chunks, the rows' mins (Q2_K, Q4_K,
// Q5_K) or level offsets (Q3_K 4 x, Q6_K 32 x the scales) as two int16;
// at 2816 d and at 2848 dmin as float32 (kPanelScales*).
//
// Per chunk or sub-block the int16 pair sums of VPMADDUBSW (no saturation:
// at most 2 x 63 x 127) are multiplied by the scales with VPMADDWD and
// added in int32. The int16 sums hold at most 32767: Q4_K sums a sub-block
// of 32 (8 steps, 16 products of at most 15 x 127), Q5_K, Q3_K and Q2_K a
// chunk of 16 (4 steps: 8 products of at most 31 x 127 = 31496), Q6_K half
// a chunk (2 steps, 4 x 63 x 127). The mins and offsets meet the Q8_K sums
// of 16 quants, two sums per VPMADDWD. Per super-block and vector: out +=
// dx*(d*sum - dmin*msum) (gemmQ4_KI8x6; gemmKMinI8x6 for Q5_K and Q2_K),
// or dx*d*(sum - osum) (gemmQ6_KI8x6; gemmKOffI8x6 for Q3_K); the integer
// sums are the rows kernels'.
//
// Registers: SI the panel, R8 vector 0's quants (R9 vector 3's), DX their
// stride, R10 the scales, BX the sub-block counter, CX the super-block
// counter; Y0..Y5 int16 sums (Q4FIRST, Q4STEP), Y6..Y11 int32 sums of the
// super-block, Y12 the step's weights, Y13..Y15 scratch; the float32
// outputs in the frame, at DI.

// KSCALE adds the int16 sums of vector t, times the scales at R10, to its
// int32 sums.
#define KSCALE \
	VPMADDWD (R10), Y0, Y13 \
	VPADDD   Y13, Y6, Y6 \
	VPMADDWD (R10), Y1, Y14 \
	VPADDD   Y14, Y7, Y7 \
	VPMADDWD (R10), Y2, Y15 \
	VPADDD   Y15, Y8, Y8 \
	VPMADDWD (R10), Y3, Y13 \
	VPADDD   Y13, Y9, Y9 \
	VPMADDWD (R10), Y4, Y14 \
	VPADDD   Y14, Y10, Y10 \
	VPMADDWD (R10), Y5, Y15 \
	VPADDD   Y15, Y11, Y11

// KSUMS leaves in Y12 the eight VPMADDWD of the int16 pairs at R10 with
// the Q8_K sums of 16 quants of the vector at x (at 0(x)...28(x)).
#define KSUMS(x0, x1, x2, x3, x4, x5, x6, x7) \
	VPBROADCASTD x0, Y13 \
	VPMADDWD     (R10), Y13, Y12 \
	VPBROADCASTD x1, Y13 \
	VPMADDWD     32(R10), Y13, Y13 \
	VPADDD       Y13, Y12, Y12 \
	VPBROADCASTD x2, Y14 \
	VPMADDWD     64(R10), Y14, Y14 \
	VPADDD       Y14, Y12, Y12 \
	VPBROADCASTD x3, Y13 \
	VPMADDWD     96(R10), Y13, Y13 \
	VPADDD       Y13, Y12, Y12 \
	VPBROADCASTD x4, Y14 \
	VPMADDWD     128(R10), Y14, Y14 \
	VPADDD       Y14, Y12, Y12 \
	VPBROADCASTD x5, Y13 \
	VPMADDWD     160(R10), Y13, Y13 \
	VPADDD       Y13, Y12, Y12 \
	VPBROADCASTD x6, Y14 \
	VPMADDWD     192(R10), Y14, Y14 \
	VPADDD       Y14, Y12, Y12 \
	VPBROADCASTD x7, Y13 \
	VPMADDWD     224(R10), Y13, Y13 \
	VPADDD       Y13, Y12, Y12

// KOUT adds Y13 (8 floats, rows 0..7) times the vector's dx to its
// outputs at off(DI) (the frame).
#define KOUT(dx, off) \
	VBROADCASTSS dx, Y14 \
	VMOVUPS      off(DI), Y15 \
	VFMADD231PS  Y14, Y13, Y15 \
	VMOVUPS      Y15, off(DI)

// KMINEND: vector t's super-block (int32 sums acc) into its outputs, with
// mins (SI at the scales: d at 768(SI), dmin at 800(SI)).
#define KMINEND(acc, x, off) \
	KSUMS((0)x, (4)x, (8)x, (12)x, (16)x, (20)x, (24)x, (28)x) \
	VCVTDQ2PS    Y12, Y12 \
	VCVTDQ2PS    acc, Y13 \
	VMULPS       768(SI), Y13, Y13 \
	VFNMADD231PS 800(SI), Y12, Y13 \
	KOUT((-260)x, off)

// KOFFEND: as KMINEND with level offsets.
#define KOFFEND(acc, x, off) \
	KSUMS((0)x, (4)x, (8)x, (12)x, (16)x, (20)x, (24)x, (28)x) \
	VPSUBD    Y12, acc, Y13 \
	VCVTDQ2PS Y13, Y13 \
	VMULPS    768(SI), Y13, Y13 \
	KOUT((-260)x, off)

// KZERO clears the int32 sums of a super-block.
#define KZERO \
	VPXOR Y6, Y6, Y6 \
	VPXOR Y7, Y7, Y7 \
	VPXOR Y8, Y8, Y8 \
	VPXOR Y9, Y9, Y9 \
	VPXOR Y10, Y10, Y10 \
	VPXOR Y11, Y11, Y11

// func gemmQ4_KI8x6(w *byte, x *byte, xstride int, n int, out *[6]*float32, acc bool)
// For n panel super-blocks at w and 6 vectors (Q8_K super-blocks at x,
// xstride bytes apart): out[t][r] (+)= the product of rows r < 8 with
// vector t; acc adds to out instead of storing.
TEXT ·gemmQ4_KI8x6(SB), NOSPLIT, $192-41
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), R8
	MOVQ   xstride+16(FP), DX
	ADDQ   $4, R8
	LEAQ   (R8)(DX*2), R9
	ADDQ   DX, R9
	MOVQ   n+24(FP), CX
	VXORPS Y15, Y15, Y15
	VMOVUPS Y15, 0(SP)
	VMOVUPS Y15, 32(SP)
	VMOVUPS Y15, 64(SP)
	VMOVUPS Y15, 96(SP)
	VMOVUPS Y15, 128(SP)
	VMOVUPS Y15, 160(SP)
	LEAQ   0(SP), DI

q4ksuper:
	KZERO
	LEAQ 2048(SI), R10
	MOVQ $8, BX

q4ksub:
	Q4FIRST(0)
	Q4STEP(1)
	Q4STEP(2)
	Q4STEP(3)
	Q4STEP(4)
	Q4STEP(5)
	Q4STEP(6)
	Q4STEP(7)
	KSCALE
	ADDQ $256, SI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $64, R10
	DECQ BX
	JNZ  q4ksub

	// SI at the scales, R10 at the mins, R8 and R9 at the Q8_K sums.
	KMINEND(Y6, (R8), 0)
	KMINEND(Y7, (R8)(DX*1), 32)
	KMINEND(Y8, (R8)(DX*2), 64)
	KMINEND(Y9, (R9), 96)
	KMINEND(Y10, (R9)(DX*1), 128)
	KMINEND(Y11, (R9)(DX*2), 160)
	ADDQ $832, SI
	ADDQ $36, R8
	ADDQ $36, R9
	DECQ CX
	JNZ  q4ksuper
	MOVQ    out+32(FP), DI
	VMOVUPS 0(SP), Y0
	VMOVUPS 32(SP), Y1
	VMOVUPS 64(SP), Y2
	VMOVUPS 96(SP), Y3
	VMOVUPS 128(SP), Y4
	VMOVUPS 160(SP), Y5
	CMPB    acc+40(FP), $0
	JEQ     q4kstore
	MOVQ    0(DI), AX
	VADDPS  (AX), Y0, Y0
	MOVQ    8(DI), AX
	VADDPS  (AX), Y1, Y1
	MOVQ    16(DI), AX
	VADDPS  (AX), Y2, Y2
	MOVQ    24(DI), AX
	VADDPS  (AX), Y3, Y3
	MOVQ    32(DI), AX
	VADDPS  (AX), Y4, Y4
	MOVQ    40(DI), AX
	VADDPS  (AX), Y5, Y5

q4kstore:
	MOVQ    0(DI), AX
	VMOVUPS Y0, (AX)
	MOVQ    8(DI), AX
	VMOVUPS Y1, (AX)
	MOVQ    16(DI), AX
	VMOVUPS Y2, (AX)
	MOVQ    24(DI), AX
	VMOVUPS Y3, (AX)
	MOVQ    32(DI), AX
	VMOVUPS Y4, (AX)
	MOVQ    40(DI), AX
	VMOVUPS Y5, (AX)
	VZEROUPPER
	RET

// func gemmQ6_KI8x6(w *byte, x *byte, xstride int, n int, out *[6]*float32, acc bool)
// gemmQ4_KI8x6 for Q6_K panel super-blocks.
TEXT ·gemmQ6_KI8x6(SB), NOSPLIT, $192-41
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), R8
	MOVQ   xstride+16(FP), DX
	ADDQ   $4, R8
	LEAQ   (R8)(DX*2), R9
	ADDQ   DX, R9
	MOVQ   n+24(FP), CX
	VXORPS Y15, Y15, Y15
	VMOVUPS Y15, 0(SP)
	VMOVUPS Y15, 32(SP)
	VMOVUPS Y15, 64(SP)
	VMOVUPS Y15, 96(SP)
	VMOVUPS Y15, 128(SP)
	VMOVUPS Y15, 160(SP)
	LEAQ   0(SP), DI

q6ksuper:
	KZERO
	LEAQ 2048(SI), R10
	MOVQ $16, BX

q6ksub:
	Q4FIRST(0)
	Q4STEP(1)
	KSCALE
	Q4FIRST(2)
	Q4STEP(3)
	KSCALE
	ADDQ $128, SI
	ADDQ $16, R8
	ADDQ $16, R9
	ADDQ $32, R10
	DECQ BX
	JNZ  q6ksub

	// SI at the scales, R10 at the 32 x scale pairs, R8 and R9 at the
	// Q8_K sums.
	KOFFEND(Y6, (R8), 0)
	KOFFEND(Y7, (R8)(DX*1), 32)
	KOFFEND(Y8, (R8)(DX*2), 64)
	KOFFEND(Y9, (R9), 96)
	KOFFEND(Y10, (R9)(DX*1), 128)
	KOFFEND(Y11, (R9)(DX*2), 160)
	ADDQ $832, SI
	ADDQ $36, R8
	ADDQ $36, R9
	DECQ CX
	JNZ  q6ksuper
	MOVQ    out+32(FP), DI
	VMOVUPS 0(SP), Y0
	VMOVUPS 32(SP), Y1
	VMOVUPS 64(SP), Y2
	VMOVUPS 96(SP), Y3
	VMOVUPS 128(SP), Y4
	VMOVUPS 160(SP), Y5
	CMPB    acc+40(FP), $0
	JEQ     q6kstore
	MOVQ    0(DI), AX
	VADDPS  (AX), Y0, Y0
	MOVQ    8(DI), AX
	VADDPS  (AX), Y1, Y1
	MOVQ    16(DI), AX
	VADDPS  (AX), Y2, Y2
	MOVQ    24(DI), AX
	VADDPS  (AX), Y3, Y3
	MOVQ    32(DI), AX
	VADDPS  (AX), Y4, Y4
	MOVQ    40(DI), AX
	VADDPS  (AX), Y5, Y5

q6kstore:
	MOVQ    0(DI), AX
	VMOVUPS Y0, (AX)
	MOVQ    8(DI), AX
	VMOVUPS Y1, (AX)
	MOVQ    16(DI), AX
	VMOVUPS Y2, (AX)
	MOVQ    24(DI), AX
	VMOVUPS Y3, (AX)
	MOVQ    32(DI), AX
	VMOVUPS Y4, (AX)
	MOVQ    40(DI), AX
	VMOVUPS Y5, (AX)
	VZEROUPPER
	RET

// K4ROW and K4ROWHI put the low and the high nibbles of the 32 bytes at
// 16(row r)(AX) (qs[32h..] of a Q4_K super-block) in Y as bytes.
#define K4ROW(r, Y) \
	MOVQ    (r*8)(SI), DX \
	VMOVDQU 16(DX)(AX*1), Y \
	VPAND   pnib0f32<>(SB), Y, Y

#define K4ROWHI(r, Y) \
	MOVQ    (r*8)(SI), DX \
	VMOVDQU 16(DX)(AX*1), Y \
	VPSRLW  $4, Y, Y \
	VPAND   pnib0f32<>(SB), Y, Y

// KPREFETCH fetches the 8 rows' bytes [off, off+192) from AX on.
#define KPREFETCH(off) \
	MOVQ       0(SI), DX \
	PREFETCHT0 off(DX)(AX*1) \
	PREFETCHT0 (off+64)(DX)(AX*1) \
	PREFETCHT0 (off+128)(DX)(AX*1) \
	MOVQ       8(SI), DX \
	PREFETCHT0 off(DX)(AX*1) \
	PREFETCHT0 (off+64)(DX)(AX*1) \
	PREFETCHT0 (off+128)(DX)(AX*1) \
	MOVQ       16(SI), DX \
	PREFETCHT0 off(DX)(AX*1) \
	PREFETCHT0 (off+64)(DX)(AX*1) \
	PREFETCHT0 (off+128)(DX)(AX*1) \
	MOVQ       24(SI), DX \
	PREFETCHT0 off(DX)(AX*1) \
	PREFETCHT0 (off+64)(DX)(AX*1) \
	PREFETCHT0 (off+128)(DX)(AX*1) \
	MOVQ       32(SI), DX \
	PREFETCHT0 off(DX)(AX*1) \
	PREFETCHT0 (off+64)(DX)(AX*1) \
	PREFETCHT0 (off+128)(DX)(AX*1) \
	MOVQ       40(SI), DX \
	PREFETCHT0 off(DX)(AX*1) \
	PREFETCHT0 (off+64)(DX)(AX*1) \
	PREFETCHT0 (off+128)(DX)(AX*1) \
	MOVQ       48(SI), DX \
	PREFETCHT0 off(DX)(AX*1) \
	PREFETCHT0 (off+64)(DX)(AX*1) \
	PREFETCHT0 (off+128)(DX)(AX*1) \
	MOVQ       56(SI), DX \
	PREFETCHT0 off(DX)(AX*1) \
	PREFETCHT0 (off+64)(DX)(AX*1) \
	PREFETCHT0 (off+128)(DX)(AX*1)

// func cvtQ4_KI8(dst *byte, rows *[8]*byte, k0, n int)
// Writes the 64 steps of n panel super-blocks (2880 bytes apart) from super-blocks k0..k0+n-1 of the 8 Q4_K rows: element 4s+j of
// row r at 32s+4r+j. Sub-blocks 2h and 2h+1 are the low and high nibbles
// of the row's qs[32h..32h+31].
TEXT ·cvtQ4_KI8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ rows+8(FP), SI
	MOVQ k0+16(FP), AX
	IMULQ $144, AX
	MOVQ n+24(FP), CX
	TESTQ CX, CX
	JZ   cq4kdone

cq4ksuper:
	KPREFETCH(576)
	MOVQ $4, BX

cq4kh:
	K4ROW(0, Y0)
	K4ROW(1, Y1)
	K4ROW(2, Y2)
	K4ROW(3, Y3)
	K4ROW(4, Y4)
	K4ROW(5, Y5)
	K4ROW(6, Y6)
	K4ROW(7, Y7)
	TRANSPOSE8(0)
	K4ROWHI(0, Y0)
	K4ROWHI(1, Y1)
	K4ROWHI(2, Y2)
	K4ROWHI(3, Y3)
	K4ROWHI(4, Y4)
	K4ROWHI(5, Y5)
	K4ROWHI(6, Y6)
	K4ROWHI(7, Y7)
	TRANSPOSE8(256)
	ADDQ $32, AX
	ADDQ $512, DI
	DECQ BX
	JNZ  cq4kh
	ADDQ $16, AX
	ADDQ $832, DI
	DECQ CX
	JNZ  cq4ksuper

cq4kdone:
	VZEROUPPER
	RET

// K6ROW puts the 32 levels of chunk 4h+j of row r in Y: bits 0..3 from
// the ql bytes at ql(row)(AX) (their high nibbles if hi), bits 4, 5 from
// bits 2j, 2j+1 of qh[32h..] at 128(row)(BX), moved by the shift op.
#define K6ROW(r, Y, ql, QLSHIFT, QHSHIFT) \
	MOVQ    (r*8)(SI), DX \
	VMOVDQU ql(DX)(AX*1), Y \
	QLSHIFT \
	VPAND   pnib0f32<>(SB), Y, Y \
	VMOVDQU 128(DX)(BX*1), Y8 \
	QHSHIFT \
	VPAND   pbits45<>(SB), Y8, Y8 \
	VPOR    Y8, Y, Y

#define K6CHUNK(ql, QLSHIFT, QHSHIFT, off) \
	K6ROW(0, Y0, ql, QLSHIFT(Y0), QHSHIFT) \
	K6ROW(1, Y1, ql, QLSHIFT(Y1), QHSHIFT) \
	K6ROW(2, Y2, ql, QLSHIFT(Y2), QHSHIFT) \
	K6ROW(3, Y3, ql, QLSHIFT(Y3), QHSHIFT) \
	K6ROW(4, Y4, ql, QLSHIFT(Y4), QHSHIFT) \
	K6ROW(5, Y5, ql, QLSHIFT(Y5), QHSHIFT) \
	K6ROW(6, Y6, ql, QLSHIFT(Y6), QHSHIFT) \
	K6ROW(7, Y7, ql, QLSHIFT(Y7), QHSHIFT) \
	TRANSPOSE8(off)

#define NOSHIFT(Y)
#define HINIB(Y) VPSRLW $4, Y, Y
#define QH0 VPSLLW $4, Y8, Y8
#define QH1 VPSLLW $2, Y8, Y8
#define QH2
#define QH3 VPSRLW $2, Y8, Y8

// func cvtQ6_KI8(dst *byte, rows *[8]*byte, k0, n int)
// Writes the 64 steps of n panel super-blocks (2880 bytes apart) from super-blocks k0..k0+n-1 of the 8 Q6_K rows: element 4s+j of
// row r, its 6-bit level, at 32s+4r+j. Elements 32c..32c+31 (c = 4h+j) take
// bits 0..3 from nibble j/2 of ql[64h+32(j%2)..] and bits 4, 5 from bits
// 2j, 2j+1 of qh[32h..].
TEXT ·cvtQ6_KI8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ rows+8(FP), SI
	MOVQ k0+16(FP), AX
	IMULQ $210, AX
	MOVQ n+24(FP), CX
	TESTQ CX, CX
	JZ   cq6kdone

cq6ksuper:
	KPREFETCH(840)
	MOVQ AX, BX
	MOVQ $2, R8

cq6kh:
	K6CHUNK(0, NOSHIFT, QH0, 0)
	K6CHUNK(32, NOSHIFT, QH1, 256)
	K6CHUNK(0, HINIB, QH2, 512)
	K6CHUNK(32, HINIB, QH3, 768)
	ADDQ $64, AX
	ADDQ $32, BX
	ADDQ $1024, DI
	DECQ R8
	JNZ  cq6kh
	ADDQ $82, AX
	ADDQ $832, DI
	DECQ CX
	JNZ  cq6ksuper

cq6kdone:
	VZEROUPPER
	RET

DATA pbit4<>+0(SB)/8, $0x1010101010101010
DATA pbit4<>+8(SB)/8, $0x1010101010101010
DATA pbit4<>+16(SB)/8, $0x1010101010101010
DATA pbit4<>+24(SB)/8, $0x1010101010101010
GLOBL pbit4<>(SB), RODATA|NOPTR, $32

DATA pbit2<>+0(SB)/8, $0x0404040404040404
DATA pbit2<>+8(SB)/8, $0x0404040404040404
DATA pbit2<>+16(SB)/8, $0x0404040404040404
DATA pbit2<>+24(SB)/8, $0x0404040404040404
GLOBL pbit2<>(SB), RODATA|NOPTR, $32

DATA pbits01<>+0(SB)/8, $0x0303030303030303
DATA pbits01<>+8(SB)/8, $0x0303030303030303
DATA pbits01<>+16(SB)/8, $0x0303030303030303
DATA pbits01<>+24(SB)/8, $0x0303030303030303
GLOBL pbits01<>(SB), RODATA|NOPTR, $32

// K16CHUNK: one chunk of 16 elements of the 6 vectors into their int32
// sums; SI, R8, R9 and R10 move on to the next chunk.
#define K16CHUNK \
	Q4FIRST(0) \
	Q4STEP(1) \
	Q4STEP(2) \
	Q4STEP(3) \
	KSCALE \
	ADDQ $128, SI \
	ADDQ $16, R8 \
	ADDQ $16, R9 \
	ADDQ $32, R10

// KADDOUT adds the stored outputs to Y0..Y5; KSTOREOUT stores them.
#define KADDOUT \
	MOVQ   0(DI), AX \
	VADDPS (AX), Y0, Y0 \
	MOVQ   8(DI), AX \
	VADDPS (AX), Y1, Y1 \
	MOVQ   16(DI), AX \
	VADDPS (AX), Y2, Y2 \
	MOVQ   24(DI), AX \
	VADDPS (AX), Y3, Y3 \
	MOVQ   32(DI), AX \
	VADDPS (AX), Y4, Y4 \
	MOVQ   40(DI), AX \
	VADDPS (AX), Y5, Y5

#define KSTOREOUT \
	MOVQ    0(DI), AX \
	VMOVUPS Y0, (AX) \
	MOVQ    8(DI), AX \
	VMOVUPS Y1, (AX) \
	MOVQ    16(DI), AX \
	VMOVUPS Y2, (AX) \
	MOVQ    24(DI), AX \
	VMOVUPS Y3, (AX) \
	MOVQ    32(DI), AX \
	VMOVUPS Y4, (AX) \
	MOVQ    40(DI), AX \
	VMOVUPS Y5, (AX)

// func gemmKMinI8x6(w *byte, x *byte, xstride int, n int, out *[6]*float32, acc bool)
// For n panel super-blocks with mins (Q5_K, Q2_K) at w and 6 vectors
// (Q8_K super-blocks at x, xstride bytes apart): out[t][r] (+)= the
// product of rows r < 8 with vector t; acc adds to out instead of storing.
TEXT ·gemmKMinI8x6(SB), NOSPLIT, $192-41
	MOVQ    w+0(FP), SI
	MOVQ    x+8(FP), R8
	MOVQ    xstride+16(FP), DX
	ADDQ    $4, R8
	LEAQ    (R8)(DX*2), R9
	ADDQ    DX, R9
	MOVQ    n+24(FP), CX
	VXORPS  Y15, Y15, Y15
	VMOVUPS Y15, 0(SP)
	VMOVUPS Y15, 32(SP)
	VMOVUPS Y15, 64(SP)
	VMOVUPS Y15, 96(SP)
	VMOVUPS Y15, 128(SP)
	VMOVUPS Y15, 160(SP)
	LEAQ    0(SP), DI

kminsuper:
	KZERO
	LEAQ 2048(SI), R10
	MOVQ $4, BX

kminsub:
	K16CHUNK
	K16CHUNK
	K16CHUNK
	K16CHUNK
	DECQ BX
	JNZ  kminsub

	// SI at the scales, R10 at the min pairs, R8 and R9 at the Q8_K sums.
	KMINEND(Y6, (R8), 0)
	KMINEND(Y7, (R8)(DX*1), 32)
	KMINEND(Y8, (R8)(DX*2), 64)
	KMINEND(Y9, (R9), 96)
	KMINEND(Y10, (R9)(DX*1), 128)
	KMINEND(Y11, (R9)(DX*2), 160)
	ADDQ $832, SI
	ADDQ $36, R8
	ADDQ $36, R9
	DECQ CX
	JNZ  kminsuper
	MOVQ    out+32(FP), DI
	VMOVUPS 0(SP), Y0
	VMOVUPS 32(SP), Y1
	VMOVUPS 64(SP), Y2
	VMOVUPS 96(SP), Y3
	VMOVUPS 128(SP), Y4
	VMOVUPS 160(SP), Y5
	CMPB acc+40(FP), $0
	JEQ  kminstore
	KADDOUT

kminstore:
	KSTOREOUT
	VZEROUPPER
	RET

// func gemmKOffI8x6(w *byte, x *byte, xstride int, n int, out *[6]*float32, acc bool)
// gemmKMinI8x6 for panel super-blocks with a level offset (Q3_K).
TEXT ·gemmKOffI8x6(SB), NOSPLIT, $192-41
	MOVQ    w+0(FP), SI
	MOVQ    x+8(FP), R8
	MOVQ    xstride+16(FP), DX
	ADDQ    $4, R8
	LEAQ    (R8)(DX*2), R9
	ADDQ    DX, R9
	MOVQ    n+24(FP), CX
	VXORPS  Y15, Y15, Y15
	VMOVUPS Y15, 0(SP)
	VMOVUPS Y15, 32(SP)
	VMOVUPS Y15, 64(SP)
	VMOVUPS Y15, 96(SP)
	VMOVUPS Y15, 128(SP)
	VMOVUPS Y15, 160(SP)
	LEAQ    0(SP), DI

koffsuper:
	KZERO
	LEAQ 2048(SI), R10
	MOVQ $4, BX

koffsub:
	K16CHUNK
	K16CHUNK
	K16CHUNK
	K16CHUNK
	DECQ BX
	JNZ  koffsub

	// SI at the scales, R10 at the offset pairs, R8 and R9 at the Q8_K
	// sums; d at 768(SI) as in Q6_K's panel.
	KOFFEND(Y6, (R8), 0)
	KOFFEND(Y7, (R8)(DX*1), 32)
	KOFFEND(Y8, (R8)(DX*2), 64)
	KOFFEND(Y9, (R9), 96)
	KOFFEND(Y10, (R9)(DX*1), 128)
	KOFFEND(Y11, (R9)(DX*2), 160)
	ADDQ $832, SI
	ADDQ $36, R8
	ADDQ $36, R9
	DECQ CX
	JNZ  koffsuper
	MOVQ    out+32(FP), DI
	VMOVUPS 0(SP), Y0
	VMOVUPS 32(SP), Y1
	VMOVUPS 64(SP), Y2
	VMOVUPS 96(SP), Y3
	VMOVUPS 128(SP), Y4
	VMOVUPS 160(SP), Y5
	CMPB acc+40(FP), $0
	JEQ  koffstore
	KADDOUT

koffstore:
	KSTOREOUT
	VZEROUPPER
	RET

// The two-vector panel kernels (gemmQ4_KI8x2, gemmQ6_KI8x2, gemmKMinI8x2,
// gemmKOffI8x2) are the six-vector ones for vectors 0 and 1 only, with the
// same arithmetic in the same order: a batch's last 1..4 vectors take them
// in pairs instead of a group of 6 padded with zero vectors (a chunk of
// 128 vectors is 21 x 6 + 2, not 22 x 6). Registers as there, without R9;
// Y0, Y1 the int16 sums, Y6, Y7 the int32 sums.

#define Q4FIRST2(s) \
	VMOVDQU      (s*32)(SI), Y12 \
	VPBROADCASTD (s*4)(R8), Y13 \
	VPMADDUBSW   Y13, Y12, Y0 \
	VPBROADCASTD (s*4)(R8)(DX*1), Y13 \
	VPMADDUBSW   Y13, Y12, Y1

#define Q4STEP2(s) \
	VMOVDQU      (s*32)(SI), Y12 \
	VPBROADCASTD (s*4)(R8), Y13 \
	VPMADDUBSW   Y13, Y12, Y13 \
	VPADDW       Y13, Y0, Y0 \
	VPBROADCASTD (s*4)(R8)(DX*1), Y14 \
	VPMADDUBSW   Y14, Y12, Y14 \
	VPADDW       Y14, Y1, Y1

#define KSCALE2 \
	VPMADDWD (R10), Y0, Y13 \
	VPADDD   Y13, Y6, Y6 \
	VPMADDWD (R10), Y1, Y14 \
	VPADDD   Y14, Y7, Y7

#define K16CHUNK2 \
	Q4FIRST2(0) \
	Q4STEP2(1) \
	Q4STEP2(2) \
	Q4STEP2(3) \
	KSCALE2 \
	ADDQ $128, SI \
	ADDQ $16, R8 \
	ADDQ $32, R10

// KENTRY2 loads the arguments and clears the two outputs in the frame.
#define KENTRY2 \
	MOVQ    w+0(FP), SI \
	MOVQ    x+8(FP), R8 \
	MOVQ    xstride+16(FP), DX \
	ADDQ    $4, R8 \
	MOVQ    n+24(FP), CX \
	VXORPS  Y15, Y15, Y15 \
	VMOVUPS Y15, 0(SP) \
	VMOVUPS Y15, 32(SP) \
	LEAQ    0(SP), DI

// KEXIT2 stores (acc: adds) the two outputs of the frame to out.
#define KEXIT2(label) \
	MOVQ    out+32(FP), DI \
	VMOVUPS 0(SP), Y0 \
	VMOVUPS 32(SP), Y1 \
	CMPB    acc+40(FP), $0 \
	JEQ     label \
	MOVQ    0(DI), AX \
	VADDPS  (AX), Y0, Y0 \
	MOVQ    8(DI), AX \
	VADDPS  (AX), Y1, Y1 \
label: \
	MOVQ    0(DI), AX \
	VMOVUPS Y0, (AX) \
	MOVQ    8(DI), AX \
	VMOVUPS Y1, (AX) \
	VZEROUPPER \
	RET

// func gemmQ4_KI8x2(w *byte, x *byte, xstride int, n int, out *[2]*float32, acc bool)
// gemmQ4_KI8x6 for 2 vectors.
TEXT ·gemmQ4_KI8x2(SB), NOSPLIT, $64-41
	KENTRY2

q4k2super:
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	LEAQ  2048(SI), R10
	MOVQ  $8, BX

q4k2sub:
	Q4FIRST2(0)
	Q4STEP2(1)
	Q4STEP2(2)
	Q4STEP2(3)
	Q4STEP2(4)
	Q4STEP2(5)
	Q4STEP2(6)
	Q4STEP2(7)
	KSCALE2
	ADDQ $256, SI
	ADDQ $32, R8
	ADDQ $64, R10
	DECQ BX
	JNZ  q4k2sub
	KMINEND(Y6, (R8), 0)
	KMINEND(Y7, (R8)(DX*1), 32)
	ADDQ $832, SI
	ADDQ $36, R8
	DECQ CX
	JNZ  q4k2super
	KEXIT2(q4k2store)

// func gemmQ6_KI8x2(w *byte, x *byte, xstride int, n int, out *[2]*float32, acc bool)
// gemmQ6_KI8x6 for 2 vectors.
TEXT ·gemmQ6_KI8x2(SB), NOSPLIT, $64-41
	KENTRY2

q6k2super:
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	LEAQ  2048(SI), R10
	MOVQ  $16, BX

q6k2sub:
	Q4FIRST2(0)
	Q4STEP2(1)
	KSCALE2
	Q4FIRST2(2)
	Q4STEP2(3)
	KSCALE2
	ADDQ $128, SI
	ADDQ $16, R8
	ADDQ $32, R10
	DECQ BX
	JNZ  q6k2sub
	KOFFEND(Y6, (R8), 0)
	KOFFEND(Y7, (R8)(DX*1), 32)
	ADDQ $832, SI
	ADDQ $36, R8
	DECQ CX
	JNZ  q6k2super
	KEXIT2(q6k2store)

// func gemmKMinI8x2(w *byte, x *byte, xstride int, n int, out *[2]*float32, acc bool)
// gemmKMinI8x6 for 2 vectors.
TEXT ·gemmKMinI8x2(SB), NOSPLIT, $64-41
	KENTRY2

kmin2super:
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	LEAQ  2048(SI), R10
	MOVQ  $4, BX

kmin2sub:
	K16CHUNK2
	K16CHUNK2
	K16CHUNK2
	K16CHUNK2
	DECQ BX
	JNZ  kmin2sub
	KMINEND(Y6, (R8), 0)
	KMINEND(Y7, (R8)(DX*1), 32)
	ADDQ $832, SI
	ADDQ $36, R8
	DECQ CX
	JNZ  kmin2super
	KEXIT2(kmin2store)

// func gemmKOffI8x2(w *byte, x *byte, xstride int, n int, out *[2]*float32, acc bool)
// gemmKOffI8x6 for 2 vectors.
TEXT ·gemmKOffI8x2(SB), NOSPLIT, $64-41
	KENTRY2

koff2super:
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	LEAQ  2048(SI), R10
	MOVQ  $4, BX

koff2sub:
	K16CHUNK2
	K16CHUNK2
	K16CHUNK2
	K16CHUNK2
	DECQ BX
	JNZ  koff2sub
	KOFFEND(Y6, (R8), 0)
	KOFFEND(Y7, (R8)(DX*1), 32)
	ADDQ $832, SI
	ADDQ $36, R8
	DECQ CX
	JNZ  koff2super
	KEXIT2(koff2store)

// Shifts of the 16-bit lanes of Y (the converters shift bytes this way:
// every bit they keep stays inside its byte).
#define SL1(Y) VPSLLW $1, Y, Y
#define SL2(Y) VPSLLW $2, Y, Y
#define SL3(Y) VPSLLW $3, Y, Y
#define SL4(Y) VPSLLW $4, Y, Y
#define SR1(Y) VPSRLW $1, Y, Y
#define SR2(Y) VPSRLW $2, Y, Y
#define SR3(Y) VPSRLW $3, Y, Y
#define SR4(Y) VPSRLW $4, Y, Y
#define SR5(Y) VPSRLW $5, Y, Y
#define SR6(Y) VPSRLW $6, Y, Y

// KROWHI puts in Y the 32 levels of a chunk of 32 elements of row r of a
// super-block at AX: (the bytes at qoff, shifted by QSH) & qmask, or'ed
// with (the bytes at hoff, shifted by HSH) & hmask. KROWLO has no high
// part.
#define KROWHI(r, Y, qoff, QSH, qmask, hoff, HSH, hmask) \
	MOVQ    (r*8)(SI), DX \
	VMOVDQU qoff(DX)(AX*1), Y \
	QSH(Y) \
	VPAND   qmask, Y, Y \
	VMOVDQU hoff(DX)(AX*1), Y8 \
	HSH(Y8) \
	VPAND   hmask, Y8, Y8 \
	VPOR    Y8, Y, Y

#define KROWLO(r, Y, qoff, QSH, qmask) \
	MOVQ    (r*8)(SI), DX \
	VMOVDQU qoff(DX)(AX*1), Y \
	QSH(Y) \
	VPAND   qmask, Y, Y

// KCHUNKHI and KCHUNKLO write chunk c (32 elements) of the 8 rows to its
// 8 steps of the panel super-block at DI.
#define KCHUNKHI(c, qoff, QSH, qmask, hoff, HSH, hmask) \
	KROWHI(0, Y0, qoff, QSH, qmask, hoff, HSH, hmask) \
	KROWHI(1, Y1, qoff, QSH, qmask, hoff, HSH, hmask) \
	KROWHI(2, Y2, qoff, QSH, qmask, hoff, HSH, hmask) \
	KROWHI(3, Y3, qoff, QSH, qmask, hoff, HSH, hmask) \
	KROWHI(4, Y4, qoff, QSH, qmask, hoff, HSH, hmask) \
	KROWHI(5, Y5, qoff, QSH, qmask, hoff, HSH, hmask) \
	KROWHI(6, Y6, qoff, QSH, qmask, hoff, HSH, hmask) \
	KROWHI(7, Y7, qoff, QSH, qmask, hoff, HSH, hmask) \
	TRANSPOSE8(256*c)

#define KCHUNKLO(c, qoff, QSH, qmask) \
	KROWLO(0, Y0, qoff, QSH, qmask) \
	KROWLO(1, Y1, qoff, QSH, qmask) \
	KROWLO(2, Y2, qoff, QSH, qmask) \
	KROWLO(3, Y3, qoff, QSH, qmask) \
	KROWLO(4, Y4, qoff, QSH, qmask) \
	KROWLO(5, Y5, qoff, QSH, qmask) \
	KROWLO(6, Y6, qoff, QSH, qmask) \
	KROWLO(7, Y7, qoff, QSH, qmask) \
	TRANSPOSE8(256*c)

// func cvtQ5_KI8(dst *byte, rows *[8]*byte, k0, n int)
// Writes the 64 steps of n panel super-blocks (2880 bytes apart) from
// super-blocks k0..k0+n-1 of the 8 Q5_K rows. Chunk c = 2h+u takes bits
// 0..3 from the low (u = 0) or high nibbles of qs[32h..] (at 48) and bit 4
// from bit c of qh[0..31] (at 16).
#define K5(c, qoff, QSH, HSH) KCHUNKHI(c, qoff, QSH, pnib0f32<>(SB), 16, HSH, pbit4<>(SB))

TEXT ·cvtQ5_KI8(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  rows+8(FP), SI
	MOVQ  k0+16(FP), AX
	IMULQ $176, AX
	MOVQ  n+24(FP), CX
	TESTQ CX, CX
	JZ    cq5kdone

cq5ksuper:
	KPREFETCH(704)
	K5(0, 48, NOSHIFT, SL4)
	K5(1, 48, SR4, SL3)
	K5(2, 80, NOSHIFT, SL2)
	K5(3, 80, SR4, SL1)
	K5(4, 112, NOSHIFT, NOSHIFT)
	K5(5, 112, SR4, SR1)
	K5(6, 144, NOSHIFT, SR2)
	K5(7, 144, SR4, SR3)
	ADDQ $176, AX
	ADDQ $2880, DI
	DECQ CX
	JNZ  cq5ksuper

cq5kdone:
	VZEROUPPER
	RET

// func cvtQ3_KI8(dst *byte, rows *[8]*byte, k0, n int)
// Writes the 64 steps of n panel super-blocks (2880 bytes apart) from
// super-blocks k0..k0+n-1 of the 8 Q3_K rows, each level plus 4 (0..7).
// Chunk c = 4h+j takes bits 0, 1 from bits 2j, 2j+1 of qs[32h..] (at 32)
// and bit 2 from bit c of hmask[0..31] (at 0): set means +4, so the level
// plus 4 is exactly those three bits.
#define K3(c, qoff, QSH, HSH) KCHUNKHI(c, qoff, QSH, pbits01<>(SB), 0, HSH, pbit2<>(SB))

TEXT ·cvtQ3_KI8(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  rows+8(FP), SI
	MOVQ  k0+16(FP), AX
	IMULQ $110, AX
	MOVQ  n+24(FP), CX
	TESTQ CX, CX
	JZ    cq3kdone

cq3ksuper:
	KPREFETCH(440)
	K3(0, 32, NOSHIFT, SL2)
	K3(1, 32, SR2, SL1)
	K3(2, 32, SR4, NOSHIFT)
	K3(3, 32, SR6, SR1)
	K3(4, 64, NOSHIFT, SR2)
	K3(5, 64, SR2, SR3)
	K3(6, 64, SR4, SR4)
	K3(7, 64, SR6, SR5)
	ADDQ $110, AX
	ADDQ $2880, DI
	DECQ CX
	JNZ  cq3ksuper

cq3kdone:
	VZEROUPPER
	RET

// func cvtQ2_KI8(dst *byte, rows *[8]*byte, k0, n int)
// Writes n whole panel super-blocks (2880 bytes apart) from super-blocks
// k0..k0+n-1 of the 8 Q2_K rows: the 64 steps (chunk c = 4h+j is bits 2j,
// 2j+1 of qs[32h..], at 16), and the factors (as kPanelScales2Ref):
// per row, its 16 scale bytes (low nibbles: scales, high: mins) widened
// to dwords (the scales of 8 chunks, doubled as int16 pairs; the mins of
// 8 pairs of chunks as words) and transposed to the rows' lanes, and d,
// dmin (at 80, 82) by VCVTPH2PS.
#define K2(c, qoff, QSH) KCHUNKLO(c, qoff, QSH, pbits01<>(SB))

// K2SC puts in Y the scales of chunks lo..lo+7 of row r, each in both
// int16 halves of a dword.
#define K2SC(r, Y, lo) \
	MOVQ      (r*8)(SI), DX \
	VPMOVZXBD lo(DX)(AX*1), Y \
	VPAND     pnib0f32<>(SB), Y, Y \
	VPSLLD    $16, Y, Y8 \
	VPOR      Y8, Y, Y

// K2MIN puts in Y the mins of row r: word i is min i.
#define K2MIN(r, Y) \
	MOVQ      (r*8)(SI), DX \
	VPMOVZXBW (DX)(AX*1), Y \
	VPSRLW    $4, Y, Y

// K2D inserts row r's d and dmin into word r of X0 and X1.
#define K2D(r) \
	MOVQ    (r*8)(SI), DX \
	VPINSRW $r, 80(DX)(AX*1), X0, X0 \
	VPINSRW $r, 82(DX)(AX*1), X1, X1

#define K2SCALES \
	K2SC(0, Y0, 0) \
	K2SC(1, Y1, 0) \
	K2SC(2, Y2, 0) \
	K2SC(3, Y3, 0) \
	K2SC(4, Y4, 0) \
	K2SC(5, Y5, 0) \
	K2SC(6, Y6, 0) \
	K2SC(7, Y7, 0) \
	TRANSPOSE8(2048) \
	K2SC(0, Y0, 8) \
	K2SC(1, Y1, 8) \
	K2SC(2, Y2, 8) \
	K2SC(3, Y3, 8) \
	K2SC(4, Y4, 8) \
	K2SC(5, Y5, 8) \
	K2SC(6, Y6, 8) \
	K2SC(7, Y7, 8) \
	TRANSPOSE8(2304) \
	K2MIN(0, Y0) \
	K2MIN(1, Y1) \
	K2MIN(2, Y2) \
	K2MIN(3, Y3) \
	K2MIN(4, Y4) \
	K2MIN(5, Y5) \
	K2MIN(6, Y6) \
	K2MIN(7, Y7) \
	TRANSPOSE8(2560) \
	K2D(0) \
	K2D(1) \
	K2D(2) \
	K2D(3) \
	K2D(4) \
	K2D(5) \
	K2D(6) \
	K2D(7) \
	VCVTPH2PS X0, Y0 \
	VCVTPH2PS X1, Y1 \
	VMOVUPS   Y0, 2816(DI) \
	VMOVUPS   Y1, 2848(DI)

TEXT ·cvtQ2_KI8(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  rows+8(FP), SI
	MOVQ  k0+16(FP), AX
	IMULQ $84, AX
	MOVQ  n+24(FP), CX
	TESTQ CX, CX
	JZ    cq2kdone

cq2ksuper:
	KPREFETCH(336)
	K2(0, 16, NOSHIFT)
	K2(1, 16, SR2)
	K2(2, 16, SR4)
	K2(3, 16, SR6)
	K2(4, 48, NOSHIFT)
	K2(5, 48, SR2)
	K2(6, 48, SR4)
	K2(7, 48, SR6)
	K2SCALES
	ADDQ $84, AX
	ADDQ $2880, DI
	DECQ CX
	JNZ  cq2ksuper

cq2kdone:
	VZEROUPPER
	RET
