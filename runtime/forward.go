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
// once per chunk of tokens (64 or 128) instead of once per token, which
// makes prompt processing much faster than generation. The result is the same as
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
// The rows run in chunks (Model.chunkRows: 128 or 64 rows), each weight
// matrix read once per chunk. A single row (Forward) is the batch of one: the same code.
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
	chunk := m.chunkRows()
	b.reserve(min(len(b.rows), chunk), ctx)
	for lo := 0; lo < len(b.rows); lo += chunk {
		m.forwardChunk(b, b.rows[lo:min(lo+chunk, len(b.rows))])
	}
	return nil
}

// forwardChunk runs up to a chunk of rows through every block and the
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
	kv := rows[0].s.kvType
	for l := range w.Layers {
		m.paging.enterLayer(l)
		lw := &w.Layers[l]
		m.attentionBlock(b, rows, l, lw)
		after := aheadOf(w.Classifier)
		if l+1 < len(w.Layers) {
			after = m.qkvAhead(&w.Layers[l+1], kv)
		}
		m.feedForwardBlock(b, n, lw, after)
		if b.traced {
			b.traceBlock(rows, l)
		}
	}
	m.outputBlock(b, rows)
}

// attentionBlock is x += Wo @ attention(norm(x)) + bo for every row.
func (m *Model) attentionBlock(b *Batch, rows []batchRow, l int, lw *LayerWeights) {
	n := len(rows)
	x, xb := b.x[:n], b.xb[:n]

	// xb (n, dim) = norm(x) * attn_norm (+ attn_norm_bias)
	for i := range x {
		m.norm(xb[i], x[i], lw.AttnNorm, lw.AttnNormBias)
	}

	// q (n, qDim), k and v (n, kvDim) = xb @ Wq^T, Wk^T, Wv^T (+ biases),
	// q and k rotated by each row's position, k and v stored into each
	// row's cache: one job over the heads
	b.in.prepare(xb, [3]quant.Type{lw.Wq.Type, lw.Wk.Type, lw.Wv.Type}, 3)
	b.qkv.rows, b.qkv.l, b.qkv.lw = rows, l, lw
	align := m.qkvAlign(rows[0].s.kvType)
	rowBytes := max(lw.Wq.RowBytes(), lw.Wk.RowBytes(), lw.Wv.RowBytes())
	all := lw.Wq.Rows + lw.Wk.Rows + lw.Wv.Rows
	m.pool.next = aheadOf(lw.Wo)
	m.runRows(&b.qkv, all, rowBytes, n, align, lw.Wq.Rows%align == 0 && lw.Wk.Rows%align == 0, lw.Wq.Type)

	if b.traced {
		b.traceQueryKey(rows, l)
	}
	// o (n, qDim) = causal multi-head attention of each row over positions 0..pos of its state
	m.pool.next = aheadOf(lw.Wo)
	m.attend(b, rows, l)

	// x += o @ Wo^T (+ bo)
	b.in.prepare(b.o[:n], [3]quant.Type{lw.Wo.Type}, 1)
	m.pool.next = m.ffnAhead(lw, n)
	m.product(b, lw.Wo, xb, lw.Bo, x)
}

// qkvAlign is the multiple of rows the Q/K/V job is cut at: whole heads,
// and whole blocks of a Q8_0 cache of type kv.
func (m *Model) qkvAlign(kv quant.Type) int {
	align := lcm(rowAlign, m.Config.HeadSize)
	if kv == quant.Q8_0 {
		align = lcm(align, 32)
	}
	return align
}

// ffnAlign is the multiple of rows the feed-forward job of lw is cut at:
// whole blocks of the down projection's input.
func ffnAlign(lw *LayerWeights) int {
	if lw.Wdown.Type.Quantized() {
		return lcm(rowAlign, lw.Wdown.Type.BlockSize())
	}
	return rowAlign
}

// aheadOf is a product over w as the next job (see ahead).
func aheadOf(w quant.Matrix) ahead {
	return ahead{rows: w.Rows, align: rowAlign, parts: [3]aheadPart{{w.Data, w.RowBytes(), 0}}}
}

