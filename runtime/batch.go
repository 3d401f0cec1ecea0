package runtime

import (
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/quant"
)

// MaxBatch is the unit batches are sized in: the scheduler's steps
// (stepRows); ForwardBatch's chunks and Generate's prompt pieces are
// Model.chunkRows, a multiple of it. At 32 rows the
// products are bound by arithmetic, not by reading the weights, on the
// kernels here.
const MaxBatch = 32

// chunkRows, when set, is the number of rows ForwardBatch pushes through
// each weight matrix together (longer batches run in chunks of it); tests
// set it to cut their short batches into several chunks. Otherwise the
// chunk is what the kernels multiply best (Model.chunkRows).
var chunkRows = 0

// chunkRows is the number of rows of ForwardBatch's chunks: the smallest
// quant.BatchRows of the first block's matrices (128, or 64 for float
// weights on the AVX-512 tier). The AVX2 tier's packed product converts
// each panel of weights to float32 once per chunk: pp512 of the 1.1B Q8_0
// shape on 2 threads with AVX-512 hidden ran 71 tokens/s in chunks of 32
// rows, 79 at 64, 89 at 128, 88 at 256.
func (m *Model) chunkRows() int {
	if chunkRows > 0 {
		return chunkRows
	}
	n := 4 * MaxBatch
	if len(m.Weights.Layers) > 0 {
		lw := &m.Weights.Layers[0]
		for _, w := range [...]quant.Matrix{lw.Wq, lw.Wgate, lw.Wup, lw.Wdown} {
			if w.Data != nil {
				n = min(n, quant.BatchRows(w.Type))
			}
		}
	}
	return n
}

// Batch is the input of one forward pass (ForwardBatch): rows, each a token
// at a position of a sequence (a State), and the activations they need. A
// row may ask for its logits. Rows of different States are independent, so
// one pass over the weights can decode the next token of several
// sequences; one sequence's prompt is a batch whose rows all share its
// State. A Batch is reused from pass to pass (Reset), so a steady loop
// allocates nothing.
type Batch struct {
	m    *Model
	rows []batchRow

	// Activations of up to cap rows (one chunk), positions up to ctx.
	cap, ctx  int
	x, xb     [][]float32 // (rows, dim) residual stream; normed input, product outputs
	q, o      [][]float32 // (rows, qDim) queries; attention output
	k, v      [][]float32 // (rows, kvDim) keys and values, before they go into the caches
	hb, hb2   [][]float32 // (rows, hidden) feed-forward
	rope      [][]float32 // (rows, headSize) cos, sin pairs of each row's position
	outs, ins [][]float32 // (rows,) the classifier's outputs and inputs, for the rows that want logits

	in   inputs // the inputs of the current products, prepared once per matrix type
	down inputs // the down projection's input, prepared by the feed-forward job as it goes

	qkv  qkvJob     // q, k, v, RoPE and the cache stores of a layer
	ffn  ffnJob     // gate, up and the activation of a layer
	prod productJob // Wo, down (with the residual add) and the classifier
	attn attention  // the attention of a layer

	traced bool // a row of the current chunk has a Tracer (trace.go)
}

// batchRow is one row of a Batch.
type batchRow struct {
	s      *State
	token  int
	pos    int
	logits []float32 // (vocab,) if the row's logits are wanted
}

// NewBatch returns an empty batch for the model. Its activations are
// allocated by the first ForwardBatch that needs them.
func (m *Model) NewBatch() *Batch {
	b := &Batch{m: m}
	b.qkv.b, b.ffn.b, b.prod.b, b.attn.b = b, b, b, b
	return b
}

// Add appends a row: token at position pos of the sequence s. If logits is
// not nil (len >= the vocabulary), ForwardBatch writes the row's logits
// there. A row attends to positions 0..pos of its state's KV cache, so the
// rows of one state come in increasing position order, after the
// positions already run.
func (b *Batch) Add(s *State, token, pos int, logits []float32) {
	b.rows = append(b.rows, batchRow{s: s, token: token, pos: pos, logits: logits})
}

// Len is the number of rows.
func (b *Batch) Len() int { return len(b.rows) }

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	clear(b.rows) // drop the references to states and logits
	b.rows = b.rows[:0]
}

// scratchSizes are the widths of a Batch's activations for c.
func scratchSizes(c *arch.Config) (dim, qDim, kvDim, hidden, maxIn int) {
	dim, qDim, kvDim, hidden = c.Dim, c.QDim(), c.KVDim(), c.HiddenDim
	return dim, qDim, kvDim, hidden, max(dim, qDim, hidden)
}

