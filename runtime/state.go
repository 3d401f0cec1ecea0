package runtime

import (
	"fmt"
)

// State is the run state of one sequence: its KV cache, allocated once for
// a fixed number of positions, its last logits and hidden state, and the
// Batch that Forward and Prefill use. Several States of one Model can be
// decoded together by ForwardBatch.
type State struct {
	m   *Model
	ctx int // positions the KV cache holds

	keyCache   []float32 // (layer, ctx, kvDim)
	valueCache []float32 // (layer, kvDim, ctx): transposed, see storeValue
	logits     []float32 // (vocab,) Forward's and Prefill's output
	hidden     []float32 // (dim,) residual stream of the last position run

	batch *Batch // Forward's and Prefill's rows and activations

	tracer Tracer // nil unless a tool looks inside the passes (SetTracer)
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
	s := &State{
		m:          m,
		ctx:        ctx,
		keyCache:   make([]float32, kv),
		valueCache: make([]float32, kv),
		logits:     make([]float32, c.VocabSize),
		hidden:     make([]float32, c.Dim),
		batch:      m.NewBatch(),
	}
	s.batch.rows = make([]batchRow, 0, 1) // Forward's one row: no allocation on the first token
	s.batch.reserve(1, ctx)
	return s, nil
}

// Context is the number of positions the state holds.
func (s *State) Context() int { return s.ctx }

// Logits returns the logits computed by the last Forward or Prefill call.
func (s *State) Logits() []float32 { return s.logits }

// Hidden returns the hidden state of the last position run: the residual
// stream after the last block, before the final norm.
func (s *State) Hidden() []float32 { return s.hidden }

// keyRow is the key cache row of layer l at position pos: (kvDim,).
func (s *State) keyRow(l, pos int) []float32 {
	kvDim := s.m.Config.KVDim()
	return s.keyCache[(l*s.ctx+pos)*kvDim:][:kvDim:kvDim]
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

// StateBytes is the memory a State for ctx positions needs, so it can be
// printed before it is allocated: its KV cache, and its activations when
// decoding one position at a time (Prefill adds those of MaxBatch rows).
func (m *Model) StateBytes(ctx int) (kvCache, activations int64) {
	c := &m.Config
	ctx = min(max(ctx, 1), c.ContextLength)
	kvCache = 2 * int64(c.NLayers) * int64(ctx) * int64(c.KVDim()) * 4
	activations = 4*(int64(c.VocabSize)+int64(c.Dim)) + scratchBytes(c, 1, ctx)
	return kvCache, activations
}
