package chat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ardanlabs/jinja"
	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/internal/testmodels"
)

// hfMessage is a message as Hugging Face's apply_chat_template takes it.
type hfMessage struct {
	Role             string `json:"role"`
	Content          string `json:"content"`
	ReasoningContent string `json:"reasoning_content"`
	ToolCalls        []struct {
		ID       string `json:"id"`
		Function struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// hfCase is one rendering by Hugging Face's Jinja.
type hfCase struct {
	Template            string            `json:"template"`
	Source              string            `json:"source"` // for template "inline"
	Name                string            `json:"name"`
	Messages            []hfMessage       `json:"messages"`
	Tools               []json.RawMessage `json:"tools"`
	Vars                map[string]any    `json:"vars"`
	AddGenerationPrompt bool              `json:"add_generation_prompt"`
	Text                string            `json:"text"`
}

func (c hfCase) messages() []Message {
	out := make([]Message, len(c.Messages))
	for i, m := range c.Messages {
		out[i] = Message{Role: m.Role, Content: m.Content, ReasoningContent: m.ReasoningContent}
		for _, tc := range m.ToolCalls {
			out[i].ToolCalls = append(out[i].ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: string(tc.Function.Arguments)})
		}
	}
	return out
}

func (c hfCase) options() Options {
	o := Options{AddGenerationPrompt: c.AddGenerationPrompt, Vars: c.Vars}
	for _, t := range c.Tools {
		o.Tools = append(o.Tools, string(t))
	}
	return o
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// hfConfig reads hf-tokenizers/<model>/tokenizer_config.json.
func hfConfig(t *testing.T, model string) TokenizerConfig {
	t.Helper()
	b, err := os.ReadFile(testmodels.Path(t, "hf-tokenizers/"+model+"/tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseTokenizerConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustTemplate(t testing.TB, source string, special SpecialTokens) *Template {
	t.Helper()
	tmpl, err := New(source, special)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// checkText compares a rendering with the reference byte for byte.
func checkText(t *testing.T, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Errorf("differs from byte %d:\n got %q\nwant %q", i, got[i:min(len(got), i+80)], want[i:min(len(want), i+80)])
}

// TestSharedChatCases renders ../shared's chat_cases.json with each model's
// own template and special tokens from tokenizer_config.json.
func TestSharedChatCases(t *testing.T) {
	for _, model := range []string{"llama3", "qwen3"} {
		t.Run(model, func(t *testing.T) {
			cfg := hfConfig(t, model)
			tmpl := mustTemplate(t, cfg.ChatTemplate, cfg.Special)
			var cases []hfCase
			readJSON(t, testmodels.Path(t, "hf-tokenizers/"+model+"/chat_cases.json"), &cases)
			if len(cases) == 0 {
				t.Fatal("no cases")
			}
			for i, c := range cases {
				got, err := tmpl.RenderWith(c.messages(), c.options())
				if err != nil {
					t.Fatalf("case %d: %v", i, err)
				}
				checkText(t, got, c.Text)
			}
		})
	}
}

// TestHFCases renders testdata/hf_cases.json (made by gen_hf_cases.mjs with
// Hugging Face's Jinja): edge cases, thinking, tools and tool calls.
func TestHFCases(t *testing.T) {
	var file struct{ Cases []hfCase }
	readJSON(t, "testdata/hf_cases.json", &file)
	features, err := os.ReadFile("testdata/features.jinja")
	if err != nil {
		t.Fatal(err)
	}
	templates := map[string]*Template{
		"features": mustTemplate(t, string(features), SpecialTokens{BOS: "<s>", EOS: "</s>"}),
	}
	for _, model := range []string{"llama3", "qwen3"} {
		cfg := hfConfig(t, model)
		templates[model] = mustTemplate(t, cfg.ChatTemplate, cfg.Special)
	}
	seen := map[string]int{}
	for _, c := range file.Cases {
		seen[c.Template]++
		t.Run(c.Template+"/"+c.Name, func(t *testing.T) {
			tmpl := templates[c.Template]
			if c.Template == "inline" {
				tmpl = mustTemplate(t, c.Source, SpecialTokens{})
			}
			got, err := tmpl.RenderWith(c.messages(), c.options())
			if err != nil {
				t.Fatal(err)
			}
			checkText(t, got, c.Text)
		})
	}
	if len(seen) != 4 || seen["qwen3"] < 10 || seen["inline"] < 10 {
		t.Fatalf("cases per template: %v", seen)
	}
}

// TestGGUFTemplates checks that the GGUF files carry the same templates as
// tokenizer_config.json and render the reference cases with their own
// special tokens.
func TestGGUFTemplates(t *testing.T) {
	for _, tc := range []struct{ model, file string }{
		{"llama3", "llama3-random/l3-F16.gguf"},
		{"qwen3", "qwen2-random/qw-F16.gguf"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			f, err := gguf.Open(testmodels.Path(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			source, ok := f.String("tokenizer.chat_template")
			if !ok {
				t.Fatal("no tokenizer.chat_template")
			}
			if cfg := hfConfig(t, tc.model); source != cfg.ChatTemplate {
				t.Fatal("GGUF template differs from tokenizer_config.json's")
			}
			tokens, _ := f.Strings("tokenizer.ggml.tokens")
			token := func(key string) string {
				v, _ := f.Lookup(key)
				id, ok := v.AsUint()
				if !ok || id >= uint64(len(tokens)) {
					t.Fatalf("%s: bad token id", key)
				}
				return tokens[id]
			}
			tmpl := mustTemplate(t, source, SpecialTokens{BOS: token("tokenizer.ggml.bos_token_id"), EOS: token("tokenizer.ggml.eos_token_id")})
			var cases []hfCase
			readJSON(t, testmodels.Path(t, "hf-tokenizers/"+tc.model+"/chat_cases.json"), &cases)
			for _, c := range cases {
				got, err := tmpl.RenderWith(c.messages(), c.options())
				if err != nil {
					t.Fatal(err)
				}
				checkText(t, got, c.Text)
			}
		})
	}
}

// TestStops checks the end-of-turn rule against the models' published stop
// tokens: LLaMA 3 Instruct's generation_config.json lists <|eot_id|> and
// <|end_of_text|>; Qwen 3 ends turns with <|im_end|>, also its EOS.
func TestStops(t *testing.T) {
	for _, tc := range []struct {
		model string
		want  []string
	}{
		{"llama3", []string{"<|eot_id|>", "<|end_of_text|>"}},
		{"qwen3", []string{"<|im_end|>"}},
	} {
		cfg := hfConfig(t, tc.model)
		got := mustTemplate(t, cfg.ChatTemplate, cfg.Special).Stops()
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: stops %q, want %q", tc.model, got, tc.want)
		}
	}
	gemma := `{% for m in messages %}<start_of_turn>{{ m.role }}
{{ m.content }}<end_of_turn>
{% endfor %}`
	if got := mustTemplate(t, gemma, SpecialTokens{EOS: "<eos>"}).Stops(); strings.Join(got, " ") != "<end_of_turn> <eos>" {
		t.Errorf("gemma-style stops %q", got)
	}
}

// TestFallback: ChatML must render the plain Qwen 3 cases as Qwen's own
// template does; the plain format is the documented transcript.
func TestFallback(t *testing.T) {
	var cases []hfCase
	readJSON(t, testmodels.Path(t, "hf-tokenizers/qwen3/chat_cases.json"), &cases)
	has := func(s string) bool { return s == "<|im_start|>" || s == "<|im_end|>" }
	chatml := Fallback(has, SpecialTokens{EOS: "<|endoftext|>"})
	for _, c := range cases {
		got, err := chatml.Render(c.messages(), c.AddGenerationPrompt)
		if err != nil {
			t.Fatal(err)
		}
		checkText(t, got, c.Text)
	}
	if got := strings.Join(chatml.Stops(), " "); got != "<|im_end|> <|endoftext|>" {
		t.Errorf("ChatML stops %q", got)
	}

	plain := Fallback(func(string) bool { return false }, SpecialTokens{BOS: "<s>", EOS: "</s>"})
	got, err := plain.Render([]Message{
		{Role: "system", Content: "Be kind."}, {Role: "user", Content: "Hi"},
		{Role: "assistant", Content: "Hello."}, {Role: "user", Content: "Bye"},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	checkText(t, got, "Be kind.\n\nUser: Hi\nAssistant: Hello.\nUser: Bye\nAssistant:")
	if got := strings.Join(plain.Stops(), "|"); got != "\nUser:|</s>" {
		t.Errorf("plain stops %q", got)
	}
	if Fallback(nil, SpecialTokens{}).Source() != plainSource {
		t.Error("nil hasToken should give the plain format")
	}
}

func TestParseTokenizerConfig(t *testing.T) {
	c, err := ParseTokenizerConfig([]byte(`{"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>",
		"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Special != (SpecialTokens{BOS: "<s>", EOS: "</s>"}) || c.ChatTemplate != "D" || c.Templates["tool_use"] != "T" {
		t.Fatalf("got %+v", c)
	}
	c, err = ParseTokenizerConfig([]byte(`{"bos_token": null}`))
	if err != nil || c.ChatTemplate != "" || c.Special != (SpecialTokens{}) {
		t.Fatalf("got %+v, %v", c, err)
	}
	for _, bad := range []string{`[`, `{"chat_template": 3}`, `{"eos_token": 3}`} {
		if _, err := ParseTokenizerConfig([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestBadTemplates: each rejected construct gets an *Error of the right kind
// that names the problem and its place.
func TestBadTemplates(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		kind      error
		msg       string
		line      int
	}{
		{"unclosed-for", "{% for m in messages %}{{ m }}", ErrSyntax, "unclosed for", 0},
		{"unknown-statement", "{% frobnicate %}", ErrSyntax, "frobnicate", 0},
		{"line-after-adjacent-tags", "{{ a }}{{ b }}{% if x %}{% endif %}\n{{ c }}{{ d }}\n{% frobnicate %}", ErrSyntax, "line 3: unknown statement", 0},
		{"unclosed-tag", "hello\n{{ messages", ErrSyntax, "not closed", 2},
		{"unclosed-string", "{{ 'abc }}", ErrSyntax, "string is not closed", 1},
		{"unclosed-comment", "{# note", ErrSyntax, "comment is not closed", 1},
		{"too-large", strings.Repeat("x", MaxSourceBytes+1), ErrUnsafe, "bytes, more than", 0},
		{"deep-blocks", strings.Repeat("{% if true %}", MaxNesting+1), ErrUnsafe, "blocks nest", 1},
		{"deep-brackets", "{{ " + strings.Repeat("(", MaxNesting+1) + "1" + strings.Repeat(")", MaxNesting+1) + " }}", ErrUnsafe, "brackets nest", 1},
		{"macro-extra-argument", "{% macro f() %}{{ f(1) }}{% endmacro %}", ErrUnsafe, `macro "f" takes 0 arguments, called with 1`, 1},
		{"macro-extra-arguments", "{% macro f(a, b=2) %}{% endmacro %}\n{{ f(1, 2, x=3, y=[4, 5]) }}{{ f(1, 2, (3, 4)) }}", ErrUnsafe, `takes 2 arguments, called with 3`, 2},
		{"macro-default", "{% macro f(a, b=x ~ x) %}{% endmacro %}", ErrUnsafe, `the default of b must be a literal`, 1},
		{"append", "{% set l = [] %}{{ l.append(l) }}", ErrUnsafe, "append is not allowed", 1},
		{"update", "{% set d = {} %}{{ d.update(d) }}", ErrUnsafe, "update is not allowed", 1},
		{"filter-block", "{% filter indent(1000000) %}x{% endfilter %}", ErrUnsafe, "indent width", 1},
		{"macro-no-parameters", "{% macro f %}{% endmacro %}", ErrSyntax, "parameter list", 1},
		{"macro-as-value", "{% macro f(g) %}{{ g(g) }}{% endmacro %}{{ f(f) }}", ErrUnsafe, "only be called", 1},
		{"macro-twice", "{% macro f() %}{% endmacro %}{% macro f() %}{% endmacro %}", ErrUnsafe, "defined twice", 1},
		{"recursive-loop", "{% for m in messages recursive %}{{ loop(m) }}{% endfor %}", ErrUnsafe, "recursive for", 1},
		{"loop-call", "{% for m in messages %}{{ loop(m) }}{% endfor %}", ErrUnsafe, "loop()", 1},
		{"call-block", "{% call f() %}x{% endcall %}", ErrUnsafe, "call blocks", 1},
		{"include", "{% include 'other.jinja' %}", ErrUnsafe, "include", 1},
		{"repetition", "{{ 'a' * 1000000000000 }}", ErrUnsafe, "* operator", 1},
		{"power", "{{ 10 ** 100 }}", ErrUnsafe, "** operator", 1},
		{"indent", "\n{{ x | indent(1000000000) }}", ErrUnsafe, "indent width", 2},
		{"tojson-indent", "{{ x | tojson(indent=n) }}", ErrUnsafe, "tojson indent", 1},
		{"replace-empty", "{{ x.replace('', 'yyyy') }}", ErrUnsafe, "non-empty literal", 1},
		{"replace-variable", "{{ x | replace('a', y) }}", ErrUnsafe, "non-empty literal", 1},
		{"join-variable", "{{ x | join(y) }}", ErrUnsafe, "separator must be a literal", 1},
		{"slice-step", "{{ messages[0:100000000000000:2] }}", ErrUnsafe, "slice with a step", 1},
		{"slice-step-variable", "{{ messages[n::-1] }}", ErrUnsafe, "slice with a step", 1},
		{"growth", "{{ " + strings.Repeat("a ~ ", MaxGrowth) + "a }}", ErrUnsafe, "times larger", 1},
		{"growth-filters", "{{ x | indent(8) | indent(8) | indent(8) }}", ErrUnsafe, "times larger", 1},
		{"reserved-name", "{{ llmap_out(1) }}", ErrUnsafe, "reserved", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.src, SpecialTokens{})
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, tc.kind) {
				t.Fatalf("got %v, want an *Error of kind %v", err, tc.kind)
			}
			if !strings.Contains(e.Msg, tc.msg) || (tc.line > 0 && e.Line != tc.line) {
				t.Fatalf("got %q (line %d), want %q at line %d", err, e.Line, tc.msg, tc.line)
			}
			if !strings.HasPrefix(err.Error(), "chat template: ") {
				t.Fatalf("message %q", err)
			}
		})
	}
	// Harmless uses of the same words are admitted.
	for _, src := range []string{
		"{% macro a() %}A{% endmacro %}{% macro b() %}{{ a() }}{{ a() }}{% endmacro %}{{ b() }}",
		"{% macro b(x=[], y={}, z='s', w=none, v=True, u=-1) %}{% endmacro %}{% filter upper %}x{% endfilter %}{{ [1].pop() }}",
		"{% macro a(x, y=1) %}{{ x }}{% endmacro %}{{ a(1) }}{{ a(1, 2) }}{{ a(x=1, y=2) }}{{ a('(,)') }}{{ a([1, 2], {'k': (3, 4)}) }}",
		"{{ 'x * y' }}{{ '{{ loop(1) }}' }}{# {% include 'x' %} #}",
		"{{ messages | tojson(indent=2) }}{{ 'a'.replace('a', 'b') }}{{ 'a' | indent(4) }}",
		"{% set x %}{{ messages | length }}{% endset %}{{ x }}",
		"{{ messages[::-1] }}{{ messages[1:] }}{{ messages[-3:-1:1] }}{{ messages[:n] }}{{ 'a b'.split(' ')[-1] }}",
		"{% raw %}{{ x * y }}{% endraw %}",
		"{% for a, b in messages[0].items() if a != 'role' %}{{ a ~ '=' ~ b }}{% endfor %}",
	} {
		if _, err := New(src, SpecialTokens{}); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

// TestRenderErrors: failures at render time are errors, never panics.
func TestRenderErrors(t *testing.T) {
	msgs := []Message{{Role: "user", Content: "hi"}}
	for _, tc := range []struct {
		name, src string
		opts      Options
		msg       string
		raised    bool
		kind      error
	}{
		{"raise", "{{ raise_exception('Conversation roles must alternate') }}", Options{}, "Conversation roles must alternate", true, ErrRender},
		{"raise-in-loop", "{% for m in messages %}{% if m.role == 'user' %}{{ raise_exception('no ' ~ m.role) }}{% endif %}{% endfor %}", Options{}, "no user", true, ErrRender},
		{"huge-range", "{% for i in range(1000000000000) %}{% endfor %}", Options{}, "range: more than", false, ErrRender},
		{"range-budget", "{{ range(600000) | length }}{{ range(600000) | length }}", Options{}, "range: more than", false, ErrRender},
		{"iterations", "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", Options{}, "iterations", false, ErrRender},
		{"work", "{% set ns = namespace(s='" + strings.Repeat("x", 1024) + "') %}{% for i in range(9) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{% for i in range(100000) %}{% if (ns.s ~ ns.s ~ ns.s ~ ns.s) | length == 0 %}{% endif %}{% endfor %}", Options{}, "bytes of work", false, ErrRender},
		{"cycle", "{% set ns = namespace(a=1) %}{% set ns.self = [ns] %}{{ ns | string }}", Options{}, "may not contain itself", false, ErrRender},
		{"big-argument", "{% macro f(s) %}{{ s | length }}{% endmacro %}{% set ns = namespace(s='" + strings.Repeat("x", 1000) + "') %}{% for i in range(10) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ f(ns.s ~ ns.s) }}", Options{}, "macro argument is larger", false, ErrRender},
		{"loop-text", "{% for i in range(100000) %}" + strings.Repeat("x", 1000) + "{% endfor %}", Options{}, "output is larger", false, ErrRender},
		{"macro-text", "{% macro f() %}" + strings.Repeat("x", 1000) + "{% endmacro %}{% for i in range(10000) %}{{ f() }}{% endfor %}", Options{}, "output is larger", false, ErrRender},
		{"growing-recursion", "{% macro f(a, n) %}{{ f(a, n ~ '" + strings.Repeat("x", 100) + "') }}{% endmacro %}{{ f(1, '') }}", Options{}, "macro arguments total", false, ErrRender},
		{"doubling", "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", Options{}, "stored value is larger", false, ErrRender},
		{"stored-total", "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [i] %}{% endfor %}", Options{}, "stored values total", false, ErrRender},
		{"nested-loops", "{% set s = '" + strings.Repeat("x", 1000) + "' %}{% for a in s %}{% for b in s %}{% for c in s %}{% endfor %}{% endfor %}{% endfor %}", Options{}, "iterations", false, ErrRender},
		{"output", "{% set s = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' %}{% for i in range(100000) %}{{ s }}{% endfor %}", Options{}, "output is larger", false, ErrRender},
		{"self-recursion", "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", Options{}, "macro calls", false, ErrRender},
		{"mutual-recursion", "{% macro f() %}{{ g() }}{% endmacro %}{% macro g() %}{{ f() }}{% endmacro %}{{ g() }}", Options{}, "macro calls", false, ErrRender},
		{"macro-fanout", "{% macro a() %}{{ 'x' }}{% endmacro %}{% macro b() %}{{a()}}{{a()}}{{a()}}{{a()}}{{a()}}{{a()}}{{a()}}{{a()}}{% endmacro %}{% macro c() %}{{b()}}{{b()}}{{b()}}{{b()}}{{b()}}{{b()}}{{b()}}{{b()}}{% endmacro %}{% macro d() %}{{c()}}{{c()}}{{c()}}{{c()}}{{c()}}{{c()}}{{c()}}{{c()}}{% endmacro %}{% macro e() %}{{d()}}{{d()}}{{d()}}{{d()}}{{d()}}{{d()}}{{d()}}{{d()}}{% endmacro %}{% macro f() %}{{e()}}{{e()}}{{e()}}{{e()}}{{e()}}{{e()}}{{e()}}{{e()}}{% endmacro %}{% macro g() %}{{f()}}{{f()}}{{f()}}{{f()}}{{f()}}{{f()}}{{f()}}{{f()}}{% endmacro %}{% macro h() %}{{g()}}{{g()}}{{g()}}{{g()}}{{g()}}{{g()}}{{g()}}{{g()}}{% endmacro %}{{ h() }}", Options{}, "macro calls", false, ErrRender},
		{"bad-filter", "{{ messages | nosuch }}", Options{}, "nosuch", false, ErrRender},
		{"bad-tool", "{{ tools }}", Options{Tools: []string{`{"a": 1`}}, "tool 0", false, ErrInput},
		{"deep-tool", "{{ tools }}", Options{Tools: []string{strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1)}}, "nests more than", false, ErrInput},
		{"reserved-var", "x", Options{Vars: map[string]any{"messages": 1}}, "set by Render", false, ErrInput},
		{"bad-var", "x", Options{Vars: map[string]any{"f": func() {}}}, "variable", false, ErrInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := mustTemplate(t, tc.src, SpecialTokens{})
			out, err := tmpl.RenderWith(msgs, tc.opts)
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, tc.kind) || !strings.Contains(e.Msg, tc.msg) || e.Raised != tc.raised || out != "" {
				t.Fatalf("got %q, %#v; want %v %q raised=%v", out, err, tc.kind, tc.msg, tc.raised)
			}
		})
	}
	bad := Message{Role: "assistant", ToolCalls: []ToolCall{{Name: "f", Arguments: `{"x": }`}}}
	if _, err := mustTemplate(t, "x", SpecialTokens{}).Render([]Message{bad}, false); !errors.Is(err, ErrInput) {
		t.Fatalf("bad arguments: %v", err)
	}
}

// TestRange checks the bounded range() against Python's.
func TestRange(t *testing.T) {
	tmpl := mustTemplate(t, "{{ range(5) | join(',') }}|{{ range(2, 5) | join(',') }}|{{ range(10, 0, -3) | join(',') }}|{{ range(0, 5, -1) | length }}|{{ range(-9223372036854775807, -9223372036854775805) | join(',') }}", SpecialTokens{})
	got, err := tmpl.Render(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	checkText(t, got, "0,1,2,3,4|2,3,4|10,7,4,1|0|-9223372036854775807,-9223372036854775806")
	for _, src := range []string{"{{ range() }}", "{{ range(1, 2, 0) }}", "{{ range('a') }}"} {
		if _, err := mustTemplate(t, src, SpecialTokens{}).Render(nil, false); !errors.Is(err, ErrRender) {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// TestConcurrentRender renders one template from several goroutines (run
// with -race).
func TestConcurrentRender(t *testing.T) {
	cfg := hfConfig(t, "qwen3")
	tmpl := mustTemplate(t, cfg.ChatTemplate, cfg.Special)
	want, err := tmpl.Render([]Message{{Role: "user", Content: "hi"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				got, err := tmpl.Render([]Message{{Role: "user", Content: "hi"}}, true)
				if err != nil || got != want {
					t.Errorf("got %q, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkRender renders a four-message conversation with each model's
// template: "chat" through Render (checked, budgeted source), "engine" the
// original source straight through ardanlabs/jinja with the same data, so
// the ratio is the cost of the budget.
func BenchmarkRender(b *testing.B) {
	msgs := []Message{
		{Role: "system", Content: "You are a helpful assistant."},
		{Role: "user", Content: "What is an embedding?"},
		{Role: "assistant", Content: "A vector for each token."},
		{Role: "user", Content: "And a logit?"},
	}
	for _, model := range []string{"llama3", "qwen3"} {
		data, err := os.ReadFile(filepath.Join(testmodels.Path(b, "hf-tokenizers/"+model), "tokenizer_config.json"))
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := ParseTokenizerConfig(data)
		if err != nil {
			b.Fatal(err)
		}
		tmpl := mustTemplate(b, cfg.ChatTemplate, cfg.Special)
		b.Run(model+"/chat", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tmpl.Render(msgs, true); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(model+"/engine", func(b *testing.B) {
			engine, err := jinja.Compile(cfg.ChatTemplate)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				vars, _, err := tmpl.data(msgs, Options{AddGenerationPrompt: true})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := engine.RenderValues(vars); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLongConversation renders Qwen 3's template for a long conversation
// within the budgets (its loops read messages|length per message).
func TestLongConversation(t *testing.T) {
	cfg := hfConfig(t, "qwen3")
	tmpl := mustTemplate(t, cfg.ChatTemplate, cfg.Special)
	msgs := make([]Message, 3999) // ending with a user turn
	var want strings.Builder
	for i := range msgs {
		msgs[i] = Message{Role: []string{"user", "assistant"}[i%2], Content: strings.Repeat("word ", 50)}
		want.WriteString("<|im_start|>" + msgs[i].Role + "\n" + msgs[i].Content + "<|im_end|>\n")
	}
	want.WriteString("<|im_start|>assistant\n")
	out, err := tmpl.Render(msgs, true)
	if err != nil {
		t.Fatal(err)
	}
	checkText(t, out, want.String())
}
