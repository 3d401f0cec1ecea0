//go:build arm64 && !noasm

#include "textflag.h"

// NEON kernels of the K-quant types (the loop they compute is the comment
// above their declarations in kquant_arm64.go). Per super-block, the levels
// are unpacked to unsigned bytes (Q4_K <= 15, Q5_K <= 31, Q6_K <= 63), and
// multiplied with the Q8_K quants into one int32 vector per sub-block: with
// SDOT where useSDOT is set, otherwise with SMULL/SMLAL(2) into int16 lanes
// (at most four products of 63*128 each, which fits) widened by SADDLP.
// ADDP reduces the sub-block vectors to one lane per sub-block, MUL/MLA
// applies the sub-block scales, and the mins (Q4_K, Q5_K) or the level
// offset 32 (Q6_K) come once per super-block from the Q8_K sums. The int32
// totals are converted and scaled in float32 in the order of the Go tier.
// Instructions the Go assembler lacks are WORDs, checked by
// `make check-arm64-words`.
//
// Registers: R0 row start, R1 x base, R2 n, R3 rows left, R4 stride,
// R5 out cursor, R6 weight cursor, R7 x cursor, R8 super-blocks left,
// R9 Q6_K qh cursor, R10..R15, R19, R20 scalar temporaries, R21 useSDOT,
// R22 super-block start. V0..V7 levels, V8..V15 x quants, V16..V23
// sub-block sums, V24..V28 temporaries (Q5_K: V24, V25 qh; Q6_K: V28 the
// int32 sum), V29 the row's float32 sum, V30, V31 byte masks.

// KARGS loads the arguments and useSDOT.
#define KARGS \
	MOVD  w+0(FP), R0 \
	MOVD  x+8(FP), R1 \
	MOVD  n+16(FP), R2 \
	MOVD  rows+24(FP), R3 \
	MOVD  stride+32(FP), R4 \
	MOVD  out+40(FP), R5 \
	MOVBU ·useSDOT(SB), R21

// KROWSTART resets the cursors, the super-block count and the row's sum.
#define KROWSTART \
	MOVD R0, R6 \
	MOVD R1, R7 \
	MOVD R2, R8 \
	VEOR V29.B16, V29.B16, V29.B16

// KROWEND stores the row's sum and advances to the next row (flags set for
// BNE: rows left).
#define KROWEND \
	FMOVS.P F29, 4(R5) \
	ADD     R4, R0 \
	SUBS    $1, R3

// KXLOAD loads 128 x quants into V8..V15.
#define KXLOAD \
	VLD1.P 64(R7), [V8.B16, V9.B16, V10.B16, V11.B16] \
	VLD1.P 64(R7), [V12.B16, V13.B16, V14.B16, V15.B16]

// KREDUCE adds the lanes of V16..V19 into V16 = their four totals, and of
// V20..V23 into V20.
#define KREDUCE \
	VADDP V17.S4, V16.S4, V16.S4 \
	VADDP V19.S4, V18.S4, V18.S4 \
	VADDP V18.S4, V16.S4, V16.S4 \
	VADDP V21.S4, V20.S4, V20.S4 \
	VADDP V23.S4, V22.S4, V22.S4 \
	VADDP V22.S4, V20.S4, V20.S4

// Q4_K and Q5_K: 64 bytes of nibbles at R6 are the levels of four
// sub-blocks of 32 (low nibbles of the first 32 bytes, high nibbles, then
// the same for the next 32). K4UNPACK leaves them in the pairs (V4, V5),
// (V0, V1), (V6, V7), (V2, V3), matching the x pairs (V8, V9) ... (V14, V15).
#define K4UNPACK \
	VLD1.P 64(R6), [V0.B16, V1.B16, V2.B16, V3.B16] \
	VAND   V31.B16, V0.B16, V4.B16 \
	VAND   V31.B16, V1.B16, V5.B16 \
	VUSHR  $4, V0.B16, V0.B16 \
	VUSHR  $4, V1.B16, V1.B16 \
	VAND   V31.B16, V2.B16, V6.B16 \
	VAND   V31.B16, V3.B16, V7.B16 \
	VUSHR  $4, V2.B16, V2.B16 \
	VUSHR  $4, V3.B16, V3.B16

