//go:build arm64 && !noasm

#include "textflag.h"

// NEON tile kernels of the batched product (MatMul); the reference loops
// are the doc comments of their declarations in gemm_arm64.go. Each computes
// a tile of 4 weight rows x 6 vectors and stores it as out[t*4+r].
// Instructions the Go assembler lacks are WORDs whose comment names the
// instruction (checked by `make check-arm64-words`).
//
// Int8 tiles. R0..R3 row cursors, R4 x at the current block, R5 xstride,
// R6 scales at the current block, R7 dstride, R8 blocks left, R9 out,
// R10..R13 fp16 scales, R14 and R15 the cursors over the six vectors.
// V0..V7 the block's weights (row r in V(2r), V(2r+1)), V8, V9 one vector's
// quants, V10 Q4_0 bytes, V11 the four rows' scales, V12 their products
// with the vector's scale (V13), V14, V15 int16 products, V16..V19 the
// rows' int32 sums, V20..V25 the six vectors' float sums (lane r: row r),
// V26 0x0f bytes, V27 0x08 bytes.

// LOADQ8 loads one Q8_0 block of each row: quants to V0..V7, the scales
// as float32 to V11; and sets the vector cursors.
#define LOADQ8 \
	MOVHU.P 2(R0), R10 \
	VLD1.P 32(R0), [V0.B16, V1.B16] \
	MOVHU.P 2(R1), R11 \
	VLD1.P 32(R1), [V2.B16, V3.B16] \
	MOVHU.P 2(R2), R12 \
	VLD1.P 32(R2), [V4.B16, V5.B16] \
	MOVHU.P 2(R3), R13 \
	VLD1.P 32(R3), [V6.B16, V7.B16] \
	VMOV R10, V11.H[0] \
	VMOV R11, V11.H[1] \
	VMOV R12, V11.H[2] \
	VMOV R13, V11.H[3] \
	WORD $0x0e21796b /* FCVTL V11.4S, V11.4H */ \
	MOVD R4, R14 \
	MOVD R6, R15

// LOADQ4 is LOADQ8 for Q4_0 blocks: the low nibbles minus 8 are elements
// 0..15, the high nibbles minus 8 elements 16..31.
#define LOADQ4 \
	MOVHU.P 2(R0), R10 \
	VLD1.P 16(R0), [V10.B16] \
	VAND V26.B16, V10.B16, V0.B16 \
	VUSHR $4, V10.B16, V1.B16 \
	VSUB V27.B16, V0.B16, V0.B16 \
	VSUB V27.B16, V1.B16, V1.B16 \
	MOVHU.P 2(R1), R11 \
	VLD1.P 16(R1), [V10.B16] \
	VAND V26.B16, V10.B16, V2.B16 \
	VUSHR $4, V10.B16, V3.B16 \
	VSUB V27.B16, V2.B16, V2.B16 \
	VSUB V27.B16, V3.B16, V3.B16 \
	MOVHU.P 2(R2), R12 \
	VLD1.P 16(R2), [V10.B16] \
	VAND V26.B16, V10.B16, V4.B16 \
	VUSHR $4, V10.B16, V5.B16 \
	VSUB V27.B16, V4.B16, V4.B16 \
	VSUB V27.B16, V5.B16, V5.B16 \
	MOVHU.P 2(R3), R13 \
	VLD1.P 16(R3), [V10.B16] \
	VAND V26.B16, V10.B16, V6.B16 \
	VUSHR $4, V10.B16, V7.B16 \
	VSUB V27.B16, V6.B16, V6.B16 \
	VSUB V27.B16, V7.B16, V7.B16 \
	VMOV R10, V11.H[0] \
	VMOV R11, V11.H[1] \
	VMOV R12, V11.H[2] \
	VMOV R13, V11.H[3] \
	WORD $0x0e21796b /* FCVTL V11.4S, V11.4H */ \
	MOVD R4, R14 \
	MOVD R6, R15

