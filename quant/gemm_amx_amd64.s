//go:build amd64 && !noasm

#include "textflag.h"

// The AMX tile kernel of gemm_amx_amd64.go (reference loop and layout
// there). The Go assembler has no AMX mnemonics: the tile instructions
// are written as bytes (their VEX encodings in the Intel SDM), with fixed
// registers: SI the weights' quants (rows DX bytes apart), DI the batch's
// B tiles (rows CX = 32 bytes apart), AX the C tiles in the scratch (rows
// BX = 64 bytes apart), BX the tile configuration when it is loaded.
//
// Tiles: tmm0, tmm1 the weights of a pair of blocks (16 rows x 32
// quants), tmm2, tmm3 their B tiles (the eight vectors' quants), tmm4,
// tmm5 the sums of the even pairs, tmm6, tmm7 of the odd ones. Tile
// registers are not renamed, so the loop is software-pipelined: the tile
// products of one pair run while the float work of the pair before reads
// that pair's sums from the scratch (0(AX) for even pairs, 1024(AX) for
// odd ones). Without this the kernel ran 1.4x slower.
//
// Vector registers: Z0..Z15 row r's sums (lanes 0-7 the vectors' over
// the even blocks, 8-15 over the odd ones), Z16 the rows' offsets r*rb,
// Z19, Z20 rows 0-7's and 8-15's scales of the pair (float 2r: block 2p,
// 2r+1: block 2p+1), Z21 the vectors' scales of the pair, Z23, Z25..Z31
// the permutations that spread row r's two scales (amxidx), K4 the rows
// of the group (all 16 but in the last group).

#define LDTILECFG_BX \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x78 \
	BYTE $0x49 \
	BYTE $0x03

#define TILERELEASE \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x78 \
	BYTE $0x49 \
	BYTE $0xC0

// TILELOADD tmm0, (SI)(DX*1): block 2p's quants of 16 rows; TILELOADD
// tmm1, 34(SI)(DX*1): block 2p+1's.
#define LOAD_A \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7B \
	BYTE $0x4B \
	BYTE $0x04 \
	BYTE $0x16 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7B \
	BYTE $0x4B \
	BYTE $0x4C \
	BYTE $0x16 \
	BYTE $0x22

// TILELOADD tmm2, (DI)(CX*1); TILELOADD tmm3, 256(DI)(CX*1): the two
// blocks' B tiles.
#define LOAD_B \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7B \
	BYTE $0x4B \
	BYTE $0x14 \
	BYTE $0x0F \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7B \
	BYTE $0x4B \
	BYTE $0x9C \
	BYTE $0x0F \
	BYTE $0x00 \
	BYTE $0x01 \
	BYTE $0x00 \
	BYTE $0x00

// TILEZERO tmm4, tmm5; TDPBSSD tmm4, tmm0, tmm2; TDPBSSD tmm5, tmm1, tmm3.
#define DOT45 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7B \
	BYTE $0x49 \
	BYTE $0xE0 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7B \
	BYTE $0x49 \
	BYTE $0xE8 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x6B \
	BYTE $0x5E \
	BYTE $0xE0 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x63 \
	BYTE $0x5E \
	BYTE $0xE9

// The same into tmm6, tmm7.
#define DOT67 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7B \
	BYTE $0x49 \
	BYTE $0xF0 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7B \
	BYTE $0x49 \
	BYTE $0xF8 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x6B \
	BYTE $0x5E \
	BYTE $0xF0 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x63 \
	BYTE $0x5E \
	BYTE $0xF9

// TILESTORED (AX)(BX*1), tmm4; TILESTORED 32(AX)(BX*1), tmm5: row r of the
// C scratch is [block 2p's 8 sums | block 2p+1's].
#define STORE_C45 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7A \
	BYTE $0x4B \
	BYTE $0x24 \
	BYTE $0x18 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7A \
	BYTE $0x4B \
	BYTE $0x6C \
	BYTE $0x18 \
	BYTE $0x20

