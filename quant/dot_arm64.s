//go:build arm64 && !noasm

#include "textflag.h"

// NEON kernels for arm64. Each kernel's reference loop is the doc comment of
// its declaration in dot_arm64.go; like the AVX2 kernels, each computes `rows`
// dot products of consecutive weight rows (stride bytes apart) with one
// vector x and stores them to out. Instructions the Go assembler does not
// know are encoded with WORD; the comment names the instruction (in GNU
// syntax, checked by `make check-arm64-words`).
//
// Registers: R0 row start, R1 x base, R2 n, R3 rows left, R4 stride,
// R5 out cursor, R6 weight cursor, R7 x cursor, R8 per-row counter,
// R10..R15, R19, R20 scale temporaries.
// Float kernels: V16..V23 accumulators. Block kernels: V0..V7 weight
// quants, V8..V15 x quants, V16 float accumulator (four blocks at a time),
// V17 scalar accumulator (one block at a time), V18 0x0f bytes, V19 0x08
// bytes, V20..V23 block sums, V24..V27 temporaries, V28..V30 scales.

// LOADARGS loads the common arguments (w, x, n, rows, stride, out).
#define LOADARGS \
	MOVD w+0(FP), R0 \
	MOVD x+8(FP), R1 \
	MOVD n+16(FP), R2 \
	MOVD rows+24(FP), R3 \
	MOVD stride+32(FP), R4 \
	MOVD out+40(FP), R5

// ROWSTART resets the cursors and the accumulators V16..V23.
#define ROWSTART \
	MOVD R0, R6 \
	MOVD R1, R7 \
	VEOR V16.B16, V16.B16, V16.B16 \
	VEOR V17.B16, V17.B16, V17.B16 \
	VEOR V18.B16, V18.B16, V18.B16 \
	VEOR V19.B16, V19.B16, V19.B16 \
	VEOR V20.B16, V20.B16, V20.B16 \
	VEOR V21.B16, V21.B16, V21.B16 \
	VEOR V22.B16, V22.B16, V22.B16 \
	VEOR V23.B16, V23.B16, V23.B16

// BLOCKSTART resets the cursors and the accumulators V16, V17.
#define BLOCKSTART \
	MOVD R0, R6 \
	MOVD R1, R7 \
	VEOR V16.B16, V16.B16, V16.B16 \
	VEOR V17.B16, V17.B16, V17.B16

// FLOATEND sums V16..V23 into one float, stores it to out and advances to
// the next row (flags set for BNE: rows left).
#define FLOATEND \
	WORD $0x4e31d610 /* FADD V16.4S, V16.4S, V17.4S */ \
	WORD $0x4e33d652 /* FADD V18.4S, V18.4S, V19.4S */ \
	WORD $0x4e35d694 /* FADD V20.4S, V20.4S, V21.4S */ \
	WORD $0x4e37d6d6 /* FADD V22.4S, V22.4S, V23.4S */ \
	WORD $0x4e32d610 /* FADD V16.4S, V16.4S, V18.4S */ \
	WORD $0x4e36d694 /* FADD V20.4S, V20.4S, V22.4S */ \
	WORD $0x4e34d610 /* FADD V16.4S, V16.4S, V20.4S */ \
	WORD $0x6e30d610 /* FADDP V16.4S, V16.4S, V16.4S */ \
	WORD $0x7e30da10 /* FADDP S16, V16.2S */ \
	FMOVS.P F16, 4(R5) \
	ADD R4, R0 \
	SUBS $1, R3

// func dotF32RowsNEON(w *byte, x *float32, n, rows, stride int, out *float32)
// n is a multiple of 4: 32 values per iteration, then 4.
TEXT ·dotF32RowsNEON(SB), NOSPLIT, $0-48
	LOADARGS
	CBZ R3, f32ret

f32row:
	ROWSTART
	SUBS $32, R2, R8
	BLT  f32tail

