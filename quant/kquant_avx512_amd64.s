//go:build amd64 && !noasm

#include "textflag.h"

// func dotQ4_KRowsVNNI(w, x *byte, n, rows, stride int, out *float32)
//
// Registers as in kquant_amd64.s: SI/DI the weight and activation
// cursors, CX the super-blocks left in the row, R8 the rows left, R9 the
// stride, R10 the output, R11/R12 the row's and the activations' start;
// Y0 the row's float sum and Y3 its mins term (two chains), Y1/Y2 the
// super-block's int32 sums (two chains), Y10 the mins times the activation
// sums, Y15 the 0x0f byte mask. The super-block's eight scales go to
// 0(SP)..28(SP) as word pairs and d*dx, dmin*dx to 32(SP), 36(SP), read
// back by embedded broadcasts.

// Q4KSCALES decodes the 12 scale bytes at off(SI) into X8 = [sc0..3,
// m0..3, sc4..7, m4..7] (6-bit values), stores sc0..7 as word pairs at 0(SP)
// and leaves in Y10 the eight int32 min_j * (bsum[2j] + bsum[2j+1]).
#define Q4KSCALES(off) \
	MOVQ      off(SI), AX \
	MOVL      off+8(SI), DX \
	MOVQ      AX, BX \
	SHRQ      $2, BX \
	ANDQ      k4vmask<>+8(SB), BX \
	ANDQ      k4vmask<>+0(SB), AX \
	VMOVQ     AX, X8 \
	MOVL      DX, R13 \
	SHRL      $4, R13 \
	ANDL      $0x0f0f0f0f, DX \
	ANDL      $0x0f0f0f0f, R13 \
	SHLQ      $32, R13 \
	ORQ       R13, DX \
	ORQ       BX, DX \
	VPINSRQ   $1, DX, X8, X8 \
	VPSHUFB   k4vsc<>+0(SB), X8, X9 \
	VMOVDQU   X9, 0(SP) \
	VPSHUFB   k4vsc<>+16(SB), X8, X9 \
	VMOVDQU   X9, 16(SP) \
	VPSHUFB   k4vmins<>(SB), X8, X10 \
	VPMOVZXBW X10, Y10 \
	VPMADDWD  260(DI), Y10, Y10

// Q4KPAIR adds sub-blocks 2h (low nibbles of the 32 bytes at q) and 2h+1
// (high nibbles) times their activations (at xlo, xhi) and scales (word
// pairs at slo, shi of SP) to Y1 and Y2: VPMADDUBSW sums pairs of level x
// activation into words (at most 2*15*128, no saturation), VPDPWSSD
// multiplies pairs of them by the scale and adds them to the dwords.
#define Q4KPAIR(q, xlo, xhi, slo, shi) \
	VMOVDQU       q, Y4 \
	VPSRLW        $4, Y4, Y5 \
	VPAND         Y15, Y4, Y4 \
	VPAND         Y15, Y5, Y5 \
	VPMADDUBSW    xlo, Y4, Y4 \
	VPMADDUBSW    xhi, Y5, Y5 \
	VPDPWSSD.BCST slo(SP), Y4, Y1 \
	VPDPWSSD.BCST shi(SP), Y5, Y2

TEXT ·dotQ4_KRowsVNNI(SB), NOSPLIT, $40-48
	MOVQ    w+0(FP), R11
	MOVQ    x+8(FP), R12
	MOVQ    rows+24(FP), R8
	MOVQ    stride+32(FP), R9
	MOVQ    out+40(FP), R10
	VMOVDQU k4vnib<>(SB), Y15

q4vrow:
	MOVQ   R11, SI
	MOVQ   R12, DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y3, Y3, Y3

q4vblock:
	// into L1 2048 bytes ahead: on one thread, a 1 GiB matrix flushed
	// from the caches before each pass read at 0.82-0.84 of the read
	// bandwidth against 0.78-0.80 with PREFETCHT2 3072 (the choice
	// of dotQ6_KRowsVNNI, measured on 960 MiB that stayed partly in the
	// L3 between passes), on two threads 0.85-0.87 against 0.83-0.84;
	// tl-q4_k generation +3-4% (kq1t notes)
	PREFETCHT0 2048(SI)
	PREFETCHT0 2112(SI)
	PREFETCHT0 2176(SI)
	Q4KSCALES(4)
	VPXOR      Y1, Y1, Y1
	VPXOR      Y2, Y2, Y2
	Q4KPAIR(16(SI), 4(DI), 36(DI), 0, 4)
	Q4KPAIR(48(SI), 68(DI), 100(DI), 8, 12)
	Q4KPAIR(80(SI), 132(DI), 164(DI), 16, 20)
	Q4KPAIR(112(SI), 196(DI), 228(DI), 24, 28)
	VPADDD     Y2, Y1, Y1

	// d*dx and dmin*dx to 32(SP), 36(SP); then Y0 += sum*(d*dx) and
	// Y3 -= minsum*(dmin*dx)
	VMOVD             0(SI), X12
	VCVTPH2PS         X12, X12
	VMULPS.BCST       (DI), X12, X12
	VMOVQ             X12, 32(SP)
	VCVTDQ2PS         Y1, Y1
	VFMADD231PS.BCST  32(SP), Y1, Y0
	VCVTDQ2PS         Y10, Y10
	VFNMADD231PS.BCST 36(SP), Y10, Y3

	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q4vblock

	VADDPS       Y3, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (R10)
	ADDQ         $4, R10
	ADDQ         R9, R11
	DECQ         R8
	JNZ          q4vrow
	VZEROUPPER
	RET

DATA k4vnib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA k4vnib<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA k4vnib<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA k4vnib<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL k4vnib<>(SB), RODATA|NOPTR, $32

DATA k4vmask<>+0(SB)/8, $0x3f3f3f3f3f3f3f3f
DATA k4vmask<>+8(SB)/8, $0x3030303030303030
GLOBL k4vmask<>(SB), RODATA|NOPTR, $16

