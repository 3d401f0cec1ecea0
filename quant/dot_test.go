package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Tolerances of the fast kernels against their references, as a multiple of
// float32 epsilon (2^-24) times the sum of |products| (float types) or of
// |block sum * scales| (quantised types), per accumulated term. The kernels
// compute the same products as the references; only the order of the
// float32 additions differs.
var dotTolerance = map[Type]float64{
	F32:  2 * 0x1p-24,
	F16:  2 * 0x1p-24,
	BF16: 2 * 0x1p-24,
	Q8_0: 4 * 0x1p-24, // plus the rounding of the scale product
	Q4_0: 4 * 0x1p-24,
	// The K-quants: relative to the sum over elements of
	// (|d*scale*q| + |dmin*min|) * |dx*qx| (kDot64), per super-block. Each
	// super-block adds the roundings of float32(int32 sum) (exact below
	// 2^24), of d*dx and dmin*dx, of their products and of the
	// accumulation.
	Q2_K: 6 * 0x1p-24,
	Q3_K: 6 * 0x1p-24,
	Q4_K: 6 * 0x1p-24,
	Q5_K: 6 * 0x1p-24,
	Q6_K: 6 * 0x1p-24,
}

var (
	floatLengths = []int{0, 1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 1023}
	blockLengths = []int{0, 32, 64, 96, 128, 160, 224, 1024, 4096}
	kinds        = []string{"normal", "zeros", "large", "tiny", "mixed"}
)

// Guard byte patterns that would change any result if a kernel read them:
// 0x7c is the high byte of fp16 +Inf, 0x7f a large int8/bf16 exponent.
var guardBytes = []byte{0x7c, 0x7f}

func TestDotFloatKernels(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, typ := range []Type{F32, F16, BF16} {
			for _, n := range floatLengths {
				for _, kind := range kinds {
					for off := 0; off < 4; off++ {
						w := randFloats(rng, n, kind)
						x := randFloats(rng, n, "normal")
						enc := encode(t, typ, w)
						g := guardBytes[off%len(guardBytes)]
						row, check := placed(t, enc, off, g)
						wd := decode(t, typ, enc, n)
						var got, ref float32
						switch typ {
						case F32:
							got, ref = DotF32(row, x), dotF32Ref(row, x)
						case F16:
							got, ref = DotF16(row, x), dotF16Ref(row, x)
						case BF16:
							got, ref = DotBF16(row, x), dotBF16Ref(row, x)
						}
						check()
						want, mag := dot64(wd, x)
						tol := dotTolerance[typ] * float64(n+8) * mag
						name := fmt.Sprintf("%s n=%d %s off=%d", typ, n, kind, off)
						if !(math.Abs(float64(got)-want) <= tol) {
							t.Errorf("%s: got %v, float64 reference %v (tol %g)", name, got, want, tol)
						}
						if !(math.Abs(float64(ref)-want) <= tol) {
							t.Errorf("%s: Ref %v, float64 reference %v (tol %g)", name, ref, want, tol)
						}
					}
				}
			}
		}
	})
}

// blockDot64 returns the float64 value of the quantised product that the
// Q8_0/Q4_0 kernels compute, and the sum of |block terms|.
func blockDot64(typ Type, w, xq []byte) (dot, mag float64) {
	nb := len(xq) / 34
	wf := make([]float32, nb*32)
	xf := make([]float32, nb*32)
	dequantize(typ, wf, w)
	dequantize(Q8_0, xf, xq)
	return dot64(wf, xf)
}