// VECSDOT multiplies the block with the next vector: V16 = the four rows'
// integer sums (SDOT) as float32, V12 = row scale x vector scale; the
// caller adds V16 x V12 to the vector's sums with FMLA, as the generic
// tier's acc += float32(sum) * (wd * xd) compiles on arm64 (fused).
#define VECSDOT \
	VLD1 (R14), [V8.B16, V9.B16] \
	FMOVS (R15), F13 \
	ADD R5, R14 \
	ADD R7, R15 \
	VEOR V16.B16, V16.B16, V16.B16 \
	VEOR V17.B16, V17.B16, V17.B16 \
	VEOR V18.B16, V18.B16, V18.B16 \
	VEOR V19.B16, V19.B16, V19.B16 \
	WORD $0x4e889410 /* SDOT V16.4S, V0.16B, V8.16B */ \
	WORD $0x4e899430 /* SDOT V16.4S, V1.16B, V9.16B */ \
	WORD $0x4e889451 /* SDOT V17.4S, V2.16B, V8.16B */ \
	WORD $0x4e899471 /* SDOT V17.4S, V3.16B, V9.16B */ \
	WORD $0x4e889492 /* SDOT V18.4S, V4.16B, V8.16B */ \
	WORD $0x4e8994b2 /* SDOT V18.4S, V5.16B, V9.16B */ \
	WORD $0x4e8894d3 /* SDOT V19.4S, V6.16B, V8.16B */ \
	WORD $0x4e8994f3 /* SDOT V19.4S, V7.16B, V9.16B */ \
	WORD $0x4eb1be10 /* ADDP V16.4S, V16.4S, V17.4S */ \
	WORD $0x4eb3be52 /* ADDP V18.4S, V18.4S, V19.4S */ \
	WORD $0x4eb2be10 /* ADDP V16.4S, V16.4S, V18.4S */ \
	WORD $0x4e21da10 /* SCVTF V16.4S, V16.4S */ \
	WORD $0x4f8d916c /* FMUL V12.4S, V11.4S, V13.S[0] */

// VECWIDEN is VECSDOT with SMULL/SMLAL2 into int16 lanes (two products
// each, exact while x has no -128) and SADDLP/SADALP.
#define VECWIDEN \
	VLD1 (R14), [V8.B16, V9.B16] \
	FMOVS (R15), F13 \
	ADD R5, R14 \
	ADD R7, R15 \
	WORD $0x0e28c00e /* SMULL V14.8H, V0.8B, V8.8B */ \
	WORD $0x4e28800e /* SMLAL2 V14.8H, V0.16B, V8.16B */ \
	WORD $0x0e29c02f /* SMULL V15.8H, V1.8B, V9.8B */ \
	WORD $0x4e29802f /* SMLAL2 V15.8H, V1.16B, V9.16B */ \
	WORD $0x4e6029d0 /* SADDLP V16.4S, V14.8H */ \
	WORD $0x4e6069f0 /* SADALP V16.4S, V15.8H */ \
	WORD $0x0e28c04e /* SMULL V14.8H, V2.8B, V8.8B */ \
	WORD $0x4e28804e /* SMLAL2 V14.8H, V2.16B, V8.16B */ \
	WORD $0x0e29c06f /* SMULL V15.8H, V3.8B, V9.8B */ \
	WORD $0x4e29806f /* SMLAL2 V15.8H, V3.16B, V9.16B */ \
	WORD $0x4e6029d1 /* SADDLP V17.4S, V14.8H */ \
	WORD $0x4e6069f1 /* SADALP V17.4S, V15.8H */ \
	WORD $0x0e28c08e /* SMULL V14.8H, V4.8B, V8.8B */ \
	WORD $0x4e28808e /* SMLAL2 V14.8H, V4.16B, V8.16B */ \
	WORD $0x0e29c0af /* SMULL V15.8H, V5.8B, V9.8B */ \
	WORD $0x4e2980af /* SMLAL2 V15.8H, V5.16B, V9.16B */ \
	WORD $0x4e6029d2 /* SADDLP V18.4S, V14.8H */ \
	WORD $0x4e6069f2 /* SADALP V18.4S, V15.8H */ \
	WORD $0x0e28c0ce /* SMULL V14.8H, V6.8B, V8.8B */ \
	WORD $0x4e2880ce /* SMLAL2 V14.8H, V6.16B, V8.16B */ \
	WORD $0x0e29c0ef /* SMULL V15.8H, V7.8B, V9.8B */ \
	WORD $0x4e2980ef /* SMLAL2 V15.8H, V7.16B, V9.16B */ \
	WORD $0x4e6029d3 /* SADDLP V19.4S, V14.8H */ \
	WORD $0x4e6069f3 /* SADALP V19.4S, V15.8H */ \
	WORD $0x4eb1be10 /* ADDP V16.4S, V16.4S, V17.4S */ \
	WORD $0x4eb3be52 /* ADDP V18.4S, V18.4S, V19.4S */ \
	WORD $0x4eb2be10 /* ADDP V16.4S, V16.4S, V18.4S */ \
	WORD $0x4e21da10 /* SCVTF V16.4S, V16.4S */ \
	WORD $0x4f8d916c /* FMUL V12.4S, V11.4S, V13.S[0] */

