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
	Positions    int           // positions run through the model
	Sampled      int           // tokens chosen by the sampler
	ContextFull  bool          // stopped at the end of the context before Steps
	FirstToken   time.Duration // from the start until the first sampled token
	Elapsed      time.Duration // from the end of the first position to the end, as llama2.c times it
}

// TokensPerSecond is llama2.c's figure: positions after the first, over the
// time since the first finished.
func (g GenerateStats) TokensPerSecond() float64 {
	if g.Positions < 2 || g.Elapsed <= 0 {
		return 0
	}
	return float64(g.Positions-1) / g.Elapsed.Seconds()
}

// ErrEmptyPrompt is returned when a prompt encodes to no tokens and the
// tokenizer has no BOS to start from.
var ErrEmptyPrompt = errors.New("the prompt encodes to no tokens")

// Generate feeds the prompt through the model, then samples until Steps
// positions have run, the context is full, or the model emits BOS or EOS.
// emit receives the text of every token after the first, prompt included,
// exactly as llama2.c prints it; it may stop the run by returning an error.
func (m *Model) Generate(s *State, g Generation, emit func(piece []byte) error) (GenerateStats, error) {
	var st GenerateStats
	start := time.Now()
	tok := m.Tokenizer
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

	token := tokens[0]
	var first time.Time
	for pos := 0; pos < steps; {
		logits, err := m.Forward(s, token, pos)
		if err != nil {
			return st, err
		}
		var next int
		if pos < len(tokens)-1 {
			next = tokens[pos+1] // still in the prompt: force its next token
		} else {
			next = g.Sampler.Sample(logits)
			st.Sampled++
			if st.Sampled == 1 {
				st.FirstToken = time.Since(start)
			}
		}
		pos++
		st.Positions = pos
		if next == tok.BOS() || next == tok.EOS() {
			stoppedByToken = true
			break
		}
		if err := emit(tok.Piece(token, next)); err != nil {
			return st, err
		}
		token = next
		if first.IsZero() {
			first = time.Now()
		}
	}
	if !first.IsZero() {
		st.Elapsed = time.Since(first)
	}
	st.ContextFull = !stoppedByToken && st.Positions == s.ctx &&
		(g.Steps <= 0 || g.Steps > s.ctx || len(tokens) > s.ctx)
	return st, nil
}

// String summarises the statistics for stderr.
func (g GenerateStats) String() string {
	return fmt.Sprintf("%d positions (%d prompt tokens, %d sampled), %.2f tokens/s, first token after %v",
		g.Positions, g.PromptTokens, g.Sampled, g.TokensPerSecond(), g.FirstToken.Round(time.Microsecond))
}