// TILESTORED 1024(AX)(BX*1), tmm6; TILESTORED 1056(AX)(BX*1), tmm7.
#define STORE_C67 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7A \
	BYTE $0x4B \
	BYTE $0xB4 \
	BYTE $0x18 \
	BYTE $0x00 \
	BYTE $0x04 \
	BYTE $0x00 \
	BYTE $0x00 \
	BYTE $0xC4 \
	BYTE $0xE2 \
	BYTE $0x7A \
	BYTE $0x4B \
	BYTE $0xBC \
	BYTE $0x18 \
	BYTE $0x20 \
	BYTE $0x04 \
	BYTE $0x00 \
	BYTE $0x00

// amxidx r picks float 2r into lanes 0-7 and float 2r+1 into lanes 8-15.
DATA amxidx<>+0(SB)/4, $0
DATA amxidx<>+4(SB)/4, $0
DATA amxidx<>+8(SB)/4, $0
DATA amxidx<>+12(SB)/4, $0
DATA amxidx<>+16(SB)/4, $0
DATA amxidx<>+20(SB)/4, $0
DATA amxidx<>+24(SB)/4, $0
DATA amxidx<>+28(SB)/4, $0
DATA amxidx<>+32(SB)/4, $1
DATA amxidx<>+36(SB)/4, $1
DATA amxidx<>+40(SB)/4, $1
DATA amxidx<>+44(SB)/4, $1
DATA amxidx<>+48(SB)/4, $1
DATA amxidx<>+52(SB)/4, $1
DATA amxidx<>+56(SB)/4, $1
DATA amxidx<>+60(SB)/4, $1
DATA amxidx<>+64(SB)/4, $2
DATA amxidx<>+68(SB)/4, $2
DATA amxidx<>+72(SB)/4, $2
DATA amxidx<>+76(SB)/4, $2
DATA amxidx<>+80(SB)/4, $2
DATA amxidx<>+84(SB)/4, $2
DATA amxidx<>+88(SB)/4, $2
DATA amxidx<>+92(SB)/4, $2
DATA amxidx<>+96(SB)/4, $3
DATA amxidx<>+100(SB)/4, $3
DATA amxidx<>+104(SB)/4, $3
DATA amxidx<>+108(SB)/4, $3
DATA amxidx<>+112(SB)/4, $3
DATA amxidx<>+116(SB)/4, $3
DATA amxidx<>+120(SB)/4, $3
DATA amxidx<>+124(SB)/4, $3
DATA amxidx<>+128(SB)/4, $4
DATA amxidx<>+132(SB)/4, $4
DATA amxidx<>+136(SB)/4, $4
DATA amxidx<>+140(SB)/4, $4
DATA amxidx<>+144(SB)/4, $4
DATA amxidx<>+148(SB)/4, $4
DATA amxidx<>+152(SB)/4, $4
DATA amxidx<>+156(SB)/4, $4
DATA amxidx<>+160(SB)/4, $5
DATA amxidx<>+164(SB)/4, $5
DATA amxidx<>+168(SB)/4, $5
DATA amxidx<>+172(SB)/4, $5
DATA amxidx<>+176(SB)/4, $5
DATA amxidx<>+180(SB)/4, $5
DATA amxidx<>+184(SB)/4, $5
DATA amxidx<>+188(SB)/4, $5
DATA amxidx<>+192(SB)/4, $6
DATA amxidx<>+196(SB)/4, $6
DATA amxidx<>+200(SB)/4, $6
DATA amxidx<>+204(SB)/4, $6
DATA amxidx<>+208(SB)/4, $6
DATA amxidx<>+212(SB)/4, $6
DATA amxidx<>+216(SB)/4, $6
DATA amxidx<>+220(SB)/4, $6
DATA amxidx<>+224(SB)/4, $7
DATA amxidx<>+228(SB)/4, $7
DATA amxidx<>+232(SB)/4, $7
DATA amxidx<>+236(SB)/4, $7
DATA amxidx<>+240(SB)/4, $7
DATA amxidx<>+244(SB)/4, $7
DATA amxidx<>+248(SB)/4, $7
DATA amxidx<>+252(SB)/4, $7
DATA amxidx<>+256(SB)/4, $8
DATA amxidx<>+260(SB)/4, $8
DATA amxidx<>+264(SB)/4, $8
DATA amxidx<>+268(SB)/4, $8
DATA amxidx<>+272(SB)/4, $8
DATA amxidx<>+276(SB)/4, $8
DATA amxidx<>+280(SB)/4, $8
DATA amxidx<>+284(SB)/4, $8
DATA amxidx<>+288(SB)/4, $9
DATA amxidx<>+292(SB)/4, $9
DATA amxidx<>+296(SB)/4, $9
DATA amxidx<>+300(SB)/4, $9
DATA amxidx<>+304(SB)/4, $9
DATA amxidx<>+308(SB)/4, $9
DATA amxidx<>+312(SB)/4, $9
DATA amxidx<>+316(SB)/4, $9
DATA amxidx<>+320(SB)/4, $10
DATA amxidx<>+324(SB)/4, $10
DATA amxidx<>+328(SB)/4, $10
DATA amxidx<>+332(SB)/4, $10
DATA amxidx<>+336(SB)/4, $10
DATA amxidx<>+340(SB)/4, $10
DATA amxidx<>+344(SB)/4, $10
DATA amxidx<>+348(SB)/4, $10
DATA amxidx<>+352(SB)/4, $11
DATA amxidx<>+356(SB)/4, $11
DATA amxidx<>+360(SB)/4, $11
DATA amxidx<>+364(SB)/4, $11
DATA amxidx<>+368(SB)/4, $11
DATA amxidx<>+372(SB)/4, $11
DATA amxidx<>+376(SB)/4, $11
DATA amxidx<>+380(SB)/4, $11
DATA amxidx<>+384(SB)/4, $12
DATA amxidx<>+388(SB)/4, $12
DATA amxidx<>+392(SB)/4, $12
DATA amxidx<>+396(SB)/4, $12
DATA amxidx<>+400(SB)/4, $12
DATA amxidx<>+404(SB)/4, $12
DATA amxidx<>+408(SB)/4, $12
DATA amxidx<>+412(SB)/4, $12
DATA amxidx<>+416(SB)/4, $13
DATA amxidx<>+420(SB)/4, $13
DATA amxidx<>+424(SB)/4, $13
DATA amxidx<>+428(SB)/4, $13
DATA amxidx<>+432(SB)/4, $13
DATA amxidx<>+436(SB)/4, $13
DATA amxidx<>+440(SB)/4, $13
DATA amxidx<>+444(SB)/4, $13
DATA amxidx<>+448(SB)/4, $14
DATA amxidx<>+452(SB)/4, $14
DATA amxidx<>+456(SB)/4, $14
DATA amxidx<>+460(SB)/4, $14
DATA amxidx<>+464(SB)/4, $14
DATA amxidx<>+468(SB)/4, $14
DATA amxidx<>+472(SB)/4, $14
DATA amxidx<>+476(SB)/4, $14
DATA amxidx<>+480(SB)/4, $15
DATA amxidx<>+484(SB)/4, $15
DATA amxidx<>+488(SB)/4, $15
DATA amxidx<>+492(SB)/4, $15
DATA amxidx<>+496(SB)/4, $15
DATA amxidx<>+500(SB)/4, $15
DATA amxidx<>+504(SB)/4, $15
DATA amxidx<>+508(SB)/4, $15
GLOBL amxidx<>(SB), RODATA|NOPTR, $512

