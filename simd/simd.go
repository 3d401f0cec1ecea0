// Package simd provides float32 primitives on plain slices for the forward
// pass. Where github.com/viterin/vek has a vectorised routine it is used
// directly; the remaining helpers are short Go loops that the compiler keeps
// tight. No function here allocates.
//
// Length mismatches between operands are programming errors and panic, as
// with the built-in copy-style bounds checks.
package simd

import (
	"errors"
	"math"

	"github.com/viterin/vek/vek32"
)

// Dot returns sum(a[i]*b[i]). a and b must have the same length; the empty
// dot product is 0.
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("simd: Dot length mismatch")
	}
	if len(a) == 0 {
		return 0
	}
	return dotImpl(a, b)
}

// Sum returns the sum of x (0 for empty x).
func Sum(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return sumImpl(x)
}

// Max returns the largest element of x; it panics on empty x.
func Max(x []float32) float32 {
	if len(x) == 0 {
		panic("simd: Max of an empty slice")
	}
	return maxImpl(x)
}

// Add adds x into dst element-wise: dst[i] += x[i].
func Add(dst, x []float32) {
	if len(dst) != len(x) {
		panic("simd: Add length mismatch")
	}
	if len(x) == 0 {
		return
	}
	addImpl(dst, x)
}

// Mul multiplies dst by x element-wise: dst[i] *= x[i].
func Mul(dst, x []float32) {
	if len(dst) != len(x) {
		panic("simd: Mul length mismatch")
	}
	if len(x) == 0 {
		return
	}
	vek32.Mul_Inplace(dst, x)
}

// Scale multiplies every element of x by a: x[i] *= a.
func Scale(x []float32, a float32) {
	if len(x) == 0 {
		return
	}
	scaleImpl(x, a)
}

// Axpy adds a times x into y: y[i] += a*x[i].
func Axpy(y []float32, a float32, x []float32) {
	if len(y) != len(x) {
		panic("simd: Axpy length mismatch")
	}
	x = x[:len(y)]
	i := 0
	for ; i+4 <= len(y); i += 4 {
		y[i] += a * x[i]
		y[i+1] += a * x[i+1]
		y[i+2] += a * x[i+2]
		y[i+3] += a * x[i+3]
	}
	for ; i < len(y); i++ {
		y[i] += a * x[i]
	}
}

// SumSquares returns sum(x[i]*x[i]), the building block of RMSNorm.
func SumSquares(x []float32) float32 {
	return Dot(x, x)
}

// Softmax replaces x by exp(x[i]-max) / sum_j exp(x[j]-max) in place. The
// maximum is subtracted first, so large logits do not overflow. Empty x is
// left alone.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	softmaxImpl(x)
}

// RMSNorm sets o[i] = weight[i] * (x[i] / sqrt(mean(x²) + eps)), the root
// mean square normalisation of LLaMA. o may be x itself; the three slices
// have the same length.
func RMSNorm(o, x, weight []float32, eps float32) {
	if len(o) != len(x) || len(weight) != len(x) {
		panic("simd: RMSNorm length mismatch")
	}
	if len(x) == 0 {
		return
	}
	ss := Dot(x, x)/float32(len(x)) + eps
	inv := float32(1 / math.Sqrt(float64(ss)))
	scaleMulImpl(o, x, weight, inv)
}

// SwiGLU sets hb[i] = silu(hb[i]) * hb2[i], with silu(v) = v * sigmoid(v),
// the gated activation of LLaMA's feed-forward block.
func SwiGLU(hb, hb2 []float32) {
	if len(hb) != len(hb2) {
		panic("simd: SwiGLU length mismatch")
	}
	if len(hb) == 0 {
		return
	}
	swiGLUImpl(hb, hb2)
}

// ErrTemperature is SoftmaxTemp's error for a temperature that is not a
// finite number above 0.
var ErrTemperature = errors.New("simd: temperature must be a finite number > 0")

// SoftmaxTemp divides x by temp and then applies Softmax, as sampling with a
// temperature does. temp must be a finite number > 0 (temperature 0 means
// Argmax and is handled by the caller); otherwise x is left alone and
// ErrTemperature returned.
//
// The maximum is subtracted before the division, so that a tiny temperature
// cannot overflow x/temp to NaN: the result tends to the limit distribution,
// all the mass on the largest logits.
func SoftmaxTemp(x []float32, temp float32) error {
	if !(temp > 0) || math.IsInf(float64(temp), 1) {
		return ErrTemperature
	}
	if len(x) == 0 {
		return nil
	}
	// (x - max) is <= 0, so (x - max)/temp is at worst -Inf, which Softmax
	// clamps; 1/temp is capped because 0 * +Inf would be NaN.
	inv := min(1/temp, math.MaxFloat32)
	vek32.AddNumber_Inplace(x, -vek32.Max(x))
	vek32.MulNumber_Inplace(x, inv)
	Softmax(x)
	return nil
}

// Argmax returns the index of the largest element of x; the first maximum
// wins ties, as greedy decoding in llama2.c does. It returns -1 for empty x.
// NaN elements are never selected unless every element is NaN (then 0).
func Argmax(x []float32) int {
	if len(x) == 0 {
		return -1
	}
	return argmaxImpl(x)
}

// argmaxGeneric is Argmax's portable tier: a plain loop (vek32.Max
// mishandles NaN).
func argmaxGeneric(x []float32) int {
	best := 0
	bv := x[0]
	for i, v := range x {
		if v > bv || (bv != bv && v == v) {
			best, bv = i, v
		}
	}
	return best
}