// QZERO clears the float sums and sets the nibble constants.
#define QZERO \
	VEOR V20.B16, V20.B16, V20.B16 \
	VEOR V21.B16, V21.B16, V21.B16 \
	VEOR V22.B16, V22.B16, V22.B16 \
	VEOR V23.B16, V23.B16, V23.B16 \
	VEOR V24.B16, V24.B16, V24.B16 \
	VEOR V25.B16, V25.B16, V25.B16 \
	VMOVI $15, V26.B16 \
	VMOVI $8, V27.B16

// QSTORE stores the tile.
#define QSTORE \
	VST1.P [V20.S4, V21.S4, V22.S4, V23.S4], 64(R9) \
	VST1.P [V24.S4, V25.S4], 32(R9)

// QARGS loads the int8 tiles' arguments.
#define QARGS \
	MOVD w0+0(FP), R0 \
	MOVD w1+8(FP), R1 \
	MOVD w2+16(FP), R2 \
	MOVD w3+24(FP), R3 \
	MOVD x+32(FP), R4 \
	MOVD xstride+40(FP), R5 \
	MOVD d+48(FP), R6 \
	MOVD dstride+56(FP), R7 \
	MOVD n+64(FP), R8 \
	MOVD out+72(FP), R9

// Float tiles. R0..R3 row cursors, R4 x, R5 xstride, R6 steps left, R7
// out, R10..R15 the six vectors' cursors. V0..V3 four columns of each row
// as float32, V4..V7 four columns of a vector, V8..V31 the sums: vector t,
// row r in V(8+4t+r).

// FARGS loads the float tiles' arguments, sets the vector cursors and
// clears the sums.
#define FARGS \
	MOVD w0+0(FP), R0 \
	MOVD w1+8(FP), R1 \
	MOVD w2+16(FP), R2 \
	MOVD w3+24(FP), R3 \
	MOVD x+32(FP), R4 \
	MOVD xstride+40(FP), R5 \
	MOVD n+48(FP), R6 \
	MOVD out+56(FP), R7 \
	MOVD R4, R10 \
	ADD R5, R10, R11 \
	ADD R5, R11, R12 \
	ADD R5, R12, R13 \
	ADD R5, R13, R14 \
	ADD R5, R14, R15 \
	VEOR V8.B16, V8.B16, V8.B16 \
	VEOR V9.B16, V9.B16, V9.B16 \
	VEOR V10.B16, V10.B16, V10.B16 \
	VEOR V11.B16, V11.B16, V11.B16 \
	VEOR V12.B16, V12.B16, V12.B16 \
	VEOR V13.B16, V13.B16, V13.B16 \
	VEOR V14.B16, V14.B16, V14.B16 \
	VEOR V15.B16, V15.B16, V15.B16 \
	VEOR V16.B16, V16.B16, V16.B16 \
	VEOR V17.B16, V17.B16, V17.B16 \
	VEOR V18.B16, V18.B16, V18.B16 \
	VEOR V19.B16, V19.B16, V19.B16 \
	VEOR V20.B16, V20.B16, V20.B16 \
	VEOR V21.B16, V21.B16, V21.B16 \
	VEOR V22.B16, V22.B16, V22.B16 \
	VEOR V23.B16, V23.B16, V23.B16 \
	VEOR V24.B16, V24.B16, V24.B16 \
	VEOR V25.B16, V25.B16, V25.B16 \
	VEOR V26.B16, V26.B16, V26.B16 \
	VEOR V27.B16, V27.B16, V27.B16 \
	VEOR V28.B16, V28.B16, V28.B16 \
	VEOR V29.B16, V29.B16, V29.B16 \
	VEOR V30.B16, V30.B16, V30.B16 \
	VEOR V31.B16, V31.B16, V31.B16

