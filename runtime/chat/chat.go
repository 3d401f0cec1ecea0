package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/ardanlabs/jinja"
)

// Sentinel errors, matched with errors.Is; every error of this package is an
// *Error wrapping one of them.
var (
	// ErrSyntax: the template source is not valid Jinja.
	ErrSyntax = errors.New("syntax error")
	// ErrUnsafe: the template uses a construct this package does not run
	// on untrusted input (recursion, include, repetition, ...) or exceeds a
	// size limit.
	ErrUnsafe = errors.New("template rejected")
	// ErrRender: rendering failed. A template's own raise_exception comes
	// as an *Error with Kind ErrRender and Raised set.
	ErrRender = errors.New("render failed")
	// ErrInput: a message, tool or variable passed to Render is invalid.
	ErrInput = errors.New("invalid input")
)

// Error is a chat template error. Line and Col locate it in the template
// source when known (1-based; 0 otherwise).
type Error struct {
	Kind      error
	Line, Col int
	Msg       string
	// Raised is true when the template itself called raise_exception: Msg
	// is then its text, usually about the conversation (for example roles
	// that must alternate), which a server reports as a bad request.
	Raised bool
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("chat template: %v: line %d, col %d: %s", e.Kind, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("chat template: %v: %s", e.Kind, e.Msg)
}

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// Message is one turn of a conversation.
type Message struct {
	Role    string // "system", "user", "assistant" or "tool"
	Content string
	// ReasoningContent is an assistant turn's thinking, kept apart from
	// Content (Qwen 3's reasoning_content); empty means none.
	ReasoningContent string
	// ToolCalls are the functions an assistant turn called.
	ToolCalls []ToolCall
	// ToolCallID is the call a "tool" turn answers; Name the tool's name.
	ToolCallID, Name string
}

// ToolCall is one function call of an assistant turn, as in the OpenAI API.
type ToolCall struct {
	ID   string
	Name string
	// Arguments is the JSON text of the arguments. A JSON object reaches
	// the template as a mapping (keys in their order), so that tojson
	// prints it as Hugging Face templates expect; anything else reaches it
	// as a string.
	Arguments string
}

// SpecialTokens are the token texts a template may refer to as bos_token and
// eos_token (from GGUF tokenizer.ggml.bos_token_id/eos_token_id or
// tokenizer_config.json). Empty ones render as empty strings.
type SpecialTokens struct {
	BOS, EOS string
}

// Options are the inputs of [Template.RenderWith] besides the messages.
type Options struct {
	// AddGenerationPrompt asks the template to end with the opening of an
	// assistant turn, so that the model writes the reply.
	AddGenerationPrompt bool
	// Tools are the JSON texts of the tool definitions offered to the
	// model (OpenAI's "tools" entries); nil renders as none.
	Tools []string
	// Vars are extra template variables, such as Qwen 3's enable_thinking
	// (the "chat_template_kwargs" of other servers): bools, numbers,
	// strings, and slices and maps of those (a map's keys reach the
	// template sorted; pass tools as JSON text to keep an order).
	Vars map[string]any
}

// Template is a compiled chat template. It is safe for concurrent use.
type Template struct {
	source  string
	tmpl    *jinja.Template
	special SpecialTokens
	stops   []string
}

// New compiles a chat template source (Jinja, as found in GGUF
// tokenizer.chat_template or tokenizer_config.json's chat_template) after
// checking it against the limits of this package. Errors are *Error values
// naming the problem and, where known, its line and column.
func New(source string, special SpecialTokens) (*Template, error) {
	compiled, lines, err := prepare(source)
	if err != nil {
		return nil, err
	}
	tmpl, err := compile(compiled, lines)
	if err != nil {
		return nil, err
	}
	t := &Template{source: source, tmpl: tmpl, special: special}
	t.stops = endOfTurn(t)
	return t, nil
}

// compile runs the Jinja parser, turning a panic on malformed input into an
// error whose line numbers are those of the original source.
func compile(source string, lines func(int) int) (tmpl *jinja.Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Kind: ErrSyntax, Msg: fmt.Sprintf("the parser failed: %v", r)}
		}
	}()
	tmpl, err = jinja.Compile(source)
	if err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "jinja scan: "), "jinja parse: ")
		msg = lineRE.ReplaceAllStringFunc(msg, func(m string) string {
			n, _ := strconv.Atoi(m[len("line "):])
			return "line " + strconv.Itoa(lines(n))
		})
		return nil, &Error{Kind: ErrSyntax, Msg: msg}
	}
	return tmpl, nil
}

// lineRE finds the line numbers in the engine's messages.
var lineRE = regexp.MustCompile(`line [0-9]+`)

// Source returns the template source.
func (t *Template) Source() string { return t.source }

// Render renders a conversation: the prompt text to tokenize (with special
// tokens parsed, and no BOS added when the text already starts with it).
func (t *Template) Render(messages []Message, addGenerationPrompt bool) (string, error) {
	return t.RenderWith(messages, Options{AddGenerationPrompt: addGenerationPrompt})
}