// K4SDOTLO and K4SDOTHI: the four sub-block sums of K4UNPACK's levels with
// V8..V15 into V16..V19 (sub-blocks 0-3) or V20..V23 (4-7), with SDOT.
#define K4SDOTLO \
	VEOR V16.B16, V16.B16, V16.B16 \
	VEOR V17.B16, V17.B16, V17.B16 \
	VEOR V18.B16, V18.B16, V18.B16 \
	VEOR V19.B16, V19.B16, V19.B16 \
	WORD $0x4e889490 /* SDOT V16.4S, V4.16B, V8.16B */ \
	WORD $0x4e8994b0 /* SDOT V16.4S, V5.16B, V9.16B */ \
	WORD $0x4e8a9411 /* SDOT V17.4S, V0.16B, V10.16B */ \
	WORD $0x4e8b9431 /* SDOT V17.4S, V1.16B, V11.16B */ \
	WORD $0x4e8c94d2 /* SDOT V18.4S, V6.16B, V12.16B */ \
	WORD $0x4e8d94f2 /* SDOT V18.4S, V7.16B, V13.16B */ \
	WORD $0x4e8e9453 /* SDOT V19.4S, V2.16B, V14.16B */ \
	WORD $0x4e8f9473 /* SDOT V19.4S, V3.16B, V15.16B */

#define K4SDOTHI \
	VEOR V20.B16, V20.B16, V20.B16 \
	VEOR V21.B16, V21.B16, V21.B16 \
	VEOR V22.B16, V22.B16, V22.B16 \
	VEOR V23.B16, V23.B16, V23.B16 \
	WORD $0x4e889494 /* SDOT V20.4S, V4.16B, V8.16B */ \
	WORD $0x4e8994b4 /* SDOT V20.4S, V5.16B, V9.16B */ \
	WORD $0x4e8a9415 /* SDOT V21.4S, V0.16B, V10.16B */ \
	WORD $0x4e8b9435 /* SDOT V21.4S, V1.16B, V11.16B */ \
	WORD $0x4e8c94d6 /* SDOT V22.4S, V6.16B, V12.16B */ \
	WORD $0x4e8d94f6 /* SDOT V22.4S, V7.16B, V13.16B */ \
	WORD $0x4e8e9457 /* SDOT V23.4S, V2.16B, V14.16B */ \
	WORD $0x4e8f9477 /* SDOT V23.4S, V3.16B, V15.16B */

// K4MULLO and K4MULHI are K4SDOTLO and K4SDOTHI without SDOT: four
// products per int16 lane, then SADDLP.
#define K4MULLO \
	WORD $0x0e28c090 /* SMULL V16.8H, V4.8B, V8.8B */ \
	WORD $0x4e288090 /* SMLAL2 V16.8H, V4.16B, V8.16B */ \
	WORD $0x0e2980b0 /* SMLAL V16.8H, V5.8B, V9.8B */ \
	WORD $0x4e2980b0 /* SMLAL2 V16.8H, V5.16B, V9.16B */ \
	WORD $0x0e2ac011 /* SMULL V17.8H, V0.8B, V10.8B */ \
	WORD $0x4e2a8011 /* SMLAL2 V17.8H, V0.16B, V10.16B */ \
	WORD $0x0e2b8031 /* SMLAL V17.8H, V1.8B, V11.8B */ \
	WORD $0x4e2b8031 /* SMLAL2 V17.8H, V1.16B, V11.16B */ \
	WORD $0x0e2cc0d2 /* SMULL V18.8H, V6.8B, V12.8B */ \
	WORD $0x4e2c80d2 /* SMLAL2 V18.8H, V6.16B, V12.16B */ \
	WORD $0x0e2d80f2 /* SMLAL V18.8H, V7.8B, V13.8B */ \
	WORD $0x4e2d80f2 /* SMLAL2 V18.8H, V7.16B, V13.16B */ \
	WORD $0x0e2ec053 /* SMULL V19.8H, V2.8B, V14.8B */ \
	WORD $0x4e2e8053 /* SMLAL2 V19.8H, V2.16B, V14.16B */ \
	WORD $0x0e2f8073 /* SMLAL V19.8H, V3.8B, V15.8B */ \
	WORD $0x4e2f8073 /* SMLAL2 V19.8H, V3.16B, V15.16B */ \
	WORD $0x4e602a10 /* SADDLP V16.4S, V16.8H */ \
	WORD $0x4e602a31 /* SADDLP V17.4S, V17.8H */ \
	WORD $0x4e602a52 /* SADDLP V18.4S, V18.8H */ \
	WORD $0x4e602a73 /* SADDLP V19.4S, V19.8H */

