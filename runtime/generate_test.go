package runtime

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// eogTokenizer marks one token as EOS and another as end of turn, as a chat
// model's tokenizer marks <|im_end|> and <|eot_id|>.
type eogTokenizer struct {
	Tokenizer
	eos, eot int
}

func (t eogTokenizer) EOS() int          { return t.eos }
func (t eogTokenizer) EOT() int          { return t.eot }
func (t eogTokenizer) IsEOG(id int) bool { return id == t.eos || id == t.eot }

// TestGenerateStopsOnlyOnSampledEOG: end-of-generation tokens inside the
// prompt (a chat transcript holds several) are fed and printed like any
// other token; a sampled one, EOS or end of turn, ends the run.
func TestGenerateStopsOnlyOnSampledEOG(t *testing.T) {
	m, err := Open(convertStories(t), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	run := func(prompt string) (pieces [][]byte, st GenerateStats) {
		t.Helper()
		s, err := m.NewState(0)
		if err != nil {
			t.Fatal(err)
		}
		st, err = m.Generate(s, Generation{Prompt: prompt, Steps: 64, Sampler: NewSampler(m.Config.VocabSize, 0, 0, 0, nil)},
			func(p []byte) error { pieces = append(pieces, slices.Clone(p)); return nil })
		if err != nil {
			t.Fatal(err)
		}
		return pieces, st
	}
	const prompt = "Once upon a time, there was a little girl"
	plain := m.Tokenizer
	defer func() { m.Tokenizer = plain }()

	// The prompt's fourth token as EOS: the prompt is still fed and printed whole.
	ids := plain.Encode(prompt, true)
	m.Tokenizer = eogTokenizer{plain, ids[3], -1}
	got, st := run(prompt)
	if len(got) < len(ids)-1 || st.Positions < len(ids) {
		t.Errorf("EOS inside the prompt cut it: %d pieces printed, %d positions run; want at least %d and %d", len(got), st.Positions, len(ids)-1, len(ids))
	}

	// A generated token, first seen at sample k >= 2, as end of turn: the
	// run prints the k tokens before it and stops.
	s, err := m.NewState(0)
	if err != nil {
		t.Fatal(err)
	}
	sampled := greedy(t, m, s, 16)
	k := 2
	for k < len(sampled) && slices.Contains(sampled[:k], sampled[k]) {
		k++
	}
	if k == len(sampled) {
		t.Fatalf("greedy tokens %v repeat; no token to mark", sampled)
	}
	m.Tokenizer = eogTokenizer{plain, -1, sampled[k]}
	got, st = run("")
	if len(got) != k || st.Sampled != k+1 {
		t.Errorf("end of turn sampled: printed %d pieces after %d samples, want %d and %d", len(got), st.Sampled, k, k+1)
	}
}

// TestGenerateStopsInsideAPrompt: emit's error stops a long prompt after
// the piece that was running (llmap run's Ctrl-C), and the positions and
// logits up to there are those of an uninterrupted run.
func TestGenerateStopsInsideAPrompt(t *testing.T) {
	m, err := Open(convertStories(t), Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	prompt := strings.Repeat("Once upon a time, there was a little girl named Lily. ", 40)
	ids := m.Tokenizer.Encode(prompt, true)
	promptPiece := m.promptPiece()
	if len(ids) <= 2*promptPiece {
		t.Fatalf("the prompt is %d tokens; the test needs more than %d", len(ids), 2*promptPiece)
	}
	stop := errors.New("stop")
	for _, after := range []int{1, promptPiece, promptPiece + 1} {
		s, err := m.NewState(0)
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		st, err := m.Generate(s, Generation{Prompt: prompt, Sampler: NewSampler(m.Config.VocabSize, 0, 0, 0, nil)},
			func([]byte) error {
				if calls++; calls == after {
					return stop
				}
				return nil
			})
		if !errors.Is(err, stop) {
			t.Fatalf("stop after %d pieces: Generate returned %v, want emit's error", after, err)
		}
		// The k-th printed token is prompt token k, printed after the
		// piece of positions that ends with position k-1 ran whole.
		want := ((after-1)/promptPiece + 1) * promptPiece
		if st.PromptRun != want || st.Positions != want || st.Sampled != 0 {
			t.Errorf("stop after %d pieces: %d prompt positions run, %d positions, %d sampled; want %d, %d, 0",
				after, st.PromptRun, st.Positions, st.Sampled, want, want)
		}
		// The cache holds the same keys as a run of the whole prompt: the
		// next position's logits agree with an uninterrupted prefill.
		got, err := m.Forward(s, ids[want], want)
		if err != nil {
			t.Fatal(err)
		}
		got = slices.Clone(got)
		ref, err := m.NewState(0)
		if err != nil {
			t.Fatal(err)
		}
		wantLogits, err := m.Prefill(ref, ids[:want+1], 0)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(got, wantLogits); d > 1e-4 {
			t.Errorf("stop after %d pieces: logits at position %d differ from one prefill by %g", after, want, d)
		}
	}
}
