//go:build amd64 && !noasm

package quant

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/cpu"
)

func init() {
	registerTier(tierAVX2, cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX && cpu.X86.HasOSXSAVE && cpu.X86.HasF16C, tierKernels{
		rows: map[Type]rowsFunc{
			F32:  rowsF32AVX2,
			F16:  rowsF16AVX2,
			BF16: rowsBF16AVX2,
			Q8_0: rowsQ8_0AVX2,
			Q4_0: rowsQ4_0AVX2,
		},
		dot: map[Type]dotFunc{
			F32:  dotF32AVX2,
			F16:  dotF16AVX2,
			BF16: dotBF16AVX2,
			Q8_0: dotQ8_0AVX2,
			Q4_0: dotQ4_0AVX2,
		},
	})
}

// The single-row kernels call the rows wrappers statically, so that their
// one-element result stays on the stack.

func dotF32AVX2(w []byte, a activations) float32 {
	var s [1]float32
	rowsF32AVX2(s[:], w, len(w), a)
	return s[0]
}

func dotF16AVX2(w []byte, a activations) float32 {
	var s [1]float32
	rowsF16AVX2(s[:], w, len(w), a)
	return s[0]
}

func dotBF16AVX2(w []byte, a activations) float32 {
	var s [1]float32
	rowsBF16AVX2(s[:], w, len(w), a)
	return s[0]
}

func dotQ8_0AVX2(w []byte, a activations) float32 {
	var s [1]float32
	rowsQ8_0AVX2(s[:], w, len(w), activations{q: a.q[:len(w)/sizeQ8_0*sizeQ8_0]})
	return s[0]
}

func dotQ4_0AVX2(w []byte, a activations) float32 {
	var s [1]float32
	rowsQ4_0AVX2(s[:], w, len(w), activations{q: a.q[:len(w)/sizeQ4_0*sizeQ8_0]})
	return s[0]
}

// The AVX2 tier: Go wrappers that check bounds once, hand the multiple-of-8
// (or whole-block) part to the assembly and finish the float tails in Go.

func rowsF32AVX2(out []float32, w []byte, stride int, a activations) {
	x := a.f
	n := len(x)
	checkRows(out, w, stride, 4*n)
	if len(out) == 0 {
		return
	}
	if n8 := n &^ 7; n8 > 0 {
		dotF32Rows(&w[0], &x[0], n8, len(out), stride, &out[0])
	} else {
		clear(out)
	}
	for i := n &^ 7; i < n; i++ {
		for r := range out {
			out[r] += math.Float32frombits(binary.LittleEndian.Uint32(w[r*stride+4*i:])) * x[i]
		}
	}
}

func rowsF16AVX2(out []float32, w []byte, stride int, a activations) {
	x := a.f
	n := len(x)
	checkRows(out, w, stride, 2*n)
	if len(out) == 0 {
		return
	}
	if n8 := n &^ 7; n8 > 0 {
		dotF16Rows(&w[0], &x[0], n8, len(out), stride, &out[0])
	} else {
		clear(out)
	}
	for i := n &^ 7; i < n; i++ {
		for r := range out {
			out[r] += FP16ToFP32(binary.LittleEndian.Uint16(w[r*stride+2*i:])) * x[i]
		}
	}
}

func rowsBF16AVX2(out []float32, w []byte, stride int, a activations) {
	x := a.f
	n := len(x)
	checkRows(out, w, stride, 2*n)
	if len(out) == 0 {
		return
	}
	if n8 := n &^ 7; n8 > 0 {
		dotBF16Rows(&w[0], &x[0], n8, len(out), stride, &out[0])
	} else {
		clear(out)
	}
	for i := n &^ 7; i < n; i++ {
		for r := range out {
			out[r] += BF16ToFP32(binary.LittleEndian.Uint16(w[r*stride+2*i:])) * x[i]
		}
	}
}