#define K4MULHI \
	WORD $0x0e28c094 /* SMULL V20.8H, V4.8B, V8.8B */ \
	WORD $0x4e288094 /* SMLAL2 V20.8H, V4.16B, V8.16B */ \
	WORD $0x0e2980b4 /* SMLAL V20.8H, V5.8B, V9.8B */ \
	WORD $0x4e2980b4 /* SMLAL2 V20.8H, V5.16B, V9.16B */ \
	WORD $0x0e2ac015 /* SMULL V21.8H, V0.8B, V10.8B */ \
	WORD $0x4e2a8015 /* SMLAL2 V21.8H, V0.16B, V10.16B */ \
	WORD $0x0e2b8035 /* SMLAL V21.8H, V1.8B, V11.8B */ \
	WORD $0x4e2b8035 /* SMLAL2 V21.8H, V1.16B, V11.16B */ \
	WORD $0x0e2cc0d6 /* SMULL V22.8H, V6.8B, V12.8B */ \
	WORD $0x4e2c80d6 /* SMLAL2 V22.8H, V6.16B, V12.16B */ \
	WORD $0x0e2d80f6 /* SMLAL V22.8H, V7.8B, V13.8B */ \
	WORD $0x4e2d80f6 /* SMLAL2 V22.8H, V7.16B, V13.16B */ \
	WORD $0x0e2ec057 /* SMULL V23.8H, V2.8B, V14.8B */ \
	WORD $0x4e2e8057 /* SMLAL2 V23.8H, V2.16B, V14.16B */ \
	WORD $0x0e2f8077 /* SMLAL V23.8H, V3.8B, V15.8B */ \
	WORD $0x4e2f8077 /* SMLAL2 V23.8H, V3.16B, V15.16B */ \
	WORD $0x4e602a94 /* SADDLP V20.4S, V20.8H */ \
	WORD $0x4e602ab5 /* SADDLP V21.4S, V21.8H */ \
	WORD $0x4e602ad6 /* SADDLP V22.4S, V22.8H */ \
	WORD $0x4e602af7 /* SADDLP V23.4S, V23.8H */

// KMINEND adds dx*(d*fs - dmin*fm) to F29, where dx is in R20 and d, dmin
// are the fp16 values at doff(R22) (Q2_K, Q4_K, Q5_K).
#define KMINEND(doff, fs, fm) \
	MOVWU  doff(R22), R19 \
	ANDW   $0xffff, R19, R10 \
	LSRW   $16, R19, R11 \
	FMOVS  R10, F10 \
	FMOVS  R11, F11 \
	FCVTHS F10, F10 \
	FCVTHS F11, F11 \
	FMULS  F10, fs, fs \
	FMULS  F11, fm, fm \
	FSUBS  fm, fs, fs \
	FMOVS  R20, F12 \
	FMULS  F12, fs, fs \
	FADDS  fs, F29, F29

// K4END finishes a Q4_K/Q5_K super-block starting at R22 whose eight
// sub-block sums are in V16..V23, with the x scale in R20 and R7 at the
// x sums: it unpacks the 6-bit scales and mins (scaleMinK4) with 32-bit
// mask arithmetic, and adds dx*(d*sum - dmin*msum) to F29.
#define K4END \
	KREDUCE \
	MOVWU 4(R22), R10 \
	MOVWU 8(R22), R11 \
	MOVWU 12(R22), R12 \
	ANDW  $0x3f3f3f3f, R10, R13 \
	ANDW  $0x3f3f3f3f, R11, R14 \
	LSRW  $2, R10, R10 \
	ANDW  $0x30303030, R10, R10 \
	ANDW  $0x0f0f0f0f, R12, R15 \
	ORRW  R10, R15, R15 \
	LSRW  $2, R11, R11 \
	ANDW  $0x30303030, R11, R11 \
	LSRW  $4, R12, R12 \
	ANDW  $0x0f0f0f0f, R12, R12 \
	ORRW  R11, R12, R12 \
	ORR   R15<<32, R13, R13 \
	ORR   R12<<32, R14, R14 \
	VMOV  R13, V26.D[0] \
	VMOV  R14, V26.D[1] \
	WORD $0x2f08a75b /* UXTL V27.8H, V26.8B */ \
	WORD $0x6f08a75c /* UXTL2 V28.8H, V26.16B */ \
	WORD $0x2f10a76a /* UXTL V10.4S, V27.4H */ \
	WORD $0x6f10a77b /* UXTL2 V27.4S, V27.8H */ \
	WORD $0x4eaa9e10 /* MUL V16.4S, V16.4S, V10.4S */ \
	WORD $0x4ebb9690 /* MLA V16.4S, V20.4S, V27.4S */ \
	VADDV  V16.S4, V16 \
	VLD1.P 32(R7), [V8.H8, V9.H8] \
	WORD $0x4e69bd08 /* ADDP V8.8H, V8.8H, V9.8H */ \
	WORD $0x0e68c389 /* SMULL V9.4S, V28.4H, V8.4H */ \
	WORD $0x4e688389 /* SMLAL2 V9.4S, V28.8H, V8.8H */ \
	VADDV  V9.S4, V9 \
	WORD $0x5e21da10 /* SCVTF S16, S16 */ \
	WORD $0x5e21d929 /* SCVTF S9, S9 */ \
	KMINEND(0, F16, F9)

// func dotQ4_KRowsNEON(w, x *byte, n, rows, stride int, out *float32)
TEXT ·dotQ4_KRowsNEON(SB), NOSPLIT, $0-48
	KARGS
	VMOVI $15, V31.B16

q4krow:
	KROWSTART

