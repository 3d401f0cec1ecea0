//go:build arm64 && !noasm

package simd

import "golang.org/x/sys/cpu"

// The NEON tier (simd_arm64.s): vek has no arm64 assembly, so on arm64 its
// routines are plain Go loops, latency-bound on one accumulator.
func init() {
	if cpu.ARM64.HasASIMD {
		dotImpl = func(a, b []float32) float32 { return dotNEON(&a[0], &b[0], len(a)) }
		sumImpl = func(x []float32) float32 { return sumNEON(&x[0], len(x)) }
		maxImpl = func(x []float32) float32 { return maxNEON(&x[0], len(x)) }
		addImpl = func(dst, x []float32) { addNEON(&dst[0], &x[0], len(dst)) }
		scaleImpl = func(x []float32, a float32) { scaleNEON(&x[0], len(x), a) }
		softmaxImpl = softmaxNEON
		scaleMulImpl = func(o, x, w []float32, inv float32) { scaleMulNEON(&o[0], &x[0], &w[0], len(o), inv) }
		swiGLUImpl = func(hb, hb2 []float32) { swiGLUNEON(&hb[0], &hb2[0], len(hb)) }
		asmEnabled = true
	}
}

// softmaxNEON is softmaxGeneric in three passes: the maximum, exp of the
// shifted values (clamped at expMin) with their sum, and the scaling.
func softmaxNEON(x []float32) {
	m := maxNEON(&x[0], len(x))
	s := expSumNEON(&x[0], len(x), m)
	scaleNEON(&x[0], len(x), 1/s)
}

// The kernels take non-empty slices (the exported functions return early
// on empty ones) of the length given, which the callers have checked.

// dotNEON returns sum(a[i]*b[i]) (LD1 + FMLA, four accumulators).
// Reference loop:
//
//	var s float32
//	for i := 0; i < n; i++ {
//		s += a[i] * b[i]
//	}
//	return s
//
//go:noescape
func dotNEON(a, b *float32, n int) float32

// sumNEON returns sum(x[i]) (four accumulators). Reference loop:
//
//	var s float32
//	for i := 0; i < n; i++ {
//		s += x[i]
//	}
//	return s
//
//go:noescape
func sumNEON(x *float32, n int) float32

// maxNEON returns the largest x[i], n >= 1 (FMAXNM: a NaN loses to any
// number). Reference loop:
//
//	m := x[0]
//	for i := 1; i < n; i++ {
//		if x[i] > m {
//			m = x[i]
//		}
//	}
//	return m
//
//go:noescape
func maxNEON(x *float32, n int) float32

// addNEON adds x into dst. Reference loop:
//
//	for i := 0; i < n; i++ {
//		dst[i] += x[i]
//	}
//
//go:noescape
func addNEON(dst, x *float32, n int)

// scaleNEON multiplies x by a. Reference loop:
//
//	for i := 0; i < n; i++ {
//		x[i] *= a
//	}
//
//go:noescape
func scaleNEON(x *float32, n int, a float32)

// scaleMulNEON is the second half of RMSNorm, rounded exactly as the Go
// loop (two FMULs, no fusing). Reference loop:
//
//	for i := 0; i < n; i++ {
//		o[i] = w[i] * (inv * x[i])
//	}
//
//go:noescape
func scaleMulNEON(o, x, w *float32, n int, inv float32)

// expSumNEON replaces x[i] by exp(max(x[i]-m, expMin)) and returns their
// sum; exp is a degree-7 polynomial after range reduction, within a few
// float32 ulps of the exact value. Reference loop:
//
//	var s float32
//	for i := 0; i < n; i++ {
//		x[i] = float32(math.Exp(float64(max(x[i]-m, expMin))))
//		s += x[i]
//	}
//	return s
//
//go:noescape
func expSumNEON(x *float32, n int, m float32) float32

// swiGLUNEON is SwiGLU with the float32 exp of expSumNEON (its argument
// clamped to [-87, 88]) and a float32 division. Reference loop:
//
//	for i := 0; i < n; i++ {
//		v := hb[i]
//		hb[i] = v * float32(1/(1+math.Exp(float64(-v)))) * hb2[i]
//	}
//
//go:noescape
func swiGLUNEON(hb, hb2 *float32, n int)
