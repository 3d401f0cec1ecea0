//go:build arm64 && !noasm

package quant

import "golang.org/x/sys/cpu"

// The NEON tier (dot_arm64.s). Every arm64 CPU has Advanced SIMD; the block
// kernels use SDOT where the CPU has the ARMv8.2 dot-product extension
// (Raspberry Pi 5, Apple M, Graviton 2+) and widening multiplies where it
// does not (Raspberry Pi 4, Cortex-A53/A72).
func init() {
	useSDOT = cpu.ARM64.HasASIMDDP
	registerTier(tierNEON, cpu.ARM64.HasASIMD, tierKernels{
		rows: map[Type]rowsFunc{
			F32: rowsF32NEON, F16: rowsF16NEON, BF16: rowsBF16NEON,
			Q8_0: rowsQ8_0NEON, Q4_0: rowsQ4_0NEON,
		},
		dot: map[Type]dotFunc{
			F32: dotF32NEON, F16: dotF16NEON, BF16: dotBF16NEON,
			Q8_0: dotQ8_0NEON, Q4_0: dotQ4_0NEON,
		},
	})
}

// useSDOT selects the SDOT block kernels (the CPU's ASIMDDP at init; tests
// clear it to run the widening-multiply path on a CPU that has SDOT). The
// K-quant kernels (kquant_arm64.s) read it on every call.
var useSDOT bool

// The Go side of the NEON tier. Every call into the assembly is a static
// call of a //go:noescape function, so that a caller's out (a one-element
// array for the single-row dot products) stays on its stack.

func rowsF32NEON(out []float32, w []byte, stride int, a activations) {
	rowsFloatNEON(F32, out, w, stride, a.f)
}

func rowsF16NEON(out []float32, w []byte, stride int, a activations) {
	rowsFloatNEON(F16, out, w, stride, a.f)
}

func rowsBF16NEON(out []float32, w []byte, stride int, a activations) {
	rowsFloatNEON(BF16, out, w, stride, a.f)
}

func rowsQ8_0NEON(out []float32, w []byte, stride int, a activations) {
	rowsBlockNEON(Q8_0, out, w, stride, a.q)
}

func rowsQ4_0NEON(out []float32, w []byte, stride int, a activations) {
	rowsBlockNEON(Q4_0, out, w, stride, a.q)
}

func dotF32NEON(w []byte, a activations) float32 {
	var s [1]float32
	rowsFloatNEON(F32, s[:], w, len(w), a.f)
	return s[0]
}

func dotF16NEON(w []byte, a activations) float32 {
	var s [1]float32
	rowsFloatNEON(F16, s[:], w, len(w), a.f)
	return s[0]
}

func dotBF16NEON(w []byte, a activations) float32 {
	var s [1]float32
	rowsFloatNEON(BF16, s[:], w, len(w), a.f)
	return s[0]
}

func dotQ8_0NEON(w []byte, a activations) float32 {
	var s [1]float32
	rowsBlockNEON(Q8_0, s[:], w, len(w), a.q[:len(w)/sizeQ8_0*sizeQ8_0])
	return s[0]
}

func dotQ4_0NEON(w []byte, a activations) float32 {
	var s [1]float32
	rowsBlockNEON(Q4_0, s[:], w, len(w), a.q[:len(w)/sizeQ4_0*sizeQ8_0])
	return s[0]
}

// rowsFloatNEON runs the float kernel of type t: the assembly takes the
// multiple-of-4 part of each row, the reference loop the last len(x)%4
// products.
func rowsFloatNEON(t Type, out []float32, w []byte, stride int, x []float32) {
	n := len(x)
	eb := 4
	if t != F32 {
		eb = 2
	}
	checkRows(out, w, stride, eb*n)
	if len(out) == 0 {
		return
	}
	n4 := n &^ 3
	if n4 > 0 {
		switch t {
		case F32:
			dotF32RowsNEON(&w[0], &x[0], n4, len(out), stride, &out[0])
		case F16:
			dotF16RowsNEON(&w[0], &x[0], n4, len(out), stride, &out[0])
		case BF16:
			dotBF16RowsNEON(&w[0], &x[0], n4, len(out), stride, &out[0])
		}
	} else {
		clear(out)
	}
	if n4 == n {
		return
	}
	for r := range out {
		tail := w[r*stride+eb*n4 : r*stride+eb*n]
		switch t {
		case F32:
			out[r] += dotF32Ref(tail, x[n4:])
		case F16:
			out[r] += dotF16Ref(tail, x[n4:])
		case BF16:
			out[r] += dotBF16Ref(tail, x[n4:])
		}
	}
}

// rowsBlockNEON runs the block kernel of type t (Q8_0 or Q4_0 weights) on
// Q8_0 activation blocks, with SDOT when useSDOT is set.
func rowsBlockNEON(t Type, out []float32, w []byte, stride int, xq []byte) {
	nb := len(xq) / sizeQ8_0
	bb := sizeQ8_0
	if t == Q4_0 {
		bb = sizeQ4_0
	}
	checkRows(out, w, stride, bb*nb)
	if len(out) == 0 {
		return
	}
	if nb == 0 {
		clear(out)
		return
	}
	switch {
	case t == Q8_0 && useSDOT:
		dotQ8_0RowsSDOT(&w[0], &xq[0], nb, len(out), stride, &out[0])
	case t == Q8_0:
		dotQ8_0RowsNEON(&w[0], &xq[0], nb, len(out), stride, &out[0])
	case useSDOT:
		dotQ4_0RowsSDOT(&w[0], &xq[0], nb, len(out), stride, &out[0])
	default:
		dotQ4_0RowsNEON(&w[0], &xq[0], nb, len(out), stride, &out[0])
	}
}

// The NEON kernels compute the reference loops given with the declarations
// of the AVX2 kernels in dot_amd64.go: dotF32Rows, dotF16Rows, dotBF16Rows,
// dotQ8_0Rows, dotQ4_0Rows (the float kernels here take n a multiple of 4).

// dotF32RowsNEON: LD1 + FMLA, eight accumulators.
//
//go:noescape
func dotF32RowsNEON(w *byte, x *float32, n, rows, stride int, out *float32)

// dotF16RowsNEON: FCVTL + FMLA.
//
//go:noescape
func dotF16RowsNEON(w *byte, x *float32, n, rows, stride int, out *float32)

// dotBF16RowsNEON: ZIP with zeros + FMLA.
//
//go:noescape
func dotBF16RowsNEON(w *byte, x *float32, n, rows, stride int, out *float32)

// dotQ8_0RowsSDOT: SDOT, four blocks per step.
//
//go:noescape
func dotQ8_0RowsSDOT(w, x *byte, n, rows, stride int, out *float32)

// dotQ8_0RowsNEON is dotQ8_0RowsSDOT without the dot-product extension
// (SMULL/SMLAL2 + SADDLP/SADALP). The activations must not contain -128
// (Q8_0 quantisation never produces it), so that the int16 pair sums cannot
// overflow.
//
//go:noescape
func dotQ8_0RowsNEON(w, x *byte, n, rows, stride int, out *float32)

// dotQ4_0RowsSDOT is dotQ8_0RowsSDOT for Q4_0 weight blocks.
//
//go:noescape
func dotQ4_0RowsSDOT(w, x *byte, n, rows, stride int, out *float32)

// dotQ4_0RowsNEON is dotQ4_0RowsSDOT without the dot-product extension
// (SMULL/SMLAL/SMLAL2 into int16 lanes of four products each, SADDLP).
//
//go:noescape
func dotQ4_0RowsNEON(w, x *byte, n, rows, stride int, out *float32)
