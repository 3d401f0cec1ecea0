package runtime

import (
	"fmt"
	"runtime/debug"

	"github.com/llmap/llmap/quant"
)

// MaxBatch is the number of prompt tokens Prefill pushes through each
// weight matrix together. At 32 the products are bound by arithmetic, not
// by reading the weights, on the kernels here.
const MaxBatch = 32

// batchState holds the activations of up to MaxBatch positions. It is
// allocated on the first Prefill of a State.
type batchState struct {
	x, xb, xb2 [][]float32 // (batch, dim)
	hb, hb2    [][]float32 // (batch, hidden)
	q          [][]float32 // (batch, nHeads*headSize)
	k, v       [][]float32 // (batch, kvDim); k points into the key cache
	att        []float32   // (batch*nHeads, ctx) attention weights
	rope       []float32   // (headSize,)
	vecs       []*quant.Vec
	vecType    quant.Type
	vecSet     bool
	attn       batchAttention
}

func newBatchState(c *Config, ctx int) *batchState {
	rows := func(n int) [][]float32 {
		flat := make([]float32, MaxBatch*n)
		r := make([][]float32, MaxBatch)
		for i := range r {
			r[i] = flat[i*n : (i+1)*n : (i+1)*n]
		}
		return r
	}
	b := &batchState{
		x: rows(c.Dim), xb: rows(c.Dim), xb2: rows(c.Dim), q: rows(c.Dim),
		hb: rows(c.HiddenDim), hb2: rows(c.HiddenDim), v: rows(c.KVDim()),
		k:    make([][]float32, MaxBatch),
		att:  make([]float32, MaxBatch*c.NHeads*ctx),
		rope: make([]float32, c.HeadSize()),
		vecs: make([]*quant.Vec, MaxBatch),
	}
	for i := range b.vecs {
		b.vecs[i] = quant.NewVec(max(c.Dim, c.HiddenDim))
	}
	return b
}

// batchAttention is attention for a batch of consecutive positions: a task
// over (position, head) pairs.
type batchAttention struct {
	s     *State
	c     *Config
	layer int
	pos0  int
}

func (a *batchAttention) run(lo, hi int) {
	s, c, b := a.s, a.c, a.s.batch
	hs := c.HeadSize()
	for i := lo; i < hi; i++ {
		t, h := i/c.NHeads, i%c.NHeads
		s.attendHead(c, a.layer, a.pos0+t, h, b.q[t][h*hs:(h+1)*hs], b.xb[t][h*hs:(h+1)*hs], b.att[i*s.ctx:])
	}
}

// Prefill runs tokens through the model at positions pos0, pos0+1, ... and
// returns the logits after the last one. Each weight matrix is read once
// per batch of up to MaxBatch tokens instead of once per token, which makes
// prompt processing much faster than generation. The result is the same as
// calling Forward for each token, up to float rounding.
func (m *Model) Prefill(s *State, tokens []int, pos0 int) (logits []float32, err error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("prefill: no tokens")
	}
	if pos0 < 0 || pos0+len(tokens) > s.ctx {
		return nil, fmt.Errorf("positions %d..%d are outside the context of %d positions", pos0, pos0+len(tokens)-1, s.ctx)
	}
	for _, t := range tokens {
		if t < 0 || t >= m.Config.VocabSize {
			return nil, fmt.Errorf("token %d is outside the vocabulary (0..%d)", t, m.Config.VocabSize-1)
		}
	}
	if m.Config.Arch != ArchLlama || len(tokens) == 1 {
		for i, t := range tokens {
			if logits, err = m.Forward(s, t, pos0+i); err != nil {
				return nil, err
			}
		}
		return logits, nil
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer m.recoverFault(&err)
	if s.batch == nil {
		s.batch = newBatchState(&m.Config, s.ctx)
		s.batch.attn = batchAttention{s: s, c: &m.Config}
	}
	for lo := 0; lo < len(tokens); lo += MaxBatch {
		hi := min(lo+MaxBatch, len(tokens))
		m.prefillLlama(s, tokens[lo:hi], pos0+lo, hi == len(tokens))
	}
	return s.logits, nil
}