// scratchBytes is the size of the activations of rows rows at a context of
// ctx positions on threads threads.
func scratchBytes(c *arch.Config, rows, ctx, threads int) int64 {
	dim, qDim, kvDim, hidden, maxIn := scratchSizes(c)
	perRow := int64(2*dim + 2*qDim + 2*kvDim + 2*hidden + c.HeadSize)
	// prepared inputs: int8 quants and their scales and sums (quant.Batch)
	prepared := int64(padRows(rows)) * int64(maxIn+hidden) * 2
	if rows >= 16 {
		// the AVX2 tier's packed float32 copy (quant.Batch's packed layout, groups of 16 rows)
		prepared += int64((rows+15)/16*16) * int64(maxIn+hidden) * 4
	}
	if rows >= 2 {
		// the small-batch tiles' copy of up to 16 rows (quant's x4 layout, 2 bytes per element)
		prepared += int64(min(rows, 16)) * int64(maxIn+hidden) * 2
	}
	return int64(rows)*4*perRow + prepared + attentionScratchBytes(c, rows, ctx, threads)
}

// padRows is rows rounded up as quant.Batch pads them.
func padRows(rows int) int { return (rows + 11) / 12 * 12 }

// reserve makes room for the activations of rows rows at up to ctx
// positions, allocating only when the batch has less.
func (b *Batch) reserve(rows, ctx int) {
	if rows <= b.cap && ctx <= b.ctx {
		return
	}
	rows, ctx = max(rows, b.cap), max(ctx, b.ctx)
	c := &b.m.Config
	dim, qDim, kvDim, hidden, maxIn := scratchSizes(c)
	matrix := func(n int) [][]float32 {
		flat := make([]float32, rows*n)
		r := make([][]float32, rows)
		for i := range r {
			r[i] = flat[i*n : (i+1)*n : (i+1)*n]
		}
		return r
	}
	b.cap, b.ctx = rows, ctx
	b.x, b.xb = matrix(dim), matrix(dim)
	b.q, b.o = matrix(qDim), matrix(qDim)
	b.k, b.v = matrix(kvDim), matrix(kvDim)
	b.hb, b.hb2 = matrix(hidden), matrix(hidden)
	b.rope = matrix(c.HeadSize)
	b.outs, b.ins = make([][]float32, rows), make([][]float32, rows)
	ts := b.m.matrixTypes()
	b.in = newInputs(rows, maxIn, ts, len(ts))
	b.down = newInputs(rows, hidden, ts, 1)
	b.attn.reserve(rows, ctx)
}

// inputs are rows of activations prepared for products (quant.Batch): once
// for each activation format among the matrices they meet, so that q, k
// and v, or gate and up, share one quantisation.
type inputs struct {
	b [3]*quant.Batch
	n int // batches prepared for the current rows
}

// newInputs allocates inputs of up to rows rows of cols elements, the
// storage of the first slots of them for matrices of the types ts (the
// rest grows on first use).
func newInputs(rows, cols int, ts []quant.Type, slots int) inputs {
	var in inputs
	for i := range in.b {
		in.b[i] = quant.NewBatch(rows, cols)
		if i < slots {
			for _, t := range ts {
				in.b[i].Reserve(t)
			}
		}
	}
	return in
}

// prepare prepares xs for products with matrices of the types ts (the
// first n of them).
func (in *inputs) prepare(xs [][]float32, ts [3]quant.Type, n int) {
	in.n = 0
	for _, t := range ts[:n] {
		if in.find(t) == nil {
			in.b[in.n].Set(xs, t)
			in.n++
		}
	}
}

// shape makes the inputs n rows of cols elements for matrices of type t,
// to be set part by part (quant.Batch.SetPart) by the jobs that compute
// them.
func (in *inputs) shape(t quant.Type, n, cols int) {
	in.b[0].Prepare(t, n, cols)
	in.n = 1
}

// find returns the prepared batch that serves matrices of type t, or nil.
func (in *inputs) find(t quant.Type) *quant.Batch {
	for _, b := range in.b[:in.n] {
		if b.Type().SharesActivations(t) {
			return b
		}
	}
	return nil
}

// get returns the prepared batch that serves matrices of type t.
func (in *inputs) get(t quant.Type) *quant.Batch {
	if b := in.find(t); b != nil {
		return b
	}
	panic("runtime: inputs not prepared for " + t.String())
}
