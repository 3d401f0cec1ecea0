package runtime

// Tracer receives what the forward passes of one State compute inside the
// blocks, for tools that look inside a model (runtime/explore's Trace); it
// plays no part in generation. Set it with State.SetTracer.
//
// The slices passed are the forward pass's own buffers, valid only during
// the call: copy what you keep. The calls come from the goroutine running
// the pass, under the model's forward lock, so a Tracer must not call the
// model. Within a pass, calls go layer by layer, and by position within a
// layer.
type Tracer interface {
	// QueryKey gets the query (nHeads*headSize,) and key
	// (nKVHeads*headSize,) of position pos at block layer, after biases,
	// head norms and position encoding, as attention uses them: head h's
	// weights over positions t are softmax_t(q_h . k_t / sqrt(headSize)),
	// with k_t the key of KV head h/(nHeads/nKVHeads), over t <= pos (the
	// last SlidingWindow of them when the model has a window). The weights
	// llmap computes read the keys from the KV cache in its stored type.
	QueryKey(layer, pos int, q, k []float32)
	// Block gets the residual stream x (dim,) of position pos after block
	// layer: its input plus what attention and the feed-forward added.
	Block(layer, pos int, x []float32)
}

// SetTracer makes the forward passes of s report to t; nil stops them.
// Only rows of s are reported, whatever else shares their batch. A State
// without a Tracer costs the forward pass one test per chunk of rows.
func (s *State) SetTracer(t Tracer) { s.tracer = t }

// traceQueryKey reports the queries and keys of layer l of the traced rows
// (b.traced is set).
func (b *Batch) traceQueryKey(rows []batchRow, l int) {
	for i, r := range rows {
		if r.s.tracer != nil {
			r.s.tracer.QueryKey(l, r.pos, b.q[i], b.k[i])
		}
	}
}

// traceBlock reports the residual stream after block l of the traced rows
// (b.traced is set).
func (b *Batch) traceBlock(rows []batchRow, l int) {
	for i, r := range rows {
		if r.s.tracer != nil {
			r.s.tracer.Block(l, r.pos, b.x[i])
		}
	}
}