q4kblock:
	MOVD     R6, R22
	ADD      $16, R6
	MOVWU.P  4(R7), R20
	K4UNPACK
	KXLOAD
	CBZ      R21, q4kmul0
	K4SDOTLO
	K4UNPACK
	KXLOAD
	K4SDOTHI
	B        q4kend

q4kmul0:
	K4MULLO
	K4UNPACK
	KXLOAD
	K4MULHI

q4kend:
	K4END
	SUBS $1, R8
	BNE  q4kblock
	KROWEND
	BNE  q4krow
	RET

// KHIGH ors bit b of the bytes of (h0, h1) into bit p of the levels
// (l0, l1): op $cnt moves bit b to bit p, and mask holds the bytes 1<<p.
// Clobbers t0, t1.
#define KHIGH(op, cnt, h0, h1, t0, t1, mask, l0, l1) \
	op   $cnt, h0, t0 \
	op   $cnt, h1, t1 \
	VAND mask, t0, t0 \
	VAND mask, t1, t1 \
	VORR t0, l0, l0 \
	VORR t1, l1, l1

// KHIGH0 is KHIGH where b = p, which needs no shift.
#define KHIGH0(h0, h1, t0, t1, mask, l0, l1) \
	VAND mask, h0, t0 \
	VAND mask, h1, t1 \
	VORR t0, l0, l0 \
	VORR t1, l1, l1

// K5HIGH and K5HIGH4: KHIGH and KHIGH0 for Q5_K (qh in V24, V25, bit 4).
#define K5HIGH(op, cnt, l0, l1) KHIGH(op, cnt, V24.B16, V25.B16, V26.B16, V27.B16, V30.B16, l0, l1)
#define K5HIGH4(l0, l1) KHIGH0(V24.B16, V25.B16, V26.B16, V27.B16, V30.B16, l0, l1)

// func dotQ5_KRowsNEON(w, x *byte, n, rows, stride int, out *float32)
TEXT ·dotQ5_KRowsNEON(SB), NOSPLIT, $0-48
	KARGS
	VMOVI $15, V31.B16
	VMOVI $16, V30.B16

q5krow:
	KROWSTART

q5kblock:
	MOVD    R6, R22
	ADD     $16, R6
	MOVWU.P 4(R7), R20
	VLD1.P  32(R6), [V24.B16, V25.B16]
	K4UNPACK
	K5HIGH(VSHL, 4, V4.B16, V5.B16)
	K5HIGH(VSHL, 3, V0.B16, V1.B16)
	K5HIGH(VSHL, 2, V6.B16, V7.B16)
	K5HIGH(VSHL, 1, V2.B16, V3.B16)
	KXLOAD
	CBZ     R21, q5kmul0
	K4SDOTLO
	K4UNPACK
	K5HIGH4(V4.B16, V5.B16)
	K5HIGH(VUSHR, 1, V0.B16, V1.B16)
	K5HIGH(VUSHR, 2, V6.B16, V7.B16)
	K5HIGH(VUSHR, 3, V2.B16, V3.B16)
	KXLOAD
	K4SDOTHI
	B       q5kend

q5kmul0:
	K4MULLO
	K4UNPACK
	K5HIGH4(V4.B16, V5.B16)
	K5HIGH(VUSHR, 1, V0.B16, V1.B16)
	K5HIGH(VUSHR, 2, V6.B16, V7.B16)
	K5HIGH(VUSHR, 3, V2.B16, V3.B16)
	KXLOAD
	K4MULHI

q5kend:
	K4END
	SUBS $1, R8
	BNE  q5kblock
	KROWEND
	BNE  q5krow
	RET

// Q6_K: Q6UNPACK takes 64 bytes of ql at R6 (the low nibbles of 128
// levels) and 32 bytes of qh at R9 (their bits 4-5) to the levels of the
// eight sub-blocks of 16 in V6, V7, V26, V27, V0, V1, V2, V3, matching the
// x quants V8..V15. V30 holds 0x30 bytes, V31 0x0f bytes.
#define Q6UNPACK \
	VLD1.P 64(R6), [V0.B16, V1.B16, V2.B16, V3.B16] \
	VLD1.P 32(R9), [V4.B16, V5.B16] \
	VAND   V31.B16, V0.B16, V6.B16 \
	VAND   V31.B16, V1.B16, V7.B16 \
	VSHL   $4, V4.B16, V24.B16 \
	VSHL   $4, V5.B16, V25.B16 \
	VAND   V30.B16, V24.B16, V24.B16 \
	VAND   V30.B16, V25.B16, V25.B16 \
	VORR   V24.B16, V6.B16, V6.B16 \
	VORR   V25.B16, V7.B16, V7.B16 \
	VAND   V31.B16, V2.B16, V26.B16 \
	VAND   V31.B16, V3.B16, V27.B16 \
	VSHL   $2, V4.B16, V24.B16 \
	VSHL   $2, V5.B16, V25.B16 \
	VAND   V30.B16, V24.B16, V24.B16 \
	VAND   V30.B16, V25.B16, V25.B16 \
	VORR   V24.B16, V26.B16, V26.B16 \
	VORR   V25.B16, V27.B16, V27.B16 \
	VUSHR  $4, V0.B16, V0.B16 \
	VUSHR  $4, V1.B16, V1.B16 \
	VAND   V30.B16, V4.B16, V24.B16 \
	VAND   V30.B16, V5.B16, V25.B16 \
	VORR   V24.B16, V0.B16, V0.B16 \
	VORR   V25.B16, V1.B16, V1.B16 \
	VUSHR  $4, V2.B16, V2.B16 \
	VUSHR  $4, V3.B16, V3.B16 \
	VUSHR  $2, V4.B16, V24.B16 \
	VUSHR  $2, V5.B16, V25.B16 \
	VAND   V30.B16, V24.B16, V24.B16 \
	VAND   V30.B16, V25.B16, V25.B16 \
	VORR   V24.B16, V2.B16, V2.B16 \
	VORR   V25.B16, V3.B16, V3.B16