// FSTEP multiplies four columns of the rows (V0..V3) with the same columns
// of each vector.
#define FSTEP \
	VLD1.P 16(R10), [V4.S4] \
	WORD $0x4e24cc08 /* FMLA V8.4S, V0.4S, V4.4S */ \
	WORD $0x4e24cc29 /* FMLA V9.4S, V1.4S, V4.4S */ \
	WORD $0x4e24cc4a /* FMLA V10.4S, V2.4S, V4.4S */ \
	WORD $0x4e24cc6b /* FMLA V11.4S, V3.4S, V4.4S */ \
	VLD1.P 16(R11), [V5.S4] \
	WORD $0x4e25cc0c /* FMLA V12.4S, V0.4S, V5.4S */ \
	WORD $0x4e25cc2d /* FMLA V13.4S, V1.4S, V5.4S */ \
	WORD $0x4e25cc4e /* FMLA V14.4S, V2.4S, V5.4S */ \
	WORD $0x4e25cc6f /* FMLA V15.4S, V3.4S, V5.4S */ \
	VLD1.P 16(R12), [V6.S4] \
	WORD $0x4e26cc10 /* FMLA V16.4S, V0.4S, V6.4S */ \
	WORD $0x4e26cc31 /* FMLA V17.4S, V1.4S, V6.4S */ \
	WORD $0x4e26cc52 /* FMLA V18.4S, V2.4S, V6.4S */ \
	WORD $0x4e26cc73 /* FMLA V19.4S, V3.4S, V6.4S */ \
	VLD1.P 16(R13), [V7.S4] \
	WORD $0x4e27cc14 /* FMLA V20.4S, V0.4S, V7.4S */ \
	WORD $0x4e27cc35 /* FMLA V21.4S, V1.4S, V7.4S */ \
	WORD $0x4e27cc56 /* FMLA V22.4S, V2.4S, V7.4S */ \
	WORD $0x4e27cc77 /* FMLA V23.4S, V3.4S, V7.4S */ \
	VLD1.P 16(R14), [V4.S4] \
	WORD $0x4e24cc18 /* FMLA V24.4S, V0.4S, V4.4S */ \
	WORD $0x4e24cc39 /* FMLA V25.4S, V1.4S, V4.4S */ \
	WORD $0x4e24cc5a /* FMLA V26.4S, V2.4S, V4.4S */ \
	WORD $0x4e24cc7b /* FMLA V27.4S, V3.4S, V4.4S */ \
	VLD1.P 16(R15), [V5.S4] \
	WORD $0x4e25cc1c /* FMLA V28.4S, V0.4S, V5.4S */ \
	WORD $0x4e25cc3d /* FMLA V29.4S, V1.4S, V5.4S */ \
	WORD $0x4e25cc5e /* FMLA V30.4S, V2.4S, V5.4S */ \
	WORD $0x4e25cc7f /* FMLA V31.4S, V3.4S, V5.4S */

