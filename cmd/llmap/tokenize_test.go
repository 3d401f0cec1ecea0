package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/runtime"
)

// vocabCases reads a reference encoding pair under the shared models: .inp
// holds texts each followed by "\n__ggml_vocab_test__\n" (46 texts; the
// empty string after the last separator is not a case), .out one line of
// ids per text, produced by Hugging Face tokenizers, without BOS.
func vocabCases(t *testing.T, inpRel, outRel string) (texts, ids []string) {
	t.Helper()
	inp, err := os.ReadFile(testmodels.Path(t, inpRel))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(testmodels.Path(t, outRel))
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

// TestTokenizeVocabCases runs the 46 reference cases of each vocabulary
// with every kind of tokenizer path that holds it, loaded and printed as
// `llmap tokenize --tokenizer PATH` does (BOS asked for, so a tokenizer that
// adds one would add it: the cases have none). Some cases of each also go
// through the command itself (`-f FILE`, since texts hold newlines); the
// others run in-process, as one CLI call per case reloads the vocabulary.
func TestTokenizeVocabCases(t *testing.T) {
	m := func(rel string) string { return testmodels.Path(t, rel) }
	dirOf := func(rel string) string { return filepath.Dir(m(rel)) }
	const gpt2, spm = "llamacpp-vocab/ggml-vocab-gpt-2.gguf", "llamacpp-vocab/ggml-vocab-llama-spm.gguf"
	const l3, qw = "hf-tokenizers/llama3/cases", "hf-tokenizers/qwen3/cases"
	cases := []struct {
		name, cases, tokenizer string
		addBOS                 bool
		viaCLI                 int // cases to run through the command
	}{
		{"gpt2 gguf", gpt2, m(gpt2), true, 46},
		{"gpt2 encoder.json", gpt2, m("gpt2-tokenizer/encoder.json"), true, 0},
		{"llama gguf", spm, m(spm), false, 0},
		{"llama tokenizer.bin", spm, m("llama2c-tokenizer-32k/tokenizer.bin"), false, 0},
		{"llama3 tokenizer.json", l3, dirOf(l3 + ".inp"), false, 3},
		{"llama3 gguf", l3, m("llama3-random/l3-F16.gguf"), false, 3},
		{"qwen3 tokenizer.json", qw, dirOf(qw + ".inp"), true, 3},
		{"qwen2 gguf", qw, m("qwen2-random/qw-F16.gguf"), true, 3},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			texts, want := vocabCases(t, c.cases+".inp", c.cases+".out")
			meta, err := loadTokenizer(c.tokenizer)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := runtime.TokenizerFromMetadata(meta)
			if err != nil {
				t.Fatal(err)
			}
			match := 0
			for i, text := range texts {
				got := strings.Trim(fmt.Sprint(tokenIDs(tok, text, c.addBOS)), "[]")
				if i < c.viaCLI {
					f := filepath.Join(dir, "case.txt")
					if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
					args := []string{"tokenize", "--tokenizer", c.tokenizer, "-f", f}
					if !c.addBOS {
						args = append(args, "--no-bos")
					}
					stdout, stderr, code := llmap(t, args...)
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
	stdout, _, _ := llmap(t, "tokenize", "--no-bos", "--tokenizer", m(spm), "Hello world")
	if stdout != "15043 3186\n" {
		t.Errorf("--no-bos: %q", stdout)
	}
}

// TestTokenizeFamilies: BOS as each model's files say, and special tokens
// in the text, through the command: the prompts of llama3-random and
// qwen2-random's expected.json (ids made by Hugging Face tokenizers, BOS
// for LLaMA 3) from the GGUF files and from the tokenizer.json directories.
func TestTokenizeFamilies(t *testing.T) {
	m := func(rel string) string { return testmodels.Path(t, rel) }
	for _, c := range []struct {
		tokenizer, text, want string
	}{
		{m("llama3-random/l3-F16.gguf"), "Once upon a time", "128000 12805 5304 264 892"},
		{filepath.Dir(m("hf-tokenizers/llama3/tokenizer.json")), "Once upon a time", "128000 12805 5304 264 892"},
		{m("qwen2-random/qw-F16.gguf"), "Once upon a time", "12522 5193 264 882"},
		{filepath.Dir(m("hf-tokenizers/qwen3/tokenizer.json")), "Once upon a time", "12522 5193 264 882"},
		// <|im_start|> 151644, <|im_end|> 151645 (qwen3 added_tokens); "user" 872, "\n" 198.
		{m("qwen2-random/qw-F16.gguf"), "<|im_start|>user\n<|im_end|>", "151644 872 198 151645"},
		// <|eot_id|> 128009 after <|begin_of_text|> 128000.
		{m("llama3-random/l3-F16.gguf"), "<|eot_id|>", "128000 128009"},
		{m("llamacpp-vocab/ggml-vocab-gpt-2.gguf"), "", ""},
	} {
		stdout, stderr, code := llmap(t, "tokenize", "--tokenizer", c.tokenizer, c.text)
		if code != 0 || stdout != c.want+"\n" {
			t.Errorf("tokenize --tokenizer %s %q: exit %d, %q (%s), want %q", filepath.Base(c.tokenizer), c.text, code, stdout, stderr, c.want)
		}
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
	wordPiece, broken := filepath.Join(dir, "wordpiece"), filepath.Join(dir, "broken")
	for d, data := range map[string]string{wordPiece: `{"model": {"type": "WordPiece", "vocab": {"a": 0}}}`, broken: "{\n\"model\": {"} {
		os.Mkdir(d, 0o755)
		os.WriteFile(filepath.Join(d, "tokenizer.json"), []byte(data), 0o644)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tokenize", "--tokenizer", filepath.Join(dir, "nope.bin"), "x"}, "nope.bin"},
		{[]string{"tokenize", "--tokenizer", junk, "x"}, "junk.bin"},
		{[]string{"tokenize", "--tokenizer", wordPiece, "x"}, "wordpiece/tokenizer.json: model type \"WordPiece\" is not supported"},
		{[]string{"tokenize", "--tokenizer", broken, "x"}, "broken/tokenizer.json: line 2, column 11: unexpected end of JSON input"},
		{[]string{"tokenize", "--tokenizer", tok512}, "missing TEXT"},
		{[]string{"tokenize", "--tokenizer", tok512, "-f", filepath.Join(dir, "none.txt")}, "none.txt"},
	} {
		_, stderr, code := llmap(t, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
	}
}
