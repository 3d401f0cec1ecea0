package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
)

// The OpenAI request and response shapes this server speaks. Only the
// fields it honours are declared; the JSON decoder ignores the others, as
// OpenAI clients expect of a compatible server.

// chatRequest is the body of POST /v1/chat/completions.
type chatRequest struct {
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
	sampling
}

// completionRequest is the body of POST /v1/completions.
type completionRequest struct {
	Model  string      `json:"model"`
	Prompt promptField `json:"prompt"`
	sampling
}

// sampling are the fields both endpoints share.
type sampling struct {
	MaxTokens           *int          `json:"max_tokens"`
	MaxCompletionTokens *int          `json:"max_completion_tokens"` // the newer name of max_tokens
	Temperature         *float64      `json:"temperature"`
	TopP                *float64      `json:"top_p"`
	Seed                *int64        `json:"seed"`
	Stop                stopField     `json:"stop"`
	Stream              bool          `json:"stream"`
	StreamOptions       streamOptions `json:"stream_options"`
	N                   *int          `json:"n"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// chatMessage is one message of a conversation. Content is a string or a
// list of parts of which only text parts are understood.
type chatMessage struct {
	Role    string       `json:"role"`
	Content contentField `json:"content"`
	Name    string       `json:"name"`
}

// contentField is a message's content: a string, null, or [{"type":
// "text", "text": ...}, ...] (the texts joined).
type contentField struct {
	Text string
	Set  bool
}

func (c *contentField) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		c.Set = true
		return json.Unmarshal(b, &c.Text)
	case len(b) > 0 && b[0] == '[':
		var parts []struct {
			Type string  `json:"type"`
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return typeError("messages[].content", "a string or a list of text parts")
		}
		var sb strings.Builder
		for _, p := range parts {
			if p.Type != "text" || p.Text == nil {
				return fieldError{name: "messages[].content", msg: fmt.Sprintf("has a part of type %q; only text parts are supported", p.Type)}
			}
			sb.WriteString(*p.Text)
		}
		c.Text, c.Set = sb.String(), true
		return nil
	}
	return typeError("messages[].content", "a string or a list of text parts")
}

// stopField is "stop": a string, a list of strings, or null.
type stopField []string

func (s *stopField) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = stopField{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return typeError("stop", "a string or a list of strings")
	}
	*s = many
	return nil
}

// promptField is a completion's prompt: a string, a list of one string, a
// list of token ids, or a list of one list of token ids.
type promptField struct {
	Text   string
	Tokens []int
	Set    bool
}

func (p *promptField) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	const want = "a string, a list of one string, or a list of token ids"
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		p.Text, p.Set = x, true
		return nil
	case []any:
		if len(x) == 1 {
			switch y := x[0].(type) {
			case string:
				p.Text, p.Set = y, true
				return nil
			case []any:
				x = y
			}
		}
		if len(x) > 1 {
			if _, ok := x[0].(string); ok {
				return fieldError{name: "prompt", msg: "has several prompts; only one per request is supported"}
			}
		}
		ids := make([]int, len(x))
		for i, e := range x {
			f, ok := e.(float64)
			if !ok || f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
				return typeError("prompt", want)
			}
			ids[i] = int(f)
		}
		p.Tokens, p.Set = ids, true
		return nil
	}
	return typeError("prompt", want)
}

// fieldError is a field's value that does not fit, from the field's own
// UnmarshalJSON (which knows its name: the decoder does not add it).
type fieldError struct{ name, msg string }

func (e fieldError) Error() string { return e.name + " " + e.msg }

func typeError(name, want string) error { return fieldError{name: name, msg: "must be " + want} }

// Error is an error response in OpenAI's shape, {"error": {"message",
// "type", "param", "code"}}, with its HTTP status: what the server's
// endpoints answer, and what routes added to Mux answer with WriteError.
type Error struct {
	Status  int    `json:"-"`
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   any    `json:"param"` // the field at fault, or null
	Code    any    `json:"code"`  // a short code, or null
}

func (e *Error) Error() string { return e.Message }

// BadRequest is a 400 invalid_request_error about the field param ("" for
// the whole body), its message formatted as by fmt.Sprintf.
func BadRequest(param, format string, args ...any) *Error {
	e := &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...), Type: "invalid_request_error"}
	if param != "" {
		e.Param = param
	}
	return e
}

// decode reads a JSON body into v: one object, nothing after it. Its
// errors say what and where, as a 400 (413 for a body over the limit).
func decode(r io.Reader, v any) *Error {
	dec := json.NewDecoder(r)
	err := dec.Decode(v)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			return BadRequest("", "the body must be one JSON object, with nothing after it")
		}
		return nil
	}
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		tooBig *http.MaxBytesError
		field  fieldError
	)
	switch {
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit), Type: "invalid_request_error"}
	case errors.As(err, &syntax):
		return BadRequest("", "the body is not valid JSON: %v (at byte %d)", syntax, syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return BadRequest("", "the body must be a JSON object, got %s", typ.Value)
		}
		name := strings.TrimPrefix(typ.Field, "sampling.") // the embedded struct of the shared fields
		return BadRequest(name, "%s must be %s, got %s", name, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &field):
		return BadRequest(field.name, "%s", field.Error())
	case errors.Is(err, io.EOF):
		return BadRequest("", "the body is empty; it must be a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("", "the body ends in the middle of its JSON")
	}
	return BadRequest("", "the body could not be read: %v", err)
}

// jsonKind names a Go kind as JSON does.
func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "an integer"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "bool":
		return "true or false"
	case k == "string":
		return "a string"
	case k == "slice":
		return "a list"
	case k == "struct", k == "map", k == "ptr":
		return "an object"
	}
	return "of another type"
}

// Responses.

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type chatResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   *usage       `json:"usage,omitempty"`
}

type chatChoice struct {
	Index        int       `json:"index"`
	Message      *chatOut  `json:"message,omitempty"`
	Delta        *chatOut  `json:"delta,omitempty"`
	FinishReason *string   `json:"finish_reason"`
	Logprobs     *struct{} `json:"logprobs"`
}

type chatOut struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type completionResponse struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   *usage             `json:"usage,omitempty"`
}

type completionChoice struct {
	Index        int       `json:"index"`
	Text         string    `json:"text"`
	FinishReason *string   `json:"finish_reason"`
	Logprobs     *struct{} `json:"logprobs"`
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}