// FSTORE sums each accumulator's lanes (FADDP) into one lane per row and
// stores the tile.
#define FSTORE \
	WORD $0x6e29d508 /* FADDP V8.4S, V8.4S, V9.4S */ \
	WORD $0x6e2bd54a /* FADDP V10.4S, V10.4S, V11.4S */ \
	WORD $0x6e2ad508 /* FADDP V8.4S, V8.4S, V10.4S */ \
	WORD $0x6e2dd58c /* FADDP V12.4S, V12.4S, V13.4S */ \
	WORD $0x6e2fd5ce /* FADDP V14.4S, V14.4S, V15.4S */ \
	WORD $0x6e2ed58c /* FADDP V12.4S, V12.4S, V14.4S */ \
	WORD $0x6e31d610 /* FADDP V16.4S, V16.4S, V17.4S */ \
	WORD $0x6e33d652 /* FADDP V18.4S, V18.4S, V19.4S */ \
	WORD $0x6e32d610 /* FADDP V16.4S, V16.4S, V18.4S */ \
	WORD $0x6e35d694 /* FADDP V20.4S, V20.4S, V21.4S */ \
	WORD $0x6e37d6d6 /* FADDP V22.4S, V22.4S, V23.4S */ \
	WORD $0x6e36d694 /* FADDP V20.4S, V20.4S, V22.4S */ \
	WORD $0x6e39d718 /* FADDP V24.4S, V24.4S, V25.4S */ \
	WORD $0x6e3bd75a /* FADDP V26.4S, V26.4S, V27.4S */ \
	WORD $0x6e3ad718 /* FADDP V24.4S, V24.4S, V26.4S */ \
	WORD $0x6e3dd79c /* FADDP V28.4S, V28.4S, V29.4S */ \
	WORD $0x6e3fd7de /* FADDP V30.4S, V30.4S, V31.4S */ \
	WORD $0x6e3ed79c /* FADDP V28.4S, V28.4S, V30.4S */ \
	VST1.P [V8.S4], 16(R7) \
	VST1.P [V12.S4], 16(R7) \
	VST1.P [V16.S4], 16(R7) \
	VST1.P [V20.S4], 16(R7) \
	VST1.P [V24.S4], 16(R7) \
	VST1.P [V28.S4], 16(R7)

// func gemmQ8_0TileSDOT(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[24]float32)
TEXT ·gemmQ8_0TileSDOT(SB), NOSPLIT, $0-80
	QARGS
	QZERO
	CBZ R8, q8sdone

q8sblock:
	LOADQ8
	VECSDOT
	WORD $0x4e2cce14 // FMLA V20.4S, V16.4S, V12.4S
	VECSDOT
	WORD $0x4e2cce15 // FMLA V21.4S, V16.4S, V12.4S
	VECSDOT
	WORD $0x4e2cce16 // FMLA V22.4S, V16.4S, V12.4S
	VECSDOT
	WORD $0x4e2cce17 // FMLA V23.4S, V16.4S, V12.4S
	VECSDOT
	WORD $0x4e2cce18 // FMLA V24.4S, V16.4S, V12.4S
	VECSDOT
	WORD $0x4e2cce19 // FMLA V25.4S, V16.4S, V12.4S
	ADD $32, R4
	ADD $4, R6
	SUBS $1, R8
	BNE q8sblock

q8sdone:
	QSTORE
	RET

// func gemmQ8_0TileNEON(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[24]float32)
TEXT ·gemmQ8_0TileNEON(SB), NOSPLIT, $0-80
	QARGS
	QZERO
	CBZ R8, q8ndone

q8nblock:
	LOADQ8
	VECWIDEN
	WORD $0x4e2cce14 // FMLA V20.4S, V16.4S, V12.4S
	VECWIDEN
	WORD $0x4e2cce15 // FMLA V21.4S, V16.4S, V12.4S
	VECWIDEN
	WORD $0x4e2cce16 // FMLA V22.4S, V16.4S, V12.4S
	VECWIDEN
	WORD $0x4e2cce17 // FMLA V23.4S, V16.4S, V12.4S
	VECWIDEN
	WORD $0x4e2cce18 // FMLA V24.4S, V16.4S, V12.4S
	VECWIDEN
	WORD $0x4e2cce19 // FMLA V25.4S, V16.4S, V12.4S
	ADD $32, R4
	ADD $4, R6
	SUBS $1, R8
	BNE q8nblock

q8ndone:
	QSTORE
	RET

// func gemmQ4_0TileSDOT(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[24]float32)
TEXT ·gemmQ4_0TileSDOT(SB), NOSPLIT, $0-80
	QARGS
	QZERO
	CBZ R8, q4sdone

q4sblock:
	LOADQ4
	VECSDOT
	WORD $0x4e2cce14 // FMLA V20.4S, V16.4S, V12.4S
	VECSDOT
	WORD $0x4e2cce15 // FMLA V21.4S, V16.4S, V12.4S
	VECSDOT
	WORD $0x4e2cce16 // FMLA V22.4S, V16.4S, V12.4S
	VECSDOT
	WORD $0x4e2cce17 // FMLA V23.4S, V16.4S, V12.4S
	VECSDOT
	WORD $0x4e2cce18 // FMLA V24.4S, V16.4S, V12.4S
	VECSDOT
	WORD $0x4e2cce19 // FMLA V25.4S, V16.4S, V12.4S
	ADD $32, R4
	ADD $4, R6
	SUBS $1, R8
	BNE q4sblock