func TestDotBlockKernels(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, typ := range []Type{Q8_0, Q4_0} {
			for _, n := range blockLengths {
				for _, kind := range kinds {
					for off := 0; off < 4; off++ {
						w := randFloats(rng, n, kind)
						x := randFloats(rng, n, "mixed")
						enc := encode(t, typ, w)
						xq := encode(t, Q8_0, x)
						g := guardBytes[off%len(guardBytes)]
						row, check := placed(t, enc, off, g)
						xrow, xcheck := placed(t, xq, 3-off, g)
						var got, ref float32
						switch typ {
						case Q8_0:
							got, ref = DotQ8_0(row, xrow), dotQ8_0Ref(row, xrow)
						case Q4_0:
							got, ref = DotQ4_0(row, xrow), dotQ4_0Ref(row, xrow)
						}
						check()
						xcheck()
						want, mag := blockDot64(typ, enc, xq)
						tol := dotTolerance[typ]*float64(n/32+8)*mag + 1e-30
						name := fmt.Sprintf("%s n=%d %s off=%d", typ, n, kind, off)
						if !(math.Abs(float64(got)-want) <= tol) {
							t.Errorf("%s: got %v, float64 reference %v (tol %g)", name, got, want, tol)
						}
						if !(math.Abs(float64(ref)-want) <= tol) {
							t.Errorf("%s: Ref %v, float64 reference %v (tol %g)", name, ref, want, tol)
						}
					}
				}
			}
		}
	})
}

// TestDotQ8_0Extremes uses raw weight bytes that the quantiser never
// produces but a file may hold (-128, fp16 max and subnormal scales) with
// activations at the ±127 limits.
func TestDotQ8_0Extremes(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		scales := []uint16{0x7bff, 0x0001, 0x03ff, 0x3c00, 0xbc00, 0x0000, 0x8000}
		for _, nb := range []int{1, 2, 3, 7, 64} {
			for _, ws := range scales {
				w := make([]byte, nb*34)
				xq := make([]byte, nb*34)
				w4 := make([]byte, nb*18)
				for b := 0; b < nb; b++ {
					w[34*b], w[34*b+1] = byte(ws), byte(ws>>8)
					w4[18*b], w4[18*b+1] = byte(ws), byte(ws>>8)
					xs := scales[rng.IntN(4)] // finite, non-zero scales for x
					xq[34*b], xq[34*b+1] = byte(xs), byte(xs>>8)
					for i := 0; i < 32; i++ {
						w[34*b+2+i] = byte(int8([]int{-128, 127, -127, 0, 1, -1}[rng.IntN(6)]))
						xq[34*b+2+i] = byte(int8([]int{127, -127, 0, 5}[rng.IntN(4)]))
					}
					for j := 0; j < 16; j++ {
						w4[18*b+2+j] = byte(rng.IntN(256))
					}
				}
				for _, c := range []struct {
					typ      Type
					w        []byte
					got, ref float32
				}{
					{Q8_0, w, DotQ8_0(w, xq), dotQ8_0Ref(w, xq)},
					{Q4_0, w4, DotQ4_0(w4, xq), dotQ4_0Ref(w4, xq)},
				} {
					want, mag := blockDot64(c.typ, c.w, xq)
					tol := dotTolerance[c.typ] * float64(nb+8) * mag
					if math.IsInf(want, 0) || mag > math.MaxFloat32 {
						if !math.IsInf(float64(c.got), 0) && !math.IsNaN(float64(c.got)) && math.Abs(float64(c.got)) < math.MaxFloat32/2 {
							t.Errorf("%s nb=%d scale %#x: got %v, want overflow", c.typ, nb, ws, c.got)
						}
						continue
					}
					if !(math.Abs(float64(c.got)-want) <= tol) || !(math.Abs(float64(c.ref)-want) <= tol) {
						t.Errorf("%s nb=%d scale %#x: got %v ref %v, float64 %v (tol %g)", c.typ, nb, ws, c.got, c.ref, want, tol)
					}
				}
			}
		}
	})
}

func TestDotLengthMismatchPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"F32":  func() { DotF32(make([]byte, 8), make([]float32, 3)) },
		"F16":  func() { DotF16(make([]byte, 8), make([]float32, 3)) },
		"BF16": func() { DotBF16(make([]byte, 2), make([]float32, 3)) },
		"Q8_0": func() { DotQ8_0(make([]byte, 34), make([]byte, 68)) },
		"Q4_0": func() { DotQ4_0(make([]byte, 36), make([]byte, 34)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic on mismatched lengths", name)
				}
			}()
			f()
		}()
	}
}
