//go:build amd64 && !noasm

#include "textflag.h"

// The AVX2 tier of the K-quant kernels. Each reference loop is the doc
// comment of its declaration in kquant_amd64.go. Every kernel computes
// `rows` dot products of consecutive weight rows (stride bytes apart, n
// super-blocks each, n > 0) with n Q8_K super-blocks of activations x.
//
// Per super-block the levels are unpacked to unsigned bytes (at most 63),
// VPMADDUBSW multiplies them with the signed activation quants into int16
// pair sums (at most 2*63*128, no saturation even for -128), VPMADDWD
// multiplies those by the sub-block scales (int16 words) into int32, and
// the int32 sum of the super-block is converted to float32 once and
// multiplied by d*dx into the row's float accumulator Y0. Mins and level
// offsets use the activations' sums of each 16 (VPMADDWD with the mins or
// scales), once per super-block.
//
// Registers: R11 row start, SI weight cursor, DI activation cursor, R12
// activation base, CX super-blocks left in the row, R8 rows left, R9 stride,
// R10 out cursor; AX, BX, DX, R13 scratch. Y0 float accumulator, Y1 int32
// super-block sum, Y8/Y9 scale words, Y10 mins or offset sums, Y13..Y15
// constants, the rest scratch.

// Q8_K layout: float32 d at 0, int8 q[256] at 4, int16 sums[16] at 260.

// kbcast<k>: VPSHUFB control that fills each lane with word k of that lane.
DATA kbcast<>+0(SB)/8, $0x0100010001000100
DATA kbcast<>+8(SB)/8, $0x0100010001000100
DATA kbcast<>+16(SB)/8, $0x0100010001000100
DATA kbcast<>+24(SB)/8, $0x0100010001000100
DATA kbcast<>+32(SB)/8, $0x0302030203020302
DATA kbcast<>+40(SB)/8, $0x0302030203020302
DATA kbcast<>+48(SB)/8, $0x0302030203020302
DATA kbcast<>+56(SB)/8, $0x0302030203020302
DATA kbcast<>+64(SB)/8, $0x0504050405040504
DATA kbcast<>+72(SB)/8, $0x0504050405040504
DATA kbcast<>+80(SB)/8, $0x0504050405040504
DATA kbcast<>+88(SB)/8, $0x0504050405040504
DATA kbcast<>+96(SB)/8, $0x0706070607060706
DATA kbcast<>+104(SB)/8, $0x0706070607060706
DATA kbcast<>+112(SB)/8, $0x0706070607060706
DATA kbcast<>+120(SB)/8, $0x0706070607060706
GLOBL kbcast<>(SB), RODATA|NOPTR, $128

// kpair<j>: VPSHUFB control that fills the low lane with word 2j and the
// high lane with word 2j+1 (of a register whose lanes are equal): the
// scales of the two 16-element sub-blocks of one 32-byte vector of levels.
DATA kpair<>+0(SB)/8, $0x0100010001000100
DATA kpair<>+8(SB)/8, $0x0100010001000100
DATA kpair<>+16(SB)/8, $0x0302030203020302
DATA kpair<>+24(SB)/8, $0x0302030203020302
DATA kpair<>+32(SB)/8, $0x0504050405040504
DATA kpair<>+40(SB)/8, $0x0504050405040504
DATA kpair<>+48(SB)/8, $0x0706070607060706
DATA kpair<>+56(SB)/8, $0x0706070607060706
DATA kpair<>+64(SB)/8, $0x0908090809080908
DATA kpair<>+72(SB)/8, $0x0908090809080908
DATA kpair<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kpair<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA kpair<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kpair<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA kpair<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA kpair<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL kpair<>(SB), RODATA|NOPTR, $128

// kmins: VPSHUFB control taking bytes s0..s3 m0..m3 s4..s7 m4..m7 (the
// unpacked Q4_K/Q5_K scales) to m0 m0 m1 m1 ... m7 m7.
DATA kmins<>+0(SB)/8, $0x0707060605050404
DATA kmins<>+8(SB)/8, $0x0f0f0e0e0d0d0c0c
GLOBL kmins<>(SB), RODATA|NOPTR, $16