q4sdone:
	QSTORE
	RET

// func gemmQ4_0TileNEON(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[24]float32)
TEXT ·gemmQ4_0TileNEON(SB), NOSPLIT, $0-80
	QARGS
	QZERO
	CBZ R8, q4ndone

q4nblock:
	LOADQ4
	VECWIDEN
	WORD $0x4e2cce14 // FMLA V20.4S, V16.4S, V12.4S
	VECWIDEN
	WORD $0x4e2cce15 // FMLA V21.4S, V16.4S, V12.4S
	VECWIDEN
	WORD $0x4e2cce16 // FMLA V22.4S, V16.4S, V12.4S
	VECWIDEN
	WORD $0x4e2cce17 // FMLA V23.4S, V16.4S, V12.4S
	VECWIDEN
	WORD $0x4e2cce18 // FMLA V24.4S, V16.4S, V12.4S
	VECWIDEN
	WORD $0x4e2cce19 // FMLA V25.4S, V16.4S, V12.4S
	ADD $32, R4
	ADD $4, R6
	SUBS $1, R8
	BNE q4nblock

q4ndone:
	QSTORE
	RET

// func gemmF32TileNEON(w0, w1, w2, w3 *byte, x *float32, xstride int, n int, out *[24]float32)
TEXT ·gemmF32TileNEON(SB), NOSPLIT, $0-64
	FARGS
	CBZ R6, f32done

f32step:
	VLD1.P 16(R0), [V0.S4]
	VLD1.P 16(R1), [V1.S4]
	VLD1.P 16(R2), [V2.S4]
	VLD1.P 16(R3), [V3.S4]
	FSTEP
	SUBS $1, R6
	BNE f32step

f32done:
	FSTORE
	RET

// func gemmF16TileNEON(w0, w1, w2, w3 *byte, x *float32, xstride int, n int, out *[24]float32)
TEXT ·gemmF16TileNEON(SB), NOSPLIT, $0-64
	FARGS
	CBZ R6, f16done

f16step:
	VLD1.P 8(R0), [V0.H4]
	WORD $0x0e217800 // FCVTL V0.4S, V0.4H
	VLD1.P 8(R1), [V1.H4]
	WORD $0x0e217821 // FCVTL V1.4S, V1.4H
	VLD1.P 8(R2), [V2.H4]
	WORD $0x0e217842 // FCVTL V2.4S, V2.4H
	VLD1.P 8(R3), [V3.H4]
	WORD $0x0e217863 // FCVTL V3.4S, V3.4H
	FSTEP
	SUBS $1, R6
	BNE f16step

f16done:
	FSTORE
	RET

// func gemmBF16TileNEON(w0, w1, w2, w3 *byte, x *float32, xstride int, n int, out *[24]float32)
TEXT ·gemmBF16TileNEON(SB), NOSPLIT, $0-64
	FARGS
	CBZ R6, bf16done

bf16step:
	VLD1.P 8(R0), [V0.H4]
	WORD $0x2e613800 // SHLL V0.4S, V0.4H, #16
	VLD1.P 8(R1), [V1.H4]
	WORD $0x2e613821 // SHLL V1.4S, V1.4H, #16
	VLD1.P 8(R2), [V2.H4]
	WORD $0x2e613842 // SHLL V2.4S, V2.4H, #16
	VLD1.P 8(R3), [V3.H4]
	WORD $0x2e613863 // SHLL V3.4S, V3.4H, #16
	FSTEP
	SUBS $1, R6
	BNE bf16step

bf16done:
	FSTORE
	RET

// func axpyNEON(o, x *float32, w float32, n int)
// n is a multiple of 4: 16 values per iteration, then 4. V31 holds w.
TEXT ·axpyNEON(SB), NOSPLIT, $0-32
	MOVD o+0(FP), R0
	MOVD x+8(FP), R1
	FMOVS w+16(FP), F31
	MOVD n+24(FP), R2
	SUBS $16, R2, R3
	BLT axpy4