// Q6SDOT: the eight sub-block sums of Q6UNPACK's levels into V16..V23.
#define Q6SDOT \
	VEOR V16.B16, V16.B16, V16.B16 \
	VEOR V17.B16, V17.B16, V17.B16 \
	VEOR V18.B16, V18.B16, V18.B16 \
	VEOR V19.B16, V19.B16, V19.B16 \
	VEOR V20.B16, V20.B16, V20.B16 \
	VEOR V21.B16, V21.B16, V21.B16 \
	VEOR V22.B16, V22.B16, V22.B16 \
	VEOR V23.B16, V23.B16, V23.B16 \
	WORD $0x4e8894d0 /* SDOT V16.4S, V6.16B, V8.16B */ \
	WORD $0x4e8994f1 /* SDOT V17.4S, V7.16B, V9.16B */ \
	WORD $0x4e8a9752 /* SDOT V18.4S, V26.16B, V10.16B */ \
	WORD $0x4e8b9773 /* SDOT V19.4S, V27.16B, V11.16B */ \
	WORD $0x4e8c9414 /* SDOT V20.4S, V0.16B, V12.16B */ \
	WORD $0x4e8d9435 /* SDOT V21.4S, V1.16B, V13.16B */ \
	WORD $0x4e8e9456 /* SDOT V22.4S, V2.16B, V14.16B */ \
	WORD $0x4e8f9477 /* SDOT V23.4S, V3.16B, V15.16B */

// Q6MUL is Q6SDOT without SDOT: two products per int16 lane, then SADDLP.
#define Q6MUL \
	WORD $0x0e28c0d0 /* SMULL V16.8H, V6.8B, V8.8B */ \
	WORD $0x4e2880d0 /* SMLAL2 V16.8H, V6.16B, V8.16B */ \
	WORD $0x0e29c0f1 /* SMULL V17.8H, V7.8B, V9.8B */ \
	WORD $0x4e2980f1 /* SMLAL2 V17.8H, V7.16B, V9.16B */ \
	WORD $0x0e2ac352 /* SMULL V18.8H, V26.8B, V10.8B */ \
	WORD $0x4e2a8352 /* SMLAL2 V18.8H, V26.16B, V10.16B */ \
	WORD $0x0e2bc373 /* SMULL V19.8H, V27.8B, V11.8B */ \
	WORD $0x4e2b8373 /* SMLAL2 V19.8H, V27.16B, V11.16B */ \
	WORD $0x0e2cc014 /* SMULL V20.8H, V0.8B, V12.8B */ \
	WORD $0x4e2c8014 /* SMLAL2 V20.8H, V0.16B, V12.16B */ \
	WORD $0x0e2dc035 /* SMULL V21.8H, V1.8B, V13.8B */ \
	WORD $0x4e2d8035 /* SMLAL2 V21.8H, V1.16B, V13.16B */ \
	WORD $0x0e2ec056 /* SMULL V22.8H, V2.8B, V14.8B */ \
	WORD $0x4e2e8056 /* SMLAL2 V22.8H, V2.16B, V14.16B */ \
	WORD $0x0e2fc077 /* SMULL V23.8H, V3.8B, V15.8B */ \
	WORD $0x4e2f8077 /* SMLAL2 V23.8H, V3.16B, V15.16B */ \
	WORD $0x4e602a10 /* SADDLP V16.4S, V16.8H */ \
	WORD $0x4e602a31 /* SADDLP V17.4S, V17.8H */ \
	WORD $0x4e602a52 /* SADDLP V18.4S, V18.8H */ \
	WORD $0x4e602a73 /* SADDLP V19.4S, V19.8H */ \
	WORD $0x4e602a94 /* SADDLP V20.4S, V20.8H */ \
	WORD $0x4e602ab5 /* SADDLP V21.4S, V21.8H */ \
	WORD $0x4e602ad6 /* SADDLP V22.4S, V22.8H */ \
	WORD $0x4e602af7 /* SADDLP V23.4S, V23.8H */