// 64-bit masks for unpacking packed 6-bit scales.
DATA kmask<>+0(SB)/8, $0x3f3f3f3f3f3f3f3f
DATA kmask<>+8(SB)/8, $0x3030303030303030
DATA kmask<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kmask<>+24(SB)/8, $0x0303030303030303
GLOBL kmask<>(SB), RODATA|NOPTR, $32

// kbytes: byte splats 0x0f, 0x30, 0x03, 0x04, 0x10, 0x20 (32 bytes each).
DATA kbytes<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kbytes<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kbytes<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kbytes<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA kbytes<>+32(SB)/8, $0x3030303030303030
DATA kbytes<>+40(SB)/8, $0x3030303030303030
DATA kbytes<>+48(SB)/8, $0x3030303030303030
DATA kbytes<>+56(SB)/8, $0x3030303030303030
DATA kbytes<>+64(SB)/8, $0x0303030303030303
DATA kbytes<>+72(SB)/8, $0x0303030303030303
DATA kbytes<>+80(SB)/8, $0x0303030303030303
DATA kbytes<>+88(SB)/8, $0x0303030303030303
DATA kbytes<>+96(SB)/8, $0x0404040404040404
DATA kbytes<>+104(SB)/8, $0x0404040404040404
DATA kbytes<>+112(SB)/8, $0x0404040404040404
DATA kbytes<>+120(SB)/8, $0x0404040404040404
DATA kbytes<>+128(SB)/8, $0x1010101010101010
DATA kbytes<>+136(SB)/8, $0x1010101010101010
DATA kbytes<>+144(SB)/8, $0x1010101010101010
DATA kbytes<>+152(SB)/8, $0x1010101010101010
DATA kbytes<>+160(SB)/8, $0x2020202020202020
DATA kbytes<>+168(SB)/8, $0x2020202020202020
DATA kbytes<>+176(SB)/8, $0x2020202020202020
DATA kbytes<>+184(SB)/8, $0x2020202020202020
GLOBL kbytes<>(SB), RODATA|NOPTR, $192

#define MASK0F kbytes<>+0(SB)
#define MASK30 kbytes<>+32(SB)
#define MASK03 kbytes<>+64(SB)
#define MASK04 kbytes<>+96(SB)
#define MASK10 kbytes<>+128(SB)
#define BYTES32 kbytes<>+160(SB)

// KARGS loads the arguments (w, x, n, rows, stride, out).
#define KARGS \
	MOVQ w+0(FP), R11 \
	MOVQ x+8(FP), R12 \
	MOVQ rows+24(FP), R8 \
	MOVQ stride+32(FP), R9 \
	MOVQ out+40(FP), R10

// KROWSTART resets the cursors and the accumulator for the next row.
#define KROWSTART \
	MOVQ   R11, SI \
	MOVQ   R12, DI \
	MOVQ   n+16(FP), CX \
	VXORPS Y0, Y0, Y0

// KROWEND sums Y0 into one float, stores it to out and advances to the
// next row (leaving the flags of DECQ R8).
#define KROWEND \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X1, X0, X0 \
	VHADDPS      X0, X0, X0 \
	VHADDPS      X0, X0, X0 \
	VMOVSS       X0, (R10) \
	ADDQ         $4, R10 \
	ADDQ         R9, R11 \
	DECQ         R8

// KACC adds the int32 super-block sum Y1 times d*dx (Y12) to Y0.
#define KACC \
	VCVTDQ2PS   Y1, Y1 \
	VFMADD231PS Y12, Y1, Y0

// KACCMIN adds Y1 times d*dx (Y12) and subtracts the int32 min sums Y10
// times dmin*dx (Y11).
#define KACCMIN \
	KACC \
	VCVTDQ2PS    Y10, Y10 \
	VFNMADD231PS Y11, Y10, Y0

// KNEXT advances to the next super-block of size bytes (looping to block
// while the row has more), then to the next row (looping to row).
#define KNEXT(size, block, row) \
	ADDQ $size, SI \
	ADDQ $292, DI \
	DECQ CX \
	JNZ  block \
	KROWEND \
	JNZ  row

