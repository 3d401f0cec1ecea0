//go:build arm64 && !noasm

package quant

import "golang.org/x/sys/cpu"

// The NEON tier of the K-quant types (kquant_arm64.s): each kernel reads
// useSDOT and takes SDOT or widening multiplies per half super-block.
func init() {
	registerTier(tierNEON, cpu.ARM64.HasASIMD, tierKernels{
		rows: map[Type]rowsFunc{
			Q2_K: rowsKAsm(dotQ2_KRowsNEON, sizeQ2_K),
			Q3_K: rowsKAsm(dotQ3_KRowsNEON, sizeQ3_K),
			Q4_K: rowsKAsm(dotQ4_KRowsNEON, sizeQ4_K),
			Q5_K: rowsKAsm(dotQ5_KRowsNEON, sizeQ5_K),
			Q6_K: rowsKAsm(dotQ6_KRowsNEON, sizeQ6_K),
		},
		quantQ8_K: quantizeQ8_KAsm(quantQ8_KNEON),
	})
}

// The kernels compute the loop given with the declarations of the AVX2
// kernels in kquant_amd64.go (dotQ2_KRows ... dotQ6_KRows), in the same order of
// float32 operations per super-block as the Go tier (kquant_dot.go).

//go:noescape
func dotQ2_KRowsNEON(w, x *byte, n, rows, stride int, out *float32)

//go:noescape
func dotQ3_KRowsNEON(w, x *byte, n, rows, stride int, out *float32)

//go:noescape
func dotQ4_KRowsNEON(w, x *byte, n, rows, stride int, out *float32)

//go:noescape
func dotQ5_KRowsNEON(w, x *byte, n, rows, stride int, out *float32)

//go:noescape
func dotQ6_KRowsNEON(w, x *byte, n, rows, stride int, out *float32)

// quantQ8_KNEON encodes n super-blocks of activations (n > 0): the loop of
// quantizeQ8_K, with FCVTNS rounding to nearest even.
//
//go:noescape
func quantQ8_KNEON(dst *byte, src *float32, n int)