// Q6SCALE multiplies the sub-block sums of one half (eight int8 scales at
// sc) into the int32 sum V28.
#define Q6SCALE(sc) \
	KREDUCE \
	FMOVD sc, F10 \
	WORD $0x0f08a54a /* SXTL V10.8H, V10.8B */ \
	WORD $0x4f10a54b /* SXTL2 V11.4S, V10.8H */ \
	WORD $0x0f10a54a /* SXTL V10.4S, V10.4H */ \
	WORD $0x4eaa961c /* MLA V28.4S, V16.4S, V10.4S */ \
	WORD $0x4eab969c /* MLA V28.4S, V20.4S, V11.4S */

// KXSUMS loads the 16 Q8_K sums at R7 (advancing R7 to the next
// super-block) and leaves in the lanes of V12 their products with the 16
// int8 values in V10 (the Q6_K/Q3_K scales, the Q2_K mins).
#define KXSUMS \
	VLD1.P 32(R7), [V8.H8, V9.H8] \
	WORD $0x0f08a54b /* SXTL V11.8H, V10.8B */ \
	WORD $0x4f08a54a /* SXTL2 V10.8H, V10.16B */ \
	WORD $0x0e6bc10c /* SMULL V12.4S, V8.4H, V11.4H */ \
	WORD $0x4e6b810c /* SMLAL2 V12.4S, V8.8H, V11.8H */ \
	WORD $0x0e6a812c /* SMLAL V12.4S, V9.4H, V10.4H */ \
	WORD $0x4e6a812c /* SMLAL2 V12.4S, V9.8H, V10.8H */

// KOFFEND finishes a Q6_K/Q3_K super-block with the scales in V10: it
// subtracts the level offset 1<<shift times the scaled x sums from the
// int32 sum V28 and adds dx*d*sum to F29, d being the fp16 value at
// doff(R22).
#define KOFFEND(shift, doff) \
	KXSUMS \
	VSHL   $shift, V12.S4, V12.S4 \
	VSUB   V12.S4, V28.S4, V28.S4 \
	VADDV  V28.S4, V28 \
	WORD $0x5e21db9c /* SCVTF S28, S28 */ \
	MOVHU  doff(R22), R10 \
	FMOVS  R10, F10 \
	FCVTHS F10, F10 \
	FMOVS  R20, F11 \
	FMULS  F10, F11, F11 \
	FMULS  F11, F28, F28 \
	FADDS  F28, F29, F29

// func dotQ6_KRowsNEON(w, x *byte, n, rows, stride int, out *float32)
TEXT ·dotQ6_KRowsNEON(SB), NOSPLIT, $0-48
	KARGS
	VMOVI $15, V31.B16
	VMOVI $48, V30.B16

q6krow:
	KROWSTART

q6kblock:
	MOVD    R6, R22
	ADD     $128, R6, R9
	MOVWU.P 4(R7), R20
	VEOR    V28.B16, V28.B16, V28.B16
	Q6UNPACK
	KXLOAD
	CBZ     R21, q6kmul0
	Q6SDOT
	Q6SCALE(192(R22))
	Q6UNPACK
	KXLOAD
	Q6SDOT
	B       q6kend

q6kmul0:
	Q6MUL
	Q6SCALE(192(R22))
	Q6UNPACK
	KXLOAD
	Q6MUL

q6kend:
	Q6SCALE(200(R22))
	FMOVQ 192(R22), F10
	KOFFEND(5, 208)
	ADD    $210, R22, R6
	SUBS   $1, R8
	BNE    q6kblock
	KROWEND
	BNE    q6krow
	RET

// Q3_K and Q2_K: 32 bytes of qs at R6 hold the low two bits of 128 levels
// (bits 2j, 2j+1 for the sub-blocks 2j, 2j+1). Q2UNPACK leaves them in the
// Q6_K registers V6, V7, V26, V27, V0, V1, V2, V3; V30 holds 0x03 bytes.
#define Q2UNPACK \
	VLD1.P 32(R6), [V0.B16, V1.B16] \
	VUSHR  $6, V0.B16, V2.B16 \
	VUSHR  $6, V1.B16, V3.B16 \
	VAND   V30.B16, V0.B16, V6.B16 \
	VAND   V30.B16, V1.B16, V7.B16 \
	VUSHR  $2, V0.B16, V26.B16 \
	VUSHR  $2, V1.B16, V27.B16 \
	VAND   V30.B16, V26.B16, V26.B16 \
	VAND   V30.B16, V27.B16, V27.B16 \
	VUSHR  $4, V0.B16, V0.B16 \
	VUSHR  $4, V1.B16, V1.B16 \
	VAND   V30.B16, V0.B16, V0.B16 \
	VAND   V30.B16, V1.B16, V1.B16

