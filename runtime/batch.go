package runtime

import (
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/quant"
)

// MaxBatch is the number of rows ForwardBatch pushes through each weight
// matrix together; longer batches run in chunks of MaxBatch. At 32 the
// products are bound by arithmetic, not by reading the weights, on the
// kernels here.
const MaxBatch = 32

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
	cap, ctx int
	x, xb    [][]float32 // (rows, dim) residual stream; normed input
	q, o     [][]float32 // (rows, qDim) queries; attention output
	k        [][]float32 // (rows, kvDim) keys: views into each row's key cache
	v        [][]float32 // (rows, kvDim) values
	hb, hb2  [][]float32 // (rows, hidden) feed-forward
	rope     [][]float32 // (rows, headSize) cos, sin pairs of each row's position
	att      []float32   // (rows*nHeads, ctx) attention weights
	vecs     []*quant.Vec
	vecType  quant.Type  // the type vecs were last prepared for
	outs     [][]float32 // (rows,) the classifier's outputs and inputs,
	ins      [][]float32 // for the rows that want logits

	group matGroup  // products sharing an input, for Pool.MatVecGroup
	attn  attention // the attention task of the current layer

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
	b.attn.b = b
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
// ctx positions.
func scratchBytes(c *arch.Config, rows, ctx int) int64 {
	dim, qDim, kvDim, hidden, maxIn := scratchSizes(c)
	perRow := int64(2*dim+2*qDim+kvDim+2*hidden+c.HeadSize) + int64(c.NHeads)*int64(ctx)
	return int64(rows) * (4*perRow + int64((maxIn+31)/32*34))
}

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
	b.k, b.v = make([][]float32, rows), matrix(kvDim)
	b.hb, b.hb2 = matrix(hidden), matrix(hidden)
	b.rope = matrix(c.HeadSize)
	b.att = make([]float32, rows*c.NHeads*ctx)
	b.vecs = make([]*quant.Vec, rows)
	for i := range b.vecs {
		b.vecs[i] = quant.NewVec(maxIn)
	}
	b.outs, b.ins = make([][]float32, rows), make([][]float32, rows)
}