func rowsQ8_0AVX2(out []float32, w []byte, stride int, a activations) {
	xq := a.q
	nb := len(xq) / sizeQ8_0
	checkRows(out, w, stride, sizeQ8_0*nb)
	if len(out) == 0 {
		return
	}
	if nb == 0 {
		clear(out)
		return
	}
	dotQ8_0Rows(&w[0], &xq[0], nb, len(out), stride, &out[0])
}

func rowsQ4_0AVX2(out []float32, w []byte, stride int, a activations) {
	xq := a.q
	nb := len(xq) / sizeQ8_0
	checkRows(out, w, stride, sizeQ4_0*nb)
	if len(out) == 0 {
		return
	}
	if nb == 0 {
		clear(out)
		return
	}
	dotQ4_0Rows(&w[0], &xq[0], nb, len(out), stride, &out[0])
}

// dotF32Rows sets out[r] for r < rows to the dot product of the n float32
// values at w+r*stride (any alignment) with x; n is a multiple of 8 (VMOVUPS
// + FMA, four accumulators). Reference loop:
//
//	for r := 0; r < rows; r++ {
//		var s float32
//		for i := 0; i < n; i++ {
//			s += math.Float32frombits(binary.LittleEndian.Uint32(w[r*stride+4*i:])) * x[i]
//		}
//		out[r] = s
//	}
//
//go:noescape
func dotF32Rows(w *byte, x *float32, n, rows, stride int, out *float32)

// dotF16Rows is dotF32Rows for binary16 weights (VCVTPH2PS + FMA).
// Reference loop:
//
//	for r := 0; r < rows; r++ {
//		var s float32
//		for i := 0; i < n; i++ {
//			s += FP16ToFP32(binary.LittleEndian.Uint16(w[r*stride+2*i:])) * x[i]
//		}
//		out[r] = s
//	}
//
//go:noescape
func dotF16Rows(w *byte, x *float32, n, rows, stride int, out *float32)

// dotBF16Rows is dotF32Rows for bfloat16 weights (zero-extend, shift left
// 16, FMA). Reference loop:
//
//	for r := 0; r < rows; r++ {
//		var s float32
//		for i := 0; i < n; i++ {
//			s += math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[r*stride+2*i:]))<<16) * x[i]
//		}
//		out[r] = s
//	}
//
//go:noescape
func dotBF16Rows(w *byte, x *float32, n, rows, stride int, out *float32)

// dotQ8_0Rows sets out[r] for r < rows to the dot product of the n Q8_0
// blocks at w+r*stride with the n Q8_0 blocks at x. The activations must not
// contain -128 (Q8_0 quantisation never produces it), so that VPMADDUBSW
// cannot saturate. Reference loop:
//
//	for r := 0; r < rows; r++ {
//		var s float32
//		for b := 0; b < n; b++ {
//			wb, xb := w[r*stride+34*b:], x[34*b:]
//			var sum int32
//			for i := 0; i < 32; i++ {
//				sum += int32(int8(wb[2+i])) * int32(int8(xb[2+i]))
//			}
//			s += float32(sum) * (fp16(wb[0:2]) * fp16(xb[0:2]))
//		}
//		out[r] = s
//	}
//
//go:noescape
func dotQ8_0Rows(w, x *byte, n, rows, stride int, out *float32)

// dotQ4_0Rows is dotQ8_0Rows for Q4_0 weight blocks (18 bytes each).
// Reference loop:
//
//	for r := 0; r < rows; r++ {
//		var s float32
//		for b := 0; b < n; b++ {
//			wb, xb := w[r*stride+18*b:], x[34*b:]
//			var sum int32
//			for j := 0; j < 16; j++ {
//				sum += (int32(wb[2+j]&15) - 8) * int32(int8(xb[2+j]))
//				sum += (int32(wb[2+j]>>4) - 8) * int32(int8(xb[18+j]))
//			}
//			s += float32(sum) * (fp16(wb[0:2]) * fp16(xb[0:2]))
//		}
//		out[r] = s
//	}
//
//go:noescape
func dotQ4_0Rows(w, x *byte, n, rows, stride int, out *float32)