// setInputs prepares the first n rows of xs for matrices of type t, unless
// they already are.
func (b *batchState) setInputs(xs [][]float32, n int, t quant.Type, force bool) {
	if !force && b.vecSet && b.vecType == t {
		return
	}
	for i := 0; i < n; i++ {
		b.vecs[i].Set(xs[i], t)
	}
	b.vecType, b.vecSet = t, true
}

// prefillLlama is forwardLlama for n <= MaxBatch consecutive positions.
// Only the last position's logits are computed, when last is set.
func (m *Model) prefillLlama(s *State, tokens []int, pos0 int, last bool) {
	c, w, p, b := &m.Config, &m.Weights, m.pool, s.batch
	n, kvDim, headSize := len(tokens), c.KVDim(), c.HeadSize()
	x := b.x[:n]

	// x (n, dim) = embedding rows of the tokens
	for i, t := range tokens {
		w.TokenEmbedding.Row(t, x[i])
	}
	for l := range w.Layers {
		m.paging.enterLayer(l)
		lw := &w.Layers[l]
		// xb = rmsnorm(x) * attn_norm, row by row
		for i := range x {
			rmsNorm(b.xb[i], x[i], lw.AttnNorm, c.NormEps)
		}
		// q (n, dim), k, v (n, kvDim): each weight matrix read once for all rows
		for i := range x {
			b.k[i] = s.keyCache[(l*s.ctx+pos0+i)*kvDim:][:kvDim]
		}
		b.setInputs(b.xb, n, lw.Wq.Type, true)
		p.MatMat(b.q[:n], lw.Wq, b.vecs[:n])
		b.setInputs(b.xb, n, lw.Wk.Type, false)
		p.MatMat(b.k[:n], lw.Wk, b.vecs[:n])
		b.setInputs(b.xb, n, lw.Wv.Type, false)
		p.MatMat(b.v[:n], lw.Wv, b.vecs[:n])
		for i := range x {
			ropeTable(b.rope, pos0+i, headSize, c.RopeBase)
			rope(b.q[i], b.rope)
			rope(b.k[i], b.rope)
			s.storeValue(l, pos0+i, b.v[i])
		}

		// xb (n, dim) = causal attention of each position over 0..its own
		b.attn.layer, b.attn.pos0 = l, pos0
		p.For(n*c.NHeads, &b.attn, n*c.NHeads*(pos0+n)*headSize >= minParallelAttention)

		// x += xb @ Wo^T
		b.setInputs(b.xb, n, lw.Wo.Type, true)
		p.MatMat(b.xb2[:n], lw.Wo, b.vecs[:n])
		for i := range x {
			addInPlace(x[i], b.xb2[i])
			rmsNorm(b.xb[i], x[i], lw.FFNNorm, c.NormEps)
		}

		// hb = silu(xb @ W1^T) * (xb @ W3^T); x += hb @ W2^T
		b.setInputs(b.xb, n, lw.W1.Type, true)
		p.MatMat(b.hb[:n], lw.W1, b.vecs[:n])
		b.setInputs(b.xb, n, lw.W3.Type, false)
		p.MatMat(b.hb2[:n], lw.W3, b.vecs[:n])
		for i := range x {
			swiGLU(b.hb[i], b.hb2[i])
		}
		b.setInputs(b.hb, n, lw.W2.Type, true)
		p.MatMat(b.xb[:n], lw.W2, b.vecs[:n])
		for i := range x {
			addInPlace(x[i], b.xb[i])
		}
	}
	b.vecSet = false
	if !last {
		return
	}
	// logits of the last position only
	m.paging.enterOutput()
	copy(s.x, x[n-1])
	rmsNorm(s.xb, s.x, w.FinalNorm, c.NormEps)
	s.setInput(s.xb, w.Classifier.Type)
	p.MatVec(s.logits, w.Classifier, s.vec)
}
