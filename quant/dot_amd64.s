//go:build amd64 && !noasm

#include "textflag.h"

// Each kernel's reference loop is the doc comment of its declaration in
// dot_amd64.go. Every kernel computes `rows` dot products of consecutive
// weight rows (stride bytes apart) with one vector x and stores them to out,
// so that MatVec makes one call per row range. Only VEX encodings are used
// inside the loops, and every kernel ends with VZEROUPPER.
//
// Registers: R11 row start, SI weight cursor, DI x cursor, R12 x base,
// CX per-row counter, R8 rows left, R9 stride, R10 out cursor,
// Y0..Y3 accumulators (dotQ8_0Rows: R13 the next line to prefetch).

// LOADARGS loads the common arguments (w, x, n, rows, stride, out).
#define LOADARGS \
	MOVQ w+0(FP), R11 \
	MOVQ x+8(FP), R12 \
	MOVQ rows+24(FP), R8 \
	MOVQ stride+32(FP), R9 \
	MOVQ out+40(FP), R10

// ROWSTART resets the cursors and accumulators for the next row.
#define ROWSTART \
	MOVQ   R11, SI \
	MOVQ   R12, DI \
	MOVQ   n+16(FP), CX \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
	VXORPS Y2, Y2, Y2 \
	VXORPS Y3, Y3, Y3

// ROWEND sums Y0..Y3 into one float, stores it to out and advances to the
// next row.
#define ROWEND \
	VADDPS       Y1, Y0, Y0 \
	VADDPS       Y3, Y2, Y2 \
	VADDPS       Y2, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X1, X0, X0 \
	VHADDPS      X0, X0, X0 \
	VHADDPS      X0, X0, X0 \
	VMOVSS       X0, (R10) \
	ADDQ         $4, R10 \
	ADDQ         R9, R11 \
	DECQ         R8

// func dotF32Rows(w *byte, x *float32, n, rows, stride int, out *float32)
TEXT ·dotF32Rows(SB), NOSPLIT, $0-48
	LOADARGS
	TESTQ R8, R8
	JZ    f32ret

f32row:
	ROWSTART

f32loop32:
	CMPQ        CX, $32
	JL          f32loop8
	PREFETCHT2  3072(SI) // two lines per step, as in dotF16Rows: 0.74 -> 0.81
	PREFETCHT2  3136(SI)
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         f32loop32

f32loop8:
	CMPQ        CX, $8
	JL          f32done
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         f32loop8

f32done:
	ROWEND
	JNZ f32row

f32ret:
	VZEROUPPER
	RET

// func dotF16Rows(w *byte, x *float32, n, rows, stride int, out *float32)
TEXT ·dotF16Rows(SB), NOSPLIT, $0-48
	LOADARGS
	TESTQ R8, R8
	JZ    f16ret

f16row:
	ROWSTART