// KPREFETCH1..4 prefetch the weights 2048 bytes ahead, one 64-byte line per
// instruction, as many lines as a super-block spans. The hardware prefetcher
// alone left the kernels far below the memory's speed on some hosts (Q4_K at
// 6.5 against 19-26 GB/s with these, in the same run). Prefetches do not
// fault, so reading ahead past the last row is harmless.
#define KPREFETCH2 \
	PREFETCHT0 2048(SI) \
	PREFETCHT0 2112(SI)

#define KPREFETCH3 \
	KPREFETCH2 \
	PREFETCHT0 2176(SI)

#define KPREFETCH4 \
	KPREFETCH3 \
	PREFETCHT0 2240(SI)

// KPAIRDOT accumulates 32 levels (unsigned bytes in Y2) times the 32
// activation quants at x into Y1, the low lane scaled by word 2j and the
// high lane by word 2j+1 of sc (lanes equal). Clobbers Y2, Y7.
#define KPAIRDOT(x, j, sc) \
	VPMADDUBSW x, Y2, Y2 \
	VPSHUFB    kpair<>+(32*j)(SB), sc, Y7 \
	VPMADDWD   Y7, Y2, Y2 \
	VPADDD     Y2, Y1, Y1

// KSCALES16 takes 16 int16 scales in Y8 (sub-blocks 0..15) and leaves
// sub-blocks 0..7 in both lanes of Y9 and 8..15 in both lanes of Y8.
#define KSCALES16 \
	VPERMQ $0x44, Y8, Y9 \
	VPERMQ $0xee, Y8, Y8

// KDMUL leaves fp16 d (at off of the weights) times float32 dx in all lanes
// of Y12.
#define KDMUL(off) \
	MOVWLZX      off(SI), AX \
	VMOVD        AX, X12 \
	VCVTPH2PS    X12, X12 \
	VMULSS       (DI), X12, X12 \
	VBROADCASTSS X12, Y12

// KDMINMUL leaves d*dx in all lanes of Y12 and dmin*dx in all lanes of Y11,
// for fp16 d and dmin at off and off+2.
#define KDMINMUL(off) \
	VMOVD        off(SI), X12 \
	VCVTPH2PS    X12, X12 \
	VBROADCASTSS (DI), X11 \
	VMULPS       X11, X12, X12 \
	VMOVSHDUP    X12, X11 \
	VBROADCASTSS X12, Y12 \
	VBROADCASTSS X11, Y11

// func dotQ2_KRows(w, x *byte, n, rows, stride int, out *float32)
TEXT ·dotQ2_KRows(SB), NOSPLIT, $0-48
	KARGS
	VMOVDQU MASK0F, Y15
	VMOVDQU MASK03, Y14

q2krow:
	KROWSTART

q2kblock:
	KPREFETCH2
	// scales[16]: low nibbles scale, high nibbles min
	VMOVDQU   (SI), X8
	VPSRLW    $4, X8, X10
	VPAND     X15, X10, X10
	VPAND     X15, X8, X8
	VPMOVZXBW X10, Y10
	VPMADDWD  260(DI), Y10, Y10 // min_k * sum_k, pairs added: 8 int32
	VPMOVZXBW X8, Y8
	KSCALES16
	VPXOR     Y1, Y1, Y1

	// elements 0..127: qs[0..31] (at 16), bits 2j, 2j+1
	VMOVDQU 16(SI), Y4
	VPAND   Y14, Y4, Y2
	KPAIRDOT(4(DI), 0, Y9)
	VPSRLW  $2, Y4, Y2
	VPAND   Y14, Y2, Y2
	KPAIRDOT(36(DI), 1, Y9)
	VPSRLW  $4, Y4, Y2
	VPAND   Y14, Y2, Y2
	KPAIRDOT(68(DI), 2, Y9)
	VPSRLW  $6, Y4, Y2
	VPAND   Y14, Y2, Y2
	KPAIRDOT(100(DI), 3, Y9)

	// elements 128..255: qs[32..63] (at 48)
	VMOVDQU 48(SI), Y4
	VPAND   Y14, Y4, Y2
	KPAIRDOT(132(DI), 0, Y8)
	VPSRLW  $2, Y4, Y2
	VPAND   Y14, Y2, Y2
	KPAIRDOT(164(DI), 1, Y8)
	VPSRLW  $4, Y4, Y2
	VPAND   Y14, Y2, Y2
	KPAIRDOT(196(DI), 2, Y8)
	VPSRLW  $6, Y4, Y2
	VPAND   Y14, Y2, Y2
	KPAIRDOT(228(DI), 3, Y8)

	// acc += sum*(d*dx) - minsum*(dmin*dx)
	KDMINMUL(80)
	KACCMIN

	KNEXT(84, q2kblock, q2krow)
	VZEROUPPER
	RET