// amxcol is the offsets of the 16 rows' sums in the scratch (32 bytes apart).
DATA amxcol<>+0(SB)/4, $0
DATA amxcol<>+4(SB)/4, $32
DATA amxcol<>+8(SB)/4, $64
DATA amxcol<>+12(SB)/4, $96
DATA amxcol<>+16(SB)/4, $128
DATA amxcol<>+20(SB)/4, $160
DATA amxcol<>+24(SB)/4, $192
DATA amxcol<>+28(SB)/4, $224
DATA amxcol<>+32(SB)/4, $256
DATA amxcol<>+36(SB)/4, $288
DATA amxcol<>+40(SB)/4, $320
DATA amxcol<>+44(SB)/4, $352
DATA amxcol<>+48(SB)/4, $384
DATA amxcol<>+52(SB)/4, $416
DATA amxcol<>+56(SB)/4, $448
DATA amxcol<>+60(SB)/4, $480
GLOBL amxcol<>(SB), RODATA|NOPTR, $64

// PREFETCH_NEXT asks for 1088 bytes (16 rows x 2 blocks) of the next
// group's rows at R8 and advances R8: the group streams in while this one
// is computed (the rows are one contiguous run). 0.237 -> 0.208 ns per
// block and vector on a 32000x768 matrix. Only where there is a next
// group: gemmQ4_0AMX's panels are one group, already in the caches, and
// their 17 prefetches per pair cost 8-10% there.
#define PREFETCH_NEXT \
	PREFETCHT0 0(R8) \
	PREFETCHT0 64(R8) \
	PREFETCHT0 128(R8) \
	PREFETCHT0 192(R8) \
	PREFETCHT0 256(R8) \
	PREFETCHT0 320(R8) \
	PREFETCHT0 384(R8) \
	PREFETCHT0 448(R8) \
	PREFETCHT0 512(R8) \
	PREFETCHT0 576(R8) \
	PREFETCHT0 640(R8) \
	PREFETCHT0 704(R8) \
	PREFETCHT0 768(R8) \
	PREFETCHT0 832(R8) \
	PREFETCHT0 896(R8) \
	PREFETCHT0 960(R8) \
	PREFETCHT0 1024(R8) \
	ADDQ $1088, R8

