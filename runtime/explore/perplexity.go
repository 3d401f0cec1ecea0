package explore

import (
	"errors"
	"fmt"
	"math"

	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/simd"
)

// PerplexityResult is the outcome of scoring a text.
type PerplexityResult struct {
	Predictions int     // next-token predictions scored
	NLL         float64 // total negative log-likelihood, in nats
	Agreements  int     // predictions whose argmax equals the reference model's
	Windows     int
}

// Perplexity is exp(mean negative log-likelihood per prediction).
func (r PerplexityResult) Perplexity() float64 {
	if r.Predictions == 0 {
		return math.NaN()
	}
	return math.Exp(r.NLL / float64(r.Predictions))
}

// Agreement is the fraction of predictions whose most likely token matches
// the reference model's.
func (r PerplexityResult) Agreement() float64 {
	if r.Predictions == 0 {
		return math.NaN()
	}
	return float64(r.Agreements) / float64(r.Predictions)
}

// ErrTooShort is returned when a text has no token to predict.
var ErrTooShort = errors.New("the text is too short: it encodes to fewer than two tokens")

// Perplexity scores text teacher-forced: the text is encoded once and cut
// into windows that fill the state's context, each starting from BOS (or the
// tokenizer's start token); every token after the first of a window is
// predicted from those before it. If ref is not nil, it is run on the same
// windows with refState and the argmaxes of the two models are compared.
func Perplexity(m *runtime.Model, s *runtime.State, text string, ref *runtime.Model, refState *runtime.State) (PerplexityResult, error) {
	var res PerplexityResult
	tokens := m.Tokenizer.Encode(text, false)
	start := m.Tokenizer.BOS()
	if start < 0 {
		start = m.Tokenizer.EOS()
	}
	window := s.Context()
	if ref != nil {
		window = min(window, refState.Context())
	}
	if start >= 0 {
		window-- // each window begins with the start token
	}
	if window < 1 || len(tokens) == 0 || (start < 0 && len(tokens) < 2) {
		return res, ErrTooShort
	}
	seq := make([]int, 0, window+1)
	for lo := 0; lo < len(tokens); lo += window {
		seq = seq[:0]
		if start >= 0 {
			seq = append(seq, start)
		}
		seq = append(seq, tokens[lo:min(lo+window, len(tokens))]...)
		if len(seq) < 2 {
			break
		}
		res.Windows++
		for pos := 0; pos+1 < len(seq); pos++ {
			logits, err := m.Forward(s, seq[pos], pos)
			if err != nil {
				return res, err
			}
			next := seq[pos+1]
			res.NLL -= logSoftmaxAt(logits, next)
			res.Predictions++
			if ref != nil {
				mine := simd.Argmax(logits)
				theirs, err := ref.Forward(refState, seq[pos], pos)
				if err != nil {
					return res, fmt.Errorf("reference model: %w", err)
				}
				if simd.Argmax(theirs) == mine {
					res.Agreements++
				}
			}
		}
	}
	return res, nil
}

// logSoftmaxAt returns log(softmax(logits)[i]), computed in float64.
func logSoftmaxAt(logits []float32, i int) float64 {
	mx := float64(simd.Max(logits))
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	return float64(logits[i]) - mx - math.Log(sum)
}
