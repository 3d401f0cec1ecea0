package runtime

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/quant"
)

// Forward runs the model on token at position pos of s and returns the
// logits (valid until the next call on s). Positions are fed in order from
// 0. It is ForwardBatch on a batch of one row.
func (m *Model) Forward(s *State, token, pos int) (logits []float32, err error) {
	b := s.batch
	b.Reset()
	b.Add(s, token, pos, s.logits)
	if err := m.ForwardBatch(b); err != nil {
		return nil, err
	}
	return s.logits, nil
}

// Prefill runs tokens through the model at positions pos0, pos0+1, ... of
// s and returns the logits after the last one. Each weight matrix is read
// once per MaxBatch tokens instead of once per token, which makes prompt
// processing much faster than generation. The result is the same as
// calling Forward for each token, up to float rounding.
func (m *Model) Prefill(s *State, tokens []int, pos0 int) (logits []float32, err error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("prefill: no tokens")
	}
	if pos0 < 0 || pos0+len(tokens) > s.ctx {
		return nil, fmt.Errorf("positions %d..%d are outside the context of %d positions", pos0, pos0+len(tokens)-1, s.ctx)
	}
	b := s.batch
	b.Reset()
	b.rows = slices.Grow(b.rows, len(tokens))
	for i, t := range tokens {
		var out []float32
		if i == len(tokens)-1 {
			out = s.logits
		}
		b.Add(s, t, pos0+i, out)
	}
	if err := m.ForwardBatch(b); err != nil {
		return nil, err
	}
	return s.logits, nil
}

// ErrFault is wrapped by the error Forward returns when reading the mapped
// model file faulted: the file was truncated or replaced while in use.
var ErrFault = errors.New("model file changed while in use (memory fault reading the mapping)")

// ForwardBatch runs every row of b through the model: the one forward pass
// of llmap, for any family and any number of rows. Each row's key and
// value go into its State's cache at its position, its attention reads
// that state's positions 0..pos, and its logits are written where Add was
// told (rows with nil logits skip the classifier). Each State's Hidden
// becomes the residual stream of its last row.
//
// The rows run in chunks of MaxBatch, each weight matrix read once per
// chunk. A single row (Forward) is the batch of one: the same code.
//
// To decode several sequences together, add one row per sequence, each
// with its own State, position and logits buffer:
//
//	b.Reset()
//	for i, seq := range seqs {
//		b.Add(seq.state, seq.next, seq.pos, seq.logits)
//	}
//	err := m.ForwardBatch(b)
func (m *Model) ForwardBatch(b *Batch) (err error) {
	if b.m != m {
		return errors.New("batch of another model")
	}
	if len(b.rows) == 0 {
		return errors.New("empty batch")
	}
	c := &m.Config
	ctx := 0
	for i := range b.rows {
		r := &b.rows[i]
		switch {
		case r.s == nil || r.s.m != m:
			return fmt.Errorf("row %d: state of another model", i)
		case r.token < 0 || r.token >= c.VocabSize:
			return fmt.Errorf("token %d is outside the vocabulary (0..%d)", r.token, c.VocabSize-1)
		case r.pos < 0 || r.pos >= r.s.ctx:
			return fmt.Errorf("position %d is outside the context of %d positions", r.pos, r.s.ctx)
		case r.logits != nil && len(r.logits) < c.VocabSize:
			return fmt.Errorf("row %d: logits buffer of %d, want %d", i, len(r.logits), c.VocabSize)
		}
		ctx = max(ctx, r.s.ctx)
	}
	m.fwd.Lock()
	defer m.fwd.Unlock()
	// A fault on the mapping panics instead of killing the process;
	// recoverFault turns it into an error.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer m.recoverFault(&err)
	b.reserve(min(len(b.rows), MaxBatch), ctx)
	for lo := 0; lo < len(b.rows); lo += MaxBatch {
		m.forwardChunk(b, b.rows[lo:min(lo+MaxBatch, len(b.rows))])
	}
	return nil
}