f32loop32:
	VLD1.P 64(R6), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R6), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R7), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1.P 64(R7), [V28.S4, V29.S4, V30.S4, V31.S4]
	VFMLA  V24.S4, V0.S4, V16.S4
	VFMLA  V25.S4, V1.S4, V17.S4
	VFMLA  V26.S4, V2.S4, V18.S4
	VFMLA  V27.S4, V3.S4, V19.S4
	VFMLA  V28.S4, V4.S4, V20.S4
	VFMLA  V29.S4, V5.S4, V21.S4
	VFMLA  V30.S4, V6.S4, V22.S4
	VFMLA  V31.S4, V7.S4, V23.S4
	SUBS   $32, R8
	BGE    f32loop32

f32tail:
	ADDS $32, R8
	BEQ  f32done

f32loop4:
	VLD1.P 16(R6), [V0.S4]
	VLD1.P 16(R7), [V24.S4]
	VFMLA  V24.S4, V0.S4, V16.S4
	SUBS   $4, R8
	BNE    f32loop4

f32done:
	FLOATEND
	BNE f32row

f32ret:
	RET

// func dotF16RowsNEON(w *byte, x *float32, n, rows, stride int, out *float32)
// FCVTL/FCVTL2 widen binary16 to float32 exactly (subnormals included).
TEXT ·dotF16RowsNEON(SB), NOSPLIT, $0-48
	LOADARGS
	CBZ R3, f16ret

f16row:
	ROWSTART
	SUBS $32, R2, R8
	BLT  f16tail

f16loop32:
	VLD1.P 64(R6), [V0.H8, V1.H8, V2.H8, V3.H8]
	VLD1.P 64(R7), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1.P 64(R7), [V28.S4, V29.S4, V30.S4, V31.S4]
	WORD $0x0e217804 // FCVTL V4.4S, V0.4H
	WORD $0x4e217805 // FCVTL2 V5.4S, V0.8H
	WORD $0x0e217826 // FCVTL V6.4S, V1.4H
	WORD $0x4e217827 // FCVTL2 V7.4S, V1.8H
	WORD $0x0e217848 // FCVTL V8.4S, V2.4H
	WORD $0x4e217849 // FCVTL2 V9.4S, V2.8H
	WORD $0x0e21786a // FCVTL V10.4S, V3.4H
	WORD $0x4e21786b // FCVTL2 V11.4S, V3.8H
	VFMLA  V24.S4, V4.S4, V16.S4
	VFMLA  V25.S4, V5.S4, V17.S4
	VFMLA  V26.S4, V6.S4, V18.S4
	VFMLA  V27.S4, V7.S4, V19.S4
	VFMLA  V28.S4, V8.S4, V20.S4
	VFMLA  V29.S4, V9.S4, V21.S4
	VFMLA  V30.S4, V10.S4, V22.S4
	VFMLA  V31.S4, V11.S4, V23.S4
	SUBS   $32, R8
	BGE    f16loop32

f16tail:
	ADDS $32, R8
	BEQ  f16done

f16loop4:
	FMOVD.P 8(R6), F0
	VLD1.P  16(R7), [V24.S4]
	WORD $0x0e217804 // FCVTL V4.4S, V0.4H
	VFMLA   V24.S4, V4.S4, V16.S4
	SUBS    $4, R8
	BNE     f16loop4

f16done:
	FLOATEND
	BNE f16row

f16ret:
	RET

// func dotBF16RowsNEON(w *byte, x *float32, n, rows, stride int, out *float32)
// ZIP1/ZIP2 with a zero vector put each bfloat16 in the high half of a
// float32 lane (V12 holds zeros).
TEXT ·dotBF16RowsNEON(SB), NOSPLIT, $0-48
	LOADARGS
	VEOR V12.B16, V12.B16, V12.B16
	CBZ  R3, bf16ret

bf16row:
	ROWSTART
	SUBS $32, R2, R8
	BLT  bf16tail