// Q3KJ accumulates the 32 levels of elements 128h+32j .. +31 into Y1:
// bits 0,1 from the qs register (shifted right by qsh), bit 2 from hmask
// (Y3) bit 4h+j (moved to bit 2 by hop $hcnt).
#define Q3KJ(qs, qsh, hop, hcnt, x, j, sc) \
	VPSRLW $qsh, qs, Y2 \
	VPAND  Y15, Y2, Y2 \
	hop    $hcnt, Y3, Y7 \
	VPAND  Y14, Y7, Y7 \
	VPOR   Y7, Y2, Y2 \
	KPAIRDOT(x, j, sc)

// func dotQ3_KRows(w, x *byte, n, rows, stride int, out *float32)
TEXT ·dotQ3_KRows(SB), NOSPLIT, $0-48
	KARGS
	VMOVDQU MASK03, Y15
	VMOVDQU MASK04, Y14
	VMOVDQU BYTES32, Y13

q3krow:
	KROWSTART

q3kblock:
	KPREFETCH3
	// 16 6-bit scales at 96: low nibbles of bytes 0..7 (scales 0..7) and
	// their high nibbles (8..15); the top 2 bits in bytes 8..11.
	MOVQ    96(SI), AX
	MOVL    104(SI), DX
	MOVQ    DX, BX
	SHRQ    $2, BX
	SHLQ    $32, BX
	ORQ     BX, DX                // t | (t>>2)<<32
	MOVQ    DX, BX
	ANDQ    kmask<>+24(SB), BX
	SHLQ    $4, BX
	MOVQ    AX, R13
	ANDQ    kmask<>+16(SB), R13
	ORQ     BX, R13               // scales 0..7
	VMOVQ   R13, X8
	SHRQ    $4, DX
	ANDQ    kmask<>+24(SB), DX
	SHLQ    $4, DX
	SHRQ    $4, AX
	ANDQ    kmask<>+16(SB), AX
	ORQ     DX, AX                // scales 8..15
	VPINSRQ $1, AX, X8, X8
	VPSUBB  X13, X8, X8           // minus 32: signed
	VPMOVSXBW X8, Y8
	VPMADDWD 260(DI), Y8, Y10     // scale_k * sum_k, pairs added
	VPSLLD  $2, Y10, Y10          // times the level offset 4
	KSCALES16
	VPXOR   Y1, Y1, Y1

	VMOVDQU (SI), Y3 // hmask
	VMOVDQU 32(SI), Y4
	Q3KJ(Y4, 0, VPSLLW, 2, 4(DI), 0, Y9)
	Q3KJ(Y4, 2, VPSLLW, 1, 36(DI), 1, Y9)
	Q3KJ(Y4, 4, VPSRLW, 0, 68(DI), 2, Y9)
	Q3KJ(Y4, 6, VPSRLW, 1, 100(DI), 3, Y9)
	VMOVDQU 64(SI), Y4
	Q3KJ(Y4, 0, VPSRLW, 2, 132(DI), 0, Y8)
	Q3KJ(Y4, 2, VPSRLW, 3, 164(DI), 1, Y8)
	Q3KJ(Y4, 4, VPSRLW, 4, 196(DI), 2, Y8)
	Q3KJ(Y4, 6, VPSRLW, 5, 228(DI), 3, Y8)

	// acc += (sum - 4*offsets)*(d*dx)
	VPSUBD      Y10, Y1, Y1
	KDMUL(108)
	KACC

	KNEXT(110, q3kblock, q3krow)
	VZEROUPPER
	RET

