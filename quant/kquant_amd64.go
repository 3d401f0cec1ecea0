//go:build amd64 && !noasm

package quant

import "golang.org/x/sys/cpu"

func init() {
	registerTier(tierAVX2, cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX && cpu.X86.HasOSXSAVE && cpu.X86.HasF16C, tierKernels{
		rows: map[Type]rowsFunc{
			Q2_K: rowsKAsm(dotQ2_KRows, sizeQ2_K),
			Q3_K: rowsKAsm(dotQ3_KRows, sizeQ3_K),
			Q4_K: rowsKAsm(dotQ4_KRows, sizeQ4_K),
			Q5_K: rowsKAsm(dotQ5_KRows, sizeQ5_K),
			Q6_K: rowsKAsm(dotQ6_KRows, sizeQ6_K),
		},
		quantQ8_K: quantizeQ8_KAsm(quantQ8_KAVX2),
	})
}

// quantQ8_KAVX2 encodes n super-blocks of activations (n > 0): the loop of
// quantizeQ8_K, with VCVTPS2DQ rounding to nearest even.
//
//go:noescape
func quantQ8_KAVX2(dst *byte, src *float32, n int)

// The K-quant kernels set out[r] for r < rows to the dot product of the n
// super-blocks at w+r*stride with the n Q8_K super-blocks at x (n > 0).
// In terms of the decoded super-blocks (kBlock, decodeK) each is the loop
//
//	for r := 0; r < rows; r++ {
//		var s float32
//		for b := 0; b < n; b++ {
//			k := decodeK(T, w[r*stride+b*size:])    // levels q, scales, mins, d, dmin
//			dx, qx := x[b] as float32 d, int8 q[256]
//			var sum, msum int32
//			for e := 0; e < 256; e++ {
//				sum += k.scale[e/k.sub] * int32(k.q[e]) * int32(qx[e])
//				msum += k.min[e/k.sub] * int32(qx[e])
//			}
//			s += dx * (k.d*float32(sum) - k.dmin*float32(msum))
//		}
//		out[r] = s
//	}
//
// (dotKRef), computed with the levels made unsigned and the offset or min
// applied per sub-block through the sums of x (see kquant_amd64.s).

//go:noescape
func dotQ2_KRows(w, x *byte, n, rows, stride int, out *float32)

//go:noescape
func dotQ3_KRows(w, x *byte, n, rows, stride int, out *float32)

//go:noescape
func dotQ4_KRows(w, x *byte, n, rows, stride int, out *float32)

//go:noescape
func dotQ5_KRows(w, x *byte, n, rows, stride int, out *float32)

//go:noescape
func dotQ6_KRows(w, x *byte, n, rows, stride int, out *float32)