bf16loop32:
	VLD1.P 64(R6), [V0.H8, V1.H8, V2.H8, V3.H8]
	VLD1.P 64(R7), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1.P 64(R7), [V28.S4, V29.S4, V30.S4, V31.S4]
	VZIP1  V0.H8, V12.H8, V4.H8
	VZIP2  V0.H8, V12.H8, V5.H8
	VZIP1  V1.H8, V12.H8, V6.H8
	VZIP2  V1.H8, V12.H8, V7.H8
	VZIP1  V2.H8, V12.H8, V8.H8
	VZIP2  V2.H8, V12.H8, V9.H8
	VZIP1  V3.H8, V12.H8, V10.H8
	VZIP2  V3.H8, V12.H8, V11.H8
	VFMLA  V24.S4, V4.S4, V16.S4
	VFMLA  V25.S4, V5.S4, V17.S4
	VFMLA  V26.S4, V6.S4, V18.S4
	VFMLA  V27.S4, V7.S4, V19.S4
	VFMLA  V28.S4, V8.S4, V20.S4
	VFMLA  V29.S4, V9.S4, V21.S4
	VFMLA  V30.S4, V10.S4, V22.S4
	VFMLA  V31.S4, V11.S4, V23.S4
	SUBS   $32, R8
	BGE    bf16loop32

bf16tail:
	ADDS $32, R8
	BEQ  bf16done

bf16loop4:
	FMOVD.P 8(R6), F0
	VLD1.P  16(R7), [V24.S4]
	VZIP1   V0.H8, V12.H8, V4.H8
	VFMLA   V24.S4, V4.S4, V16.S4
	SUBS    $4, R8
	BNE     bf16loop4

bf16done:
	FLOATEND
	BNE bf16row

bf16ret:
	RET

// XQUANTS4 loads the quants of four Q8_0 x blocks (34 bytes each) into
// V8..V15.
#define XQUANTS4 \
	FMOVQ 2(R7), F8 \
	FMOVQ 18(R7), F9 \
	FMOVQ 36(R7), F10 \
	FMOVQ 52(R7), F11 \
	FMOVQ 70(R7), F12 \
	FMOVQ 86(R7), F13 \
	FMOVQ 104(R7), F14 \
	FMOVQ 120(R7), F15

// ZERO4 clears the block sums V20..V23.
#define ZERO4 \
	VEOR V20.B16, V20.B16, V20.B16 \
	VEOR V21.B16, V21.B16, V21.B16 \
	VEOR V22.B16, V22.B16, V22.B16 \
	VEOR V23.B16, V23.B16, V23.B16

// SCALES4 converts the fp16 scales of four weight blocks (wb bytes apart)
// and four x blocks (34 bytes apart) and leaves their products
// fp16(w_k)*fp16(x_k) in the lanes of V29.
#define SCALES4(wb1, wb2, wb3) \
	MOVHU 0(R6), R10 \
	MOVHU wb1(R6), R11 \
	MOVHU wb2(R6), R12 \
	MOVHU wb3(R6), R13 \
	MOVHU 0(R7), R14 \
	MOVHU 34(R7), R15 \
	MOVHU 68(R7), R19 \
	MOVHU 102(R7), R20 \
	VMOV  R10, V28.H[0] \
	VMOV  R11, V28.H[1] \
	VMOV  R12, V28.H[2] \
	VMOV  R13, V28.H[3] \
	VMOV  R14, V28.H[4] \
	VMOV  R15, V28.H[5] \
	VMOV  R19, V28.H[6] \
	VMOV  R20, V28.H[7] \
	WORD $0x0e217b9d /* FCVTL V29.4S, V28.4H */ \
	WORD $0x4e217b9e /* FCVTL2 V30.4S, V28.8H */ \
	WORD $0x6e3edfbd // FMUL V29.4S, V29.4S, V30.4S

// ACCUM4 adds the int32 lanes of each block sum V20..V23 into one lane per
// block, converts them to float32 and accumulates them times the scales
// (V29) into V16.
#define ACCUM4 \
	VADDP V21.S4, V20.S4, V24.S4 \
	VADDP V23.S4, V22.S4, V25.S4 \
	VADDP V25.S4, V24.S4, V24.S4 \
	WORD $0x4e21db18 /* SCVTF V24.4S, V24.4S */ \
	VFMLA V29.S4, V24.S4, V16.S4

