package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/runtime"
)

// vocabCases reads one of llama.cpp's tokenizer test pairs: .inp holds
// texts each followed by "\n__ggml_vocab_test__\n" (46 texts; the empty
// string after the last separator is not a case), .out one line of ids per
// text, produced by Hugging Face tokenizers, without BOS.
func vocabCases(t *testing.T, gguf string) (texts, ids []string) {
	t.Helper()
	inp, err := os.ReadFile(testmodels.Path(t, "llamacpp-vocab/"+gguf+".inp"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(testmodels.Path(t, "llamacpp-vocab/"+gguf+".out"))
	if err != nil {
		t.Fatal(err)
	}
	texts = strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	if texts[len(texts)-1] != "" {
		t.Fatal(".inp does not end with the separator")
	}
	texts = texts[:len(texts)-1]
	ids = strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(texts) != 46 || len(ids) != 46 {
		t.Fatalf("%d texts, %d id lines; want 46 each", len(texts), len(ids))
	}
	for i := range ids {
		ids[i] = strings.Join(strings.Fields(ids[i]), " ")
	}
	return texts, ids
}

// TestTokenizeVocabCases runs llama.cpp's 46 tokenizer cases with every
// kind of tokenizer path that holds these vocabularies, loaded as
// `llmap tokenize --tokenizer PATH` loads them. For the GPT-2 GGUF every
// case also goes through the command itself (`-f FILE`, since texts hold
// newlines); the others run in-process, as one CLI call per case reloads
// the vocabulary.
func TestTokenizeVocabCases(t *testing.T) {
	m := func(rel string) string { return testmodels.Path(t, rel) }
	cases := []struct {
		name, vocab, tokenizer string
		addBOS, viaCLI         bool
	}{
		{"gpt2 gguf", "ggml-vocab-gpt-2.gguf", m("llamacpp-vocab/ggml-vocab-gpt-2.gguf"), true, true},
		{"gpt2 encoder.json", "ggml-vocab-gpt-2.gguf", m("gpt2-tokenizer/encoder.json"), true, false},
		{"llama gguf", "ggml-vocab-llama-spm.gguf", m("llamacpp-vocab/ggml-vocab-llama-spm.gguf"), false, false},
		{"llama tokenizer.bin", "ggml-vocab-llama-spm.gguf", m("llama2c-tokenizer-32k/tokenizer.bin"), false, false},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			texts, want := vocabCases(t, c.vocab)
			meta, err := convert.LoadTokenizer(c.tokenizer)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := runtime.TokenizerFromMetadata(meta)
			if err != nil {
				t.Fatal(err)
			}
			match := 0
			for i, text := range texts {
				// GPT-2 has no BOS, so asking for one changes nothing.
				ids := tok.Encode(text, c.addBOS && tok.BOS() >= 0)
				got := strings.Trim(fmt.Sprint(ids), "[]")
				if c.viaCLI {
					f := filepath.Join(dir, "case.txt")
					if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
					stdout, stderr, code := llmap(t, "tokenize", "--tokenizer", c.tokenizer, "-f", f)
					if code != 0 {
						t.Fatalf("exit %d: %s", code, stderr)
					}
					got = strings.TrimSuffix(stdout, "\n")
				}
				if got == want[i] {
					match++
				} else {
					t.Errorf("case %d %q:\n got %s\nwant %s", i, text, got, want[i])
				}
			}
			t.Logf("%s: %d/%d cases match", c.name, match, len(texts))
		})
	}
	// --no-bos with a LLaMA vocabulary on the command line.
	stdout, _, _ := llmap(t, "tokenize", "--no-bos", "--tokenizer", m("llamacpp-vocab/ggml-vocab-llama-spm.gguf"), "Hello world")
	if stdout != "15043 3186\n" {
		t.Errorf("--no-bos: %q", stdout)
	}
}

func TestTokenizeWithoutModel(t *testing.T) {
	tok512 := testmodels.Path(t, "stories260K/tok512.bin")
	model := stories260K(t)
	fromModel, _, _ := llmap(t, "tokenize", model, "Once upon a time")
	for _, args := range [][]string{
		{"tokenize", "--tokenizer", tok512, "Once upon a time"},
		{"tokenize", "--tokenizer", model, "Once upon a time"}, // a .llmap file as the tokenizer
	} {
		stdout, stderr, code := llmap(t, args...)
		if code != 0 || stdout != fromModel {
			t.Errorf("%v: exit %d, %q (%s), want %q", args, code, stdout, stderr, fromModel)
		}
	}
	// A Hugging Face directory: hf-gpt2-tiny's vocabulary ("Ġthe" = 30).
	stdout, _, code := llmap(t, "tokenize", "--tokenizer", "../../testdata/reference/hf-gpt2-tiny", " the cat.")
	if code != 0 || stdout != "30 27 2 0 19 26\n" {
		t.Errorf("hf dir: exit %d, %q", code, stdout)
	}
	// A SentencePiece-style tokenizer.json ("▁the" = 34 in hf-llama-tiny).
	stdout, _, code = llmap(t, "tokenize", "--tokenizer", "../../testdata/reference/hf-llama-tiny", "the")
	if code != 0 || stdout != "1 34\n" {
		t.Errorf("hf llama dir: exit %d, %q", code, stdout)
	}

	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.bin")
	os.WriteFile(junk, []byte{1, 2, 3}, 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tokenize", "--tokenizer", filepath.Join(dir, "nope.bin"), "x"}, "nope.bin"},
		{[]string{"tokenize", "--tokenizer", junk, "x"}, "junk.bin"},
		{[]string{"tokenize", "--tokenizer", tok512}, "missing TEXT"},
		{[]string{"tokenize", "--tokenizer", tok512, "-f", filepath.Join(dir, "none.txt")}, "none.txt"},
	} {
		_, stderr, code := llmap(t, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
	}
}
