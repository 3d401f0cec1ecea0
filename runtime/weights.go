package runtime

import (
	"fmt"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/quant"
)

// Weights are read-only views into the model file. Matrices are row-major
// with shape (out, in): out = W @ x.
type Weights struct {
	TokenEmbedding    quant.Matrix // (vocab, dim)
	PositionEmbedding quant.Matrix // (ctx, dim); GPT-2 only
	Layers            []LayerWeights
	FinalNorm         []float32    // (dim,)
	FinalNormBias     []float32    // (dim,); GPT-2 only
	Classifier        quant.Matrix // (vocab, dim); the embedding when shared
}

// LayerWeights are one transformer block's weights.
type LayerWeights struct {
	AttnNorm     []float32    // (dim,)
	AttnNormBias []float32    // (dim,); GPT-2 only
	Wq           quant.Matrix // (nHeads*headSize, dim)
	Wk           quant.Matrix // (nKVHeads*headSize, dim)
	Wv           quant.Matrix // (nKVHeads*headSize, dim)
	Wqkv         quant.Matrix // (3*dim, dim); GPT-2's fused projection
	BiasQKV      []float32    // (3*dim,); GPT-2 only
	Wo           quant.Matrix // (dim, nHeads*headSize)
	BiasO        []float32    // (dim,); GPT-2 only
	FFNNorm      []float32    // (dim,)
	FFNNormBias  []float32    // (dim,); GPT-2 only
	W1           quant.Matrix // (hidden, dim): gate (LLaMA), up (GPT-2)
	Bias1        []float32    // (hidden,); GPT-2 only
	W2           quant.Matrix // (dim, hidden): down
	Bias2        []float32    // (dim,); GPT-2 only
	W3           quant.Matrix // (hidden, dim): up (LLaMA only)
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

// matrix returns the (rows, cols) matrix called name.
func (l *weightLoader) matrix(name string, rows, cols int) quant.Matrix {
	t, ok := l.f.Tensor(name)
	if !ok {
		l.fail(name, "missing")
		return quant.Matrix{}
	}
	if len(t.Shape) != 2 || t.Shape[0] != int64(rows) || t.Shape[1] != int64(cols) {
		l.fail(name, "shape %v, want [%d %d]", t.Shape, rows, cols)
		return quant.Matrix{}
	}
	m, err := quant.NewMatrix(t.Type, rows, cols, l.f.Bytes(t))
	if err != nil {
		l.fail(name, "%v", err)
	}
	return m
}

// vector returns the float32 vector called name, of length n.
func (l *weightLoader) vector(name string, n int) []float32 {
	t, ok := l.f.Tensor(name)
	if !ok {
		l.fail(name, "missing")
		return nil
	}
	if len(t.Shape) != 1 || t.Shape[0] != int64(n) {
		l.fail(name, "shape %v, want [%d]", t.Shape, n)
		return nil
	}
	if t.Type != quant.F32 {
		l.fail(name, "type %s, want f32", t.Type)
		return nil
	}
	v, err := l.f.Float32s(t)
	if err != nil {
		l.fail(name, "%v", err)
	}
	return v
}

func (l *weightLoader) has(name string) bool {
	_, ok := l.f.Tensor(name)
	return ok
}

func blk(i int, name string) string { return fmt.Sprintf("blk.%d.%s", i, name) }

// loadWeights maps every tensor the architecture needs.
func loadWeights(f *format.File, c *Config) (Weights, error) {
	l := &weightLoader{f: f}
	var w Weights
	d, h, kv := c.Dim, c.HiddenDim, c.KVDim()
	w.TokenEmbedding = l.matrix("token_embd.weight", c.VocabSize, d)
	if c.Arch == ArchGPT2 {
		w.PositionEmbedding = l.matrix("position_embd.weight", c.ContextLength, d)
	}
	w.Layers = make([]LayerWeights, c.NLayers)
	for i := range w.Layers {
		lw := &w.Layers[i]
		lw.AttnNorm = l.vector(blk(i, "attn_norm.weight"), d)
		lw.Wo = l.matrix(blk(i, "attn_output.weight"), d, d)
		lw.FFNNorm = l.vector(blk(i, "ffn_norm.weight"), d)
		lw.W2 = l.matrix(blk(i, "ffn_down.weight"), d, h)
		switch c.Arch {
		case ArchLlama:
			lw.Wq = l.matrix(blk(i, "attn_q.weight"), d, d)
			lw.Wk = l.matrix(blk(i, "attn_k.weight"), kv, d)
			lw.Wv = l.matrix(blk(i, "attn_v.weight"), kv, d)
			lw.W1 = l.matrix(blk(i, "ffn_gate.weight"), h, d)
			lw.W3 = l.matrix(blk(i, "ffn_up.weight"), h, d)
		case ArchGPT2:
			lw.AttnNormBias = l.vector(blk(i, "attn_norm.bias"), d)
			lw.Wqkv = l.matrix(blk(i, "attn_qkv.weight"), 3*d, d)
			lw.BiasQKV = l.vector(blk(i, "attn_qkv.bias"), 3*d)
			lw.BiasO = l.vector(blk(i, "attn_output.bias"), d)
			lw.FFNNormBias = l.vector(blk(i, "ffn_norm.bias"), d)
			lw.W1 = l.matrix(blk(i, "ffn_up.weight"), h, d)
			lw.Bias1 = l.vector(blk(i, "ffn_up.bias"), h)
			lw.Bias2 = l.vector(blk(i, "ffn_down.bias"), d)
		}
	}
	w.FinalNorm = l.vector("output_norm.weight", d)
	if c.Arch == ArchGPT2 {
		w.FinalNormBias = l.vector("output_norm.bias", d)
	}
	if l.has("output.weight") {
		w.Classifier = l.matrix("output.weight", c.VocabSize, d)
	} else {
		w.Classifier = w.TokenEmbedding
	}
	return w, l.err
}