// ACCUM1 adds the lanes of the block sum V20 and accumulates it times the
// product of the fp16 scales at (R6) and (R7) into F17.
#define ACCUM1 \
	VADDV  V20.S4, V20 \
	WORD $0x5e21da94 /* SCVTF S20, S20 */ \
	MOVHU  (R6), R10 \
	MOVHU  (R7), R11 \
	FMOVS  R10, F28 \
	FMOVS  R11, F29 \
	FCVTHS F28, F28 \
	FCVTHS F29, F29 \
	FMULS  F29, F28, F28 \
	FMULS  F28, F20, F20 \
	FADDS  F20, F17, F17

// BLOCKEND sums V16 and F17, stores the row's result and advances to the
// next row (flags set for BNE: rows left).
#define BLOCKEND \
	WORD $0x6e30d610 /* FADDP V16.4S, V16.4S, V16.4S */ \
	WORD $0x7e30da10 /* FADDP S16, V16.2S */ \
	FADDS  F17, F16, F16 \
	FMOVS.P F16, 4(R5) \
	ADD    R4, R0 \
	SUBS   $1, R3

// The block kernels come in two tiers: SDOT (ARMv8.2 dot product: four
// int8 products summed into each int32 lane) and NEON (SMULL/SMLAL2 into
// int16 lanes, widened by SADDLP/SADALP). In the Q8_0 NEON kernel an int16
// lane holds two products, |w*x| <= 128*127 each, which fits while x has no
// -128 (the Q8_0 quantiser never produces it); in the Q4_0 NEON kernel a
// lane holds four products of at most 8*128. Q4_0 nibbles are unpacked as
// (b & 15) - 8 for weights 0..15 and (b >> 4) - 8 for weights 16..31.

// func dotQ8_0RowsSDOT(w, x *byte, n, rows, stride int, out *float32)
// n counts blocks: four per iteration, then one at a time.
TEXT ·dotQ8_0RowsSDOT(SB), NOSPLIT, $0-48
	LOADARGS
	CBZ R3, q8sret

q8srow:
	BLOCKSTART
	SUBS $4, R2, R8
	BLT  q8stail

q8sloop4:
	FMOVQ 2(R6), F0
	FMOVQ 18(R6), F1
	FMOVQ 36(R6), F2
	FMOVQ 52(R6), F3
	FMOVQ 70(R6), F4
	FMOVQ 86(R6), F5
	FMOVQ 104(R6), F6
	FMOVQ 120(R6), F7
	XQUANTS4
	ZERO4
	WORD $0x4e889414 // SDOT V20.4S, V0.16B, V8.16B
	WORD $0x4e899434 // SDOT V20.4S, V1.16B, V9.16B
	WORD $0x4e8a9455 // SDOT V21.4S, V2.16B, V10.16B
	WORD $0x4e8b9475 // SDOT V21.4S, V3.16B, V11.16B
	WORD $0x4e8c9496 // SDOT V22.4S, V4.16B, V12.16B
	WORD $0x4e8d94b6 // SDOT V22.4S, V5.16B, V13.16B
	WORD $0x4e8e94d7 // SDOT V23.4S, V6.16B, V14.16B
	WORD $0x4e8f94f7 // SDOT V23.4S, V7.16B, V15.16B
	SCALES4(34, 68, 102)
	ACCUM4
	ADD  $136, R6
	ADD  $136, R7
	SUBS $4, R8
	BGE  q8sloop4

q8stail:
	ADDS $4, R8
	BEQ  q8sdone

q8sloop1:
	FMOVQ 2(R6), F0
	FMOVQ 18(R6), F1
	FMOVQ 2(R7), F8
	FMOVQ 18(R7), F9
	VEOR V20.B16, V20.B16, V20.B16
	WORD $0x4e889414 // SDOT V20.4S, V0.16B, V8.16B
	WORD $0x4e899434 // SDOT V20.4S, V1.16B, V9.16B
	ACCUM1
	ADD  $34, R6
	ADD  $34, R7
	SUBS $1, R8
	BNE  q8sloop1

q8sdone:
	BLOCKEND
	BNE q8srow

q8sret:
	RET