// sc0..3 (bytes 0..3 of X8), then sc4..7 (bytes 8..11), each as the dword
// sc | sc<<16 (a pair of words for VPDPWSSD)
DATA k4vsc<>+0(SB)/8, $0x8001800180008000
DATA k4vsc<>+8(SB)/8, $0x8003800380028002
DATA k4vsc<>+16(SB)/8, $0x8009800980088008
DATA k4vsc<>+24(SB)/8, $0x800b800b800a800a
GLOBL k4vsc<>(SB), RODATA|NOPTR, $32

// m0..3 (bytes 4..7) and m4..7 (bytes 12..15) of X8, each twice
DATA k4vmins<>+0(SB)/8, $0x0707060605050404
DATA k4vmins<>+8(SB)/8, $0x0f0f0e0e0d0d0c0c
GLOBL k4vmins<>(SB), RODATA|NOPTR, $16

// func dotQ4_KRows4VNNI(w, x *byte, n, rows, stride int, out *float32)
//
// dotQ4_KRowsVNNI for four vectors at once (prefill): x holds four vectors
// of n Q8_K super-blocks one after the other, and out[4r+t] gets row r
// times vector t. Each super-block's scales are decoded and its levels
// unpacked once (into Y4..Y9, Y20, Y21) for the four vectors; per vector
// the products, scales and sums are dotQ4_KRowsVNNI's, in the same order,
// so the results are that kernel's bit for bit. R14 is the distance
// between vectors (n*292 bytes); Y16..Y19 and Y22..Y25 hold the vectors'
// float sums and mins terms; d*dx and dmin*dx of vector t go to 32+8t(SP).

// Q4KVEC adds vector t's products with the unpacked super-block (its
// activations at DX) to acc and mterm.
#define Q4KVEC(t, acc, mterm) \
	VPXOR             Y1, Y1, Y1 \
	VPXOR             Y2, Y2, Y2 \
	VPMADDUBSW        4(DX), Y4, Y12 \
	VPMADDUBSW        36(DX), Y5, Y13 \
	VPDPWSSD.BCST     0(SP), Y12, Y1 \
	VPDPWSSD.BCST     4(SP), Y13, Y2 \
	VPMADDUBSW        68(DX), Y6, Y12 \
	VPMADDUBSW        100(DX), Y7, Y13 \
	VPDPWSSD.BCST     8(SP), Y12, Y1 \
	VPDPWSSD.BCST     12(SP), Y13, Y2 \
	VPMADDUBSW        132(DX), Y8, Y12 \
	VPMADDUBSW        164(DX), Y9, Y13 \
	VPDPWSSD.BCST     16(SP), Y12, Y1 \
	VPDPWSSD.BCST     20(SP), Y13, Y2 \
	VPMADDUBSW        196(DX), Y20, Y12 \
	VPMADDUBSW        228(DX), Y21, Y13 \
	VPDPWSSD.BCST     24(SP), Y12, Y1 \
	VPDPWSSD.BCST     28(SP), Y13, Y2 \
	VPADDD            Y2, Y1, Y1 \
	VPMADDWD          260(DX), Y10, Y14 \
	VMULPS.BCST       (DX), X3, X13 \
	VMOVQ             X13, (32+8*t)(SP) \
	VCVTDQ2PS         Y1, Y1 \
	VFMADD231PS.BCST  (32+8*t)(SP), Y1, acc \
	VCVTDQ2PS         Y14, Y14 \
	VFNMADD231PS.BCST (36+8*t)(SP), Y14, mterm

// Q4KSUM4 stores acc+mterm, summed across lanes, to off(R10).
#define Q4KSUM4(acc, mterm, off) \
	VADDPS       mterm, acc, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X1, X0, X0 \
	VHADDPS      X0, X0, X0 \
	VHADDPS      X0, X0, X0 \
	VMOVSS       X0, off(R10)

TEXT ·dotQ4_KRows4VNNI(SB), NOSPLIT, $64-48
	MOVQ    w+0(FP), R11
	MOVQ    x+8(FP), R12
	MOVQ    rows+24(FP), R8
	MOVQ    stride+32(FP), R9
	MOVQ    out+40(FP), R10
	MOVQ    n+16(FP), R14
	IMULQ   $292, R14
	VMOVDQU k4vnib<>(SB), Y15

q44row:
	MOVQ   R11, SI
	MOVQ   R12, DI
	MOVQ   n+16(FP), CX
	VXORPS Y16, Y16, Y16
	VXORPS Y17, Y17, Y17
	VXORPS Y18, Y18, Y18
	VXORPS Y19, Y19, Y19
	VXORPS Y22, Y22, Y22
	VXORPS Y23, Y23, Y23
	VXORPS Y24, Y24, Y24
	VXORPS Y25, Y25, Y25

q44block:
	PREFETCHT0 2048(SI)
	PREFETCHT0 2112(SI)
	PREFETCHT0 2176(SI)

	// scales to 0(SP) as word pairs; the mins, each twice, as words in Y10
	MOVQ      4(SI), AX
	MOVL      12(SI), DX
	MOVQ      AX, BX
	SHRQ      $2, BX
	ANDQ      k4vmask<>+8(SB), BX
	ANDQ      k4vmask<>+0(SB), AX
	VMOVQ     AX, X8
	MOVL      DX, R13
	SHRL      $4, R13
	ANDL      $0x0f0f0f0f, DX
	ANDL      $0x0f0f0f0f, R13
	SHLQ      $32, R13
	ORQ       R13, DX
	ORQ       BX, DX
	VPINSRQ   $1, DX, X8, X8
	VPSHUFB   k4vsc<>+0(SB), X8, X9
	VMOVDQU   X9, 0(SP)
	VPSHUFB   k4vsc<>+16(SB), X8, X9
	VMOVDQU   X9, 16(SP)
	VPSHUFB   k4vmins<>(SB), X8, X10
	VPMOVZXBW X10, Y10

	// [d, dmin] as floats in X3
	VMOVD     0(SI), X3
	VCVTPH2PS X3, X3

	// the levels of sub-blocks 0..7 into Y4..Y9, Y20, Y21
	VMOVDQU 16(SI), Y4
	VPSRLW  $4, Y4, Y5
	VPAND   Y15, Y4, Y4
	VPAND   Y15, Y5, Y5
	VMOVDQU 48(SI), Y6
	VPSRLW  $4, Y6, Y7
	VPAND   Y15, Y6, Y6
	VPAND   Y15, Y7, Y7
	VMOVDQU 80(SI), Y8
	VPSRLW  $4, Y8, Y9
	VPAND   Y15, Y8, Y8
	VPAND   Y15, Y9, Y9
	VMOVDQU32 112(SI), Y20
	VPSRLW  $4, Y20, Y21
	VPANDD  Y15, Y20, Y20
	VPANDD  Y15, Y21, Y21

	MOVQ DI, DX
	Q4KVEC(0, Y16, Y22)
	ADDQ R14, DX
	Q4KVEC(1, Y17, Y23)
	ADDQ R14, DX
	Q4KVEC(2, Y18, Y24)
	ADDQ R14, DX
	Q4KVEC(3, Y19, Y25)

	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q44block

	Q4KSUM4(Y16, Y22, 0)
	Q4KSUM4(Y17, Y23, 4)
	Q4KSUM4(Y18, Y24, 8)
	Q4KSUM4(Y19, Y25, 12)
	ADDQ $16, R10
	ADDQ R9, R11
	DECQ R8
	JNZ  q44row
	VZEROUPPER
	RET