// qkvAhead is the Q/K/V job of lw (Wq, Wk and Wv stacked) as the next job.
func (m *Model) qkvAhead(lw *LayerWeights, kv quant.Type) ahead {
	q, k, v := lw.Wq, lw.Wk, lw.Wv
	return ahead{rows: q.Rows + k.Rows + v.Rows, align: m.qkvAlign(kv), parts: [3]aheadPart{
		{q.Data, q.RowBytes(), 0}, {k.Data, k.RowBytes(), q.Rows}, {v.Data, v.RowBytes(), q.Rows + k.Rows}}}
}

// ffnAhead is the feed-forward job of lw for n rows as the next job: gate
// and up stacked when it is split by matrix (see splitFFN), side by side
// when it is one job.
func (m *Model) ffnAhead(lw *LayerWeights, n int) ahead {
	up, gate := lw.Wup, lw.Wgate
	a := ahead{rows: up.Rows, align: ffnAlign(lw), parts: [3]aheadPart{{up.Data, up.RowBytes(), 0}}}
	switch {
	case m.splitFFN(lw, n):
		a.rows = 2 * up.Rows
		a.parts[0] = aheadPart{gate.Data, gate.RowBytes(), 0}
		a.parts[1] = aheadPart{up.Data, up.RowBytes(), up.Rows}
	case m.family.FFN == arch.SwiGLU:
		a.parts[1] = aheadPart{gate.Data, gate.RowBytes(), 0}
	}
	return a
}

// splitFFN reports whether the SwiGLU feed-forward job of lw for n rows
// runs as two jobs: the products over gate and up stacked (gate's rows,
// then up's), then the activation over the hidden rows. Cut into home
// ranges, the stacked rows give each of two threads one matrix to stream
// from start to end. Sharing each chunk's rows of both, as the one job
// does, has every thread alternate between two streams, which on two
// threads cost 1-2.5% of a token (ffn8's and ffn9's notes). On one thread
// the one job already reads gate, then up, each in one stream, and saves
// the second job. Only one vector (decoding) splits: a batch's products
// are bound by arithmetic rather than by the weight stream, and its one job
// applies the activation while the chunk's outputs are still in the caches.
func (m *Model) splitFFN(lw *LayerWeights, n int) bool {
	up, align := lw.Wup, ffnAlign(lw)
	return n == 1 && !m.fusedFFN && m.family.FFN == arch.SwiGLU && up.Rows%align == 0 &&
		m.parallel(2*up.Rows, max(up.RowBytes(), lw.Wgate.RowBytes()), n, align)
}

