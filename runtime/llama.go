package runtime

import (
	"math"

	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/simd"
	"github.com/viterin/vek/vek32"
)

// forwardLlama runs one position of the LLaMA architecture as llama2.c
// defines it: RMSNorm, interleaved-pair RoPE, grouped-query attention,
// SwiGLU feed-forward, residual connections, final norm and classifier.
func (m *Model) forwardLlama(s *State, token, pos int) {
	c, w, p := &m.Config, &m.Weights, m.pool
	dim, kvDim, headSize := c.Dim, c.KVDim(), c.HeadSize()
	x := s.x

	// x (dim,) = row `token` of the embedding table (vocab, dim)
	w.TokenEmbedding.Row(token, x)
	ropeTable(s.rope, pos, headSize, c.RopeBase)

	for l := range w.Layers {
		m.paging.enterLayer(l)
		lw := &w.Layers[l]
		// xb = rmsnorm(x) * attn_norm
		rmsNorm(s.xb, x, lw.AttnNorm, c.NormEps)

		// q (dim,), k and v (kvDim,) of this position; k goes straight into the cache
		k := s.keyCache[(l*s.ctx+pos)*kvDim:][:kvDim]
		s.setInput(s.xb, lw.Wq.Type)
		if lw.Wk.Type == lw.Wq.Type && lw.Wv.Type == lw.Wq.Type {
			// one hand-off to the workers for the three projections
			s.group = matGroup{n: 3, ms: [3]quant.Matrix{lw.Wq, lw.Wk, lw.Wv}, outs: [3][]float32{s.q, k, s.v}}
			p.MatVecGroup(&s.group, s.vec)
		} else {
			p.MatVec(s.q, lw.Wq, s.vec)
			s.prepare(s.xb, lw.Wk.Type)
			p.MatVec(k, lw.Wk, s.vec)
			s.prepare(s.xb, lw.Wv.Type)
			p.MatVec(s.v, lw.Wv, s.vec)
		}

		// rotate each (even, odd) pair of q and k by pos * freq(pair)
		rope(s.q, s.rope)
		rope(k, s.rope)
		s.storeValue(l, pos, s.v)

		// xb (dim,) = multi-head attention over positions 0..pos
		s.attn.layer, s.attn.pos = l, pos
		p.For(c.NHeads, &s.attn, c.NHeads*(pos+1)*headSize >= minParallelAttention)

		// x += Wo (dim, dim) @ xb
		s.setInput(s.xb, lw.Wo.Type)
		p.MatVec(s.xb2, lw.Wo, s.vec)
		addInPlace(x, s.xb2)

		// xb = rmsnorm(x) * ffn_norm
		rmsNorm(s.xb, x, lw.FFNNorm, c.NormEps)

		// hb = silu(W1 @ xb) * (W3 @ xb); W1, W3 (hidden, dim)
		s.setInput(s.xb, lw.W1.Type)
		if lw.W3.Type == lw.W1.Type {
			s.group = matGroup{n: 2, ms: [3]quant.Matrix{lw.W1, lw.W3}, outs: [3][]float32{s.hb, s.hb2}}
			p.MatVecGroup(&s.group, s.vec)
		} else {
			p.MatVec(s.hb, lw.W1, s.vec)
			s.prepare(s.xb, lw.W3.Type)
			p.MatVec(s.hb2, lw.W3, s.vec)
		}
		swiGLU(s.hb, s.hb2)

		// x += W2 (dim, hidden) @ hb
		s.setInput(s.hb, lw.W2.Type)
		p.MatVec(s.xb, lw.W2, s.vec)
		addInPlace(x, s.xb[:dim])
	}

	// logits (vocab,) = classifier (vocab, dim) @ rmsnorm(x) * output_norm
	m.paging.enterOutput()
	// (x stays the residual stream after the last block: State.Hidden)
	rmsNorm(s.xb, x, w.FinalNorm, c.NormEps)
	s.setInput(s.xb, w.Classifier.Type)
	p.MatVec(s.logits, w.Classifier, s.vec)
}

// minParallelAttention is the attention work (heads x positions x head
// size) above which heads are split over the pool's workers.
const minParallelAttention = 1 << 15

