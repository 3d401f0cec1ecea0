package runtime

import (
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// TestGPT2PromptLogits: a GPT-2 prompt is its text's ids and nothing else,
// so the logits after it are those of Hugging Face's model(input_ids) for
// the same text. hf-gpt2-tiny's vocabulary spells "dbebfjcg" as the ids of
// gpt2_tiny.json's second case, [3 1 4 1 5 9 2 6] (no merge applies), whose
// torch logits are the reference.
func TestGPT2PromptLogits(t *testing.T) {
	g := readGolden(t, "gpt2_tiny.json")
	c := g.Cases[1]
	if !slices.Equal(c.Tokens, []int{3, 1, 4, 1, 5, 9, 2, 6}) {
		t.Fatalf("gpt2_tiny.json case 1 is %v", c.Tokens)
	}
	m, err := Open(convertHF(t, filepath.Join(referenceDir, "hf-gpt2-tiny"), nil), Options{Threads: 1, KVType: KVF32})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewState(0)
	if err != nil {
		t.Fatal(err)
	}
	tokens := m.Tokenizer.Encode("dbebfjcg", true) // as explore.NextLogits encodes a prompt
	logits, err := m.Prefill(s, tokens, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tokens, c.Tokens) {
		t.Fatalf("prompt ids %v, want %v (no <|endoftext|> before a GPT-2 prompt)", tokens, c.Tokens)
	}
	want := c.Logits[len(c.Tokens)-1]
	for i, w := range want {
		if d := math.Abs(float64(logits[i*c.Stride]) - w); d > tolExact {
			t.Fatalf("logit %d: got %.6f, torch %.6f", i*c.Stride, logits[i*c.Stride], w)
		}
	}
}