// feedForwardBlock is x += ffn(norm(x)) for the first n rows; after is
// the job that follows it (see ahead).
func (m *Model) feedForwardBlock(b *Batch, n int, lw *LayerWeights, after ahead) {
	x, xb := b.x[:n], b.xb[:n]

	// xb (n, dim) = norm(x) * ffn_norm (+ ffn_norm_bias)
	for i := range x {
		m.norm(xb[i], x[i], lw.FFNNorm, lw.FFNNormBias)
	}

	// SwiGLU: hb (n, hidden) = silu(xb @ Wgate^T) * (xb @ Wup^T (+ bup));
	// GELU: hb = gelu(xb @ Wup^T (+ bup)). One job over the hidden rows,
	// which also prepares hb as the down projection's input.
	up := lw.Wup
	rowBytes := up.RowBytes()
	if m.family.FFN == arch.SwiGLU {
		b.in.prepare(xb, [3]quant.Type{lw.Wgate.Type, up.Type}, 2)
		rowBytes += lw.Wgate.RowBytes()
	} else {
		b.in.prepare(xb, [3]quant.Type{up.Type}, 1)
	}
	b.down.shape(lw.Wdown.Type, n, up.Rows)
	b.ffn.n, b.ffn.lw = n, lw
	align := ffnAlign(lw)
	if m.splitFFN(lw, n) {
		b.ffn.stage = ffnProducts
		m.pool.next = aheadOf(lw.Wdown)
		m.runRows(&b.ffn, 2*up.Rows, max(up.RowBytes(), lw.Wgate.RowBytes()), n, align, true, up.Type)
		// The activation touches 8 bytes of hb and hb2 per row and
		// writes the down projection's input: 64 bytes per row as the
		// pool's measure of work keeps it to a few chunks per thread.
		b.ffn.stage = ffnActivation
		m.pool.next = aheadOf(lw.Wdown)
		m.runRows(&b.ffn, up.Rows, 64, n, align, true, up.Type)
	} else {
		b.ffn.stage = ffnFused
		m.pool.next = aheadOf(lw.Wdown)
		m.runRows(&b.ffn, up.Rows, rowBytes, n, align, true, up.Type)
	}

	// x += hb @ Wdown^T (+ bdown)
	m.pool.next = after
	m.productFrom(b, &b.down, lw.Wdown, xb, lw.Bdown, x)
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
	b.in.prepare(b.ins[:k], [3]quant.Type{w.Classifier.Type}, 1)
	if len(w.Layers) > 0 {
		// The next token starts with the first block's Q/K/V.
		m.pool.next = m.qkvAhead(&w.Layers[0], rows[0].s.kvType)
	}
	m.product(b, w.Classifier, b.outs[:k], nil, nil)
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

// product computes outs[i] = w @ input i (+ bias) for the inputs prepared
// in b.in, and adds them into residual[i] when residual is not nil:
// W (out, in) @ x (in,) -> (out,), reading w once for all rows.
func (m *Model) product(b *Batch, w quant.Matrix, outs [][]float32, bias []float32, residual [][]float32) {
	m.productFrom(b, &b.in, w, outs, bias, residual)
}

// productFrom is product with the inputs prepared in in.
func (m *Model) productFrom(b *Batch, in *inputs, w quant.Matrix, outs [][]float32, bias []float32, residual [][]float32) {
	j := &b.prod
	j.w, j.in, j.outs, j.bias, j.residual = w, in, outs, bias, residual
	m.runRows(j, w.Rows, w.RowBytes(), len(outs), rowAlign, true, w.Type)
	j.in, j.outs, j.bias, j.residual = nil, nil, nil, nil
}

// runRows runs a job over rows rows (of rowBytes bytes of weights each, for
// n batch rows) on the pool, in chunks of a multiple of align rows, or on
// the calling goroutine when it is too small to share or when split is
// false (the rows cannot be cut at align).
func (m *Model) runRows(t task, rows, rowBytes, n, align int, split bool, kernel quant.Type) {
	m.pool.RunRows(rows, rowBytes, align, t, int(kernel), split && m.parallel(rows, rowBytes, n, align))
}

// parallel reports whether a job over rows rows of rowBytes bytes each,
// for n batch rows, cut at multiples of align, is large enough to share
// out to the pool's threads.
func (m *Model) parallel(rows, rowBytes, n, align int) bool {
	bytes := rows * rowBytes
	return m.pool.threads > 1 && rows >= m.pool.threads*align &&
		(bytes >= minParallelBytes || bytes*n >= 4*minParallelBytes)
}

// lcm is the least common multiple of a and b (both > 0).
func lcm(a, b int) int {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

// sub returns v[lo:hi], or nil for a nil v (an absent bias).
func sub(v []float32, lo, hi int) []float32 {
	if v == nil {
		return nil
	}
	return v[lo:hi]
}

// qkvJob computes rows [lo, hi) of the stacked matrices Wq, Wk, Wv (whole
// heads) for every row of the batch: the queries, keys and values with
// their biases, RoPE on the queries and keys, and the keys and values
// stored into each row's cache.
type qkvJob struct {
	b    *Batch
	rows []batchRow
	l    int
	lw   *LayerWeights
}

func (j *qkvJob) run(lo, hi, _ int) {
	b, lw := j.b, j.lw
	m, n := b.m, len(j.rows)
	qDim, kvDim := lw.Wq.Rows, lw.Wk.Rows
	if l, h := lo, min(hi, qDim); l < h {
		quant.MatMul(b.q[:n], lw.Wq, l, h, b.in.get(lw.Wq.Type))
		for i := range n {
			q := b.q[i][l:h]
			addBias(q, sub(lw.Bq, l, h))
			if lw.QNorm != nil {
				headNorms(q, lw.QNorm, m.Config.NormEps) // q = rmsNorm(each head) * q_norm
			}
			m.rotate(q, b.rope[i])
		}
	}
	if l, h := max(lo-qDim, 0), min(hi-qDim, kvDim); l < h {
		quant.MatMul(b.k[:n], lw.Wk, l, h, b.in.get(lw.Wk.Type))
		for i, r := range j.rows {
			k := b.k[i][l:h]
			addBias(k, sub(lw.Bk, l, h))
			if lw.KNorm != nil {
				headNorms(k, lw.KNorm, m.Config.NormEps) // k = rmsNorm(each head) * k_norm
			}
			m.rotate(k, b.rope[i])
			r.s.storeKV(r.s.keys(j.l), r.pos, l, h, b.k[i])
		}
	}
	if l, h := max(lo-qDim-kvDim, 0), min(hi-qDim-kvDim, kvDim); l < h {
		quant.MatMul(b.v[:n], lw.Wv, l, h, b.in.get(lw.Wv.Type))
		for i, r := range j.rows {
			addBias(b.v[i][l:h], sub(lw.Bv, l, h))
			r.s.storeKV(r.s.values(j.l), r.pos, l, h, b.v[i])
		}
	}
}

// rotate applies the family's position encoding to v, whole heads rotated
// by the angles of table (see ropeTable).
func (m *Model) rotate(v, table []float32) {
	switch m.family.Position {
	case arch.RoPEPairs:
		ropePairs(v, table)
	case arch.RoPEHalves:
		ropeHalves(v, table)
	}
}

// ffnJob is the feed-forward job of a layer: the products of gate and up
// (or up alone), the activation into hb, and hb prepared as the down
// projection's input, in one job (ffnFused) or, split by matrix (see
// splitFFN), in two: ffnProducts, then ffnActivation.
type ffnJob struct {
	b     *Batch
	n     int
	lw    *LayerWeights
	stage ffnStage
}

// ffnStage is what an ffnJob computes for its rows [lo, hi).
type ffnStage uint8

const (
	ffnFused      ffnStage = iota // hidden rows [lo, hi): products and activation
	ffnProducts                   // rows [lo, hi) of gate and up stacked: hb = gate's, hb2 = up's
	ffnActivation                 // hidden rows [lo, hi): the activation of hb and hb2
)

func (j *ffnJob) run(lo, hi, _ int) {
	b, lw, n := j.b, j.lw, j.n
	hb, hb2 := b.hb[:n], b.hb2[:n]
	switch {
	case j.stage == ffnProducts:
		if rows := lw.Wgate.Rows; lo < rows {
			quant.MatMul(hb, lw.Wgate, lo, min(hi, rows), b.in.get(lw.Wgate.Type))
		}
		if rows := lw.Wgate.Rows; hi > rows {
			quant.MatMul(hb2, lw.Wup, max(lo, rows)-rows, hi-rows, b.in.get(lw.Wup.Type))
		}
		return
	case j.stage == ffnActivation:
	case b.m.family.FFN == arch.SwiGLU:
		quant.MatMul(hb, lw.Wgate, lo, hi, b.in.get(lw.Wgate.Type))
		quant.MatMul(hb2, lw.Wup, lo, hi, b.in.get(lw.Wup.Type))
	default:
		quant.MatMul(hb, lw.Wup, lo, hi, b.in.get(lw.Wup.Type))
	}
	bias := sub(lw.Bup, lo, hi)
	down := b.down.b[0]
	for i := range hb {
		if b.m.family.FFN == arch.SwiGLU {
			addBias(hb2[i][lo:hi], bias)
			swiGLU(hb[i][lo:hi], hb2[i][lo:hi])
		} else {
			addBias(hb[i][lo:hi], bias)
			geluTanh(hb[i][lo:hi])
		}
		down.SetPart(i, lo, hb[i][lo:hi])
	}
}

// productJob computes rows [lo, hi) of outs[i] = w @ input i (+ bias) and,
// when residual is set, adds them into residual[i].
type productJob struct {
	b        *Batch
	w        quant.Matrix
	in       *inputs
	outs     [][]float32
	bias     []float32
	residual [][]float32
}

func (j *productJob) run(lo, hi, _ int) {
	quant.MatMul(j.outs, j.w, lo, hi, j.in.get(j.w.Type))
	if j.bias == nil && j.residual == nil {
		return
	}
	for i, out := range j.outs {
		o := out[lo:hi]
		addBias(o, sub(j.bias, lo, hi))
		if j.residual != nil {
			addInPlace(j.residual[i][lo:hi], o)
		}
	}
}