// func dotQ8_0RowsNEON(w, x *byte, n, rows, stride int, out *float32)
// n counts blocks: four per iteration, then one at a time.
TEXT ·dotQ8_0RowsNEON(SB), NOSPLIT, $0-48
	LOADARGS
	CBZ R3, q8nret

q8nrow:
	BLOCKSTART
	SUBS $4, R2, R8
	BLT  q8ntail

q8nloop4:
	FMOVQ 2(R6), F0
	FMOVQ 18(R6), F1
	FMOVQ 36(R6), F2
	FMOVQ 52(R6), F3
	FMOVQ 70(R6), F4
	FMOVQ 86(R6), F5
	FMOVQ 104(R6), F6
	FMOVQ 120(R6), F7
	XQUANTS4
	WORD $0x0e28c014 // SMULL V20.8H, V0.8B, V8.8B
	WORD $0x4e288014 // SMLAL2 V20.8H, V0.16B, V8.16B
	WORD $0x0e29c038 // SMULL V24.8H, V1.8B, V9.8B
	WORD $0x4e298038 // SMLAL2 V24.8H, V1.16B, V9.16B
	WORD $0x4e602a94 // SADDLP V20.4S, V20.8H
	WORD $0x4e606b14 // SADALP V20.4S, V24.8H
	WORD $0x0e2ac055 // SMULL V21.8H, V2.8B, V10.8B
	WORD $0x4e2a8055 // SMLAL2 V21.8H, V2.16B, V10.16B
	WORD $0x0e2bc079 // SMULL V25.8H, V3.8B, V11.8B
	WORD $0x4e2b8079 // SMLAL2 V25.8H, V3.16B, V11.16B
	WORD $0x4e602ab5 // SADDLP V21.4S, V21.8H
	WORD $0x4e606b35 // SADALP V21.4S, V25.8H
	WORD $0x0e2cc096 // SMULL V22.8H, V4.8B, V12.8B
	WORD $0x4e2c8096 // SMLAL2 V22.8H, V4.16B, V12.16B
	WORD $0x0e2dc0ba // SMULL V26.8H, V5.8B, V13.8B
	WORD $0x4e2d80ba // SMLAL2 V26.8H, V5.16B, V13.16B
	WORD $0x4e602ad6 // SADDLP V22.4S, V22.8H
	WORD $0x4e606b56 // SADALP V22.4S, V26.8H
	WORD $0x0e2ec0d7 // SMULL V23.8H, V6.8B, V14.8B
	WORD $0x4e2e80d7 // SMLAL2 V23.8H, V6.16B, V14.16B
	WORD $0x0e2fc0fb // SMULL V27.8H, V7.8B, V15.8B
	WORD $0x4e2f80fb // SMLAL2 V27.8H, V7.16B, V15.16B
	WORD $0x4e602af7 // SADDLP V23.4S, V23.8H
	WORD $0x4e606b77 // SADALP V23.4S, V27.8H
	SCALES4(34, 68, 102)
	ACCUM4
	ADD  $136, R6
	ADD  $136, R7
	SUBS $4, R8
	BGE  q8nloop4

q8ntail:
	ADDS $4, R8
	BEQ  q8ndone

q8nloop1:
	FMOVQ 2(R6), F0
	FMOVQ 18(R6), F1
	FMOVQ 2(R7), F8
	FMOVQ 18(R7), F9
	WORD $0x0e28c014 // SMULL V20.8H, V0.8B, V8.8B
	WORD $0x4e288014 // SMLAL2 V20.8H, V0.16B, V8.16B
	WORD $0x0e29c038 // SMULL V24.8H, V1.8B, V9.8B
	WORD $0x4e298038 // SMLAL2 V24.8H, V1.16B, V9.16B
	WORD $0x4e602a94 // SADDLP V20.4S, V20.8H
	WORD $0x4e606b14 // SADALP V20.4S, V24.8H
	ACCUM1
	ADD  $34, R6
	ADD  $34, R7
	SUBS $1, R8
	BNE  q8nloop1

q8ndone:
	BLOCKEND
	BNE q8nrow

q8nret:
	RET

