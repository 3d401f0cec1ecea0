package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llmap/llmap/internal/testmodels"
)

// llama3SplitRegexp is the LLaMA 3 expression (maxDigits 3) or Qwen 2's
// (maxDigits 1) in Go's syntax: \s spelled out as White_Space, and the
// \s+(?!\S)|\s+ alternatives as one captured \s+, whose lookahead
// llama3SplitRef applies by hand. Go's regexp prefers alternatives and
// repetitions as a backtracking engine does, and (?i) folds case as Unicode
// simple case folding does (so 'ſ matches 's), as Hugging Face's engine.
func llama3SplitRegexp(maxDigits int) *regexp.Regexp {
	digits := `\pN`
	if maxDigits > 1 {
		digits = fmt.Sprintf(`\pN{1,%d}`, maxDigits)
	}
	ws := bpeWhiteSpace
	return regexp.MustCompile(`^(?:(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\pL\pN]?\pL+|` + digits +
		`| ?[^` + ws + `\pL\pN]+[\r\n]*|[` + ws + `]*[\r\n]+|([` + ws + `]+))`)
}

var llama3SplitRegexps = map[int]*regexp.Regexp{1: llama3SplitRegexp(1), 3: llama3SplitRegexp(3)}

// llama3SplitRef splits s with llama3SplitRegexps[maxDigits]; a match of the
// last alternative that has two or more characters and is followed by more
// text gives back its last character (\s+(?!\S)).
func llama3SplitRef(s string, maxDigits int) []string {
	re := llama3SplitRegexps[maxDigits]
	var out []string
	for i := 0; i < len(s); {
		m := re.FindStringSubmatchIndex(s[i:])
		if m == nil || m[1] == 0 {
			panic(fmt.Sprintf("no match at %d of %q", i, s))
		}
		end := i + m[1]
		if m[2] >= 0 && end < len(s) && utf8.RuneCountInString(s[i:end]) > 1 {
			_, w := utf8.DecodeLastRuneInString(s[i:end])
			end -= w
		}
		out = append(out, s[i:end])
		i = end
	}
	return out
}

var numberRegexp = regexp.MustCompile(`\pN`)

// smolLMSplitRef isolates every \pN character with Go's regexp, then splits
// the text between them with the GPT-2 reference.
func smolLMSplitRef(s string) []string {
	var out []string
	last := 0
	for _, m := range numberRegexp.FindAllStringIndex(s, -1) {
		out = append(out, bpeSplitRef(s[last:m[0]])...)
		out = append(out, s[m[0]:m[1]])
		last = m[1]
	}
	return append(out, bpeSplitRef(s[last:])...)
}

// pretokenSplit splits s with pre, as Encode does.
func pretokenSplit(pre Pretokenizer, s string) []string {
	var out []string
	it := pretokens{pre: pre, text: s}
	for p, ok := it.next(); ok; p, ok = it.next() {
		out = append(out, p)
	}
	return out
}

func pretokenSplitRef(pre Pretokenizer, s string) []string {
	switch pre {
	case PreLlama3:
		return llama3SplitRef(s, 3)
	case PreQwen2:
		return llama3SplitRef(s, 1)
	case PreSmolLM:
		return smolLMSplitRef(s)
	}
	return bpeSplitRef(s)
}

func TestPretokenizeExamples(t *testing.T) {
	for _, c := range []struct {
		pre  Pretokenizer
		in   string
		want []string
	}{
		{PreLlama3, "Hello world", []string{"Hello", " world"}},
		{PreLlama3, "I'VE 'll 'ſ", []string{"I", "'VE", " '", "ll", " '", "ſ"}},
		{PreLlama3, "12345 6", []string{"123", "45", " ", "6"}},
		{PreLlama3, "(hello)\tworld", []string{"(hello", ")", "\tworld"}},
		{PreLlama3, "a  \n\n  b", []string{"a", "  \n\n", " ", " b"}},
		{PreLlama3, "x!!\n\ny", []string{"x", "!!\n\n", "y"}},
		{PreLlama3, "x   ", []string{"x", "   "}},
		{PreLlama3, "\r\n", []string{"\r\n"}},
		{PreQwen2, "12345 6", []string{"1", "2", "3", "4", "5", " ", "6"}},
		{PreQwen2, "3.14", []string{"3", ".", "1", "4"}},
		{PreSmolLM, "abc 123x", []string{"abc", " ", "1", "2", "3", "x"}},
		{PreSmolLM, "a  1", []string{"a", "  ", "1"}},
		{PreGPT2, "abc 123", []string{"abc", " 123"}},
	} {
		if got := pretokenSplit(c.pre, c.in); !slices.Equal(got, c.want) {
			t.Errorf("%s split %q = %q, want %q", c.pre, c.in, got, c.want)
		}
		if got := pretokenSplitRef(c.pre, c.in); !slices.Equal(got, c.want) {
			t.Errorf("%s reference split %q = %q, want %q", c.pre, c.in, got, c.want)
		}
	}
}

// pretokenRandomText extends bpeRandomText's alphabet with what the LLaMA 3
// expression treats specially: CR alone, contractions in mixed case and
// with long s, long digit runs.
func pretokenRandomText(r *rand.Rand, n int) string {
	extra := []string{"\r", "\n\n", " \n", "'Ll", "'rE", "'ſ", "ſ", "'D", "1234567", "(", ")\n", "?!"}
	var sb strings.Builder
	for range n {
		if r.IntN(4) == 0 {
			sb.WriteString(extra[r.IntN(len(extra))])
		} else {
			sb.WriteString(bpeRandomText(r, 1))
		}
	}
	return sb.String()
}

func TestPretokenizeMatchesRegexp(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var inputs []string
	for range 3000 {
		inputs = append(inputs, pretokenRandomText(r, r.IntN(40)))
	}
	for range 300 {
		inputs = append(inputs, bpeRandomBytes(r, r.IntN(64)))
	}
	for _, rel := range []string{"hf-tokenizers/llama3/cases.inp", "hf-tokenizers/qwen3/cases.inp", "llamacpp-vocab/ggml-vocab-gpt-2.gguf.inp"} {
		if data, err := os.ReadFile(filepath.Join(testmodels.Dir(), filepath.FromSlash(rel))); err == nil {
			inputs = append(inputs, strings.Split(string(data), "\n__ggml_vocab_test__\n")...)
		}
	}
	for _, pre := range []Pretokenizer{PreGPT2, PreLlama3, PreQwen2, PreSmolLM} {
		for _, s := range inputs {
			if got, want := pretokenSplit(pre, s), pretokenSplitRef(pre, s); !slices.Equal(got, want) {
				t.Fatalf("%s split %q:\n got %q\nwant %q", pre, s, got, want)
			}
		}
	}
}

// FuzzPretokenize checks every pre-tokenizer against its regexp reference.
func FuzzPretokenize(f *testing.F) {
	f.Add("I'VE 12345 (hello)\tworld  \n\n  b 'ſ\xff")
	f.Add("a\r\n\r\n \u3000x")
	f.Fuzz(func(t *testing.T, s string) {
		for _, pre := range []Pretokenizer{PreLlama3, PreQwen2, PreSmolLM} {
			got := pretokenSplit(pre, s)
			if want := pretokenSplitRef(pre, s); !slices.Equal(got, want) {
				t.Fatalf("%s split %q:\n got %q\nwant %q", pre, s, got, want)
			}
			if strings.Join(got, "") != s {
				t.Fatalf("%s split %q does not cover the text", pre, s)
			}
		}
	})
}
