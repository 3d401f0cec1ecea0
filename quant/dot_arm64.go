//go:build arm64 && !noasm

package quant

import "golang.org/x/sys/cpu"

// The NEON tier (dot_arm64.s). Every arm64 CPU has Advanced SIMD; the block
// kernels use SDOT where the CPU has the ARMv8.2 dot-product extension
// (Raspberry Pi 5, Apple M, Graviton 2+) and widening multiplies where it
// does not (Raspberry Pi 4, Cortex-A53/A72).
func init() {
	if cpu.ARM64.HasASIMD {
		useNEON(cpu.ARM64.HasASIMDDP)
	}
}

// useNEON selects the NEON kernels, with SDOT for the block types when sdot
// is set. Tests call it with false to run the widening-multiply path on a
// CPU that has SDOT.
func useNEON(sdot bool) {
	dotF32Impl = dotFloatNEON(rowsF32NEON)
	dotF16Impl = dotFloatNEON(rowsF16NEON)
	dotBF16Impl = dotFloatNEON(rowsBF16NEON)
	rowsF32Impl = rowsF32NEON
	rowsF16Impl = rowsF16NEON
	rowsBF16Impl = rowsBF16NEON
	q8, q4 := dotQ8_0RowsNEON, dotQ4_0RowsNEON
	if sdot {
		q8, q4 = dotQ8_0RowsSDOT, dotQ4_0RowsSDOT
	}
	rowsQ8_0Impl = rowsBlockNEON(q8, 34)
	rowsQ4_0Impl = rowsBlockNEON(q4, 18)
	dotQ8_0Impl = dotBlockNEON(rowsQ8_0Impl, 34)
	dotQ4_0Impl = dotBlockNEON(rowsQ4_0Impl, 18)
	asmEnabled = true
}

// rowsKernel is the signature of the assembly kernels: rows dot products of
// n elements (floats: a multiple of 4; blocks: whole blocks) at w, stride
// bytes apart, with x, stored to out.
type rowsKernel[X byte | float32] func(w *byte, x *X, n, rows, stride int, out *float32)

// rowsNEONChecked panics unless len(out) rows of rowBytes bytes, stride
// apart, fit in w (the assembly trusts these bounds).
func rowsNEONChecked(out []float32, w []byte, stride, rowBytes int) {
	if len(out) > 0 && (stride < rowBytes || (len(out)-1)*stride+rowBytes > len(w)) {
		panic("quant: rows kernel out of bounds")
	}
}

// rowsFloatNEON wraps a float kernel: the assembly takes the multiple-of-4
// part of each row and ref adds the last len(x)%4 products.
func rowsFloatNEON(kernel rowsKernel[float32], elemBytes int, ref func([]byte, []float32) float32) rowsFloat {
	return func(out []float32, w []byte, stride int, x []float32) {
		n := len(x)
		rowsNEONChecked(out, w, stride, elemBytes*n)
		if len(out) == 0 {
			return
		}
		n4 := n &^ 3
		if n4 > 0 {
			kernel(&w[0], &x[0], n4, len(out), stride, &out[0])
		} else {
			clear(out)
		}
		if n4 < n {
			for r := range out {
				row := w[r*stride : r*stride+elemBytes*n]
				out[r] += ref(row[elemBytes*n4:], x[n4:])
			}
		}
	}
}

var (
	rowsF32NEON  = rowsFloatNEON(dotF32RowsNEON, 4, dotF32Ref)
	rowsF16NEON  = rowsFloatNEON(dotF16RowsNEON, 2, dotF16Ref)
	rowsBF16NEON = rowsFloatNEON(dotBF16RowsNEON, 2, dotBF16Ref)
)

// rowsBlockNEON wraps a block kernel for weight blocks of blockBytes bytes
// and Q8_0 activation blocks (34 bytes).
func rowsBlockNEON(kernel rowsKernel[byte], blockBytes int) rowsBlock {
	return func(out []float32, w []byte, stride int, xq []byte) {
		nb := len(xq) / 34
		rowsNEONChecked(out, w, stride, blockBytes*nb)
		if len(out) == 0 {
			return
		}
		if nb == 0 {
			clear(out)
			return
		}
		kernel(&w[0], &xq[0], nb, len(out), stride, &out[0])
	}
}

// dotFloatNEON and dotBlockNEON are the single-row dot products on top of
// the rows kernels.
func dotFloatNEON(rows rowsFloat) func([]byte, []float32) float32 {
	return func(w []byte, x []float32) float32 {
		var s [1]float32
		rows(s[:], w, len(w), x)
		return s[0]
	}
}

func dotBlockNEON(rows rowsBlock, blockBytes int) func([]byte, []byte) float32 {
	return func(w, xq []byte) float32 {
		var s [1]float32
		rows(s[:], w, len(w), xq[:len(w)/blockBytes*34])
		return s[0]
	}
}

// dotF32RowsNEON sets out[r] for r < rows to the dot product of the n float32
// values at w+r*stride (any alignment) with x; n is a multiple of 4 (LD1 +
// FMLA, eight accumulators). Reference loop:
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
func dotF32RowsNEON(w *byte, x *float32, n, rows, stride int, out *float32)

// dotF16RowsNEON is dotF32RowsNEON for binary16 weights (FCVTL + FMLA).
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
func dotF16RowsNEON(w *byte, x *float32, n, rows, stride int, out *float32)

// dotBF16RowsNEON is dotF32RowsNEON for bfloat16 weights (ZIP with zeros +
// FMLA). Reference loop:
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
func dotBF16RowsNEON(w *byte, x *float32, n, rows, stride int, out *float32)

// dotQ8_0RowsSDOT sets out[r] for r < rows to the dot product of the n Q8_0
// blocks at w+r*stride with the n Q8_0 blocks at x (SDOT). Reference loop:
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
func dotQ8_0RowsSDOT(w, x *byte, n, rows, stride int, out *float32)

// dotQ8_0RowsNEON is dotQ8_0RowsSDOT without the dot-product extension
// (SMULL/SMLAL2 + SADDLP/SADALP). The activations must not contain -128
// (Q8_0 quantisation never produces it), so that the int16 pair sums cannot
// overflow. Same reference loop.
//
//go:noescape
func dotQ8_0RowsNEON(w, x *byte, n, rows, stride int, out *float32)

// dotQ4_0RowsSDOT is dotQ8_0RowsSDOT for Q4_0 weight blocks (18 bytes
// each). Reference loop:
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
func dotQ4_0RowsSDOT(w, x *byte, n, rows, stride int, out *float32)

// dotQ4_0RowsNEON is dotQ4_0RowsSDOT without the dot-product extension
// (SMULL/SMLAL/SMLAL2 into int16 lanes of four products each, SADDLP).
// Same reference loop.
//
//go:noescape
func dotQ4_0RowsNEON(w, x *byte, n, rows, stride int, out *float32)