// func dotQ6_KRows4VNNI(w, x *byte, n, rows, stride int, out *float32)
//
// dotQ6_KRows (kquant_amd64.s) for four vectors at once, as
// dotQ4_KRows4VNNI is for Q4_K: each super-block's levels are unpacked
// (into Y4..Y7, Y20..Y23, the order of the AVX2 kernel's Q6KJ steps) and
// its scale vectors spread (Y24..Y31) once for the four vectors. Per vector
// the integer sum is exact and its float steps are the AVX2 kernel's
// (sum - 32*offsets, times d*dx, one FMA into the vector's accumulator
// Y16..Y19), so the results are that kernel's bit for bit. VPDPWSSD
// multiplies the VPMADDUBSW word sums by the scales and adds them in one
// instruction. Y8 holds the 16 scales times 32 as words (the level offset
// through the activations' sums), Y15/Y9 the 0x0f/0x30 byte masks, X3 the
// super-block's d; d*dx of vector t goes to 32+4t(SP).

// Q6KL sets dst to 32 levels: the low (nsh 0) or high (nsh 4) nibbles of
// ql and bits 4, 5 from qh (Y11) moved there by hop $hcnt. Clobbers Y12.
#define Q6KL(ql, nsh, hop, hcnt, dst) \
	VPSRLW $nsh, ql, dst \
	VPANDD Y15, dst, dst \
	hop    $hcnt, Y11, Y12 \
	VPAND  Y9, Y12, Y12 \
	VPORD  Y12, dst, dst

// Q6KVEC adds vector t (activations at DX) times the unpacked super-block
// to acc.
#define Q6KVEC(t, acc) \
	VPXOR            Y1, Y1, Y1 \
	VPXOR            Y2, Y2, Y2 \
	VPMADDUBSW       4(DX), Y4, Y12 \
	VPMADDUBSW       36(DX), Y5, Y13 \
	VPDPWSSD         Y24, Y12, Y1 \
	VPDPWSSD         Y25, Y13, Y2 \
	VPMADDUBSW       68(DX), Y6, Y12 \
	VPMADDUBSW       100(DX), Y7, Y13 \
	VPDPWSSD         Y26, Y12, Y1 \
	VPDPWSSD         Y27, Y13, Y2 \
	VPMADDUBSW       132(DX), Y20, Y12 \
	VPMADDUBSW       164(DX), Y21, Y13 \
	VPDPWSSD         Y28, Y12, Y1 \
	VPDPWSSD         Y29, Y13, Y2 \
	VPMADDUBSW       196(DX), Y22, Y12 \
	VPMADDUBSW       228(DX), Y23, Y13 \
	VPDPWSSD         Y30, Y12, Y1 \
	VPDPWSSD         Y31, Y13, Y2 \
	VPADDD           Y2, Y1, Y1 \
	VPMADDWD         260(DX), Y8, Y14 \
	VPSUBD           Y14, Y1, Y1 \
	VMULSS           (DX), X3, X13 \
	VMOVSS           X13, (32+4*t)(SP) \
	VCVTDQ2PS        Y1, Y1 \
	VFMADD231PS.BCST (32+4*t)(SP), Y1, acc

// Q6KSUM stores the lanes of acc, summed, to off(R10).
#define Q6KSUM(acc, off) \
	VMOVAPS       acc, Y0 \
	VEXTRACTF128  $1, Y0, X1 \
	VADDPS        X1, X0, X0 \
	VHADDPS       X0, X0, X0 \
	VHADDPS       X0, X0, X0 \
	VMOVSS        X0, off(R10)

TEXT ·dotQ6_KRows4VNNI(SB), NOSPLIT, $48-48
	MOVQ    w+0(FP), R11
	MOVQ    x+8(FP), R12
	MOVQ    rows+24(FP), R8
	MOVQ    stride+32(FP), R9
	MOVQ    out+40(FP), R10
	MOVQ    n+16(FP), R14
	IMULQ   $292, R14
	VMOVDQU k4vnib<>(SB), Y15
	VMOVDQU k6v30<>(SB), Y9

q64row:
	MOVQ   R11, SI
	MOVQ   R12, DI
	MOVQ   n+16(FP), CX
	VXORPS Y16, Y16, Y16
	VXORPS Y17, Y17, Y17
	VXORPS Y18, Y18, Y18
	VXORPS Y19, Y19, Y19