// K4SCALES unpacks the 12 scale bytes at off into X8 as bytes
// s0..s3 m0..m3 s4..s7 m4..m7, and leaves in Y10 the 8 int32
// m_k*(sum_2k + sum_2k+1), and in Y9 and Y8 the scale words s0..s3 and
// s4..s7 in word 0..3 of both lanes.
#define K4SCALES(off) \
	MOVQ      off(SI), AX \
	MOVL      off+8(SI), DX \
	MOVQ      AX, BX \
	SHRQ      $2, BX \
	ANDQ      kmask<>+8(SB), BX \
	ANDQ      kmask<>+0(SB), AX \
	VMOVQ     AX, X8 \
	MOVL      DX, R13 \
	SHRL      $4, R13 \
	ANDL      $0x0f0f0f0f, DX \
	ANDL      $0x0f0f0f0f, R13 \
	SHLQ      $32, R13 \
	ORQ       R13, DX \
	ORQ       BX, DX \
	VPINSRQ   $1, DX, X8, X8 \
	VPSHUFB   kmins<>(SB), X8, X10 \
	VPMOVZXBW X10, Y10 \
	VPMADDWD  260(DI), Y10, Y10 \
	VPMOVZXBW X8, Y8 \
	VPERMQ    $0x44, Y8, Y9 \
	VPERMQ    $0xee, Y8, Y8

// K4DOT accumulates the 32 levels in Y4 (sub-block 2k, activations at xlo)
// and Y5 (sub-block 2k+1, at xhi) into Y1, scaled by words kl and kh of
// sc's lanes. Clobbers Y4..Y7.
#define K4DOT(xlo, xhi, sc, kl, kh) \
	VPMADDUBSW xlo, Y4, Y4 \
	VPMADDUBSW xhi, Y5, Y5 \
	VPSHUFB    kbcast<>+(32*kl)(SB), sc, Y6 \
	VPSHUFB    kbcast<>+(32*kh)(SB), sc, Y7 \
	VPMADDWD   Y6, Y4, Y4 \
	VPMADDWD   Y7, Y5, Y5 \
	VPADDD     Y4, Y1, Y1 \
	VPADDD     Y5, Y1, Y1

// K4NIBBLES loads 32 bytes of nibbles at q: low nibbles to Y4, high to Y5.
#define K4NIBBLES(q) \
	VMOVDQU q, Y4 \
	VPSRLW  $4, Y4, Y5 \
	VPAND   Y15, Y4, Y4 \
	VPAND   Y15, Y5, Y5

// func dotQ4_KRows(w, x *byte, n, rows, stride int, out *float32)
TEXT ·dotQ4_KRows(SB), NOSPLIT, $0-48
	KARGS
	VMOVDQU MASK0F, Y15

q4krow:
	KROWSTART

q4kblock:
	KPREFETCH3
	K4SCALES(4)
	VPXOR Y1, Y1, Y1
	K4NIBBLES(16(SI))
	K4DOT(4(DI), 36(DI), Y9, 0, 1)
	K4NIBBLES(48(SI))
	K4DOT(68(DI), 100(DI), Y9, 2, 3)
	K4NIBBLES(80(SI))
	K4DOT(132(DI), 164(DI), Y8, 0, 1)
	K4NIBBLES(112(SI))
	K4DOT(196(DI), 228(DI), Y8, 2, 3)

	// acc += sum*(d*dx) - minsum*(dmin*dx)
	KDMINMUL(0)
	KACCMIN

	KNEXT(144, q4kblock, q4krow)
	VZEROUPPER
	RET

// K5HIGH ors bit b of each byte of qh (Y3) into bit 4 of dst: hop $hcnt
// moves bit b to bit 4. Clobbers Y6.
#define K5HIGH(hop, hcnt, dst) \
	hop   $hcnt, Y3, Y6 \
	VPAND Y14, Y6, Y6 \
	VPOR  Y6, dst, dst

// func dotQ5_KRows(w, x *byte, n, rows, stride int, out *float32)
TEXT ·dotQ5_KRows(SB), NOSPLIT, $0-48
	KARGS
	VMOVDQU MASK0F, Y15
	VMOVDQU MASK10, Y14

q5krow:
	KROWSTART