// func dotQ4_0RowsSDOT(w, x *byte, n, rows, stride int, out *float32)
// n counts blocks: four per iteration, then one at a time.
TEXT ·dotQ4_0RowsSDOT(SB), NOSPLIT, $0-48
	LOADARGS
	VMOVI $15, V18.B16
	VMOVI $8, V19.B16
	CBZ R3, q4sret

q4srow:
	BLOCKSTART
	SUBS $4, R2, R8
	BLT  q4stail

q4sloop4:
	FMOVQ 2(R6), F0
	FMOVQ 20(R6), F1
	FMOVQ 38(R6), F2
	FMOVQ 56(R6), F3
	XQUANTS4
	ZERO4
	VAND   V18.B16, V0.B16, V4.B16
	VUSHR  $4, V0.B16, V0.B16
	VSUB   V19.B16, V4.B16, V4.B16
	VSUB   V19.B16, V0.B16, V0.B16
	WORD $0x4e889494 // SDOT V20.4S, V4.16B, V8.16B
	WORD $0x4e899414 // SDOT V20.4S, V0.16B, V9.16B
	VAND   V18.B16, V1.B16, V5.B16
	VUSHR  $4, V1.B16, V1.B16
	VSUB   V19.B16, V5.B16, V5.B16
	VSUB   V19.B16, V1.B16, V1.B16
	WORD $0x4e8a94b5 // SDOT V21.4S, V5.16B, V10.16B
	WORD $0x4e8b9435 // SDOT V21.4S, V1.16B, V11.16B
	VAND   V18.B16, V2.B16, V6.B16
	VUSHR  $4, V2.B16, V2.B16
	VSUB   V19.B16, V6.B16, V6.B16
	VSUB   V19.B16, V2.B16, V2.B16
	WORD $0x4e8c94d6 // SDOT V22.4S, V6.16B, V12.16B
	WORD $0x4e8d9456 // SDOT V22.4S, V2.16B, V13.16B
	VAND   V18.B16, V3.B16, V7.B16
	VUSHR  $4, V3.B16, V3.B16
	VSUB   V19.B16, V7.B16, V7.B16
	VSUB   V19.B16, V3.B16, V3.B16
	WORD $0x4e8e94f7 // SDOT V23.4S, V7.16B, V14.16B
	WORD $0x4e8f9477 // SDOT V23.4S, V3.16B, V15.16B
	SCALES4(18, 36, 54)
	ACCUM4
	ADD  $72, R6
	ADD  $136, R7
	SUBS $4, R8
	BGE  q4sloop4

q4stail:
	ADDS $4, R8
	BEQ  q4sdone

q4sloop1:
	FMOVQ 2(R6), F0
	FMOVQ 2(R7), F8
	FMOVQ 18(R7), F9
	VAND   V18.B16, V0.B16, V4.B16
	VUSHR  $4, V0.B16, V0.B16
	VSUB   V19.B16, V4.B16, V4.B16
	VSUB   V19.B16, V0.B16, V0.B16
	VEOR V20.B16, V20.B16, V20.B16
	WORD $0x4e889494 // SDOT V20.4S, V4.16B, V8.16B
	WORD $0x4e899414 // SDOT V20.4S, V0.16B, V9.16B
	ACCUM1
	ADD  $18, R6
	ADD  $34, R7
	SUBS $1, R8
	BNE  q4sloop1

q4sdone:
	BLOCKEND
	BNE q4srow

q4sret:
	RET

// func dotQ4_0RowsNEON(w, x *byte, n, rows, stride int, out *float32)
// n counts blocks: four per iteration, then one at a time.
TEXT ·dotQ4_0RowsNEON(SB), NOSPLIT, $0-48
	LOADARGS
	VMOVI $15, V18.B16
	VMOVI $8, V19.B16
	CBZ R3, q4nret

q4nrow:
	BLOCKSTART
	SUBS $4, R2, R8
	BLT  q4ntail