q64block:
	PREFETCHT0 2048(SI)
	PREFETCHT0 2112(SI)
	PREFETCHT0 2176(SI)
	PREFETCHT0 2240(SI)

	// scales: sub-blocks 0..7 in both lanes of Y10, 8..15 of Y8, as words;
	// then the pair of each step spread by VPSHUFB into Y24..Y31
	VPMOVSXBW 192(SI), Y8
	VPERMQ    $0x44, Y8, Y10
	VPERMQ    $0xee, Y8, Y11
	VPSHUFB   k6vpair<>+0(SB), Y10, Y24
	VPSHUFB   k6vpair<>+32(SB), Y10, Y25
	VPSHUFB   k6vpair<>+64(SB), Y10, Y26
	VPSHUFB   k6vpair<>+96(SB), Y10, Y27
	VPSHUFB   k6vpair<>+0(SB), Y11, Y28
	VPSHUFB   k6vpair<>+32(SB), Y11, Y29
	VPSHUFB   k6vpair<>+64(SB), Y11, Y30
	VPSHUFB   k6vpair<>+96(SB), Y11, Y31
	VPSLLW    $5, Y8, Y8

	// d as a float in X3
	MOVWLZX   208(SI), AX
	VMOVD     AX, X3
	VCVTPH2PS X3, X3

	// levels of elements 0..127 (ql[0..63], qh[0..31]), then 128..255
	VMOVDQU 0(SI), Y1
	VMOVDQU 32(SI), Y2
	VMOVDQU 128(SI), Y11
	Q6KL(Y1, 0, VPSLLW, 4, Y4)
	Q6KL(Y2, 0, VPSLLW, 2, Y5)
	Q6KL(Y1, 4, VPSRLW, 0, Y6)
	Q6KL(Y2, 4, VPSRLW, 2, Y7)
	VMOVDQU 64(SI), Y1
	VMOVDQU 96(SI), Y2
	VMOVDQU 160(SI), Y11
	Q6KL(Y1, 0, VPSLLW, 4, Y20)
	Q6KL(Y2, 0, VPSLLW, 2, Y21)
	Q6KL(Y1, 4, VPSRLW, 0, Y22)
	Q6KL(Y2, 4, VPSRLW, 2, Y23)

	MOVQ DI, DX
	Q6KVEC(0, Y16)
	ADDQ R14, DX
	Q6KVEC(1, Y17)
	ADDQ R14, DX
	Q6KVEC(2, Y18)
	ADDQ R14, DX
	Q6KVEC(3, Y19)

	ADDQ $210, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q64block

	Q6KSUM(Y16, 0)
	Q6KSUM(Y17, 4)
	Q6KSUM(Y18, 8)
	Q6KSUM(Y19, 12)
	ADDQ $16, R10
	ADDQ R9, R11
	DECQ R8
	JNZ  q64row
	VZEROUPPER
	RET

DATA k6v30<>+0(SB)/8, $0x3030303030303030
DATA k6v30<>+8(SB)/8, $0x3030303030303030
DATA k6v30<>+16(SB)/8, $0x3030303030303030
DATA k6v30<>+24(SB)/8, $0x3030303030303030
GLOBL k6v30<>(SB), RODATA|NOPTR, $32

// k6vpair<j>: VPSHUFB control that fills the low lane with word 2j and the
// high lane with word 2j+1 (of a register whose lanes are equal)
DATA k6vpair<>+0(SB)/8, $0x0100010001000100
DATA k6vpair<>+8(SB)/8, $0x0100010001000100
DATA k6vpair<>+16(SB)/8, $0x0302030203020302
DATA k6vpair<>+24(SB)/8, $0x0302030203020302
DATA k6vpair<>+32(SB)/8, $0x0504050405040504
DATA k6vpair<>+40(SB)/8, $0x0504050405040504
DATA k6vpair<>+48(SB)/8, $0x0706070607060706
DATA k6vpair<>+56(SB)/8, $0x0706070607060706
DATA k6vpair<>+64(SB)/8, $0x0908090809080908
DATA k6vpair<>+72(SB)/8, $0x0908090809080908
DATA k6vpair<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k6vpair<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA k6vpair<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k6vpair<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA k6vpair<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA k6vpair<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL k6vpair<>(SB), RODATA|NOPTR, $128

// func dotQ6_KRowsVNNI(w, x *byte, n, rows, stride int, out *float32)
//
// dotQ6_KRows with VPDPWSSD: per 32 levels the VPMADDUBSW word sums are
// multiplied by their sub-blocks' scales and added in one instruction (the
// AVX2 kernel's VPMADDWD and VPADDD), alternately into Y1 and Y3. The
// integer sum is exact and the float steps are the AVX2 kernel's, so the
// results are that kernel's bit for bit.
//
// The levels are put together with VPTERNLOGD (a bitwise select under the
// 0x0f mask in Y15: bits 0-3 from ql, bits 4-7 from qh): qh is masked once
// per 32 bytes into qh&0x33 (Y11) and qh&0xcc (Y6), whose bits 4-7 hold
// after a word shift (<<4, <<2, none, >>2) exactly bits 4-5 of level j and
// zeros, so each 32 levels take a shift or two and one VPTERNLOGD instead
// of two shifts, two ANDs and an OR. Fewer instructions per super-block
// leave more of each row's memory time to overlap the arithmetic.
//
// The stream from memory: PREFETCHT2 3072 bytes ahead, into L2 (not L1: on
// 960 MiB on 2 threads PREFETCHT0 2048 bytes ahead read 66-72% of the
// memory bandwidth and PREFETCHT2 74-78%, T2 at 2048-3584 bytes alike,
// 4096 and beyond worse).

// Q6KTL adds 128 levels (low bits at qa(SI) and qb(SI), high bits at
// qh(SI)) times the activations at x0..x3(DI) and the scale vectors
// s0..s3 to Y1 and Y3. Y14/Y13 are the 0x33/0xcc byte masks. VPTERNLOGD
// $0xd8 keeps bits of its second operand under the mask and of the
// destination elsewhere; $0xe4 the other way round.
#define Q6KTL(qa, qb, qh, x0, x1, x2, x3, s0, s1, s2, s3) \
	VMOVDQU    qa(SI), Y4 \
	VMOVDQU    qb(SI), Y5 \
	VPANDD     qh(SI), Y14, Y11 \
	VPANDD     qh(SI), Y13, Y6 \
	VPSLLW     $4, Y11, Y2 \
	VPTERNLOGD $0xd8, Y15, Y4, Y2 \
	VPMADDUBSW x0(DI), Y2, Y2 \
	VPDPWSSD   s0, Y2, Y1 \
	VPSLLW     $2, Y6, Y7 \
	VPTERNLOGD $0xd8, Y15, Y5, Y7 \
	VPMADDUBSW x1(DI), Y7, Y7 \
	VPDPWSSD   s1, Y7, Y3 \
	VPSRLW     $4, Y4, Y2 \
	VPTERNLOGD $0xe4, Y15, Y11, Y2 \
	VPMADDUBSW x2(DI), Y2, Y2 \
	VPDPWSSD   s2, Y2, Y1 \
	VPSRLW     $4, Y5, Y7 \
	VPSRLW     $2, Y6, Y6 \
	VPTERNLOGD $0xe4, Y15, Y6, Y7 \
	VPMADDUBSW x3(DI), Y7, Y7 \
	VPDPWSSD   s3, Y7, Y3

