package runtime

import (
	"math"

	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/simd"
)

// minParallelAttention is the attention work (heads x positions x head
// size) above which it is split over the pool's workers.
const minParallelAttention = 1 << 15

// attend computes b.o (rows, qDim): for each row, causal multi-head
// attention of its query b.q over positions 0..pos of its state's layer-l
// cache. Every attention computation of the forward pass goes through
// here, so a faster kernel replaces this one function.
func (m *Model) attend(b *Batch, rows []batchRow, l int) {
	c := &m.Config
	work := 0
	for _, r := range rows {
		work += r.pos + 1
	}
	b.attn.rows, b.attn.layer = rows, l
	m.pool.For(len(rows)*c.NHeads, &b.attn, work*c.NHeads*c.HeadSize >= minParallelAttention)
}

// attention is the attention of a batch's rows as a task over (row, head)
// pairs, so the pool can split them across workers.
type attention struct {
	b     *Batch
	rows  []batchRow
	layer int
}

// run computes pairs [lo, hi): row i/nHeads, head i%nHeads.
func (a *attention) run(lo, hi int) {
	b, c := a.b, &a.b.m.Config
	hs := c.HeadSize
	for i := lo; i < hi; i++ {
		t, h := i/c.NHeads, i%c.NHeads
		r := &a.rows[t]
		r.s.attendHead(c, a.layer, r.pos, h, b.q[t][h*hs:(h+1)*hs], b.o[t][h*hs:(h+1)*hs], b.att[i*b.ctx:])
	}
}

// attendHead computes head h of the attention of query q (headSize,) at
// position pos over the cached keys and values of positions 0..pos (the
// last c.SlidingWindow of them when the model has a window), into out
// (headSize,), using att (at least pos+1) as scratch for the weights.
func (s *State) attendHead(c *arch.Config, layer, pos, h int, q, out, att []float32) {
	headSize, kvDim := c.HeadSize, c.KVDim()
	kvh := (h / (c.NHeads / c.NKVHeads)) * headSize // this head's offset in a key or value vector
	keys := s.keyCache[layer*s.ctx*kvDim:]          // (ctx, kvDim)
	values := s.valueCache[layer*kvDim*s.ctx:]      // (kvDim, ctx): transposed
	first := 0                                      // the first position attended to
	if w := c.SlidingWindow; w > 0 && pos >= w {
		first = pos - w + 1
	}
	att = att[:pos+1-first]
	// att[t] = q . k_t / sqrt(headSize), then softmax over t; the keys of
	// this head are rows of headSize, kvDim apart
	quant.DotRowsF32(att, keys[first*kvDim+kvh:], kvDim, q)
	simd.Scale(att, float32(1/math.Sqrt(float64(headSize))))
	simd.Softmax(att)
	// out[i] = sum_t att[t] * v_t[i]: row i of the transposed cache . att
	quant.DotRowsF32(out, values[kvh*s.ctx+first:], s.ctx, att)
}