// forwardChunk runs up to MaxBatch rows through every block and the
// classifier, built from the family's pieces: embedding (and learned
// position), then per block x += attention(norm(x)) and x += ffn(norm(x)),
// then logits = classifier @ norm(x) for the rows that want them.
func (m *Model) forwardChunk(b *Batch, rows []batchRow) {
	w := &m.Weights
	n := len(rows)
	x, xb := b.x[:n], b.xb[:n]

	b.traced = false
	for i, r := range rows {
		b.traced = b.traced || r.s.tracer != nil
		// x (dim,) = row `token` of the embedding table (vocab, dim)
		w.TokenEmbedding.Row(r.token, x[i])
		if m.family.Position == arch.Learned {
			// x += row `pos` of the position table (ctx, dim)
			w.PositionEmbedding.Row(r.pos, xb[i])
			addInPlace(x[i], xb[i])
		} else {
			ropeTable(b.rope[i], r.pos, m.ropeFreq, m.ropeScale)
		}
	}
	for l := range w.Layers {
		m.paging.enterLayer(l)
		lw := &w.Layers[l]
		m.attentionBlock(b, rows, l, lw)
		m.feedForwardBlock(b, n, lw)
		if b.traced {
			b.traceBlock(rows, l)
		}
	}
	m.outputBlock(b, rows)
}

// attentionBlock is x += Wo @ attention(norm(x)) + bo for every row.
func (m *Model) attentionBlock(b *Batch, rows []batchRow, l int, lw *LayerWeights) {
	n := len(rows)
	x, xb, q, k, v := b.x[:n], b.xb[:n], b.q[:n], b.k[:n], b.v[:n]

	// xb (n, dim) = norm(x) * attn_norm (+ attn_norm_bias)
	for i := range x {
		m.norm(xb[i], x[i], lw.AttnNorm, lw.AttnNormBias)
	}

	// q (n, qDim), k and v (n, kvDim) = xb @ Wq^T, Wk^T, Wv^T (+ biases);
	// each row's k goes straight into its key cache
	for i, r := range rows {
		k[i] = r.s.keyRow(l, r.pos)
	}
	m.project(b, xb, 3, [3]quant.Matrix{lw.Wq, lw.Wk, lw.Wv}, [3][][]float32{q, k, v})
	for i, r := range rows {
		addBias(q[i], lw.Bq)
		addBias(k[i], lw.Bk)
		addBias(v[i], lw.Bv)
		if lw.QNorm != nil {
			// q, k = rmsNorm(each head) * q_norm, k_norm
			headNorms(q[i], lw.QNorm, m.Config.NormEps)
			headNorms(k[i], lw.KNorm, m.Config.NormEps)
		}
		// rotate each head of q and k by the row's position
		switch m.family.Position {
		case arch.RoPEPairs:
			ropePairs(q[i], b.rope[i])
			ropePairs(k[i], b.rope[i])
		case arch.RoPEHalves:
			ropeHalves(q[i], b.rope[i])
			ropeHalves(k[i], b.rope[i])
		}
		r.s.storeValue(l, r.pos, v[i])
	}

	if b.traced {
		b.traceQueryKey(rows, l)
	}
	// o (n, qDim) = causal multi-head attention of each row over positions 0..pos of its state
	m.attend(b, rows, l)

	// x += o @ Wo^T (+ bo)
	m.matmul(b, xb, lw.Wo, b.o[:n])
	for i := range x {
		addBias(xb[i], lw.Bo)
		addInPlace(x[i], xb[i])
	}
}

