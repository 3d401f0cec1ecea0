package runtime

import (
	"math"

	"github.com/llmap/llmap/simd"
	"github.com/viterin/vek/vek32"
)

// The pieces of the forward pass that work on one activation vector.

// addInPlace sets x += y (the residual connection).
func addInPlace(x, y []float32) { vek32.Add_Inplace(x, y) }

// addBias sets x += bias, if there is a bias.
func addBias(x, bias []float32) {
	if bias != nil {
		vek32.Add_Inplace(x, bias)
	}
}

// rmsNorm sets o = x / sqrt(mean(x²) + eps) * weight. o may alias x.
func rmsNorm(o, x, weight []float32, eps float32) { simd.RMSNorm(o, x, weight, eps) }

// layerNorm sets o = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias
// (bias may be nil), with the biased variance, as
// torch.nn.functional.layer_norm computes it. o may alias x. The
// statistics are accumulated in float64 so that a large common offset in x
// costs no precision.
func layerNorm(o, x, weight, bias []float32, eps float32) {
	n := float64(len(x))
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / n
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	inv := 1 / math.Sqrt(ss/n+float64(eps))
	if bias == nil {
		for i, v := range x {
			o[i] = float32((float64(v)-mean)*inv) * weight[i]
		}
		return
	}
	for i, v := range x {
		o[i] = float32((float64(v)-mean)*inv)*weight[i] + bias[i]
	}
}

// ropeFrequencies returns the angle per position of each pair i of a
// head: base^(-2i/headSize), divided by divisors[i] when the model has
// RoPE frequency divisors (LLaMA 3.1, LongRoPE; nil otherwise).
func ropeFrequencies(headSize int, base float32, divisors []float32) []float32 {
	freq := make([]float32, headSize/2)
	// llama2.c computes the exponent and frequency in float32.
	for i := range freq {
		exp := float32(2*i) / float32(headSize)
		freq[i] = 1 / float32(math.Pow(float64(base), float64(exp)))
		if divisors != nil {
			freq[i] /= divisors[i]
		}
	}
	return freq
}

// ropeTable fills table (headSize,) with (cos, sin) of pos*freq[i] for
// each pair i of a head (freq from ropeFrequencies), both multiplied by
// scale (LongRoPE's attention factor; 1 for other models).
func ropeTable(table []float32, pos int, freq []float32, scale float64) {
	for i, f := range freq {
		angle := float64(float32(pos) * f) // in float32, as llama2.c
		table[2*i] = float32(math.Cos(angle) * scale)
		table[2*i+1] = float32(math.Sin(angle) * scale)
	}
}

// headNorms sets each head (headSize,) of v to rmsNorm(head) * weight:
// Qwen 3's query and key norms.
func headNorms(v, weight []float32, eps float32) {
	hs := len(weight)
	for h := 0; h < len(v); h += hs {
		rmsNorm(v[h:h+hs], v[h:h+hs], weight, eps)
	}
}

// ropePairs rotates each adjacent pair (v[2i], v[2i+1]) of every head of v
// by the angle of pair i in table (see ropeTable): arch.RoPEPairs.
func ropePairs(v, table []float32) {
	hs := len(table)
	for h := 0; h < len(v); h += hs {
		head := v[h : h+hs]
		for i := 0; i < hs; i += 2 {
			cos, sin := table[i], table[i+1]
			v0, v1 := head[i], head[i+1]
			head[i] = v0*cos - v1*sin
			head[i+1] = v0*sin + v1*cos
		}
	}
}

// ropeHalves rotates each pair (v[i], v[i+hs/2]) of every head of v by the
// angle of pair i in table: arch.RoPEHalves, GPT-NeoX's rotate-half.
func ropeHalves(v, table []float32) {
	hs := len(table)
	half := hs / 2
	for h := 0; h < len(v); h += hs {
		head := v[h : h+hs]
		for i := range half {
			cos, sin := table[2*i], table[2*i+1]
			v0, v1 := head[i], head[i+half]
			head[i] = v0*cos - v1*sin
			head[i+half] = v0*sin + v1*cos
		}
	}
}

// swiGLU sets hb[i] = silu(hb[i]) * hb2[i], silu(v) = v * sigmoid(v).
func swiGLU(hb, hb2 []float32) { simd.SwiGLU(hb, hb2) }

// geluTanh applies GELU with the tanh approximation GPT-2 uses ("gelu_new"):
// gelu(v) = 0.5 * v * (1 + tanh(sqrt(2/pi) * (v + 0.044715 * v³))).
func geluTanh(x []float32) {
	const sqrt2OverPi = 0.7978845608028654
	for i, v := range x {
		u := float64(v)
		x[i] = float32(0.5 * u * (1 + math.Tanh(sqrt2OverPi*(u+0.044715*u*u*u))))
	}
}
