package runtime

import (
	"fmt"
	"slices"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/quant"
)

// Weights are read-only views into the model file. Matrices are row-major
// with shape (out, in): out = W @ x. A tensor the model's family does not
// have, or an optional one the file leaves out, is a zero Matrix or a nil
// slice, and the forward pass skips it. Fused tensors (GPT-2's attn_qkv)
// are split into row ranges of the one mapped matrix, without copying.
type Weights struct {
	TokenEmbedding    quant.Matrix // (vocab, dim)
	PositionEmbedding quant.Matrix // (ctx, dim); learned positions only
	Layers            []LayerWeights
	OutputNorm        []float32    // (dim,)
	OutputNormBias    []float32    // (dim,); LayerNorm only
	Classifier        quant.Matrix // (vocab, dim); the token embedding when shared
	RopeFreqs         []float32    // (headSize/2,) divisor of each RoPE pair's frequency; nil = none
}

// LayerWeights are one transformer block's weights.
type LayerWeights struct {
	AttnNorm     []float32    // (dim,)
	AttnNormBias []float32    // (dim,)
	Wq           quant.Matrix // (qDim, dim)
	Wk           quant.Matrix // (kvDim, dim)
	Wv           quant.Matrix // (kvDim, dim)
	Bq           []float32    // (qDim,)
	Bk           []float32    // (kvDim,)
	Bv           []float32    // (kvDim,)
	QNorm        []float32    // (headSize,) RMSNorm weight of every query head; Qwen 3 only
	KNorm        []float32    // (headSize,) RMSNorm weight of every key head
	Wo           quant.Matrix // (dim, qDim)
	Bo           []float32    // (dim,)
	FFNNorm      []float32    // (dim,)
	FFNNormBias  []float32    // (dim,)
	Wgate        quant.Matrix // (hidden, dim); SwiGLU only
	Wup          quant.Matrix // (hidden, dim)
	Bup          []float32    // (hidden,)
	Wdown        quant.Matrix // (dim, hidden)
	Bdown        []float32    // (dim,)
}

// weightLoader looks tensors up by name and checks their shapes.
type weightLoader struct {
	f   *format.File
	err error
}

func (l *weightLoader) fail(name, msg string, args ...any) {
	if l.err == nil {
		l.err = fmt.Errorf("tensor %q: %s", name, fmt.Sprintf(msg, args...))
	}
}

// matrix returns the tensor t as a (shape[0], shape[1]) matrix.
func (l *weightLoader) matrix(t *format.TensorInfo, shape []int64) quant.Matrix {
	rows, cols := int(shape[0]), int(shape[1])
	m, err := quant.NewMatrix(t.Type, rows, cols, l.f.Bytes(t))
	if err != nil {
		l.fail(t.Name, "%v", err)
	}
	return m
}

// vector returns the tensor t as a float32 vector.
func (l *weightLoader) vector(t *format.TensorInfo) []float32 {
	if t.Type != quant.F32 {
		l.fail(t.Name, "type %s, want f32", t.Type)
		return nil
	}
	v, err := l.f.Float32s(t)
	if err != nil {
		l.fail(t.Name, "%v", err)
	}
	return v
}

