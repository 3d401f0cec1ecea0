package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/internal/testmodels"
)

// familyTokenizers caches the tokenizers the family tests load, one per
// source ("hf:llama3", "gguf:llama3-random/l3-F16.gguf", ...).
var familyTokenizers = struct {
	sync.Mutex
	m map[string]*Tokenizer
}{m: map[string]*Tokenizer{}}

// loadHFTokenizer reads hf-tokenizers/NAME through FromHFDir, then through
// its .llmap metadata (Metadata, SpecFromMetadata), so that the tests cover
// what a converted model holds.
func loadHFTokenizer(tb testing.TB, name string) *Tokenizer {
	tb.Helper()
	dir := filepath.Dir(testmodels.Path(tb, "hf-tokenizers/"+name+"/tokenizer.json"))
	return loadFamilyTokenizer(tb, "hf:"+name, func() (*Spec, error) { return FromHFDir(dir) })
}

// loadGGUFTokenizer reads the tokenizer of a GGUF file of the shared models.
func loadGGUFTokenizer(tb testing.TB, rel string) *Tokenizer {
	tb.Helper()
	path := testmodels.Path(tb, rel)
	return loadFamilyTokenizer(tb, "gguf:"+rel, func() (*Spec, error) {
		f, err := gguf.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return FromGGUF(f)
	})
}

func loadFamilyTokenizer(tb testing.TB, key string, load func() (*Spec, error)) *Tokenizer {
	tb.Helper()
	familyTokenizers.Lock()
	defer familyTokenizers.Unlock()
	if t, ok := familyTokenizers.m[key]; ok {
		return t
	}
	spec, err := load()
	if err != nil {
		tb.Fatal(err)
	}
	spec, err = SpecFromMetadata(spec.Metadata())
	if err != nil {
		tb.Fatal(err)
	}
	t, err := New(spec)
	if err != nil {
		tb.Fatal(err)
	}
	familyTokenizers.m[key] = t
	return t
}

// vocabCase is one reference encoding: a text and its ids.
type vocabCase struct {
	text string
	ids  []int
}

// loadCases reads a cases.inp / cases.out pair: texts each followed by
// "\n__ggml_vocab_test__\n" (llama.cpp's test-tokenizer-0 layout) and one
// line of space-separated ids per text.
func loadCases(tb testing.TB, inpRel, outRel string) []vocabCase {
	tb.Helper()
	inp, err := os.ReadFile(testmodels.Path(tb, inpRel))
	if err != nil {
		tb.Fatal(err)
	}
	out, err := os.ReadFile(testmodels.Path(tb, outRel))
	if err != nil {
		tb.Fatal(err)
	}
	texts := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	if texts[len(texts)-1] != "" {
		tb.Fatalf("%s does not end with the separator", inpRel)
	}
	texts = texts[:len(texts)-1]
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(texts) {
		tb.Fatalf("%s has %d texts, %s %d lines", inpRel, len(texts), outRel, len(lines))
	}
	cases := make([]vocabCase, len(texts))
	for i, text := range texts {
		cases[i].text = text
		for _, f := range strings.Fields(lines[i]) {
			id, err := strconv.Atoi(f)
			if err != nil {
				tb.Fatalf("%s line %d: %v", outRel, i+1, err)
			}
			cases[i].ids = append(cases[i].ids, id)
		}
	}
	return cases
}

// TestFamilyCases encodes the 46 reference texts of each family (made by
// Hugging Face tokenizers, no BOS) with the tokenizer.json and with the GGUF
// file that carries the same vocabulary.
func TestFamilyCases(t *testing.T) {
	for _, c := range []struct {
		name, dir, gguf string
	}{
		{"llama3", "hf-tokenizers/llama3", "llama3-random/l3-F16.gguf"},
		{"qwen3", "hf-tokenizers/qwen3", "qwen2-random/qw-F16.gguf"},
	} {
		cases := loadCases(t, c.dir+"/cases.inp", c.dir+"/cases.out")
		if len(cases) != 46 {
			t.Fatalf("%s: %d cases, want 46", c.name, len(cases))
		}
		for _, src := range []struct {
			name string
			tok  func() *Tokenizer
		}{
			{"tokenizer.json", func() *Tokenizer { return loadHFTokenizer(t, c.name) }},
			{"gguf", func() *Tokenizer { return loadGGUFTokenizer(t, c.gguf) }},
		} {
			t.Run(c.name+"/"+src.name, func(t *testing.T) {
				tok := src.tok()
				match := 0
				for i, vc := range cases {
					got := tok.Encode(vc.text, false, true)
					if slices.Equal(got, vc.ids) {
						match++
					} else {
						t.Errorf("case %d %q:\n got %v\nwant %v", i, vc.text, got, vc.ids)
					}
					if dec := string(tok.Decode(got)); dec != vc.text {
						t.Errorf("case %d: Decode(Encode(%q)) = %q", i, vc.text, dec)
					}
				}
				t.Logf("%d/%d cases match", match, len(cases))
			})
		}
	}
}

// TestFamilyPrompts tokenises the prompts of llama3-random and qwen2-random
// expected.json from their text, with each GGUF's own BOS rule (LLaMA 3
// adds <|begin_of_text|>, Qwen 2 adds nothing), and gets the listed ids.
func TestFamilyPrompts(t *testing.T) {
	for _, c := range []struct {
		dir, gguf, hf string
	}{
		{"llama3-random", "l3-F16.gguf", "llama3"},
		{"qwen2-random", "qw-F16.gguf", "qwen3"},
	} {
		raw, err := os.ReadFile(testmodels.Path(t, c.dir+"/expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		var exp struct {
			Prompts []struct {
				Text string `json:"text"`
				IDs  []int  `json:"ids"`
			} `json:"prompts"`
		}
		if err := json.Unmarshal(raw, &exp); err != nil {
			t.Fatal(err)
		}
		if len(exp.Prompts) != 2 {
			t.Fatalf("%s: %d prompts, want 2", c.dir, len(exp.Prompts))
		}
		for _, tok := range []*Tokenizer{loadGGUFTokenizer(t, c.dir+"/"+c.gguf), loadHFTokenizer(t, c.hf)} {
			for _, p := range exp.Prompts {
				if got := tok.Encode(p.Text, true, true); !slices.Equal(got, p.IDs) {
					t.Errorf("%s %q:\n got %v\nwant %v", c.dir, p.Text, got, p.IDs)
				}
			}
		}
	}
}
