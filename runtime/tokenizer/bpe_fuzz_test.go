package tokenizer

import (
	"os"
	"slices"
	"testing"

	"github.com/llmap/llmap/internal/testmodels"
)

// FuzzBPERoundTrip checks that GPT-2 encoding never panics, yields in-range
// ids, decodes back to the input byte for byte (valid or not as UTF-8), and
// splits the text exactly as the regexp reference does.
func FuzzBPERoundTrip(f *testing.F) {
	tok := loadGPT2BPE(f)
	for _, c := range loadGPT2VocabCases(f) {
		f.Add(c.text)
	}
	f.Add("\xff\xfe 'RE\u00a0\u3000\r\n  x")
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("Encode(%q) produced id %d", s, id)
			}
		}
		if got := string(tok.Decode(ids)); got != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, got)
		}
		if got, want := bpeSplit(s), bpeSplitRef(s); !slices.Equal(got, want) {
			t.Fatalf("split %q:\n got %q\nwant %q", s, got, want)
		}
	})
}

// FuzzLoadHFFiles feeds arbitrary vocab.json and merges.txt to the loaders
// and NewBPE: errors are fine, panics are not, and a tokenizer that loads
// must encode without panicking.
func FuzzLoadHFFiles(f *testing.F) {
	vocab, err1 := os.ReadFile(testmodels.Path(f, "tiny-gpt2-random-lmbuddy/vocab.json"))
	merges, err2 := os.ReadFile(testmodels.Path(f, "tiny-gpt2-random-lmbuddy/merges.txt"))
	if err1 != nil || err2 != nil {
		f.Fatal(err1, err2)
	}
	f.Add(vocab, merges)
	f.Add([]byte(`{"a": 0, "b": 1, "ab": 2, "<unk>": 3}`), []byte("#version: 0.2\na b\n"))
	f.Add([]byte(`{"a": 0, "b": 0}`), []byte("a b"))
	f.Add([]byte(`{"a": 1}`), []byte(""))
	f.Add([]byte(`{"a": 0, "<unk>": 1}`), []byte("a a\r\n"))
	f.Fuzz(func(t *testing.T, vocab, merges []byte) {
		for _, load := range []func([]byte, []byte) ([]string, []string, error){LoadHFFiles, LoadGPT2Files} {
			tokens, ml, err := load(vocab, merges)
			if err != nil {
				continue
			}
			tok, err := NewBPE(tokens, ml)
			if err != nil {
				continue
			}
			ids := tok.Encode("a ab lower newer\xff" + string(merges))
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("id %d out of range", id)
				}
			}
			tok.Decode(ids)
		}
	})
}