axpy16:
	VLD1 (R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4]
	WORD $0x4f9f1004 // FMLA V4.4S, V0.4S, V31.S[0]
	WORD $0x4f9f1025 // FMLA V5.4S, V1.4S, V31.S[0]
	WORD $0x4f9f1046 // FMLA V6.4S, V2.4S, V31.S[0]
	WORD $0x4f9f1067 // FMLA V7.4S, V3.4S, V31.S[0]
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R0)
	MOVD R3, R2
	SUBS $16, R2, R3
	BGE axpy16

axpy4:
	CBZ R2, axpydone

axpy4loop:
	VLD1 (R0), [V4.S4]
	VLD1.P 16(R1), [V0.S4]
	WORD $0x4f9f1004 // FMLA V4.4S, V0.4S, V31.S[0]
	VST1.P [V4.S4], 16(R0)
	SUBS $4, R2
	BNE axpy4loop

axpydone:
	RET

// func quantizeBatchNEON(q *byte, d *float32, bias, bias4 *int32, xc *float32, q34 *byte, x *float32, n int)
// One block of 32 values per iteration. R0 q, R1 d, R2 bias, R3 bias4, R4
// xc, R5 q34 (0: none), R6 x, R7 blocks left. V0..V7 the values, then the
// scaled values, then their int32 quants; V8..V15 |values|; V16..V19 int16
// quants, then bias and bias4; V20, V21 the int8 quants; V22, V23 the sums
// of each group of four; V24 -128 and V25 -8 in every lane; F26 max|x|,
// then d; F27 1/d; F28 127, F29 1, F30 8, F31 zero; F9 d as fp16, F10 back
// as float32, F11 the block's sum.
TEXT ·quantizeBatchNEON(SB), NOSPLIT, $0-64
	MOVD q+0(FP), R0
	MOVD d+8(FP), R1
	MOVD bias+16(FP), R2
	MOVD bias4+24(FP), R3
	MOVD xc+32(FP), R4
	MOVD q34+40(FP), R5
	MOVD x+48(FP), R6
	MOVD n+56(FP), R7
	FMOVS $127.0, F28
	FMOVS $1.0, F29
	FMOVS $8.0, F30
	VEOR V31.B16, V31.B16, V31.B16
	WORD $0x6f0307f8 // MVNI V24.4S, #127
	WORD $0x6f0004f9 // MVNI V25.4S, #7
	CBZ R7, qbdone

