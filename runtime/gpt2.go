package runtime

import (
	"math"

	"github.com/viterin/vek/vek32"
)

// forwardGPT2 runs one position of the GPT-2 architecture: token plus
// learned position embedding, pre-LayerNorm blocks with biases, fused QKV
// projection, multi-head causal attention, a GELU (tanh approximation)
// feed-forward, a final LayerNorm and the classifier (tied to the token
// embedding in every released GPT-2).
func (m *Model) forwardGPT2(s *State, token, pos int) {
	c, w, p := &m.Config, &m.Weights, m.pool
	dim, kvDim, headSize := c.Dim, c.KVDim(), c.HeadSize()
	x := s.x

	// x (dim,) = wte[token] + wpe[pos]
	w.TokenEmbedding.Row(token, x)
	w.PositionEmbedding.Row(pos, s.xb)
	vek32.Add_Inplace(x, s.xb)

	for l := range w.Layers {
		m.paging.enterLayer(l)
		lw := &w.Layers[l]
		// xb = layernorm(x) * attn_norm + attn_norm_bias
		layerNorm(s.xb, x, lw.AttnNorm, lw.AttnNormBias, c.NormEps)

		// qkv (3*dim,) = Wqkv (3*dim, dim) @ xb + bqkv; rows are [q; k; v]
		s.setInput(s.xb, lw.Wqkv.Type)
		p.MatVec(s.qkv, lw.Wqkv, s.vec)
		vek32.Add_Inplace(s.qkv, lw.BiasQKV)
		copy(s.q, s.qkv[:dim])
		copy(s.keyCache[(l*s.ctx+pos)*kvDim:][:kvDim], s.qkv[dim:dim+kvDim])
		s.storeValue(l, pos, s.qkv[dim+kvDim:dim+2*kvDim])

		// xb (dim,) = multi-head causal attention over positions 0..pos
		s.attn.layer, s.attn.pos = l, pos
		p.For(c.NHeads, &s.attn, c.NHeads*(pos+1)*headSize >= minParallelAttention)

		// x += Wo (dim, dim) @ xb + bo
		s.setInput(s.xb, lw.Wo.Type)
		p.MatVec(s.xb2, lw.Wo, s.vec)
		vek32.Add_Inplace(s.xb2, lw.BiasO)
		vek32.Add_Inplace(x, s.xb2)

		// xb = layernorm(x) * ffn_norm + ffn_norm_bias
		layerNorm(s.xb, x, lw.FFNNorm, lw.FFNNormBias, c.NormEps)

		// hb (hidden,) = gelu(W1 (hidden, dim) @ xb + b1)
		s.setInput(s.xb, lw.W1.Type)
		p.MatVec(s.hb, lw.W1, s.vec)
		vek32.Add_Inplace(s.hb, lw.Bias1)
		geluTanh(s.hb)

		// x += W2 (dim, hidden) @ hb + b2
		s.setInput(s.hb, lw.W2.Type)
		p.MatVec(s.xb, lw.W2, s.vec)
		vek32.Add_Inplace(s.xb, lw.Bias2)
		vek32.Add_Inplace(x, s.xb[:dim])
	}

	// logits (vocab,) = classifier (vocab, dim) @ (layernorm(x) * output_norm + output_norm_bias)
	m.paging.enterOutput()
	// (x stays the residual stream after the last block: State.Hidden)
	layerNorm(s.xb, x, w.FinalNorm, w.FinalNormBias, c.NormEps)
	s.setInput(s.xb, w.Classifier.Type)
	p.MatVec(s.logits, w.Classifier, s.vec)
}

// layerNorm sets o = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias, with
// the biased variance, as torch.nn.functional.layer_norm computes it. o may
// alias x. The statistics are accumulated in float64 so that a large common
// offset in x costs no precision.
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
	for i, v := range x {
		o[i] = float32((float64(v)-mean)*inv)*weight[i] + bias[i]
	}
}

// geluTanh applies GELU with the tanh approximation GPT-2 uses ("gelu_new"):
// gelu(v) = 0.5 * v * (1 + tanh(sqrt(2/pi) * (v + 0.044715 * v³))).
func geluTanh(x []float32) {
	const sqrt2OverPi = 0.7978845608028654
	for i, v := range x {
		u := float64(v)
		x[i] = float32(0.5 * u * (1 + math.Tanh(sqrt2OverPi*(u+0.044715*u*u*u))))
	}
}
