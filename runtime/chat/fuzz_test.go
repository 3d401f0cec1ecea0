package chat

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmap/llmap/internal/testmodels"
)

// FuzzTemplate compiles and renders arbitrary template sources with
// arbitrary message text: errors are fine, panics are not, and every error
// is an *Error.
func FuzzTemplate(f *testing.F) {
	for _, model := range []string{"llama3", "qwen3"} {
		if b, err := os.ReadFile(filepath.Join(testmodels.Dir(), "hf-tokenizers", model, "tokenizer_config.json")); err == nil {
			if c, err := ParseTokenizerConfig(b); err == nil {
				f.Add(c.ChatTemplate, "Hello <think>x</think> world")
			}
		}
	}
	if b, err := os.ReadFile("testdata/features.jinja"); err == nil {
		f.Add(string(b), "  hi  ")
	}
	for _, src := range []string{
		chatMLSource, plainSource,
		"{% macro a(x) %}{{ x | trim }}{% endmacro %}{{ a(messages[0].content) }}",
		"{% for m in messages[::-1] %}{{ loop.index }}{{ m.content.split(' ')[-1] }}{% endfor %}",
		"{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}",
		"{{ messages | tojson(indent=2) }}{{ raise_exception('x') if messages | length > 5 }}",
		"{% for m in messages recursive %}{% endfor %}",
		"{{ messages[0:1000000000000:3] }}{{ 'a' * 3 }}",
	} {
		f.Add(src, "text")
	}
	f.Fuzz(func(t *testing.T, src, content string) {
		tmpl, err := New(src, SpecialTokens{BOS: "<s>", EOS: "</s>"})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("New: not an *Error: %v", err)
			}
			return
		}
		msgs := []Message{{Role: "system", Content: content}, {Role: "user", Content: content}, {Role: "assistant", Content: content}}
		if _, err := tmpl.Render(msgs, true); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Render: not an *Error: %v", err)
			}
		}
		_ = tmpl.Stops()
	})
}
