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
	})
}

// The kernels compute the loop of the AVX2 ones (kquant_amd64.go):
// out[r] for r < rows is the dot product of the n super-blocks at
// w+r*stride with the n Q8_K super-blocks at x (n > 0), in terms of the
// decoded super-blocks (decodeK):
//
//	for r := 0; r < rows; r++ {
//		var s float32
//		for b := 0; b < n; b++ {
//			k := decodeK(T, w[r*stride+b*size:])
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