TEXT ·dotQ6_KRowsVNNI(SB), NOSPLIT, $0-48
	MOVQ    w+0(FP), R11
	MOVQ    x+8(FP), R12
	MOVQ    rows+24(FP), R8
	MOVQ    stride+32(FP), R9
	MOVQ    out+40(FP), R10
	VMOVDQU k4vnib<>(SB), Y15
	VMOVDQU k6v33<>(SB), Y14
	VMOVDQU k6vcc<>(SB), Y13

q6vrow:
	MOVQ   R11, SI
	MOVQ   R12, DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0

q6vblock:
	PREFETCHT2 3072(SI)
	PREFETCHT2 3136(SI)
	PREFETCHT2 3200(SI)
	PREFETCHT2 3264(SI)
	VPMOVSXBW  192(SI), Y8
	VPMADDWD   260(DI), Y8, Y10
	VPSLLD     $5, Y10, Y10
	VPERMQ     $0x44, Y8, Y9
	VPERMQ     $0xee, Y8, Y8
	VPSHUFB    k6vpair<>+0(SB), Y9, Y20
	VPSHUFB    k6vpair<>+32(SB), Y9, Y21
	VPSHUFB    k6vpair<>+64(SB), Y9, Y22
	VPSHUFB    k6vpair<>+96(SB), Y9, Y23
	VPSHUFB    k6vpair<>+0(SB), Y8, Y24
	VPSHUFB    k6vpair<>+32(SB), Y8, Y25
	VPSHUFB    k6vpair<>+64(SB), Y8, Y26
	VPSHUFB    k6vpair<>+96(SB), Y8, Y27
	VPXOR      Y1, Y1, Y1
	VPXOR      Y3, Y3, Y3

	// elements 0..127 (ql[0..63], qh[0..31]), then 128..255
	Q6KTL(0, 32, 128, 4, 36, 68, 100, Y20, Y21, Y22, Y23)
	Q6KTL(64, 96, 160, 132, 164, 196, 228, Y24, Y25, Y26, Y27)

	// acc += (sum - 32*offsets)*(d*dx)
	VPADDD       Y3, Y1, Y1
	VPSUBD       Y10, Y1, Y1
	MOVWLZX      208(SI), AX
	VMOVD        AX, X12
	VCVTPH2PS    X12, X12
	VMULSS       (DI), X12, X12
	VBROADCASTSS X12, Y12
	VCVTDQ2PS    Y1, Y1
	VFMADD231PS  Y12, Y1, Y0

	ADDQ $210, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q6vblock

	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (R10)
	ADDQ         $4, R10
	ADDQ         R9, R11
	DECQ         R8
	JNZ          q6vrow
	VZEROUPPER
	RET

DATA k6v33<>+0(SB)/8, $0x3333333333333333
DATA k6v33<>+8(SB)/8, $0x3333333333333333
DATA k6v33<>+16(SB)/8, $0x3333333333333333
DATA k6v33<>+24(SB)/8, $0x3333333333333333
GLOBL k6v33<>(SB), RODATA|NOPTR, $32

DATA k6vcc<>+0(SB)/8, $0xcccccccccccccccc
DATA k6vcc<>+8(SB)/8, $0xcccccccccccccccc
DATA k6vcc<>+16(SB)/8, $0xcccccccccccccccc
DATA k6vcc<>+24(SB)/8, $0xcccccccccccccccc
GLOBL k6vcc<>(SB), RODATA|NOPTR, $32

// func dotQ4_KRowsVNNI512(w, x *byte, n, rows, stride int, out *float32)
//
// dotQ4_KRowsVNNI on 512-bit registers, for CPUs with AVX-512 VBMI and
// GFNI: the same eight int32 lanes, bit for bit, so the same results as
// dotQ4_KRowsVNNI and dotQ4_KRows4VNNI. A zmm holds the 64 levels of the
// 32 bytes qs[32k..32k+31] (sub-block 2k, their low nibbles, in the low
// half; sub-block 2k+1, the high nibbles, in the high half): the bytes
// are broadcast to both halves by the load, and one GF2P8AFFINEQB (an
// 8x8 bit matrix per qword: the low half keeps bits 0-3, the high half
// moves bits 4-7 down) gives the levels, where the 256-bit kernel spends
// a shift and two ANDs. Their activations are the 64 contiguous bytes
// x[64k..64k+63]. VPMADDUBSW and VPDPWSSD then do per instruction what
// the 256-bit kernel does in two, with the scale vectors built by VPERMB
// (zeroing the odd bytes, so words) from the decoded scale bytes: sc[2k]
// in the low half, sc[2k+1] in the high half. Lane i and lane 8+i of the
// 16 int32 lanes are lanes i of the 256-bit kernel's two sub-block
// chains; their sum is that kernel's lane i, before the same float steps.
//
// On this machine's Xeon (vector ports 0 and 5 for 512-bit work, both
// multiply) the kernel computes from L2 at 26.4-26.6 GB/s against 22.7
// for dotQ4_KRowsVNNI, and streams a model-sized matrix (12 MiB) at
// 0.845-0.849 of the core's read bandwidth against 0.807-0.813
// (kq8 notes).

// KZPFINIT and KZPFSTEP prefetch each line of the weights once, 3072
// bytes ahead into L2 and 1024 ahead into L1 (the one-vector Q8_0 kernel
// does the same; see gemvQ8_0VNNI512). R14 is the next line for L2: set
// at each row start to the line 3072 bytes ahead unless it is already
// past it (rows are usually contiguous, so it runs on across them), it
// advances by the whole lines of a super-block per step (full) and by
// one more whenever it is less than 3072 bytes ahead of the next step
// (step = the super-block's bytes). Prefetches do not fault, so lines
// past the last row are harmless. Clobbers AX.
#define KZPFINIT \
	LEAQ    3072(SI), AX \
	ANDQ    $-64, AX \
	CMPQ    R14, AX \
	CMOVQLT AX, R14

