package explore

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/llmap/llmap/runtime"
)

// ErrPosition is wrapped by Trace's error for a position outside the text.
var ErrPosition = errors.New("position outside the text")

// Inside is what the blocks do to the tokens of a text: how far each
// token's vector moves from its static embedding, block by block, and
// where the attention heads of one position look.
type Inside struct {
	Tokens   []int // the text's tokens, BOS first
	Start    int   // the index of the text's first token: 1 after a BOS the tokenizer added
	Position int   // the position whose attention weights were kept

	// Similarity[pos][l] is the cosine similarity of position pos's
	// residual stream after block l with its token's static embedding
	// row: how much of the token is left, and how much context it has
	// soaked up.
	Similarity [][]float32 // (positions, layers)

	// Attention[l][h][t] is the weight head h of block l gives position
	// t when computing Position: softmax_t(q . k_t / sqrt(headSize)) over
	// t <= Position (0 before a sliding window). Each row sums to 1.
	Attention [][][]float32 // (layers, heads, Position+1)
}

// Trace feeds text (BOS first, as Generate does) through the model one
// position at a time, taking turns with generation on the same model, and
// records what the blocks did (see Inside). position is the position
// whose attention weights are kept; -1 means the last. s is used from
// position 0, and its tracer is removed before Trace returns.
//
// The attention weights are recomputed in float64 from the float32
// queries and keys the forward pass produced (runtime.Tracer); they match
// the pass's own up to the rounding of its KV cache type.
func Trace(m *runtime.Model, s *runtime.State, text string, position int) (*Inside, error) {
	tokens, err := promptTokens(m, s, text)
	if err != nil {
		return nil, err
	}
	in, err := traceTokens(m, s, tokens, position)
	if err != nil {
		return nil, err
	}
	in.Start = max(0, len(tokens)-len(m.Tokenizer.Encode(text, false)))
	return in, nil
}

// traceTokens is Trace on tokens.
func traceTokens(m *runtime.Model, s *runtime.State, tokens []int, position int) (*Inside, error) {
	c := &m.Config
	if position == -1 {
		position = len(tokens) - 1
	}
	if position < 0 || position >= len(tokens) {
		return nil, fmt.Errorf("%w: %d is not one of its %d tokens (0..%d, or -1 for the last)", ErrPosition, position, len(tokens), len(tokens)-1)
	}
	t := &tracer{
		static: make([][]float32, len(tokens)),
		sim:    make([][]float32, len(tokens)),
		pos:    position,
		q:      make([][]float32, c.NLayers),
		k:      make([][][]float32, c.NLayers),
	}
	emb := m.Weights.TokenEmbedding
	err := m.Guard(func() {
		for pos, id := range tokens {
			if id < 0 || id >= emb.Rows {
				return // Forward reports it
			}
			t.static[pos] = make([]float32, emb.Cols)
			emb.Row(id, t.static[pos])
			t.sim[pos] = make([]float32, c.NLayers)
		}
	})
	if err != nil {
		return nil, err
	}
	s.SetTracer(t)
	defer s.SetTracer(nil)
	for pos, tok := range tokens {
		if _, err := m.Forward(s, tok, pos); err != nil {
			return nil, err
		}
	}
	return &Inside{Tokens: slices.Clone(tokens), Position: position, Similarity: t.sim,
		Attention: attentionWeights(c.NHeads, c.NKVHeads, c.HeadSize, c.SlidingWindow, position, t.q, t.k)}, nil
}

// tracer is the runtime.Tracer of Trace.
type tracer struct {
	static [][]float32   // (positions, dim) each position's token embedding
	sim    [][]float32   // (positions, layers) the result
	pos    int           // the position whose attention is kept
	q      [][]float32   // (layers, qDim) the queries at pos
	k      [][][]float32 // (layers, pos+1, kvDim) the keys up to pos
}

func (t *tracer) QueryKey(layer, pos int, q, k []float32) {
	if pos > t.pos {
		return
	}
	t.k[layer] = append(t.k[layer], slices.Clone(k))
	if pos == t.pos {
		t.q[layer] = slices.Clone(q)
	}
}

func (t *tracer) Block(layer, pos int, x []float32) {
	if pos < len(t.sim) && t.sim[pos] != nil {
		t.sim[pos][layer] = CosineSimilarity(x, t.static[pos])
	}
}

// attentionWeights computes the weights (layers, heads, pos+1) of the
// query at pos over the keys 0..pos (k[l][t]) of every layer and head.
func attentionWeights(nHeads, nKVHeads, headSize, window, pos int, q [][]float32, k [][][]float32) [][][]float32 {
	first := 0
	if window > 0 && pos >= window {
		first = pos - window + 1
	}
	scale := 1 / math.Sqrt(float64(headSize))
	group := nHeads / nKVHeads
	out := make([][][]float32, len(q))
	scores := make([]float64, pos+1)
	for l := range q {
		out[l] = make([][]float32, nHeads)
		for h := range nHeads {
			qh := q[l][h*headSize : (h+1)*headSize]
			kvh := h / group * headSize
			best := math.Inf(-1)
			for t := first; t <= pos; t++ {
				scores[t] = scale * dot64(qh, k[l][t][kvh:kvh+headSize])
				best = max(best, scores[t])
			}
			var sum float64
			for t := first; t <= pos; t++ {
				scores[t] = math.Exp(scores[t] - best)
				sum += scores[t]
			}
			w := make([]float32, pos+1)
			for t := first; t <= pos; t++ {
				w[t] = float32(scores[t] / sum)
			}
			out[l][h] = w
		}
	}
	return out
}

// dot64 is a . b accumulated in float64.
func dot64(a, b []float32) float64 {
	var s float64
	for i, x := range a {
		s += float64(x) * float64(b[i])
	}
	return s
}
