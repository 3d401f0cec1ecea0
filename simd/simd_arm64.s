//go:build arm64 && !noasm

#include "textflag.h"

// NEON kernels for the float32 helpers that vek runs as plain Go on arm64.
// Each kernel's reference loop is the doc comment of its declaration in
// simd_arm64.go. Loops take 16 values, then 4, then one at a time, so
// every length and alignment is handled here. Instructions the Go assembler
// does not know are encoded with WORD; the comment names the instruction (in
// GNU syntax, checked by `make check-arm64-words`).

// REDUCEADD sums the accumulators V16..V19 into F16.
#define REDUCEADD \
	WORD $0x4e31d610 /* FADD V16.4S, V16.4S, V17.4S */ \
	WORD $0x4e33d652 /* FADD V18.4S, V18.4S, V19.4S */ \
	WORD $0x4e32d610 /* FADD V16.4S, V16.4S, V18.4S */ \
	WORD $0x6e30d610 /* FADDP V16.4S, V16.4S, V16.4S */ \
	WORD $0x7e30da10 // FADDP S16, V16.2S

#define ZEROACC \
	VEOR V16.B16, V16.B16, V16.B16 \
	VEOR V17.B16, V17.B16, V17.B16 \
	VEOR V18.B16, V18.B16, V18.B16 \
	VEOR V19.B16, V19.B16, V19.B16

// func dotNEON(a, b *float32, n int) float32
TEXT ·dotNEON(SB), NOSPLIT, $0-28
	MOVD a+0(FP), R0
	MOVD b+8(FP), R1
	MOVD n+16(FP), R2
	ZEROACC
	SUBS $16, R2, R3
	BLT  dot4

dot16:
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	VFMLA  V4.S4, V0.S4, V16.S4
	VFMLA  V5.S4, V1.S4, V17.S4
	VFMLA  V6.S4, V2.S4, V18.S4
	VFMLA  V7.S4, V3.S4, V19.S4
	SUBS   $16, R3
	BGE    dot16

dot4:
	ADDS $12, R3
	BLT  dotsum

dot4loop:
	VLD1.P 16(R0), [V0.S4]
	VLD1.P 16(R1), [V4.S4]
	VFMLA  V4.S4, V0.S4, V16.S4
	SUBS   $4, R3
	BGE    dot4loop

dotsum:
	REDUCEADD
	ADDS $4, R3
	BEQ  dotdone

dot1:
	FMOVS.P 4(R0), F0
	FMOVS.P 4(R1), F4
	FMULS   F4, F0, F0
	FADDS   F0, F16, F16
	SUBS    $1, R3
	BNE     dot1

dotdone:
	FMOVS F16, ret+24(FP)
	RET

// func sumNEON(x *float32, n int) float32
TEXT ·sumNEON(SB), NOSPLIT, $0-20
	MOVD x+0(FP), R0
	MOVD n+8(FP), R2
	ZEROACC
	SUBS $16, R2, R3
	BLT  sum4

sum16:
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	WORD $0x4e20d610 // FADD V16.4S, V16.4S, V0.4S
	WORD $0x4e21d631 // FADD V17.4S, V17.4S, V1.4S
	WORD $0x4e22d652 // FADD V18.4S, V18.4S, V2.4S
	WORD $0x4e23d673 // FADD V19.4S, V19.4S, V3.4S
	SUBS   $16, R3
	BGE    sum16

sum4:
	ADDS $12, R3
	BLT  sumsum

sum4loop:
	VLD1.P 16(R0), [V0.S4]
	WORD $0x4e20d610 // FADD V16.4S, V16.4S, V0.4S
	SUBS   $4, R3
	BGE    sum4loop

sumsum:
	REDUCEADD
	ADDS $4, R3
	BEQ  sumdone

sum1:
	FMOVS.P 4(R0), F0
	FADDS   F0, F16, F16
	SUBS    $1, R3
	BNE     sum1

sumdone:
	FMOVS F16, ret+16(FP)
	RET