q4nloop4:
	FMOVQ 2(R6), F0
	FMOVQ 20(R6), F1
	FMOVQ 38(R6), F2
	FMOVQ 56(R6), F3
	XQUANTS4
	VAND   V18.B16, V0.B16, V4.B16
	VUSHR  $4, V0.B16, V0.B16
	VSUB   V19.B16, V4.B16, V4.B16
	VSUB   V19.B16, V0.B16, V0.B16
	WORD $0x0e28c094 // SMULL V20.8H, V4.8B, V8.8B
	WORD $0x4e288094 // SMLAL2 V20.8H, V4.16B, V8.16B
	WORD $0x0e298014 // SMLAL V20.8H, V0.8B, V9.8B
	WORD $0x4e298014 // SMLAL2 V20.8H, V0.16B, V9.16B
	WORD $0x4e602a94 // SADDLP V20.4S, V20.8H
	VAND   V18.B16, V1.B16, V5.B16
	VUSHR  $4, V1.B16, V1.B16
	VSUB   V19.B16, V5.B16, V5.B16
	VSUB   V19.B16, V1.B16, V1.B16
	WORD $0x0e2ac0b5 // SMULL V21.8H, V5.8B, V10.8B
	WORD $0x4e2a80b5 // SMLAL2 V21.8H, V5.16B, V10.16B
	WORD $0x0e2b8035 // SMLAL V21.8H, V1.8B, V11.8B
	WORD $0x4e2b8035 // SMLAL2 V21.8H, V1.16B, V11.16B
	WORD $0x4e602ab5 // SADDLP V21.4S, V21.8H
	VAND   V18.B16, V2.B16, V6.B16
	VUSHR  $4, V2.B16, V2.B16
	VSUB   V19.B16, V6.B16, V6.B16
	VSUB   V19.B16, V2.B16, V2.B16
	WORD $0x0e2cc0d6 // SMULL V22.8H, V6.8B, V12.8B
	WORD $0x4e2c80d6 // SMLAL2 V22.8H, V6.16B, V12.16B
	WORD $0x0e2d8056 // SMLAL V22.8H, V2.8B, V13.8B
	WORD $0x4e2d8056 // SMLAL2 V22.8H, V2.16B, V13.16B
	WORD $0x4e602ad6 // SADDLP V22.4S, V22.8H
	VAND   V18.B16, V3.B16, V7.B16
	VUSHR  $4, V3.B16, V3.B16
	VSUB   V19.B16, V7.B16, V7.B16
	VSUB   V19.B16, V3.B16, V3.B16
	WORD $0x0e2ec0f7 // SMULL V23.8H, V7.8B, V14.8B
	WORD $0x4e2e80f7 // SMLAL2 V23.8H, V7.16B, V14.16B
	WORD $0x0e2f8077 // SMLAL V23.8H, V3.8B, V15.8B
	WORD $0x4e2f8077 // SMLAL2 V23.8H, V3.16B, V15.16B
	WORD $0x4e602af7 // SADDLP V23.4S, V23.8H
	SCALES4(18, 36, 54)
	ACCUM4
	ADD  $72, R6
	ADD  $136, R7
	SUBS $4, R8
	BGE  q4nloop4

q4ntail:
	ADDS $4, R8
	BEQ  q4ndone

q4nloop1:
	FMOVQ 2(R6), F0
	FMOVQ 2(R7), F8
	FMOVQ 18(R7), F9
	VAND   V18.B16, V0.B16, V4.B16
	VUSHR  $4, V0.B16, V0.B16
	VSUB   V19.B16, V4.B16, V4.B16
	VSUB   V19.B16, V0.B16, V0.B16
	WORD $0x0e28c094 // SMULL V20.8H, V4.8B, V8.8B
	WORD $0x4e288094 // SMLAL2 V20.8H, V4.16B, V8.16B
	WORD $0x0e298014 // SMLAL V20.8H, V0.8B, V9.8B
	WORD $0x4e298014 // SMLAL2 V20.8H, V0.16B, V9.16B
	WORD $0x4e602a94 // SADDLP V20.4S, V20.8H
	ACCUM1
	ADD  $18, R6
	ADD  $34, R7
	SUBS $1, R8
	BNE  q4nloop1

q4ndone:
	BLOCKEND
	BNE q4nrow

q4nret:
	RET