#define KZPFLINE(off) \
	PREFETCHT2 off(R14) \
	PREFETCHT0 (off-2048)(R14)

#define KZPFSTEP(full, step, skip) \
	ADDQ $(64*full), R14 \
	LEAQ (3072+step)(SI), AX \
	CMPQ R14, AX \
	JAE  skip \
	KZPFLINE(0) \
	ADDQ $64, R14 \
skip:

// Q4KZ adds the products of the 64 levels at q(SI) (32 bytes, both
// nibbles) and the 64 activations at x(DI), scaled by s, to acc.
#define Q4KZ(q, x, s, acc) \
	VBROADCASTI64X4 q(SI), Z4 \
	VGF2P8AFFINEQB  $0, Z15, Z4, Z4 \
	VPMADDUBSW      x(DI), Z4, Z4 \
	VPDPWSSD        s, Z4, acc

TEXT ·dotQ4_KRowsVNNI512(SB), NOSPLIT, $40-48
	MOVQ      w+0(FP), R11
	XORQ      R14, R14
	MOVQ      x+8(FP), R12
	MOVQ      rows+24(FP), R8
	MOVQ      stride+32(FP), R9
	MOVQ      out+40(FP), R10
	VMOVDQU64 k4zgf<>(SB), Z15
	VMOVDQU64 k4zsc<>+0(SB), Z16
	VMOVDQU64 k4zsc<>+64(SB), Z17
	VMOVDQU64 k4zsc<>+128(SB), Z18
	VMOVDQU64 k4zsc<>+192(SB), Z19
	VMOVDQU64 k4zmin<>(SB), Y24
	MOVQ      $0x5555555555555555, AX
	KMOVQ     AX, K1

q4zrow:
	MOVQ   R11, SI
	MOVQ   R12, DI
	MOVQ   n+16(FP), CX
	KZPFINIT
	VXORPS Y0, Y0, Y0
	VXORPS Y3, Y3, Y3

q4zblock:
	// PREFETCHT0 2048 (three per super-block) before: the TinyLlama
	// shape's matrices in file order took 3-4% more time on one thread
	KZPFLINE(0)
	KZPFLINE(64)
	KZPFSTEP(2, 144, q4zpf)

	// the scales as in Q4KSCALES into X8 = [sc0..3, m0..3, sc4..7,
	// m4..7]; VPERMB spreads sc[2k], sc[2k+1] into Z20..Z23 and the mins
	// (each twice, as words) into Y10
	MOVQ     4(SI), AX
	MOVL     12(SI), DX
	MOVQ     AX, BX
	SHRQ     $2, BX
	ANDQ     k4vmask<>+8(SB), BX
	ANDQ     k4vmask<>+0(SB), AX
	VMOVQ    AX, X8
	MOVL     DX, R13
	SHRL     $4, R13
	ANDL     $0x0f0f0f0f, DX
	ANDL     $0x0f0f0f0f, R13
	SHLQ     $32, R13
	ORQ      R13, DX
	ORQ      BX, DX
	VPINSRQ  $1, DX, X8, X8
	VPERMB.Z Z8, Z16, K1, Z20
	VPERMB.Z Z8, Z17, K1, Z21
	VPERMB.Z Z8, Z18, K1, Z22
	VPERMB.Z Z8, Z19, K1, Z23
	VPERMB.Z Y8, Y24, K1, Y10
	VPMADDWD 260(DI), Y10, Y10

	VPXORD        Z1, Z1, Z1
	VPXORD        Z2, Z2, Z2
	Q4KZ(16, 4, Z20, Z1)
	Q4KZ(48, 68, Z21, Z2)
	Q4KZ(80, 132, Z22, Z1)
	Q4KZ(112, 196, Z23, Z2)
	VPADDD        Z2, Z1, Z1
	VEXTRACTI64X4 $1, Z1, Y2
	VPADDD        Y2, Y1, Y1

	// the float steps of dotQ4_KRowsVNNI
	VMOVD             0(SI), X12
	VCVTPH2PS         X12, X12
	VMULPS.BCST       (DI), X12, X12
	VMOVQ             X12, 32(SP)
	VCVTDQ2PS         Y1, Y1
	VFMADD231PS.BCST  32(SP), Y1, Y0
	VCVTDQ2PS         Y10, Y10
	VFNMADD231PS.BCST 36(SP), Y10, Y3

	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q4zblock

	VADDPS       Y3, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (R10)
	ADDQ         $4, R10
	ADDQ         R9, R11
	DECQ         R8
	JNZ          q4zrow
	VZEROUPPER
	RET

// GF2P8AFFINEQB matrices (byte 7-j of a qword picks the input bits whose
// parity is output bit j): the low half keeps bits 0-3, the high half
// takes bits 4-7 to 0-3; bits 4-7 of the result are zero
DATA k4zgf<>+0(SB)/8, $0x0102040800000000
DATA k4zgf<>+8(SB)/8, $0x0102040800000000
DATA k4zgf<>+16(SB)/8, $0x0102040800000000
DATA k4zgf<>+24(SB)/8, $0x0102040800000000
DATA k4zgf<>+32(SB)/8, $0x1020408000000000
DATA k4zgf<>+40(SB)/8, $0x1020408000000000
DATA k4zgf<>+48(SB)/8, $0x1020408000000000
DATA k4zgf<>+56(SB)/8, $0x1020408000000000
GLOBL k4zgf<>(SB), RODATA|NOPTR, $64