// AMXPAIR runs the tile products of the pair at SI, DI into the C scratch
// (dot and store: DOT45 and STORE_C45, or DOT67 and STORE_C67) and
// advances to the next pair. (PREFETCH_NEXT follows it where another
// group of rows follows this one: R12 > 16.)
#define AMXPAIR(dot, store) \
	LOAD_A \
	LOAD_B \
	dot \
	store \
	ADDQ $68, SI \
	ADDQ $576, DI \
	DECQ R10

// AMXROW adds row r's sums of the pair (C scratch at c(AX)) times the
// products of the scales into acc: Z24 = [row r's scale of block 2p x8 |
// of block 2p+1 x8] (from tbl by idx) times Z21.
#define AMXROW(c, tbl, idx, acc) \
	VCVTDQ2PS   c(AX), Z22 \
	VPERMPS     tbl, idx, Z24 \
	VMULPS      Z21, Z24, Z24 \
	VFMADD231PS Z24, Z22, acc

// AMXEPI adds the sums of the pair two behind SI and DI (the one before
// the pair AMXPAIR just ran), in the C scratch at c(AX): the rows' scales
// of its two blocks gathered as fp16 pairs (dword r = block 2p's | block
// 2p+1's << 16) and widened into Z19, Z20; the vectors' from the layout.
#define AMXEPI(c) \
	VPXORD        Z17, Z17, Z17 \
	VPXORD        Z18, Z18, Z18 \
	KMOVW         K4, K1 \
	VPGATHERDD    -138(SI)(Z16*1), K1, Z17 \
	KMOVW         K4, K2 \
	VPGATHERDD    -104(SI)(Z16*1), K2, Z18 \
	VPSLLD        $16, Z18, Z18 \
	VPBLENDMW     Z18, Z17, K3, Z17 \
	VCVTPH2PS     Y17, Z19 \
	VEXTRACTI64X4 $1, Z17, Y18 \
	VCVTPH2PS     Y18, Z20 \
	VMOVUPS       -640(DI), Z21 \
	AMXROW(c+0, Z19, Z23, Z0) \
	AMXROW(c+64, Z19, Z25, Z1) \
	AMXROW(c+128, Z19, Z26, Z2) \
	AMXROW(c+192, Z19, Z27, Z3) \
	AMXROW(c+256, Z19, Z28, Z4) \
	AMXROW(c+320, Z19, Z29, Z5) \
	AMXROW(c+384, Z19, Z30, Z6) \
	AMXROW(c+448, Z19, Z31, Z7) \
	AMXROW(c+512, Z20, Z23, Z8) \
	AMXROW(c+576, Z20, Z25, Z9) \
	AMXROW(c+640, Z20, Z26, Z10) \
	AMXROW(c+704, Z20, Z27, Z11) \
	AMXROW(c+768, Z20, Z28, Z12) \
	AMXROW(c+832, Z20, Z29, Z13) \
	AMXROW(c+896, Z20, Z30, Z14) \
	AMXROW(c+960, Z20, Z31, Z15)