// func maxNEON(x *float32, n int) float32
// n >= 1. FMAXNM: a quiet NaN loses against a number.
TEXT ·maxNEON(SB), NOSPLIT, $0-20
	MOVD  x+0(FP), R0
	MOVD  n+8(FP), R2
	VLD1R (R0), [V16.S4]
	VMOV  V16.B16, V17.B16
	VMOV  V16.B16, V18.B16
	VMOV  V16.B16, V19.B16
	SUBS  $16, R2, R3
	BLT   max4

max16:
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	WORD $0x4e20c610 // FMAXNM V16.4S, V16.4S, V0.4S
	WORD $0x4e21c631 // FMAXNM V17.4S, V17.4S, V1.4S
	WORD $0x4e22c652 // FMAXNM V18.4S, V18.4S, V2.4S
	WORD $0x4e23c673 // FMAXNM V19.4S, V19.4S, V3.4S
	SUBS   $16, R3
	BGE    max16

max4:
	ADDS $12, R3
	BLT  maxsum

max4loop:
	VLD1.P 16(R0), [V0.S4]
	WORD $0x4e20c610 // FMAXNM V16.4S, V16.4S, V0.4S
	SUBS   $4, R3
	BGE    max4loop

maxsum:
	WORD $0x4e31c610 // FMAXNM V16.4S, V16.4S, V17.4S
	WORD $0x4e33c652 // FMAXNM V18.4S, V18.4S, V19.4S
	WORD $0x4e32c610 // FMAXNM V16.4S, V16.4S, V18.4S
	WORD $0x6e30ca10 // FMAXNMV S16, V16.4S
	ADDS $4, R3
	BEQ  maxdone

max1:
	FMOVS.P 4(R0), F0
	FMAXNMS F0, F16, F16
	SUBS    $1, R3
	BNE     max1

maxdone:
	FMOVS F16, ret+16(FP)
	RET

// func addNEON(dst, x *float32, n int)
TEXT ·addNEON(SB), NOSPLIT, $0-24
	MOVD dst+0(FP), R0
	MOVD x+8(FP), R1
	MOVD n+16(FP), R2
	SUBS $16, R2, R3
	BLT  add4