q5kblock:
	KPREFETCH4
	K4SCALES(4)
	VPXOR   Y1, Y1, Y1
	VMOVDQU 16(SI), Y3 // qh
	K4NIBBLES(48(SI))
	K5HIGH(VPSLLW, 4, Y4)
	K5HIGH(VPSLLW, 3, Y5)
	K4DOT(4(DI), 36(DI), Y9, 0, 1)
	K4NIBBLES(80(SI))
	K5HIGH(VPSLLW, 2, Y4)
	K5HIGH(VPSLLW, 1, Y5)
	K4DOT(68(DI), 100(DI), Y9, 2, 3)
	K4NIBBLES(112(SI))
	K5HIGH(VPSRLW, 0, Y4)
	K5HIGH(VPSRLW, 1, Y5)
	K4DOT(132(DI), 164(DI), Y8, 0, 1)
	K4NIBBLES(144(SI))
	K5HIGH(VPSRLW, 2, Y4)
	K5HIGH(VPSRLW, 3, Y5)
	K4DOT(196(DI), 228(DI), Y8, 2, 3)

	KDMINMUL(0)
	KACCMIN

	KNEXT(176, q5kblock, q5krow)
	VZEROUPPER
	RET

// Q6KJ accumulates 32 levels into Y1: the low nibbles (nsh 0) or high
// nibbles (nsh 4) of the ql register, and bits 4, 5 from qh (Y6) moved
// there by hop $hcnt.
#define Q6KJ(ql, nsh, hop, hcnt, x, j, sc) \
	VPSRLW $nsh, ql, Y2 \
	VPAND  Y15, Y2, Y2 \
	hop    $hcnt, Y6, Y7 \
	VPAND  Y14, Y7, Y7 \
	VPOR   Y7, Y2, Y2 \
	KPAIRDOT(x, j, sc)

// func dotQ6_KRows(w, x *byte, n, rows, stride int, out *float32)
TEXT ·dotQ6_KRows(SB), NOSPLIT, $0-48
	KARGS
	VMOVDQU MASK0F, Y15
	VMOVDQU MASK30, Y14

q6krow:
	KROWSTART

q6kblock:
	KPREFETCH4
	VPMOVSXBW 192(SI), Y8      // int8 scales as words
	VPMADDWD  260(DI), Y8, Y10 // scale_k * sum_k, pairs added
	VPSLLD    $5, Y10, Y10     // times the level offset 32
	KSCALES16
	VPXOR     Y1, Y1, Y1

	// elements 0..127: ql[0..63], qh[0..31] (at 128)
	VMOVDQU (SI), Y4
	VMOVDQU 32(SI), Y5
	VMOVDQU 128(SI), Y6
	Q6KJ(Y4, 0, VPSLLW, 4, 4(DI), 0, Y9)
	Q6KJ(Y5, 0, VPSLLW, 2, 36(DI), 1, Y9)
	Q6KJ(Y4, 4, VPSRLW, 0, 68(DI), 2, Y9)
	Q6KJ(Y5, 4, VPSRLW, 2, 100(DI), 3, Y9)

	// elements 128..255: ql[64..127], qh[32..63]
	VMOVDQU 64(SI), Y4
	VMOVDQU 96(SI), Y5
	VMOVDQU 160(SI), Y6
	Q6KJ(Y4, 0, VPSLLW, 4, 132(DI), 0, Y8)
	Q6KJ(Y5, 0, VPSLLW, 2, 164(DI), 1, Y8)
	Q6KJ(Y4, 4, VPSRLW, 0, 196(DI), 2, Y8)
	Q6KJ(Y5, 4, VPSRLW, 2, 228(DI), 3, Y8)

	// acc += (sum - 32*offsets)*(d*dx)
	VPSUBD      Y10, Y1, Y1
	KDMUL(208)
	KACC

	KNEXT(210, q6kblock, q6krow)
	VZEROUPPER
	RET

DATA kq8kperm<>+0(SB)/8, $0x0000000400000000
DATA kq8kperm<>+8(SB)/8, $0x0000000500000001
DATA kq8kperm<>+16(SB)/8, $0x0000000600000002
DATA kq8kperm<>+24(SB)/8, $0x0000000700000003
GLOBL kq8kperm<>(SB), RODATA|NOPTR, $32