// VPERMB indices into X8 for the scale words of Q4KZ step k (at 64k):
// sc[2k] in the low half, sc[2k+1] in the high half (odd bytes zeroed)
DATA k4zsc<>+0(SB)/8, $0x0000000000000000
DATA k4zsc<>+8(SB)/8, $0x0000000000000000
DATA k4zsc<>+16(SB)/8, $0x0000000000000000
DATA k4zsc<>+24(SB)/8, $0x0000000000000000
DATA k4zsc<>+32(SB)/8, $0x0101010101010101
DATA k4zsc<>+40(SB)/8, $0x0101010101010101
DATA k4zsc<>+48(SB)/8, $0x0101010101010101
DATA k4zsc<>+56(SB)/8, $0x0101010101010101
DATA k4zsc<>+64(SB)/8, $0x0202020202020202
DATA k4zsc<>+72(SB)/8, $0x0202020202020202
DATA k4zsc<>+80(SB)/8, $0x0202020202020202
DATA k4zsc<>+88(SB)/8, $0x0202020202020202
DATA k4zsc<>+96(SB)/8, $0x0303030303030303
DATA k4zsc<>+104(SB)/8, $0x0303030303030303
DATA k4zsc<>+112(SB)/8, $0x0303030303030303
DATA k4zsc<>+120(SB)/8, $0x0303030303030303
DATA k4zsc<>+128(SB)/8, $0x0808080808080808
DATA k4zsc<>+136(SB)/8, $0x0808080808080808
DATA k4zsc<>+144(SB)/8, $0x0808080808080808
DATA k4zsc<>+152(SB)/8, $0x0808080808080808
DATA k4zsc<>+160(SB)/8, $0x0909090909090909
DATA k4zsc<>+168(SB)/8, $0x0909090909090909
DATA k4zsc<>+176(SB)/8, $0x0909090909090909
DATA k4zsc<>+184(SB)/8, $0x0909090909090909
DATA k4zsc<>+192(SB)/8, $0x0a0a0a0a0a0a0a0a
DATA k4zsc<>+200(SB)/8, $0x0a0a0a0a0a0a0a0a
DATA k4zsc<>+208(SB)/8, $0x0a0a0a0a0a0a0a0a
DATA k4zsc<>+216(SB)/8, $0x0a0a0a0a0a0a0a0a
DATA k4zsc<>+224(SB)/8, $0x0b0b0b0b0b0b0b0b
DATA k4zsc<>+232(SB)/8, $0x0b0b0b0b0b0b0b0b
DATA k4zsc<>+240(SB)/8, $0x0b0b0b0b0b0b0b0b
DATA k4zsc<>+248(SB)/8, $0x0b0b0b0b0b0b0b0b
GLOBL k4zsc<>(SB), RODATA|NOPTR, $256

// VPERMB indices into X8 for the mins m0..m7, each in two words
DATA k4zmin<>+0(SB)/8, $0x0505050504040404
DATA k4zmin<>+8(SB)/8, $0x0707070706060606
DATA k4zmin<>+16(SB)/8, $0x0d0d0d0d0c0c0c0c
DATA k4zmin<>+24(SB)/8, $0x0f0f0f0f0e0e0e0e
GLOBL k4zmin<>(SB), RODATA|NOPTR, $32

// func dotQ6_KRowsVNNI512(w, x *byte, n, rows, stride int, out *float32)
//
// dotQ6_KRowsVNNI on 512-bit registers, for CPUs with AVX-512 VBMI and
// GFNI: the same eight int32 lanes, so bit for bit the same results. Per
// 128 levels (h = 0, 1) one zmm load of ql[64h..64h+63] gives in its low
// nibbles the levels' bits 0-3 of elements 128h+0..63 and in its high
// nibbles those of 128h+64..127, in element order, so their activations
// are contiguous. qh[32h..32h+31] is broadcast to both halves; two
// GF2P8AFFINEQB (a bit matrix per qword) move bits 2j, 2j+1 of each byte
// to bits 4, 5 and clear the rest, j = 0, 1 in the low and high half of
// one, 2, 3 of the other, which the 256-bit kernel does with two ANDs
// and four shifts. One VPTERNLOGD per 64 levels joins the nibble and the
// high bits. Each 128-bit lane of a product holds one sub-block (16
// levels), so VPERMW spreads four of the 16 scale words over the lanes of
// each of the four scale vectors. Lanes i and 8+i of the 16 int32 sums
// fold into the 256-bit kernel's lane i; the -32 offset (through the
// activations' block sums) and the float steps are that kernel's (d*dx
// now computed in all eight lanes at once, the same product).
//
// From L2 the kernel computes at 33.9 GB/s against 29.9 for
// dotQ6_KRowsVNNI; on a model-sized matrix (12 MiB) it reads 0.813 of the
// core's read bandwidth against 0.753 at 2048 columns, 0.840 against 0.823
// at 5632 (kq8 notes).

// Q6KZ adds 128 levels (low bits at ql(SI), high bits at qh(SI)) times
// the activations at xa(DI) (elements 0..63 of the 128) and xb(DI)
// (64..127), scaled by the scale vectors sa and sb, to Z1 and Z3.
// VPTERNLOGD $0xd8 keeps its second operand's bits under the 0x0f mask
// (Z15) and the destination's elsewhere.
#define Q6KZ(ql, qh, xa, xb, sa, sb) \
	VBROADCASTI64X4 qh(SI), Z4 \
	VGF2P8AFFINEQB  $0, Z13, Z4, Z5 \
	VGF2P8AFFINEQB  $0, Z14, Z4, Z4 \
	VMOVDQU64       ql(SI), Z6 \
	VPTERNLOGD      $0xd8, Z15, Z6, Z5 \
	VPSRLW          $4, Z6, Z6 \
	VPTERNLOGD      $0xd8, Z15, Z6, Z4 \
	VPMADDUBSW      xa(DI), Z5, Z5 \
	VPMADDUBSW      xb(DI), Z4, Z4 \
	VPDPWSSD        sa, Z5, Z1 \
	VPDPWSSD        sb, Z4, Z3

TEXT ·dotQ6_KRowsVNNI512(SB), NOSPLIT, $0-48
	MOVQ            w+0(FP), R11
	XORQ            R14, R14
	MOVQ            x+8(FP), R12
	MOVQ            rows+24(FP), R8
	MOVQ            stride+32(FP), R9
	MOVQ            out+40(FP), R10
	VMOVDQU64       k6zg01<>(SB), Z13
	VMOVDQU64       k6zg23<>(SB), Z14
	VBROADCASTI64X4 k4vnib<>(SB), Z15
	VMOVDQU64       k6zperm<>+0(SB), Z16
	VMOVDQU64       k6zperm<>+64(SB), Z17
	VMOVDQU64       k6zperm<>+128(SB), Z18
	VMOVDQU64       k6zperm<>+192(SB), Z19

