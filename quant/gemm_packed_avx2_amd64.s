//go:build amd64 && !noasm

#include "textflag.h"

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