// RenderWith renders a conversation with tools and extra variables.
func (t *Template) RenderWith(messages []Message, opts Options) (out string, err error) {
	data, limits, err := t.data(messages, opts)
	if err != nil {
		return "", err
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = "", &Error{Kind: ErrRender, Msg: fmt.Sprintf("the engine failed: %v", r)}
		}
	}()
	out, err = t.tmpl.RenderValues(data)
	if err != nil {
		var raised *raiseError
		if errors.As(err, &raised) {
			return "", &Error{Kind: ErrRender, Msg: raised.msg, Raised: true}
		}
		return "", &Error{Kind: ErrRender, Msg: err.Error()}
	}
	if int64(len(out)) > limits.Output {
		return "", &Error{Kind: ErrRender, Msg: fmt.Sprintf("rendered %d bytes, more than the %d allowed", len(out), limits.Output)}
	}
	return out, nil
}

// reserved are the variable names Render sets itself.
var reserved = []string{"messages", "tools", "add_generation_prompt", "bos_token", "eos_token", "range", "raise_exception", tojsonName, iterName, valueName, outName, testName, callName, argName}

// data builds the template variables. Besides the inputs it shadows two
// globals of the engine: range, bounded (see [MaxRange]), and
// raise_exception, whose error Render recognises; and it holds our tojson
// and the functions of a fresh budget.
func (t *Template) data(messages []Message, opts Options) (map[string]jinja.Value, Limits, error) {
	msgs := make([]jinja.Value, len(messages))
	for i, m := range messages {
		v, err := messageValue(m)
		if err != nil {
			return nil, Limits{}, &Error{Kind: ErrInput, Msg: fmt.Sprintf("message %d: %v", i, err)}
		}
		msgs[i] = v
	}
	tools := jinja.None()
	if opts.Tools != nil {
		items := make([]jinja.Value, len(opts.Tools))
		for i, s := range opts.Tools {
			v, err := jsonValue(s)
			if err != nil {
				return nil, Limits{}, &Error{Kind: ErrInput, Msg: fmt.Sprintf("tool %d: %v", i, err)}
			}
			items[i] = v
		}
		tools = jinja.NewList(items)
	}
	data := map[string]jinja.Value{
		"messages":              jinja.NewList(msgs),
		"tools":                 tools,
		"add_generation_prompt": jinja.NewBool(opts.AddGenerationPrompt),
		"bos_token":             jinja.NewString(t.special.BOS),
		"eos_token":             jinja.NewString(t.special.EOS),
		"range":                 newRange(),
		"raise_exception":       jinja.NewCallable("raise_exception", raiseException),
	}
	var input int64
	for k, v := range opts.Vars {
		for _, r := range reserved {
			if k == r {
				return nil, Limits{}, &Error{Kind: ErrInput, Msg: fmt.Sprintf("variable %q is set by Render itself", k)}
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, Limits{}, &Error{Kind: ErrInput, Msg: fmt.Sprintf("variable %q: %v", k, err)}
		}
		jv, err := jsonValue(string(b))
		if err != nil {
			return nil, Limits{}, &Error{Kind: ErrInput, Msg: fmt.Sprintf("variable %q: %v", k, err)}
		}
		data[k] = jv
		input += valueSize(jv, math.MaxInt64)
	}
	input += valueSize(data["messages"], math.MaxInt64) + valueSize(tools, math.MaxInt64)
	limits := LimitsFor(input)
	for k, v := range newBudget(limits).functions() {
		data[k] = v
	}
	return data, limits, nil
}

// Stops returns the text of the template's end-of-turn markers, the strings
// on which generation of an assistant reply stops: the marker the template
// writes after an assistant message (<|eot_id|>, <|im_end|>,
// <end_of_turn>, ...), the other well-known end-of-turn tokens that occur in
// the template source, and EOS. A tokenizer maps them to ids (they are
// special tokens of the vocabulary); a plain-text template's stops are
// plain text to look for in the reply.
func (t *Template) Stops() []string { return append([]string(nil), t.stops...) }

// knownEndOfTurn are end-of-turn tokens of common model families that a
// template may write in other places than after an assistant message (LLaMA
// 3.1 ends a tool call with <|eom_id|>). Not <|end|>: Phi-3 ends turns with
// it, which the probe finds, but gpt-oss ends only a channel's message.
var knownEndOfTurn = []string{"<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<end_of_turn>"}

// markerRE matches a token-shaped marker: <|name|>, <name> or </name>.
var markerRE = regexp.MustCompile(`^<[|/]?[A-Za-z_][A-Za-z0-9_.:-]{0,40}\|?>`)

// probeReply is an assistant message no template alters.
const probeReply = "llmap end-of-turn probe"

// endOfTurn finds a template's stops: it renders a user turn and an
// assistant turn and takes the marker that directly follows the reply.
func endOfTurn(t *Template) []string {
	var stops []string
	add := func(s string) {
		if s == "" {
			return
		}
		for _, have := range stops {
			if have == s {
				return
			}
		}
		stops = append(stops, s)
	}
	out, err := t.Render([]Message{{Role: "user", Content: "Hello"}, {Role: "assistant", Content: probeReply}}, false)
	if err == nil {
		if i := strings.LastIndex(out, probeReply); i >= 0 {
			add(markerRE.FindString(out[i+len(probeReply):]))
		}
	}
	for _, s := range knownEndOfTurn {
		if strings.Contains(t.source, s) {
			add(s)
		}
	}
	add(t.special.EOS)
	return stops
}
