package runtime

import (
	"errors"
	"fmt"
	"time"
)

// Generation describes one generation run.
type Generation struct {
	Prompt string
	// Steps is the number of positions to run, prompt included (as in
	// llama2.c's -n); <= 0 means up to the end of the context.
	Steps   int
	Sampler *Sampler
}

// GenerateStats describes a finished generation.
type GenerateStats struct {
	PromptTokens int           // tokens of the encoded prompt, BOS included
	PromptRun    int           // of those, run through the model: fewer when Steps or the context ends inside the prompt
	Positions    int           // positions run through the model
	Sampled      int           // tokens chosen by the sampler
	ContextFull  bool          // stopped at the end of the context before Steps
	Prefill      time.Duration // running the prompt through the model (batched)
	FirstToken   time.Duration // from the start until the first sampled token
	Decode       time.Duration // from the first sampled token to the end
}

// PromptPerSecond is the prompt processing speed.
func (g GenerateStats) PromptPerSecond() float64 {
	if g.PromptRun == 0 || g.Prefill <= 0 {
		return 0
	}
	return float64(g.PromptRun) / g.Prefill.Seconds()
}

// TokensPerSecond is the generation speed: positions run after the prompt
// over the time they took.
func (g GenerateStats) TokensPerSecond() float64 {
	n := g.Positions - g.PromptRun
	if n <= 0 || g.Decode <= 0 {
		return 0
	}
	return float64(n) / g.Decode.Seconds()
}

// promptPiece is how many prompt positions Generate runs between calls of
// emit: ForwardBatch's chunk (Model.chunkRows), so that the pieces split
// the prompt where its chunks would (the result is the same as one
// Prefill, at the same speed) and a stop waits for one chunk at most.
func (m *Model) promptPiece() int { return m.chunkRows() }

// feed runs tokens through the model at positions pos0, pos0+1, ... of s,
// as Prefill does, and computes the logits after the last one only when
// asked (the classifier is the size of a block in small models).
func (m *Model) feed(s *State, tokens []int, pos0 int, logits bool) ([]float32, error) {
	if logits {
		return m.Prefill(s, tokens, pos0)
	}
	if pos0 < 0 || pos0+len(tokens) > s.ctx {
		return nil, fmt.Errorf("positions %d..%d are outside the context of %d positions", pos0, pos0+len(tokens)-1, s.ctx)
	}
	b := s.batch
	b.Reset()
	for i, t := range tokens {
		b.Add(s, t, pos0+i, nil)
	}
	return nil, m.ForwardBatch(b)
}

// ErrEmptyPrompt is returned when a prompt encodes to no tokens and the
// tokenizer has no BOS to start from.
var ErrEmptyPrompt = errors.New("the prompt encodes to no tokens")

// Generate feeds the prompt through the model in batches (Prefill), then
// samples until Steps positions have run, the context is full, or the model
// emits BOS (as llama2.c stops) or an end-of-generation token (EOS, the
// end-of-turn token and the others the tokenizer lists). emit receives the text of every token after the first,
// prompt included, exactly as llama2.c prints it; it may stop the run by
// returning an error.
//
// The calling goroutine and the pool's workers carry the profiler label
// phase=tokenize, prefill, decode or sample while Generate runs (labels.go);
// labels the caller had before are replaced, and cleared when Generate
// returns.
func (m *Model) Generate(s *State, g Generation, emit func(piece []byte) error) (st GenerateStats, err error) {
	if err := g.Sampler.Validate(); err != nil {
		return st, err
	}
	defer m.setPhase(phaseNone)
	start := time.Now()
	tok := m.Tokenizer
	m.setPhase(phaseTokenize)
	tokens := tok.Encode(g.Prompt, true)
	if len(tokens) == 0 {
		return st, ErrEmptyPrompt
	}
	st.PromptTokens = len(tokens)
	steps := g.Steps
	if steps <= 0 || steps > s.ctx {
		steps = s.ctx
	}
	stoppedByToken := false
	defer func() {
		st.ContextFull = !stoppedByToken && st.Positions == s.ctx &&
			(g.Steps <= 0 || g.Steps > s.ctx || len(tokens) > s.ctx)
	}()

	// The prompt, in batched pieces of promptPiece positions; after each
	// piece its tokens are printed as if each had been generated, so that
	// emit can stop a long prompt part way (Ctrl-C in llmap run).
	fed := min(len(tokens), steps)
	piece := m.promptPiece()
	var logits []float32
	for lo := 0; lo < fed; lo += piece {
		hi := min(lo+piece, fed)
		m.setPhase(phasePrefill)
		if logits, err = m.feed(s, tokens[lo:hi], lo, hi == fed); err != nil {
			return st, err
		}
		st.Positions, st.PromptRun = hi, hi
		st.Prefill = time.Since(start)
		// A prompt may hold end-of-turn tokens (a chat transcript): they
		// are printed like any other, and only sampled tokens stop the run.
		for i := lo + 1; i <= hi && i < len(tokens); i++ {
			if err := emit(tok.Piece(tokens[i-1], tokens[i])); err != nil {
				return st, err
			}
		}
	}
	if fed < len(tokens) {
		return st, nil // the prompt alone filled the steps
	}

	// Generation: sample, print, feed back.
	token := tokens[fed-1]
	decodeStart := time.Now()
	for pos := fed; ; pos++ {
		m.setPhase(phaseSample)
		next := g.Sampler.Sample(logits)
		st.Sampled++
		if st.Sampled == 1 {
			st.FirstToken = time.Since(start)
		}
		if next == tok.BOS() || tok.IsEOG(next) {
			stoppedByToken = true
			break
		}
		if err := emit(tok.Piece(token, next)); err != nil {
			st.Decode = time.Since(decodeStart) // the statistics so far
			return st, err
		}
		token = next
		if pos >= steps {
			break
		}
		m.setPhase(phaseDecode)
		if logits, err = m.Forward(s, token, pos); err != nil {
			return st, err
		}
		st.Positions = pos + 1
	}
	st.Decode = time.Since(decodeStart)
	return st, nil
}

// String summarises the statistics for stderr. Only positions that ran
// are counted: a prompt cut short shows as "prompt 10 of 30 tokens".
func (g GenerateStats) String() string {
	prompt := fmt.Sprintf("%d", g.PromptRun)
	if g.PromptRun < g.PromptTokens {
		prompt = fmt.Sprintf("%d of %d", g.PromptRun, g.PromptTokens)
	}
	s := fmt.Sprintf("%d positions: prompt %s tokens at %.1f tokens/s", g.Positions, prompt, g.PromptPerSecond())
	if g.Sampled == 0 {
		return s + ", nothing generated"
	}
	return s + fmt.Sprintf(", generated %d at %.2f tokens/s; first token after %v",
		g.Sampled, g.TokensPerSecond(), g.FirstToken.Round(time.Microsecond))
}