// Q3HIGH and Q3HIGH2: KHIGH and KHIGH0 for Q3_K (hmask in V4, V5, bit 2,
// V31 holds 0x04 bytes).
#define Q3HIGH(op, cnt, l0, l1) KHIGH(op, cnt, V4.B16, V5.B16, V24.B16, V25.B16, V31.B16, l0, l1)
#define Q3HIGH2(l0, l1) KHIGH0(V4.B16, V5.B16, V24.B16, V25.B16, V31.B16, l0, l1)

// func dotQ3_KRowsNEON(w, x *byte, n, rows, stride int, out *float32)
// The 16 scales, unpacked (scaleQ3_K) and less 32, go to the frame.
TEXT ·dotQ3_KRowsNEON(SB), NOSPLIT, $16-48
	KARGS
	VMOVI $3, V30.B16
	VMOVI $4, V31.B16

q3krow:
	KROWSTART

q3kblock:
	MOVD    R6, R22
	MOVWU.P 4(R7), R20
	MOVD    96(R22), R10
	MOVWU   104(R22), R11
	AND     $0x0f0f0f0f0f0f0f0f, R10, R12
	LSR     $4, R10, R13
	AND     $0x0f0f0f0f0f0f0f0f, R13, R13
	ANDW    $0x03030303, R11, R14
	LSRW    $2, R11, R15
	ANDW    $0x03030303, R15, R15
	ORR     R15<<32, R14, R14
	LSRW    $4, R11, R15
	ANDW    $0x03030303, R15, R15
	LSRW    $6, R11, R19
	ANDW    $0x03030303, R19, R19
	ORR     R19<<32, R15, R15
	ORR     R14<<4, R12, R12
	ORR     R15<<4, R13, R13
	VMOV    R12, V26.D[0]
	VMOV    R13, V26.D[1]
	VMOVI   $32, V27.B16
	VSUB    V27.B16, V26.B16, V26.B16
	FMOVQ   F26, sc-16(SP)
	VEOR    V28.B16, V28.B16, V28.B16
	VLD1.P  32(R6), [V4.B16, V5.B16]
	Q2UNPACK
	Q3HIGH(VSHL, 2, V6.B16, V7.B16)
	Q3HIGH(VSHL, 1, V26.B16, V27.B16)
	Q3HIGH2(V0.B16, V1.B16)
	Q3HIGH(VUSHR, 1, V2.B16, V3.B16)
	KXLOAD
	CBZ     R21, q3kmul0
	Q6SDOT
	Q6SCALE(sc-16(SP))
	Q2UNPACK
	Q3HIGH(VUSHR, 2, V6.B16, V7.B16)
	Q3HIGH(VUSHR, 3, V26.B16, V27.B16)
	Q3HIGH(VUSHR, 4, V0.B16, V1.B16)
	Q3HIGH(VUSHR, 5, V2.B16, V3.B16)
	KXLOAD
	Q6SDOT
	B       q3kend

q3kmul0:
	Q6MUL
	Q6SCALE(sc-16(SP))
	Q2UNPACK
	Q3HIGH(VUSHR, 2, V6.B16, V7.B16)
	Q3HIGH(VUSHR, 3, V26.B16, V27.B16)
	Q3HIGH(VUSHR, 4, V0.B16, V1.B16)
	Q3HIGH(VUSHR, 5, V2.B16, V3.B16)
	KXLOAD
	Q6MUL

q3kend:
	Q6SCALE(sc-8(SP))
	FMOVQ sc-16(SP), F10
	KOFFEND(2, 108)
	ADD   $110, R22, R6
	SUBS  $1, R8
	BNE   q3kblock
	KROWEND
	BNE   q3krow
	RET

// func dotQ2_KRowsNEON(w, x *byte, n, rows, stride int, out *float32)
// The 16 scales (low nibbles of the first 16 bytes) go to the frame.
TEXT ·dotQ2_KRowsNEON(SB), NOSPLIT, $16-48
	KARGS
	VMOVI $3, V30.B16
	VMOVI $15, V31.B16

q2krow:
	KROWSTART

q2kblock:
	MOVD    R6, R22
	MOVWU.P 4(R7), R20
	VLD1.P  16(R6), [V26.B16]
	VAND    V31.B16, V26.B16, V26.B16
	FMOVQ   F26, sc-16(SP)
	VEOR    V28.B16, V28.B16, V28.B16
	Q2UNPACK
	KXLOAD
	CBZ     R21, q2kmul0
	Q6SDOT
	Q6SCALE(sc-16(SP))
	Q2UNPACK
	KXLOAD
	Q6SDOT
	B       q2kend

