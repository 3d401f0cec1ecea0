//go:build amd64 && !noasm

package quant

import "golang.org/x/sys/cpu"

// The AVX-512 tier of the K-quant rows kernels: Q4_K with VNNI on 256-bit
// registers (kquant_avx512_amd64.s). The other K types keep the AVX2
// kernels (the table falls back to the highest tier that has a kernel).
func init() {
	registerTier(tierAVX512, cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI &&
		cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C, tierKernels{
		rows: map[Type]rowsFunc{
			Q4_K: rowsKAsm(dotQ4_KRowsVNNI, sizeQ4_K),
		},
	})
}

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