q6zrow:
	MOVQ   R11, SI
	MOVQ   R12, DI
	MOVQ   n+16(FP), CX
	KZPFINIT
	VXORPS Y0, Y0, Y0

q6zblock:
	// PREFETCHT2 3072 (four per super-block) before: the TinyLlama
	// shape's matrices in file order took 9-10% more time on one thread
	KZPFLINE(0)
	KZPFLINE(64)
	KZPFLINE(128)
	KZPFSTEP(3, 210, q6zpf)

	// the 16 scales as words in Y8 (for the offsets, Y10 = 32*scales .
	// bsums) and spread by VPERMW into Z20..Z23
	VPMOVSXBW 192(SI), Y8
	VPMADDWD  260(DI), Y8, Y10
	VPSLLD    $5, Y10, Y10
	VPERMW    Z8, Z16, Z20
	VPERMW    Z8, Z17, Z21
	VPERMW    Z8, Z18, Z22
	VPERMW    Z8, Z19, Z23

	VPXORD        Z1, Z1, Z1
	VPXORD        Z3, Z3, Z3
	Q6KZ(0, 128, 4, 68, Z20, Z21)
	Q6KZ(64, 160, 132, 196, Z22, Z23)
	VPADDD        Z3, Z1, Z1
	VEXTRACTI64X4 $1, Z1, Y3
	VPADDD        Y3, Y1, Y1

	// acc += (sum - 32*offsets)*(d*dx)
	VPSUBD       Y10, Y1, Y1
	VPBROADCASTW 208(SI), X12
	VCVTPH2PS    X12, Y12
	VMULPS.BCST  (DI), Y12, Y12
	VCVTDQ2PS    Y1, Y1
	VFMADD231PS  Y12, Y1, Y0

	ADDQ $210, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q6zblock

	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (R10)
	ADDQ         $4, R10
	ADDQ         R9, R11
	DECQ         R8
	JNZ          q6zrow
	VZEROUPPER
	RET

// GF2P8AFFINEQB matrices: bits 2j, 2j+1 of a byte to bits 4, 5, the rest
// cleared; j = 0 (low half) and 1 (high half), then 2 and 3
DATA k6zg01<>+0(SB)/8, $0x0000000001020000
DATA k6zg01<>+8(SB)/8, $0x0000000001020000
DATA k6zg01<>+16(SB)/8, $0x0000000001020000
DATA k6zg01<>+24(SB)/8, $0x0000000001020000
DATA k6zg01<>+32(SB)/8, $0x0000000004080000
DATA k6zg01<>+40(SB)/8, $0x0000000004080000
DATA k6zg01<>+48(SB)/8, $0x0000000004080000
DATA k6zg01<>+56(SB)/8, $0x0000000004080000
GLOBL k6zg01<>(SB), RODATA|NOPTR, $64
DATA k6zg23<>+0(SB)/8, $0x0000000010200000
DATA k6zg23<>+8(SB)/8, $0x0000000010200000
DATA k6zg23<>+16(SB)/8, $0x0000000010200000
DATA k6zg23<>+24(SB)/8, $0x0000000010200000
DATA k6zg23<>+32(SB)/8, $0x0000000040800000
DATA k6zg23<>+40(SB)/8, $0x0000000040800000
DATA k6zg23<>+48(SB)/8, $0x0000000040800000
DATA k6zg23<>+56(SB)/8, $0x0000000040800000
GLOBL k6zg23<>(SB), RODATA|NOPTR, $64

// VPERMW indices: word 4k+L of the 16 scale words in 128-bit lane L of
// scale vector k
DATA k6zperm<>+0(SB)/8, $0x0000000000000000
DATA k6zperm<>+8(SB)/8, $0x0000000000000000
DATA k6zperm<>+16(SB)/8, $0x0001000100010001
DATA k6zperm<>+24(SB)/8, $0x0001000100010001
DATA k6zperm<>+32(SB)/8, $0x0002000200020002
DATA k6zperm<>+40(SB)/8, $0x0002000200020002
DATA k6zperm<>+48(SB)/8, $0x0003000300030003
DATA k6zperm<>+56(SB)/8, $0x0003000300030003
DATA k6zperm<>+64(SB)/8, $0x0004000400040004
DATA k6zperm<>+72(SB)/8, $0x0004000400040004
DATA k6zperm<>+80(SB)/8, $0x0005000500050005
DATA k6zperm<>+88(SB)/8, $0x0005000500050005
DATA k6zperm<>+96(SB)/8, $0x0006000600060006
DATA k6zperm<>+104(SB)/8, $0x0006000600060006
DATA k6zperm<>+112(SB)/8, $0x0007000700070007
DATA k6zperm<>+120(SB)/8, $0x0007000700070007
DATA k6zperm<>+128(SB)/8, $0x0008000800080008
DATA k6zperm<>+136(SB)/8, $0x0008000800080008
DATA k6zperm<>+144(SB)/8, $0x0009000900090009
DATA k6zperm<>+152(SB)/8, $0x0009000900090009
DATA k6zperm<>+160(SB)/8, $0x000a000a000a000a
DATA k6zperm<>+168(SB)/8, $0x000a000a000a000a
DATA k6zperm<>+176(SB)/8, $0x000b000b000b000b
DATA k6zperm<>+184(SB)/8, $0x000b000b000b000b
DATA k6zperm<>+192(SB)/8, $0x000c000c000c000c
DATA k6zperm<>+200(SB)/8, $0x000c000c000c000c
DATA k6zperm<>+208(SB)/8, $0x000d000d000d000d
DATA k6zperm<>+216(SB)/8, $0x000d000d000d000d
DATA k6zperm<>+224(SB)/8, $0x000e000e000e000e
DATA k6zperm<>+232(SB)/8, $0x000e000e000e000e
DATA k6zperm<>+240(SB)/8, $0x000f000f000f000f
DATA k6zperm<>+248(SB)/8, $0x000f000f000f000f
GLOBL k6zperm<>(SB), RODATA|NOPTR, $256