qbblock:
	VLD1.P 64(R6), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R6), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD $0x4ea0f808 // FABS V8.4S, V0.4S
	WORD $0x4ea0f829 // FABS V9.4S, V1.4S
	WORD $0x4ea0f84a // FABS V10.4S, V2.4S
	WORD $0x4ea0f86b // FABS V11.4S, V3.4S
	WORD $0x4ea0f88c // FABS V12.4S, V4.4S
	WORD $0x4ea0f8ad // FABS V13.4S, V5.4S
	WORD $0x4ea0f8ce // FABS V14.4S, V6.4S
	WORD $0x4ea0f8ef // FABS V15.4S, V7.4S
	WORD $0x4e29c508 // FMAXNM V8.4S, V8.4S, V9.4S
	WORD $0x4e2bc54a // FMAXNM V10.4S, V10.4S, V11.4S
	WORD $0x4e2dc58c // FMAXNM V12.4S, V12.4S, V13.4S
	WORD $0x4e2fc5ce // FMAXNM V14.4S, V14.4S, V15.4S
	WORD $0x4e2ac508 // FMAXNM V8.4S, V8.4S, V10.4S
	WORD $0x4e2ec58c // FMAXNM V12.4S, V12.4S, V14.4S
	WORD $0x4e2cc508 // FMAXNM V8.4S, V8.4S, V12.4S
	WORD $0x6e30c91a // FMAXNMV S26, V8.4S
	FCMPS F26, F26
	FCSELS EQ, F26, F31, F26 // max|x| ignores NaN, as the Go loop's a > amax does
	FDIVS F28, F26, F26
	FDIVS F26, F29, F27
	FCMPS $(0.0), F26
	FCSELS EQ, F31, F27, F27 // id = 0 where d = 0
	WORD $0x1e23c349 // FCVT H9, S26
	WORD $0x1ee2412a // FCVT S10, H9
	FMOVS.P F10, 4(R1)
	WORD $0x4f9b9000 // FMUL V0.4S, V0.4S, V27.S[0]
	WORD $0x4f9b9021 // FMUL V1.4S, V1.4S, V27.S[0]
	WORD $0x4f9b9042 // FMUL V2.4S, V2.4S, V27.S[0]
	WORD $0x4f9b9063 // FMUL V3.4S, V3.4S, V27.S[0]
	WORD $0x4f9b9084 // FMUL V4.4S, V4.4S, V27.S[0]
	WORD $0x4f9b90a5 // FMUL V5.4S, V5.4S, V27.S[0]
	WORD $0x4f9b90c6 // FMUL V6.4S, V6.4S, V27.S[0]
	WORD $0x4f9b90e7 // FMUL V7.4S, V7.4S, V27.S[0]
	WORD $0x4e21c800 // FCVTAS V0.4S, V0.4S
	WORD $0x4e21c821 // FCVTAS V1.4S, V1.4S
	WORD $0x4e21c842 // FCVTAS V2.4S, V2.4S
	WORD $0x4e21c863 // FCVTAS V3.4S, V3.4S
	WORD $0x4e21c884 // FCVTAS V4.4S, V4.4S
	WORD $0x4e21c8a5 // FCVTAS V5.4S, V5.4S
	WORD $0x4e21c8c6 // FCVTAS V6.4S, V6.4S
	WORD $0x4e21c8e7 // FCVTAS V7.4S, V7.4S
	WORD $0x0e614810 // SQXTN V16.4H, V0.4S
	WORD $0x4e614830 // SQXTN2 V16.8H, V1.4S
	WORD $0x0e614851 // SQXTN V17.4H, V2.4S
	WORD $0x4e614871 // SQXTN2 V17.8H, V3.4S
	WORD $0x0e614892 // SQXTN V18.4H, V4.4S
	WORD $0x4e6148b2 // SQXTN2 V18.8H, V5.4S
	WORD $0x0e6148d3 // SQXTN V19.4H, V6.4S
	WORD $0x4e6148f3 // SQXTN2 V19.8H, V7.4S
	WORD $0x0e214a14 // SQXTN V20.8B, V16.8H
	WORD $0x4e214a34 // SQXTN2 V20.16B, V17.8H
	WORD $0x0e214a55 // SQXTN V21.8B, V18.8H
	WORD $0x4e214a75 // SQXTN2 V21.16B, V19.8H
	VST1.P [V20.B16, V21.B16], 32(R0)
	CBZ R5, qbsums
	FMOVS F9, R10
	MOVH.P R10, 2(R5)
	VST1.P [V20.B16, V21.B16], 32(R5)

qbsums:
	WORD $0x4e202a96 // SADDLP V22.8H, V20.16B
	WORD $0x4e202ab7 // SADDLP V23.8H, V21.16B
	WORD $0x4e602ad6 // SADDLP V22.4S, V22.8H
	WORD $0x4e602af7 // SADDLP V23.4S, V23.8H
	WORD $0x4eb89ed0 // MUL V16.4S, V22.4S, V24.4S
	WORD $0x4eb89ef1 // MUL V17.4S, V23.4S, V24.4S
	WORD $0x4eb99ed2 // MUL V18.4S, V22.4S, V25.4S
	WORD $0x4eb99ef3 // MUL V19.4S, V23.4S, V25.4S
	VST1.P [V16.S4, V17.S4], 32(R2)
	VST1.P [V18.S4, V19.S4], 32(R3)
	WORD $0x4eb786d6 // ADD V22.4S, V22.4S, V23.4S
	WORD $0x4eb1bacb // ADDV S11, V22.4S
	WORD $0x5e21d96b // SCVTF S11, S11
	FMULS F30, F10, F12
	FMULS F11, F12, F12
	FMOVS.P F12, 4(R4)
	SUBS $1, R7
	BNE qbblock

qbdone:
	RET
