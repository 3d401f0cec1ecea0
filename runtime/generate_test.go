package runtime

import (
	"slices"
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