// attention computes causal multi-head attention for one position: a task
// over query heads, so the pool can split heads across workers.
type attention struct {
	s          *State
	c          *Config
	layer, pos int
}

// run computes heads [lo, hi) of s.q into s.xb.
func (a *attention) run(lo, hi int) {
	hs := a.c.HeadSize()
	for h := lo; h < hi; h++ {
		a.s.attendHead(a.c, a.layer, a.pos, h, a.s.q[h*hs:(h+1)*hs], a.s.xb[h*hs:(h+1)*hs], a.s.att[h*a.s.ctx:])
	}
}

// attendHead computes head h of the attention of query q (headSize,) at
// position pos over the cached keys and values of positions 0..pos, into
// out (headSize,), using att (at least pos+1) as scratch for the weights.
func (s *State) attendHead(c *Config, layer, pos, h int, q, out, att []float32) {
	headSize, kvDim := c.HeadSize(), c.KVDim()
	kvh := (h / (c.NHeads / c.NKVHeads)) * headSize // this head's offset in a key or value vector
	keys := s.keyCache[layer*s.ctx*kvDim:]          // (ctx, kvDim)
	values := s.valueCache[layer*kvDim*s.ctx:]      // (kvDim, ctx): transposed
	att = att[:pos+1]
	// att[t] = q . k_t / sqrt(headSize), then softmax over t; the keys of
	// this head are rows of headSize, kvDim apart
	quant.DotRowsF32(att, keys[kvh:], kvDim, q)
	simd.Scale(att, float32(1/math.Sqrt(float64(headSize))))
	simd.Softmax(att)
	// out[i] = sum_t att[t] * v_t[i]: row i of the transposed cache . att
	quant.DotRowsF32(out, values[kvh*s.ctx:], s.ctx, att)
}

// storeValue copies v (kvDim,) into the value cache of layer l at position
// pos. The value cache is stored transposed, (layer, kvDim, ctx), so
// attention reads each dimension's values over positions contiguously.
func (s *State) storeValue(l, pos int, v []float32) {
	col := s.valueCache[l*len(v)*s.ctx+pos:]
	for i, x := range v {
		col[i*s.ctx] = x
	}
}

// setInput prepares x as the input of the next matrix-vector products, for
// matrices of type t.
func (s *State) setInput(x []float32, t quant.Type) {
	s.vec.Set(x, t)
	s.vecType = t
}

// prepare re-prepares the input set by setInput when the next matrix has a
// different type than the one it was prepared for.
func (s *State) prepare(x []float32, t quant.Type) {
	if s.vecType != t {
		s.setInput(x, t)
	}
}

// addInPlace sets x += y (the residual connection).
func addInPlace(x, y []float32) { vek32.Add_Inplace(x, y) }

// rmsNorm sets o = x / sqrt(mean(x²) + eps) * weight. o may alias x.
func rmsNorm(o, x, weight []float32, eps float32) {
	ss := simd.Dot(x, x)/float32(len(x)) + eps
	inv := float32(1 / math.Sqrt(float64(ss)))
	for i := range o {
		o[i] = weight[i] * (inv * x[i])
	}
}

// ropeTable fills table with (cos, sin) of pos*freq for each pair of a head,
// freq = base^(-2i/headSize) for pair i.
func ropeTable(table []float32, pos, headSize int, base float32) {
	// llama2.c computes the exponent, frequency and angle in float32.
	for i := 0; i < headSize; i += 2 {
		exp := float32(i) / float32(headSize)
		freq := 1 / float32(math.Pow(float64(base), float64(exp)))
		angle := float64(float32(pos) * freq)
		table[i] = float32(math.Cos(angle))
		table[i+1] = float32(math.Sin(angle))
	}
}

// rope rotates each pair (v[i], v[i+1]) of every head of v by the angles in
// table (see ropeTable).
func rope(v, table []float32) {
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

// swiGLU sets hb[i] = silu(hb[i]) * hb2[i], silu(v) = v * sigmoid(v).
func swiGLU(hb, hb2 []float32) {
	for i, v := range hb {
		hb[i] = v * float32(1/(1+math.Exp(float64(-v)))) * hb2[i]
	}
}