// AMXSUM adds the halves of row r's sums (acc, its lower half y) and
// stores them to the scratch at 2048+32r.
#define AMXSUM(r, acc, y) \
	VEXTRACTF32X8 $1, acc, Y22 \
	VADDPS        Y22, y, y \
	VMOVUPS       y, (2048+32*r)(AX)

// AMXSTORE gathers vector t's sums of the group's rows from the scratch
// and stores them to outs[t] (the rows of K4), adding what is there in
// the rows of K5 (K4 if acc, else none).
#define AMXSTORE(t) \
	KXNORW     K1, K1, K1 \
	VGATHERDPS (2048+4*t)(AX)(Z17*1), K1, Z18 \
	MOVQ       (8*t)(R13), R11 \
	VADDPS     (R11)(R15*1), Z18, K5, Z18 \
	VMOVUPS    Z18, K4, (R11)(R15*1)

// func gemmQ8_0AMXV8(w *byte, rb, rows int, xa *byte, npairs, nv int, outs *[8]*float32, scr *amxScratch, acc bool)
TEXT ·gemmQ8_0AMXV8(SB), NOSPLIT, $0-65
	MOVQ      scr+56(FP), BX
	LDTILECFG_BX
	LEAQ      128(BX), AX
	VMOVDQU32 2560(AX), Z16
	VMOVDQU32 amxidx<>+0(SB), Z23
	VMOVDQU32 amxidx<>+64(SB), Z25
	VMOVDQU32 amxidx<>+128(SB), Z26
	VMOVDQU32 amxidx<>+192(SB), Z27
	VMOVDQU32 amxidx<>+256(SB), Z28
	VMOVDQU32 amxidx<>+320(SB), Z29
	VMOVDQU32 amxidx<>+384(SB), Z30
	VMOVDQU32 amxidx<>+448(SB), Z31
	MOVL      $0xAAAAAAAA, R11
	KMOVD     R11, K3
	MOVL      $0xFFFF, R11
	KMOVW     R11, K4
	MOVQ      w+0(FP), R9
	MOVQ      rb+8(FP), DX
	MOVQ      rows+16(FP), R12
	MOVQ      outs+48(FP), R13
	XORQ      R15, R15
	MOVQ      $32, CX
	MOVQ      $64, BX

gemmQ8_0AMXV8_group:
	CMPQ R12, $16
	JGE  gemmQ8_0AMXV8_full
	// the last group, of R12 < 16 rows: its configuration and row mask
	MOVQ  scr+56(FP), BX
	ADDQ  $64, BX
	LDTILECFG_BX
	MOVQ  $64, BX
	MOVQ  R12, CX
	MOVL  $1, R11
	SHLL  CX, R11
	DECL  R11
	KMOVW R11, K4
	MOVQ  $32, CX

gemmQ8_0AMXV8_full:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	LEAQ 2(R9), SI
	MOVQ xa+24(FP), DI
	MOVQ npairs+32(FP), R10
	MOVQ DX, R8
	SHLQ $4, R8
	ADDQ R9, R8

	// npairs is even: pair 0, then per step the next two pairs, each
	// while the float work of the one before it runs
	AMXPAIR(DOT45, STORE_C45)
	CMPQ R12, $16
	JLE  gemmQ8_0AMXV8_pair
	PREFETCH_NEXT

gemmQ8_0AMXV8_pair:
	AMXPAIR(DOT67, STORE_C67)
	CMPQ R12, $16
	JLE  gemmQ8_0AMXV8_epi0
	PREFETCH_NEXT

gemmQ8_0AMXV8_epi0:
	AMXEPI(0)
	TESTQ R10, R10
	JZ    gemmQ8_0AMXV8_last
	AMXPAIR(DOT45, STORE_C45)
	CMPQ R12, $16
	JLE  gemmQ8_0AMXV8_epi1
	PREFETCH_NEXT

gemmQ8_0AMXV8_epi1:
	AMXEPI(1024)
	JMP   gemmQ8_0AMXV8_pair

