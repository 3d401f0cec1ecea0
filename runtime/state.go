package runtime

import (
	"fmt"

	"github.com/llmap/llmap/quant"
)

// State is the run state of one sequence: activation buffers and the KV
// cache, allocated once for a fixed number of positions.
type State struct {
	ctx int // positions the KV cache holds

	x      []float32 // (dim,) the residual stream
	xb     []float32 // (dim,) normed input / attention output
	xb2    []float32 // (dim,) projection output
	hb     []float32 // (hidden,) feed-forward
	hb2    []float32 // (hidden,) feed-forward
	q      []float32 // (nHeads*headSize,) query of the current position
	v      []float32 // (kvDim,) value of the current position
	qkv    []float32 // (3*dim,) GPT-2's fused projection output
	att    []float32 // (nHeads, ctx) attention scores
	logits []float32 // (vocab,)
	rope   []float32 // (headSize,) cos, sin pairs for the current position

	keyCache   []float32 // (layer, ctx, kvDim)
	valueCache []float32 // (layer, kvDim, ctx): transposed, see storeValue

	attn  attention   // the attention task of the current layer
	group matGroup    // the products that share an input, for Pool.MatVecGroup
	batch *batchState // Prefill's activations, allocated on first use

	vec     *quant.Vec // the current input vector, prepared for vecType matrices
	vecType quant.Type
}

// NewState allocates the run state for a context of ctx positions; ctx <= 0
// means DefaultContext. The context is capped at the model's own length.
func (m *Model) NewState(ctx int) (*State, error) {
	c := &m.Config
	if ctx <= 0 {
		ctx = DefaultContext
	}
	ctx = min(ctx, c.ContextLength)
	if ctx > 1<<20 {
		return nil, fmt.Errorf("context of %d positions is too large", ctx)
	}
	kv := c.NLayers * ctx * c.KVDim()
	maxIn := max(c.Dim, c.HiddenDim)
	s := &State{
		ctx:        ctx,
		x:          make([]float32, c.Dim),
		xb:         make([]float32, c.Dim),
		xb2:        make([]float32, c.Dim),
		hb:         make([]float32, c.HiddenDim),
		hb2:        make([]float32, c.HiddenDim),
		q:          make([]float32, c.Dim),
		v:          make([]float32, c.KVDim()),
		att:        make([]float32, c.NHeads*ctx),
		logits:     make([]float32, c.VocabSize),
		rope:       make([]float32, c.HeadSize()),
		keyCache:   make([]float32, kv),
		valueCache: make([]float32, kv),
		vec:        quant.NewVec(maxIn),
	}
	if c.Arch == ArchGPT2 {
		s.qkv = make([]float32, 3*c.Dim)
	}
	s.attn = attention{s: s, c: c}
	return s, nil
}

// Context is the number of positions the state holds.
func (s *State) Context() int { return s.ctx }

// Logits returns the logits computed by the last Forward call.
func (s *State) Logits() []float32 { return s.logits }

// Hidden returns the hidden state of the last position run: the residual
// stream after the last block, before the final norm.
func (s *State) Hidden() []float32 { return s.x }

// StateBytes is the memory a State for ctx positions needs, so it can be
// printed before it is allocated.
func (c *Config) StateBytes(ctx int) (kvCache, activations int64) {
	ctx = min(max(ctx, 1), c.ContextLength)
	kvCache = 2 * int64(c.NLayers) * int64(ctx) * int64(c.KVDim()) * 4
	activations = 4 * (5*int64(c.Dim) + 2*int64(c.HiddenDim) + int64(c.NHeads)*int64(ctx) + int64(c.VocabSize) + int64(c.HeadSize()))
	if c.Arch == ArchGPT2 {
		activations += 4 * 3 * int64(c.Dim) // the fused qkv buffer
	}
	return kvCache, activations
}