add16:
	VLD1   (R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD $0x4e24d400 // FADD V0.4S, V0.4S, V4.4S
	WORD $0x4e25d421 // FADD V1.4S, V1.4S, V5.4S
	WORD $0x4e26d442 // FADD V2.4S, V2.4S, V6.4S
	WORD $0x4e27d463 // FADD V3.4S, V3.4S, V7.4S
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUBS   $16, R3
	BGE    add16

add4:
	ADDS $12, R3
	BLT  add1check

add4loop:
	VLD1   (R0), [V0.S4]
	VLD1.P 16(R1), [V4.S4]
	WORD $0x4e24d400 // FADD V0.4S, V0.4S, V4.4S
	VST1.P [V0.S4], 16(R0)
	SUBS   $4, R3
	BGE    add4loop

add1check:
	ADDS $4, R3
	BEQ  adddone

add1:
	FMOVS   (R0), F0
	FMOVS.P 4(R1), F4
	FADDS   F4, F0, F0
	FMOVS.P F0, 4(R0)
	SUBS    $1, R3
	BNE     add1

adddone:
	RET

// func scaleNEON(x *float32, n int, a float32)
TEXT ·scaleNEON(SB), NOSPLIT, $0-20
	MOVD  x+0(FP), R0
	MOVD  n+8(FP), R2
	FMOVS a+16(FP), F20
	VDUP  V20.S[0], V20.S4
	SUBS  $16, R2, R3
	BLT   scale4

scale16:
	VLD1   (R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	WORD $0x6e34dc00 // FMUL V0.4S, V0.4S, V20.4S
	WORD $0x6e34dc21 // FMUL V1.4S, V1.4S, V20.4S
	WORD $0x6e34dc42 // FMUL V2.4S, V2.4S, V20.4S
	WORD $0x6e34dc63 // FMUL V3.4S, V3.4S, V20.4S
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUBS   $16, R3
	BGE    scale16

scale4:
	ADDS $12, R3
	BLT  scale1check

scale4loop:
	VLD1   (R0), [V0.S4]
	WORD $0x6e34dc00 // FMUL V0.4S, V0.4S, V20.4S
	VST1.P [V0.S4], 16(R0)
	SUBS   $4, R3
	BGE    scale4loop

scale1check:
	ADDS $4, R3
	BEQ  scaledone

scale1:
	FMOVS   (R0), F0
	FMULS   F20, F0, F0
	FMOVS.P F0, 4(R0)
	SUBS    $1, R3
	BNE     scale1

scaledone:
	RET

// func scaleMulNEON(o, x, w *float32, n int, inv float32)
// o[i] = w[i] * (inv * x[i]), two roundings as in the Go loop.
TEXT ·scaleMulNEON(SB), NOSPLIT, $0-36
	MOVD  o+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  w+16(FP), R4
	MOVD  n+24(FP), R2
	FMOVS inv+32(FP), F20
	VDUP  V20.S[0], V20.S4
	SUBS  $4, R2, R3
	BLT   sm1check

sm4loop:
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R4), [V4.S4]
	WORD $0x6e34dc00 // FMUL V0.4S, V0.4S, V20.4S
	WORD $0x6e20dc80 // FMUL V0.4S, V4.4S, V0.4S
	VST1.P [V0.S4], 16(R0)
	SUBS   $4, R3
	BGE    sm4loop

sm1check:
	ADDS $4, R3
	BEQ  smdone

sm1:
	FMOVS.P 4(R1), F0
	FMOVS.P 4(R4), F4
	FMULS   F20, F0, F0
	FMULS   F0, F4, F0
	FMOVS.P F0, 4(R0)
	SUBS    $1, R3
	BNE     sm1

smdone:
	RET

// EXPCONST loads the constants of EXP: V20 log2(e), V21 and V22 ln(2)
// split in a high part with 15 significant bits (so k*V21 is exact) and the
// rest, V23..V28 the Taylor coefficients 1/7! .. 1/2!, V29 1.0, V30 the
// lowest and V31 the highest input (-87 and 88: exp stays a normal float32),
// V7 +Inf.
#define EXPCONST \
	MOVW $0x3fb8aa3b, R9 \
	VDUP R9, V20.S4 \
	MOVW $0x3f317200, R9 \
	VDUP R9, V21.S4 \
	MOVW $0x35bfbe8e, R9 \
	VDUP R9, V22.S4 \
	MOVW $0x39500d01, R9 \
	VDUP R9, V23.S4 \
	MOVW $0x3ab60b61, R9 \
	VDUP R9, V24.S4 \
	MOVW $0x3c088889, R9 \
	VDUP R9, V25.S4 \
	MOVW $0x3d2aaaab, R9 \
	VDUP R9, V26.S4 \
	MOVW $0x3e2aaaab, R9 \
	VDUP R9, V27.S4 \
	MOVW $0x3f000000, R9 \
	VDUP R9, V28.S4 \
	MOVW $0x3f800000, R9 \
	VDUP R9, V29.S4 \
	MOVW $0xc2ae0000, R9 \
	VDUP R9, V30.S4 \
	MOVW $0x42b00000, R9 \
	VDUP R9, V31.S4 \
	MOVW $0x7f800000, R9 \
	VDUP R9, V7.S4

// EXP sets V1 to exp(V1): inputs below -87 give exp(-87), above 88 +Inf,
// and a NaN stays NaN. With k the nearest integer to x*log2(e) and r = x - k*ln(2),
// |r| <= ln(2)/2, exp(x) = 2^k * p(r): p is the Taylor polynomial of degree
// 7 (truncation error below 2^-27 relative), and 2^k is added to the
// exponent bits of p. Clobbers V2, V3, V5, V6.
#define EXP \
	WORD $0x6ebfe426 /* FCMGT V6.4S, V1.4S, V31.4S */ \
	WORD $0x4e3ef421 /* FMAX V1.4S, V1.4S, V30.4S */ \
	WORD $0x4ebff421 /* FMIN V1.4S, V1.4S, V31.4S */ \
	WORD $0x6e34dc25 /* FMUL V5.4S, V1.4S, V20.4S */ \
	WORD $0x4e2188a5 /* FRINTN V5.4S, V5.4S */ \
	VFMLS   V21.S4, V5.S4, V1.S4 \
	VFMLS   V22.S4, V5.S4, V1.S4 \
	WORD $0x4ea1b8a5 /* FCVTZS V5.4S, V5.4S */ \
	VMOV    V24.B16, V3.B16 \
	VFMLA   V1.S4, V23.S4, V3.S4 \
	VMOV    V25.B16, V2.B16 \
	VFMLA   V1.S4, V3.S4, V2.S4 \
	VMOV    V26.B16, V3.B16 \
	VFMLA   V1.S4, V2.S4, V3.S4 \
	VMOV    V27.B16, V2.B16 \
	VFMLA   V1.S4, V3.S4, V2.S4 \
	VMOV    V28.B16, V3.B16 \
	VFMLA   V1.S4, V2.S4, V3.S4 \
	VMOV    V29.B16, V2.B16 \
	VFMLA   V1.S4, V3.S4, V2.S4 \
	VMOV    V29.B16, V3.B16 \
	VFMLA   V1.S4, V2.S4, V3.S4 \
	VSHL    $23, V5.S4, V5.S4 \
	VADD    V5.S4, V3.S4, V1.S4 \
	VBIT    V6.B16, V7.B16, V1.B16

// func expSumNEON(x *float32, n int, m float32) float32
// x[i] = exp(max(x[i]-m, -87)), returning the sum.
TEXT ·expSumNEON(SB), NOSPLIT, $0-28
	MOVD  x+0(FP), R0
	MOVD  n+8(FP), R2
	FMOVS m+16(FP), F19
	VDUP  V19.S[0], V19.S4
	VEOR  V16.B16, V16.B16, V16.B16
	VEOR  V17.B16, V17.B16, V17.B16
	EXPCONST
	SUBS  $4, R2, R3
	BLT   es1check

es4loop:
	VLD1   (R0), [V1.S4]
	WORD $0x4eb3d421 // FSUB V1.4S, V1.4S, V19.4S
	EXP
	VST1.P [V1.S4], 16(R0)
	WORD $0x4e21d610 // FADD V16.4S, V16.4S, V1.4S
	SUBS   $4, R3
	BGE    es4loop

es1check:
	ADDS $4, R3
	BEQ  esdone

es1:
	FMOVS   (R0), F1
	FSUBS   F19, F1, F1
	EXP
	FMOVS.P F1, 4(R0)
	FADDS   F1, F17, F17
	SUBS    $1, R3
	BNE     es1

esdone:
	WORD $0x6e30d610 // FADDP V16.4S, V16.4S, V16.4S
	WORD $0x7e30da10 // FADDP S16, V16.2S
	FADDS F17, F16, F16
	FMOVS F16, ret+24(FP)
	RET

// func swiGLUNEON(hb, hb2 *float32, n int)
// hb[i] = hb[i] * (1 / (1 + exp(-hb[i]))) * hb2[i].
TEXT ·swiGLUNEON(SB), NOSPLIT, $0-24
	MOVD hb+0(FP), R0
	MOVD hb2+8(FP), R1
	MOVD n+16(FP), R2
	EXPCONST
	SUBS $4, R2, R3
	BLT  sw1check

sw4loop:
	VLD1   (R0), [V0.S4]
	VLD1.P 16(R1), [V4.S4]
	WORD $0x6ea0f801 // FNEG V1.4S, V0.4S
	EXP
	WORD $0x4e3dd421 // FADD V1.4S, V1.4S, V29.4S
	WORD $0x6e21ffa1 // FDIV V1.4S, V29.4S, V1.4S
	WORD $0x6e21dc00 // FMUL V0.4S, V0.4S, V1.4S
	WORD $0x6e24dc00 // FMUL V0.4S, V0.4S, V4.4S
	VST1.P [V0.S4], 16(R0)
	SUBS   $4, R3
	BGE    sw4loop

sw1check:
	ADDS $4, R3
	BEQ  swdone

sw1:
	FMOVS   (R0), F0
	FMOVS.P 4(R1), F4
	FNEGS   F0, F1
	EXP
	FADDS   F29, F1, F1
	FDIVS   F1, F29, F1
	FMULS   F1, F0, F0
	FMULS   F4, F0, F0
	FMOVS.P F0, 4(R0)
	SUBS    $1, R3
	BNE     sw1

swdone:
	RET
