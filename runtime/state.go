package runtime

import (
	"errors"
	"fmt"
	"strings"

	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/quant"
)

// KVType is the element type a State's KV cache is stored in. The cache of
// a long context is the largest thing a run allocates (a 7B model without
// grouped-query attention needs 2 GiB of float32 keys and values for 2048
// positions), so it is stored in fp16 unless asked otherwise; attention
// reads it in its stored type (quant.AttnScores, quant.AttnValues).
type KVType uint8

const (
	KVF16  KVType = iota // fp16: half of float32, within 0.1% of its results; the default
	KVF32                // float32: exact
	KVQ8_0               // Q8_0 blocks of 32: 34/128 of float32, within 1% of its results
)

var kvTypes = [...]struct {
	name string
	t    quant.Type
}{KVF16: {"f16", quant.F16}, KVF32: {"f32", quant.F32}, KVQ8_0: {"q8_0", quant.Q8_0}}

// String returns the name ParseKVType accepts ("f16").
func (k KVType) String() string {
	if int(k) >= len(kvTypes) {
		return fmt.Sprintf("KVType(%d)", uint8(k))
	}
	return kvTypes[k].name
}

// ParseKVType parses a KV cache type name: f32, f16 or q8_0
// (case-insensitive).
func ParseKVType(s string) (KVType, error) {
	for k, t := range kvTypes {
		if strings.EqualFold(s, t.name) {
			return KVType(k), nil
		}
	}
	return 0, fmt.Errorf("unknown KV cache type %q (want f32, f16 or q8_0)", s)
}

// ErrKVType is wrapped by the error of Open when the model's KV cache
// cannot be stored in Options.KVType.
var ErrKVType = errors.New("KV cache type does not fit the model")

// check reports why c's cache cannot be stored in k, if it cannot.
func (k KVType) check(c *arch.Config) error {
	switch {
	case int(k) >= len(kvTypes):
		return fmt.Errorf("%w: unknown KV cache type %d", ErrKVType, uint8(k))
	case k == KVQ8_0 && c.KVDim()%32 != 0:
		return fmt.Errorf("%w: a q8_0 cache holds key and value rows of a multiple of 32 values; this model's are %d", ErrKVType, c.KVDim())
	}
	return nil
}

// State is the run state of one sequence: its KV cache, allocated once for
// a fixed number of positions, its last logits and hidden state, and the
// Batch that Forward and Prefill use. Several States of one Model can be
// decoded together by ForwardBatch.
type State struct {
	m   *Model
	ctx int // positions the KV cache holds

	// The caches hold, per layer, the keys (or values) of every position
	// in kvType (quant.EncodeKV's layout). Head-major (the usual case):
	// per KV head, its headSize elements at every position, so the
	// attention of one head reads one contiguous run of memory, which the
	// hardware prefetches; a decoding step reads the caches of many
	// sequences, evicted by the weights since the last step, so a strided
	// read (one head's slice of each position's row) waits on memory for
	// every position. Row-major (a Q8_0 cache whose heads are not whole
	// blocks): per position, the kvDim elements of every head.
	kvType     quant.Type
	kvRow      int       // bytes of one position's kvDim elements
	headBytes  int       // bytes of one head's elements at one position; 0 when row-major
	keyCache   []byte    // (layer, kvHead, ctx, headBytes) or (layer, ctx, kvRow)
	valueCache []byte    // the same for the values
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
	kt := kvTypes[m.kvType].t
	row := quant.KVRowBytes(kt, c.KVDim())
	kv := c.NLayers * ctx * row
	head := 0
	if kt != quant.Q8_0 || c.HeadSize%32 == 0 {
		head = quant.KVRowBytes(kt, c.HeadSize)
	}
	s := &State{
		m:          m,
		ctx:        ctx,
		kvType:     kt,
		kvRow:      row,
		headBytes:  head,
		keyCache:   make([]byte, kv),
		valueCache: make([]byte, kv),
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

// KVType returns the type the state's cache is stored in.
func (s *State) KVType() KVType { return s.m.kvType }

// keys is the key cache of layer l: ctx*kvRow bytes.
func (s *State) keys(l int) []byte {
	n := s.ctx * s.kvRow
	return s.keyCache[l*n : (l+1)*n]
}

// values is the value cache of layer l: ctx*kvRow bytes.
func (s *State) values(l int) []byte {
	n := s.ctx * s.kvRow
	return s.valueCache[l*n : (l+1)*n]
}

// storeKV writes elements [lo, hi) of x (kvDim,), the keys or the values
// of position pos, into cache (the layer's keys or values), converted to
// the cache's type (lo and hi multiples of 32 for Q8_0).
func (s *State) storeKV(cache []byte, pos, lo, hi int, x []float32) {
	t := s.kvType
	if s.headBytes == 0 {
		at := pos*s.kvRow + quant.KVRowBytes(t, lo)
		quant.EncodeKV(t, cache[at:at+quant.KVRowBytes(t, hi-lo)], x[lo:hi])
		return
	}
	hs := s.m.Config.HeadSize
	for h := lo / hs; h*hs < hi; h++ {
		l, e := max(lo, h*hs), min(hi, (h+1)*hs)
		at := (h*s.ctx+pos)*s.headBytes + quant.KVRowBytes(t, l-h*hs)
		quant.EncodeKV(t, cache[at:at+quant.KVRowBytes(t, e-l)], x[l:e])
	}
}

// kvHead locates the elements of KV head kvh from position t0 on in
// cache (a layer's keys or values): they start at element off of
// buf, and position t0+i at byte i*stride.
func (s *State) kvHead(cache []byte, kvh, t0 int) (buf []byte, stride, off int) {
	if s.headBytes == 0 {
		return cache[t0*s.kvRow:], s.kvRow, kvh * s.m.Config.HeadSize
	}
	return cache[(kvh*s.ctx+t0)*s.headBytes:], s.headBytes, 0
}

// StateBytes is the memory a State for ctx positions needs, so it can be
// printed before it is allocated: its KV cache (in the model's KVType), and
// its activations when decoding one position at a time (Prefill adds those
// of a chunk of rows, Model.chunkRows).
func (m *Model) StateBytes(ctx int) (kvCache, activations int64) {
	c := &m.Config
	ctx = min(max(ctx, 1), c.ContextLength)
	kvCache = 2 * int64(c.NLayers) * int64(ctx) * int64(quant.KVRowBytes(kvTypes[m.kvType].t, c.KVDim()))
	activations = 4*(int64(c.VocabSize)+int64(c.Dim)) + scratchBytes(c, 1, ctx, m.pool.Threads())
	return kvCache, activations
}