// feedForwardBlock is x += ffn(norm(x)) for the first n rows.
func (m *Model) feedForwardBlock(b *Batch, n int, lw *LayerWeights) {
	x, xb, hb, hb2 := b.x[:n], b.xb[:n], b.hb[:n], b.hb2[:n]

	// xb (n, dim) = norm(x) * ffn_norm (+ ffn_norm_bias)
	for i := range x {
		m.norm(xb[i], x[i], lw.FFNNorm, lw.FFNNormBias)
	}

	switch m.family.FFN {
	case arch.SwiGLU:
		// hb (n, hidden) = silu(xb @ Wgate^T) * (xb @ Wup^T (+ bup))
		m.project(b, xb, 2, [3]quant.Matrix{lw.Wgate, lw.Wup}, [3][][]float32{hb, hb2})
		for i := range hb {
			addBias(hb2[i], lw.Bup)
			swiGLU(hb[i], hb2[i])
		}
	case arch.GELU:
		// hb (n, hidden) = gelu(xb @ Wup^T (+ bup))
		m.matmul(b, hb, lw.Wup, xb)
		for i := range hb {
			addBias(hb[i], lw.Bup)
			geluTanh(hb[i])
		}
	}

	// x += hb @ Wdown^T (+ bdown)
	m.matmul(b, xb, lw.Wdown, hb)
	for i := range x {
		addBias(xb[i], lw.Bdown)
		addInPlace(x[i], xb[i])
	}
}

// outputBlock keeps each row's residual stream as its state's Hidden and
// computes logits (vocab,) = classifier (vocab, dim) @ norm(x) for the rows
// that want them, reading the classifier once for all of them.
func (m *Model) outputBlock(b *Batch, rows []batchRow) {
	w := &m.Weights
	k := 0
	for i, r := range rows {
		copy(r.s.hidden, b.x[i])
		if r.logits != nil {
			b.ins[k], b.outs[k] = b.x[i], r.logits[:m.Config.VocabSize]
			k++
		}
	}
	if k == 0 {
		return
	}
	m.paging.enterOutput()
	for j := range k {
		m.norm(b.xb[j], b.ins[j], w.OutputNorm, w.OutputNormBias)
		b.ins[j] = b.xb[j]
	}
	m.matmul(b, b.outs[:k], w.Classifier, b.ins[:k])
}

// norm sets o = norm(x) * weight (+ bias) with the family's norm. o may
// alias x.
func (m *Model) norm(o, x, weight, bias []float32) {
	if m.family.Norm == arch.LayerNorm {
		layerNorm(o, x, weight, bias, m.Config.NormEps)
		return
	}
	rmsNorm(o, x, weight, m.Config.NormEps)
	addBias(o, bias)
}

// setInputs prepares the rows ins as the inputs of the next products, for
// matrices of type t.
func (b *Batch) setInputs(ins [][]float32, t quant.Type) {
	for i, x := range ins {
		b.vecs[i].Set(x, t)
	}
	b.vecType = t
}

// matmul computes outs[i] = w @ ins[i] for every row, reading w once for
// all of them: W (out, in) @ x (in,) -> (out,).
func (m *Model) matmul(b *Batch, outs [][]float32, w quant.Matrix, ins [][]float32) {
	b.setInputs(ins, w.Type)
	m.product(b, outs, w)
}

// product computes outs[i] = w @ the input prepared in b.vecs[i].
func (m *Model) product(b *Batch, outs [][]float32, w quant.Matrix) {
	if len(outs) == 1 {
		m.pool.MatVec(outs[0], w, b.vecs[0])
		return
	}
	m.pool.MatMat(outs, w, b.vecs[:len(outs)])
}

// project computes outs[j][i] = ws[j] @ ins[i] for n (2 or 3) matrices
// that share their input rows (q, k, v; gate, up). A single row with
// matrices that read the same prepared input (one type, or types that
// share it, such as Q4_K and Q6_K in a Q4_K_M model) is one hand-off to the
// workers for all of them.
func (m *Model) project(b *Batch, ins [][]float32, n int, ws [3]quant.Matrix, outs [3][][]float32) {
	b.setInputs(ins, ws[0].Type)
	same := true
	for _, w := range ws[1:n] {
		same = same && w.Type.SharesActivations(ws[0].Type) && w.Cols == ws[0].Cols
	}
	if len(ins) == 1 && same {
		b.group = matGroup{n: n, ms: ws}
		for j := range n {
			b.group.outs[j] = outs[j][0]
		}
		m.pool.MatVecGroup(&b.group, b.vecs[0])
		return
	}
	for j := range n {
		if !ws[j].Type.SharesActivations(b.vecType) {
			b.setInputs(ins, ws[j].Type)
		}
		m.product(b, outs[j], ws[j])
	}
}