f16loop32:
	CMPQ        CX, $32
	JL          f16loop8
	// one 64-byte line per step, 3072 bytes ahead into L2 (as gemvF16512):
	// without it a 1 GiB matrix read at 0.80 of the read bandwidth, with
	// it 0.96 (PREFETCHT0 2048: 0.95; kq1t notes)
	PREFETCHT2  3072(SI)
	VCVTPH2PS   (SI), Y4
	VCVTPH2PS   16(SI), Y5
	VCVTPH2PS   32(SI), Y6
	VCVTPH2PS   48(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $64, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         f16loop32

f16loop8:
	CMPQ        CX, $8
	JL          f16done
	VCVTPH2PS   (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $16, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         f16loop8

f16done:
	ROWEND
	JNZ f16row

f16ret:
	VZEROUPPER
	RET

// func dotBF16Rows(w *byte, x *float32, n, rows, stride int, out *float32)
TEXT ·dotBF16Rows(SB), NOSPLIT, $0-48
	LOADARGS
	TESTQ R8, R8
	JZ    bf16ret

bf16row:
	ROWSTART

bf16loop32:
	CMPQ        CX, $32
	JL          bf16loop8
	PREFETCHT2  3072(SI) // as in dotF16Rows: 0.70 -> 0.87 of the read bandwidth
	VPMOVZXWD   (SI), Y4
	VPMOVZXWD   16(SI), Y5
	VPMOVZXWD   32(SI), Y6
	VPMOVZXWD   48(SI), Y7
	VPSLLD      $16, Y4, Y4
	VPSLLD      $16, Y5, Y5
	VPSLLD      $16, Y6, Y6
	VPSLLD      $16, Y7, Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $64, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         bf16loop32

bf16loop8:
	CMPQ        CX, $8
	JL          bf16done
	VPMOVZXWD   (SI), Y4
	VPSLLD      $16, Y4, Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $16, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         bf16loop8

bf16done:
	ROWEND
	JNZ bf16row

bf16ret:
	VZEROUPPER
	RET

// Q8BLOCK accumulates one block: the weight quants (signed bytes, in Y4)
// times the x block's quants at xq, scaled by fp16(wd) * fp16(xd), into acc.
// Y15 holds sixteen int16 ones. Clobbers Y5..Y10.
//   |w| (unsigned) * (x with w's sign) -> VPMADDUBSW: 16 int16 pair sums
//   (at most 2*128*127, no saturation since x is never -128)
//   VPMADDWD with ones -> 8 int32, VCVTDQ2PS -> 8 floats
//   scales: broadcast both fp16 scales, VCVTPH2PS, multiply, FMA into acc.
#define Q8BLOCK(wd, xq, xd, acc) \
	VMOVDQU      xq, Y5 \
	VPSIGNB      Y4, Y4, Y6 \
	VPSIGNB      Y4, Y5, Y7 \
	VPMADDUBSW   Y7, Y6, Y8 \
	VPMADDWD     Y15, Y8, Y8 \
	VCVTDQ2PS    Y8, Y8 \
	VPBROADCASTW wd, X9 \
	VPBROADCASTW xd, X10 \
	VCVTPH2PS    X9, Y9 \
	VCVTPH2PS    X10, Y10 \
	VMULPS       Y10, Y9, Y9 \
	VFMADD231PS  Y9, Y8, acc

// GATHER4 packs four fp16 values from memory into the 64-bit register reg
// (m0 in the low 16 bits). Clobbers BX.
#define GATHER4(m0, m1, m2, m3, reg) \
	MOVWQZX m0, reg \
	MOVWQZX m1, BX \
	SHLQ    $16, BX \
	ORQ     BX, reg \
	MOVWQZX m2, BX \
	SHLQ    $32, BX \
	ORQ     BX, reg \
	MOVWQZX m3, BX \
	SHLQ    $48, BX \
	ORQ     BX, reg

// SCALES4 converts the weight scales w0..w3 and activation scales x0..x3 of
// four blocks with one VCVTPH2PS each, and stores the four products
// fp16(wk)*fp16(xk) as float32 to 0(SP)..12(SP). Clobbers AX, BX, DX, X9, X10.
#define SCALES4(w0, w1, w2, w3, x0, x1, x2, x3) \
	GATHER4(w0, w1, w2, w3, AX) \
	GATHER4(x0, x1, x2, x3, DX) \
	VMOVQ     AX, X9 \
	VMOVQ     DX, X10 \
	VCVTPH2PS X9, X9 \
	VCVTPH2PS X10, X10 \
	VMULPS    X10, X9, X9 \
	VMOVUPS   X9, 0(SP)

// QDOT accumulates one block whose weight quants are in Y4 (signed bytes)
// against the x quants at xq, scaled by the float32 at soff(SP), into acc.
// Clobbers Y5..Y9.
#define QDOT(xq, soff, acc) \
	VMOVDQU      xq, Y5 \
	VPSIGNB      Y4, Y4, Y6 \
	VPSIGNB      Y4, Y5, Y7 \
	VPMADDUBSW   Y7, Y6, Y8 \
	VPMADDWD     Y15, Y8, Y8 \
	VCVTDQ2PS    Y8, Y8 \
	VBROADCASTSS soff(SP), Y9 \
	VFMADD231PS  Y9, Y8, acc

// func dotQ8_0Rows(w, x *byte, n, rows, stride int, out *float32)
// n counts blocks. Four blocks per iteration, then one at a time.
TEXT ·dotQ8_0Rows(SB), NOSPLIT, $16-48
	LOADARGS
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15
	XORQ     R13, R13
	TESTQ    R8, R8
	JZ       q8ret

q8row:
	ROWSTART
	LEAQ    3072(SI), AX
	ANDQ    $-64, AX
	CMPQ    R13, AX
	CMOVQLT AX, R13

q8loop4:
	CMPQ    CX, $4
	JL      q8loop1
	// Each line of the weights once, 3072 bytes ahead into L2 and 1024
	// into L1, as gemvQ8_0VNNI512 does (R13 the next line for L2, set at
	// each row start unless already past, a third line when two per
	// 136-byte step leave it less than 3072 bytes ahead). Three
	// PREFETCHT0 2048 per step before: the TinyLlama shape's matrices in
	// file order took 6-19% more time on one thread.
	PREFETCHT2 (R13)
	PREFETCHT0 -2048(R13)
	PREFETCHT2 64(R13)
	PREFETCHT0 -1984(R13)
	ADDQ       $128, R13
	LEAQ       3208(SI), AX
	CMPQ       R13, AX
	JAE        q8pf
	PREFETCHT2 (R13)
	PREFETCHT0 -2048(R13)
	ADDQ       $64, R13

q8pf:
	SCALES4(0(SI), 34(SI), 68(SI), 102(SI), 0(DI), 34(DI), 68(DI), 102(DI))
	VMOVDQU 2(SI), Y4
	QDOT(2(DI), 0, Y0)
	VMOVDQU 36(SI), Y4
	QDOT(36(DI), 4, Y1)
	VMOVDQU 70(SI), Y4
	QDOT(70(DI), 8, Y2)
	VMOVDQU 104(SI), Y4
	QDOT(104(DI), 12, Y3)
	ADDQ    $136, SI
	ADDQ    $136, DI
	SUBQ    $4, CX
	JMP     q8loop4

q8loop1:
	CMPQ    CX, $1
	JL      q8done
	VMOVDQU 2(SI), Y4
	Q8BLOCK((SI), 2(DI), (DI), Y0)
	ADDQ    $34, SI
	ADDQ    $34, DI
	DECQ    CX
	JMP     q8loop1

q8done:
	ROWEND
	JNZ q8row

q8ret:
	VZEROUPPER
	RET

// Q4UNPACK expands the 16 nibble bytes at src into 32 signed bytes in Y4:
// low nibbles (weights 0..15) in the low lane, high nibbles (16..31) in the
// high lane, each minus 8. Y14 holds 0x0f bytes, Y13 holds 0x08 bytes.
#define Q4UNPACK(src) \
	VMOVDQU     src, X4 \
	VPSRLW      $4, X4, X5 \
	VINSERTI128 $1, X5, Y4, Y4 \
	VPAND       Y14, Y4, Y4 \
	VPSUBB      Y13, Y4, Y4

// Q4DOT accumulates one Q4_0 block (nibbles at wq) against the x quants at
// xq, scaled by the float32 at soff(SP), into acc, with unsigned nibbles:
//   VBROADCASTI128 + VPSRLVQ by (0,0,4,4) + VPAND 0x0f: nibbles n, 0..15
//   VPMADDUBSW(n, x) - VPMADDUBSW(8, x) = pair sums of (n-8)*x (int16,
//   at most 2*15*127), then VPMADDWD with ones, VCVTDQ2PS, FMA.
// Y12 holds the quadword shift counts (0,0,4,4), Y13 0x08 bytes, Y14 0x0f
// bytes, Y15 int16 ones. Clobbers Y4..Y9.
#define Q4DOT(wq, xq, soff, acc) \
	VBROADCASTI128 wq, Y4 \
	VPSRLVQ        Y12, Y4, Y4 \
	VPAND          Y14, Y4, Y4 \
	VMOVDQU        xq, Y5 \
	VPMADDUBSW     Y5, Y4, Y6 \
	VPMADDUBSW     Y5, Y13, Y7 \
	VPSUBW         Y7, Y6, Y6 \
	VPMADDWD       Y15, Y6, Y6 \
	VCVTDQ2PS      Y6, Y6 \
	VBROADCASTSS   soff(SP), Y9 \
	VFMADD231PS    Y9, Y6, acc

// func dotQ4_0Rows(w, x *byte, n, rows, stride int, out *float32)
// n counts blocks. Four blocks per iteration, then one at a time.
TEXT ·dotQ4_0Rows(SB), NOSPLIT, $16-48
	LOADARGS
	VPCMPEQW     Y15, Y15, Y15
	VPSRLW       $15, Y15, Y15
	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $0x08080808, AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13
	MOVQ         $4, AX
	VMOVQ        AX, X12
	VPBROADCASTQ X12, Y12
	VPXOR        X11, X11, X11
	VPBLENDD     $0x0f, Y11, Y12, Y12
	TESTQ        R8, R8
	JZ           q4ret

q4row:
	ROWSTART

q4loop4:
	CMPQ CX, $4
	JL   q4loop1
	PREFETCHT0 2048(SI)
	PREFETCHT0 2112(SI)
	SCALES4(0(SI), 18(SI), 36(SI), 54(SI), 0(DI), 34(DI), 68(DI), 102(DI))
	Q4DOT(2(SI), 2(DI), 0, Y0)
	Q4DOT(20(SI), 36(DI), 4, Y1)
	Q4DOT(38(SI), 70(DI), 8, Y2)
	Q4DOT(56(SI), 104(DI), 12, Y3)
	ADDQ $72, SI
	ADDQ $136, DI
	SUBQ $4, CX
	JMP  q4loop4

q4loop1:
	CMPQ CX, $1
	JL   q4done
	Q4UNPACK(2(SI))
	Q8BLOCK((SI), 2(DI), (DI), Y0)
	ADDQ $18, SI
	ADDQ $34, DI
	DECQ CX
	JMP  q4loop1

q4done:
	ROWEND
	JNZ q4row

q4ret:
	VZEROUPPER
	RET