gemmQ8_0AMXV8_last:
	// the last (odd) pair, one behind SI and DI: moved on one, so that
	// AMXEPI finds it two behind
	ADDQ $68, SI
	ADDQ $576, DI
	AMXEPI(1024)

	// row r's sums of the two halves, then vector t's 16 (or R12) rows
	// to outs[t], t < nv
	AMXSUM(0, Z0, Y0)
	AMXSUM(1, Z1, Y1)
	AMXSUM(2, Z2, Y2)
	AMXSUM(3, Z3, Y3)
	AMXSUM(4, Z4, Y4)
	AMXSUM(5, Z5, Y5)
	AMXSUM(6, Z6, Y6)
	AMXSUM(7, Z7, Y7)
	AMXSUM(8, Z8, Y8)
	AMXSUM(9, Z9, Y9)
	AMXSUM(10, Z10, Y10)
	AMXSUM(11, Z11, Y11)
	AMXSUM(12, Z12, Y12)
	AMXSUM(13, Z13, Y13)
	AMXSUM(14, Z14, Y14)
	AMXSUM(15, Z15, Y15)
	VMOVDQU32 amxcol<>(SB), Z17
	MOVBLZX   acc+64(FP), R11
	NEGL      R11
	KMOVW     R11, K5
	KANDW     K4, K5, K5
	MOVQ      nv+40(FP), R14
	AMXSTORE(0)
	CMPQ R14, $1
	JLE  gemmQ8_0AMXV8_stored
	AMXSTORE(1)
	CMPQ R14, $2
	JLE  gemmQ8_0AMXV8_stored
	AMXSTORE(2)
	CMPQ R14, $3
	JLE  gemmQ8_0AMXV8_stored
	AMXSTORE(3)
	CMPQ R14, $4
	JLE  gemmQ8_0AMXV8_stored
	AMXSTORE(4)
	CMPQ R14, $5
	JLE  gemmQ8_0AMXV8_stored
	AMXSTORE(5)
	CMPQ R14, $6
	JLE  gemmQ8_0AMXV8_stored
	AMXSTORE(6)
	CMPQ R14, $7
	JLE  gemmQ8_0AMXV8_stored
	AMXSTORE(7)

gemmQ8_0AMXV8_stored:
	ADDQ  $64, R15
	MOVQ  DX, R11
	SHLQ  $4, R11
	ADDQ  R11, R9
	SUBQ  $16, R12
	JG    gemmQ8_0AMXV8_group
	TILERELEASE
	VZEROUPPER
	RET

// Q4Q8 converts the Q4_0 block at SI to a Q8_0 block at DI: the scale
// copied, the low nibbles (minus 8) then the high ones; Y15 holds 0x0f
// bytes, Y14 8s.
#define Q4Q8(soff, doff) \
	MOVWLZX    soff(SI), R11 \
	MOVW       R11, doff(DI) \
	VMOVDQU    (soff+2)(SI), X0 \
	VPSRLW     $4, X0, X1 \
	VINSERTI128 $1, X1, Y0, Y0 \
	VPAND      Y15, Y0, Y0 \
	VPSUBB     Y14, Y0, Y0 \
	VMOVDQU    Y0, (doff+2)(DI)

DATA q4q8nib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA q4q8nib<>+8(SB)/8, $0x0808080808080808
GLOBL q4q8nib<>(SB), RODATA|NOPTR, $16

// func cvtQ4_0Q8(dst *byte, rows *[16]*byte, k0, n, stride int)
TEXT ·cvtQ4_0Q8(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), R8
	MOVQ         rows+8(FP), R9
	MOVQ         k0+16(FP), R10
	IMUL3Q       $18, R10, R10
	MOVQ         stride+32(FP), R12
	VPBROADCASTB q4q8nib<>+0(SB), Y15
	VPBROADCASTB q4q8nib<>+8(SB), Y14
	MOVQ         $16, R13

cvtq4q8_row:
	MOVQ (R9), SI
	ADDQ R10, SI
	MOVQ R8, DI
	MOVQ n+24(FP), CX
	CMPQ CX, $2
	JLT  cvtq4q8_one

cvtq4q8_two:
	Q4Q8(0, 0)
	Q4Q8(18, 34)
	ADDQ $36, SI
	ADDQ $68, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  cvtq4q8_two
	TESTQ CX, CX
	JZ   cvtq4q8_next

cvtq4q8_one:
	Q4Q8(0, 0)

cvtq4q8_next:
	ADDQ $8, R9
	ADDQ R12, R8
	DECQ R13
	JNZ  cvtq4q8_row
	VZEROUPPER
	RET