// Q8KGROUPS quantises groups g and g+1 (elements 16g .. 16g+31 at SI,
// scaled by Y2 and rounded to nearest even), stores their 32 int8 at
// 4+16g(DI), and leaves the int32 sums of each 8 elements' pairs in sg0 and
// sg1 (8 lanes whose total is the group's sum). Clobbers Y4..Y7.
#define Q8KGROUPS(g, sg0, sg1) \
	VMULPS     (64*g)(SI), Y2, Y4 \
	VMULPS     (64*g+32)(SI), Y2, Y5 \
	VMULPS     (64*g+64)(SI), Y2, Y6 \
	VMULPS     (64*g+96)(SI), Y2, Y7 \
	VCVTPS2DQ  Y4, Y4 \
	VCVTPS2DQ  Y5, Y5 \
	VCVTPS2DQ  Y6, Y6 \
	VCVTPS2DQ  Y7, Y7 \
	VPADDD     Y5, Y4, sg0 \
	VPADDD     Y7, Y6, sg1 \
	VPACKSSDW  Y5, Y4, Y4 \
	VPACKSSDW  Y7, Y6, Y6 \
	VPACKSSWB  Y6, Y4, Y4 \
	VPERMD     Y4, Y3, Y4 \
	VMOVDQU    Y4, (4+16*g)(DI)

// Q8KSUMS reduces the eight vectors Y8..Y15 (groups 8h .. 8h+7) to their
// totals and stores them as int16 at 260+16h(DI). Clobbers Y4, Y5.
#define Q8KSUMS(h) \
	VPHADDD    Y9, Y8, Y8 \
	VPHADDD    Y11, Y10, Y10 \
	VPHADDD    Y13, Y12, Y12 \
	VPHADDD    Y15, Y14, Y14 \
	VPHADDD    Y10, Y8, Y8 \
	VPHADDD    Y14, Y12, Y12 \
	VPERM2I128 $0x20, Y12, Y8, Y4 \
	VPERM2I128 $0x31, Y12, Y8, Y5 \
	VPADDD     Y5, Y4, Y4 \
	VEXTRACTI128 $1, Y4, X5 \
	VPACKSSDW  X5, X4, X4 \
	VMOVDQU    X4, (260+16*h)(DI)

// func quantQ8_KAVX2(dst *byte, src *float32, n int)
// n counts super-blocks (n > 0). Reference: quantizeQ8_K, which gives the
// same bytes for finite input.
TEXT ·quantQ8_KAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

q8kblock:
	// amax as the largest |x| bit pattern (integer max, as quantizeQ8_K)
	MOVL         $0x7fffffff, AX
	VMOVD        AX, X3
	VPBROADCASTD X3, Y3
	VPAND        (SI), Y3, Y0
	VPAND        32(SI), Y3, Y1
	MOVQ         $64, AX

q8kmax:
	VPAND   (SI)(AX*1), Y3, Y4
	VPAND   32(SI)(AX*1), Y3, Y5
	VPMAXUD Y4, Y0, Y0
	VPMAXUD Y5, Y1, Y1
	ADDQ    $64, AX
	CMPQ    AX, $1024
	JB      q8kmax
	VPMAXUD      Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPMAXUD      X1, X0, X0

	// d = amax/127, stored; id = 1/d, or 0 when d is 0
	MOVL         $0x42fe0000, AX // 127
	VMOVD        AX, X5
	VDIVSS       X5, X0, X1
	VMOVSS       X1, (DI)
	MOVL         $0x3f800000, AX // 1
	VMOVD        AX, X5
	VDIVSS       X1, X5, X2
	VXORPS       X4, X4, X4
	VCMPSS       $4, X4, X1, X4 // d != 0 (or NaN)
	VANDPS       X4, X2, X2
	VBROADCASTSS X2, Y2

	VMOVDQU kq8kperm<>(SB), Y3
	Q8KGROUPS(0, Y8, Y9)
	Q8KGROUPS(2, Y10, Y11)
	Q8KGROUPS(4, Y12, Y13)
	Q8KGROUPS(6, Y14, Y15)
	Q8KSUMS(0)
	Q8KGROUPS(8, Y8, Y9)
	Q8KGROUPS(10, Y10, Y11)
	Q8KGROUPS(12, Y12, Y13)
	Q8KGROUPS(14, Y14, Y15)
	Q8KSUMS(1)

	ADDQ $1024, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q8kblock
	VZEROUPPER
	RET