// loadWeights maps every tensor of the family's table that f has, checking
// shapes and that the required ones are there, and binds each to its place
// by role.
func loadWeights(f *format.File, fam *arch.Family, c *arch.Config) (Weights, error) {
	l := &weightLoader{f: f}
	w := Weights{Layers: make([]LayerWeights, c.NLayers)}
	for _, e := range fam.Entries(c) {
		t, ok := f.Tensor(e.Name)
		if !ok {
			if e.Role != arch.RoleOutput && !e.Optional {
				l.fail(e.Name, "missing")
			}
			continue
		}
		if !slices.Equal(t.Shape, e.Shape) {
			l.fail(e.Name, "shape %v, want %v", t.Shape, e.Shape)
			continue
		}
		var m quant.Matrix
		var v []float32
		if e.Vector() {
			v = l.vector(t)
		} else {
			m = l.matrix(t, e.Shape)
		}
		if l.err != nil {
			break
		}
		var lw *LayerWeights
		if e.Layer >= 0 {
			lw = &w.Layers[e.Layer]
		}
		w.bind(lw, e.Role, m, v, c)
	}
	if w.Classifier.Data == nil {
		w.Classifier = w.TokenEmbedding
	}
	for i, d := range w.RopeFreqs {
		if !(d > 0 && d < 1e9) {
			l.fail(fam.Tensor(arch.RoleRopeFreqs).Name, "divisor %g of pair %d is not a positive finite number", d, i)
			break
		}
	}
	return w, l.err
}

// bind puts a tensor of role r in its place: m for a matrix, v for a
// vector; lw is its block's weights.
func (w *Weights) bind(lw *LayerWeights, r arch.Role, m quant.Matrix, v []float32, c *arch.Config) {
	q, kv := c.QDim(), c.KVDim()
	switch r {
	case arch.RoleTokenEmbedding:
		w.TokenEmbedding = m
	case arch.RolePositionEmbedding:
		w.PositionEmbedding = m
	case arch.RoleOutputNorm:
		w.OutputNorm = v
	case arch.RoleOutputNormBias:
		w.OutputNormBias = v
	case arch.RoleOutput:
		w.Classifier = m
	case arch.RoleRopeFreqs:
		w.RopeFreqs = v
	case arch.RoleAttnNorm:
		lw.AttnNorm = v
	case arch.RoleAttnNormBias:
		lw.AttnNormBias = v
	case arch.RoleAttnQ:
		lw.Wq = m
	case arch.RoleAttnK:
		lw.Wk = m
	case arch.RoleAttnV:
		lw.Wv = m
	case arch.RoleAttnQKV:
		// rows: all of q, then k, then v
		lw.Wq, lw.Wk, lw.Wv = rowRange(m, 0, q), rowRange(m, q, kv), rowRange(m, q+kv, kv)
	case arch.RoleAttnQBias:
		lw.Bq = v
	case arch.RoleAttnKBias:
		lw.Bk = v
	case arch.RoleAttnVBias:
		lw.Bv = v
	case arch.RoleAttnQKVBias:
		lw.Bq, lw.Bk, lw.Bv = v[:q:q], v[q:q+kv:q+kv], v[q+kv:]
	case arch.RoleAttnQNorm:
		lw.QNorm = v
	case arch.RoleAttnKNorm:
		lw.KNorm = v
	case arch.RoleAttnOutput:
		lw.Wo = m
	case arch.RoleAttnOutputBias:
		lw.Bo = v
	case arch.RoleFFNNorm:
		lw.FFNNorm = v
	case arch.RoleFFNNormBias:
		lw.FFNNormBias = v
	case arch.RoleFFNGate:
		lw.Wgate = m
	case arch.RoleFFNUp:
		lw.Wup = m
	case arch.RoleFFNGateUp:
		// rows: all of gate, then up
		lw.Wgate, lw.Wup = rowRange(m, 0, c.HiddenDim), rowRange(m, c.HiddenDim, c.HiddenDim)
	case arch.RoleFFNUpBias:
		lw.Bup = v
	case arch.RoleFFNDown:
		lw.Wdown = m
	case arch.RoleFFNDownBias:
		lw.Bdown = v
	default:
		panic(fmt.Sprintf("runtime: no place for a tensor of role %s", r))
	}
}

// rowRange is rows [lo, lo+n) of m, sharing its data.
func rowRange(m quant.Matrix, lo, n int) quant.Matrix {
	rb := m.RowBytes()
	return quant.Matrix{Type: m.Type, Rows: n, Cols: m.Cols, Data: m.Data[lo*rb : (lo+n)*rb : (lo+n)*rb]}
}