q2kmul0:
	Q6MUL
	Q6SCALE(sc-16(SP))
	Q2UNPACK
	KXLOAD
	Q6MUL

q2kend:
	Q6SCALE(sc-8(SP))

	// the mins (high nibbles) times the x sums
	FMOVQ (R22), F10
	VUSHR $4, V10.B16, V10.B16
	KXSUMS
	VADDV V28.S4, V28
	VADDV V12.S4, V12
	WORD $0x5e21db9c // SCVTF S28, S28
	WORD $0x5e21d98c // SCVTF S12, S12
	KMINEND(80, F28, F12)
	ADD   $84, R22, R6
	SUBS  $1, R8
	BNE   q2kblock
	KROWEND
	BNE   q2krow
	RET

// func quantQ8_KNEON(dst *byte, src *float32, n int)
// The loop of quantizeQ8_K for n > 0 super-blocks: amax as the largest |x|
// bit pattern (FABS, UMAX), d = amax/127, id = 1/d or 0, q = x*id rounded
// to nearest even (FCVTNS) and narrowed with saturation, and the sum of
// each 16 q (SADDLV).
TEXT ·quantQ8_KNEON(SB), NOSPLIT, $0-24
	MOVD  dst+0(FP), R0
	MOVD  src+8(FP), R1
	MOVD  n+16(FP), R2
	MOVW  $0x42fe0000, R12 // 127
	FMOVS R12, F6
	FMOVS $1.0, F7
	VEOR  V4.B16, V4.B16, V4.B16

q8kblock:
	MOVD R1, R6
	MOVD $16, R8
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16

q8kmax:
	VLD1.P 64(R6), [V0.S4, V1.S4, V2.S4, V3.S4]
	WORD $0x4ea0f800 // FABS V0.4S, V0.4S
	WORD $0x4ea0f821 // FABS V1.4S, V1.4S
	WORD $0x4ea0f842 // FABS V2.4S, V2.4S
	WORD $0x4ea0f863 // FABS V3.4S, V3.4S
	WORD $0x6ea06610 // UMAX V16.4S, V16.4S, V0.4S
	WORD $0x6ea16631 // UMAX V17.4S, V17.4S, V1.4S
	WORD $0x6ea26652 // UMAX V18.4S, V18.4S, V2.4S
	WORD $0x6ea36673 // UMAX V19.4S, V19.4S, V3.4S
	SUBS $1, R8
	BNE  q8kmax
	WORD $0x6eb16610 // UMAX V16.4S, V16.4S, V17.4S
	WORD $0x6eb36652 // UMAX V18.4S, V18.4S, V19.4S
	WORD $0x6eb26610 // UMAX V16.4S, V16.4S, V18.4S
	WORD $0x6eb0aa10 // UMAXV S16, V16.4S

	// d = amax/127, stored; id = 1/d, or 0 when d is 0
	FDIVS  F6, F16, F2
	FMOVS  F2, (R0)
	FDIVS  F2, F7, F3
	FCMPS  $(0.0), F2
	FCSELS NE, F3, F4, F3
	VDUP   V3.S[0], V5.S4
	ADD    $4, R0, R9
	ADD    $260, R0, R10
	MOVD   R1, R6
	MOVD   $16, R8

q8kgroup:
	VLD1.P 64(R6), [V0.S4, V1.S4, V2.S4, V3.S4]
	WORD $0x6e25dc00 // FMUL V0.4S, V0.4S, V5.4S
	WORD $0x6e25dc21 // FMUL V1.4S, V1.4S, V5.4S
	WORD $0x6e25dc42 // FMUL V2.4S, V2.4S, V5.4S
	WORD $0x6e25dc63 // FMUL V3.4S, V3.4S, V5.4S
	WORD $0x4e21a800 // FCVTNS V0.4S, V0.4S
	WORD $0x4e21a821 // FCVTNS V1.4S, V1.4S
	WORD $0x4e21a842 // FCVTNS V2.4S, V2.4S
	WORD $0x4e21a863 // FCVTNS V3.4S, V3.4S
	WORD $0x0e614800 // SQXTN V0.4H, V0.4S
	WORD $0x4e614820 // SQXTN2 V0.8H, V1.4S
	WORD $0x0e614842 // SQXTN V2.4H, V2.4S
	WORD $0x4e614862 // SQXTN2 V2.8H, V3.4S
	WORD $0x0e214800 // SQXTN V0.8B, V0.8H
	WORD $0x4e214840 // SQXTN2 V0.16B, V2.8H
	VST1.P [V0.B16], 16(R9)
	WORD $0x4e303801 // SADDLV H1, V0.16B
	VMOV   V1.H[0], R11
	MOVH.P R11, 2(R10)
	SUBS   $1, R8
	BNE    q8kgroup

	ADD  $1024, R1
	ADD  $292, R0
	SUBS $1, R2
	BNE  q8kblock
	RET
