//go:build amd64 && !noasm

package quant

import "golang.org/x/sys/cpu"

// The AVX-512 tier of the K-quant rows kernels: Q4_K and Q6_K with VNNI on
// 256-bit registers (kquant_avx512_amd64.s). The other K types keep the
// AVX2 kernels (the table falls back to the highest tier that has a kernel).
// With AVX-512 VBMI and GFNI (Ice Lake and later, Zen 4) one vector runs
// the 512-bit kernels, which give the 256-bit ones' results bit for bit.
func init() {
	q4k, q6k := dotQ4_KRowsVNNI, dotQ6_KRowsVNNI
	if kquant512 {
		q4k, q6k = dotQ4_KRowsVNNI512, dotQ6_KRowsVNNI512
	}
	registerTier(tierAVX512, cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI &&
		cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C, tierKernels{
		rows: map[Type]rowsFunc{
			Q4_K: rowsKAsm(q4k, sizeQ4_K),
			Q6_K: rowsKAsm(q6k, sizeQ6_K),
		},
	})
}

// kquant512: the CPU runs dotQ4_KRowsVNNI512 and dotQ6_KRowsVNNI512
// (besides the tier's features, VBMI for VPERMB/VPERMW and GFNI).
var kquant512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI &&
	cpu.X86.HasAVX512VBMI && cpu.X86.HasAVX512GFNI

// dotQ4_KRowsVNNI is dotQ4_KRows (the same contract and result up to
// float32 rounding) with the integer products on VNNI: per sub-block of 32
// levels one VPDPBUSD gives eight partial sums of level x activation, and
// one VPDPWSSD multiplies them by the sub-block's 6-bit scale (broadcast
// from the stack, where the super-block's scales are spread as dwords) and
// adds them to the super-block's int32 sum. The AVX2 kernel spends two
// multiply-adds, a shuffle and an add per sub-block instead of two
// instructions.
//
//go:noescape
func dotQ4_KRowsVNNI(w, x *byte, n, rows, stride int, out *float32)

// kTilesVNNI is the AVX-512 tier's ktiles (MatMul on K-quant matrices):
// Q4_K and Q6_K rows times groups of four vectors with dotQ4_KRows4VNNI and
// dotQ6_KRows4VNNI, which decode each super-block once for the four; it
// returns the number of vectors done (a multiple of four; none for the
// other K types).
func kTilesVNNI(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) int {
	if (t != Q4_K && t != Q6_K) || b.n < 4 || rows == 0 {
		return 0
	}
	vb := b.nb * sizeQ8_K
	var tile [4 * 32]float32
	n4 := b.n &^ 3
	for t0 := 0; t0 < n4; t0 += 4 {
		for r0 := 0; r0 < rows; r0 += 32 {
			nr := min(32, rows-r0)
			// direct calls: through a func value the tile's address
			// would escape and the tile be allocated on every call
			if t == Q4_K {
				dotQ4_KRows4VNNI(&w[r0*rb], &b.q8k[t0*vb], b.nb, nr, rb, &tile[0])
			} else {
				dotQ6_KRows4VNNI(&w[r0*rb], &b.q8k[t0*vb], b.nb, nr, rb, &tile[0])
			}
			for r := range nr {
				outs[t0][off+r0+r] = tile[4*r]
				outs[t0+1][off+r0+r] = tile[4*r+1]
				outs[t0+2][off+r0+r] = tile[4*r+2]
				outs[t0+3][off+r0+r] = tile[4*r+3]
			}
		}
	}
	return n4
}

// dotQ4_KRows4VNNI is dotQ4_KRowsVNNI for four vectors (the n super-blocks
// of each, one vector after the other at x): out[4r+t] = row r times
// vector t, bit for bit what dotQ4_KRowsVNNI gives for each vector.
//
//go:noescape
func dotQ4_KRows4VNNI(w, x *byte, n, rows, stride int, out *float32)

// dotQ6_KRows4VNNI is dotQ6_KRows for four vectors, as dotQ4_KRows4VNNI
// is for Q4_K: bit for bit what dotQ6_KRows gives for each vector.
//
//go:noescape
func dotQ6_KRows4VNNI(w, x *byte, n, rows, stride int, out *float32)

// dotQ6_KRowsVNNI is dotQ6_KRows with VPDPWSSD for the scaled sums: bit
// for bit the AVX2 kernel's results.
//
//go:noescape
func dotQ6_KRowsVNNI(w, x *byte, n, rows, stride int, out *float32)

// dotQ4_KRowsVNNI512 is dotQ4_KRowsVNNI on 512-bit registers (GFNI
// unpacks the nibbles, VPERMB spreads the scales): bit for bit its
// results, in fewer instructions per super-block.
//
//go:noescape
func dotQ4_KRowsVNNI512(w, x *byte, n, rows, stride int, out *float32)

// dotQ6_KRowsVNNI512 is dotQ6_KRowsVNNI on 512-bit registers (GFNI places
// the high bits, VPERMW spreads the scales): bit for bit its results.
//
//go:noescape
func dotQ6_KRowsVNNI512(w, x *byte, n, rows, stride int, out *float32)
