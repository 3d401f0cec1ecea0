package runtime

import (
	"fmt"

	"github.com/llmap/llmap/runtime/chat"
)

// ChatFormat turns a conversation into the tokens a model expects and says
// where its replies end. It is safe for concurrent use.
type ChatFormat struct {
	// Template renders the conversation: the model's own chat template, or
	// chat.Fallback for a model without one.
	Template *chat.Template
	// Builtin is true when Template is the fallback, not the model's.
	Builtin bool
	// StopTokens are the template's end-of-turn markers that are single
	// tokens of the vocabulary (<|eot_id|>, <|im_end|>, </s>, ...).
	StopTokens []int
	// Stop are the markers that are not single tokens, as texts (the plain
	// fallback's "\nUser:").
	Stop []string

	m *Model
}

// ChatFormat returns the model's chat format: the chat template stored in
// the file (tokenizer.chat_template), or, when there is none, the fallback
// of runtime/chat (ChatML if the vocabulary has its tokens, else a plain
// "User:/Assistant:" transcript). A stored template that cannot be used
// (see chat.New) is an error; FallbackChatFormat then gives the fallback.
func (m *Model) ChatFormat() (*ChatFormat, error) {
	src := m.Tokenizer.ChatTemplate()
	if src == "" {
		return m.FallbackChatFormat(), nil
	}
	t, err := chat.New(src, m.specialTokens())
	if err != nil {
		return nil, err
	}
	return m.chatFormat(t, false), nil
}

// FallbackChatFormat returns the chat format for a model without a
// template (see chat.Fallback), whatever the file carries.
func (m *Model) FallbackChatFormat() *ChatFormat {
	t := chat.Fallback(func(text string) bool { return m.tokenID(text) >= 0 }, m.specialTokens())
	return m.chatFormat(t, true)
}

func (m *Model) chatFormat(t *chat.Template, builtin bool) *ChatFormat {
	f := &ChatFormat{Template: t, Builtin: builtin, m: m}
	for _, s := range t.Stops() {
		if id := m.tokenID(s); id >= 0 {
			f.StopTokens = append(f.StopTokens, id)
		} else {
			f.Stop = append(f.Stop, s)
		}
	}
	return f
}

// specialTokens are the texts of BOS and EOS, for templates that print them.
func (m *Model) specialTokens() chat.SpecialTokens {
	var sp chat.SpecialTokens
	if id := m.Tokenizer.BOS(); id >= 0 {
		sp.BOS = m.Tokenizer.Token(id)
	}
	if id := m.Tokenizer.EOS(); id >= 0 {
		sp.EOS = m.Tokenizer.Token(id)
	}
	return sp
}

// tokenID returns the id of the vocabulary entry whose text is exactly
// text, or -1.
func (m *Model) tokenID(text string) int {
	for id := range m.Tokenizer.VocabSize() {
		if m.Tokenizer.Token(id) == text {
			return id
		}
	}
	return -1
}

// Tokens renders messages with the prompt for the assistant's reply and
// encodes the text. BOS comes first when the tokenizer adds one, once: a
// template that writes the BOS text itself does not get a second.
func (f *ChatFormat) Tokens(messages []chat.Message) ([]int, error) {
	if len(messages) == 0 {
		return nil, fmt.Errorf("chat: no messages")
	}
	text, err := f.Template.Render(messages, true)
	if err != nil {
		return nil, err
	}
	tokens := f.m.Tokenizer.Encode(text, true)
	if bos := f.m.Tokenizer.BOS(); len(tokens) >= 2 && tokens[0] == bos && tokens[1] == bos {
		tokens = tokens[1:]
	}
	return tokens, nil
}

// Request returns the request for the assistant's reply to messages: the
// conversation's tokens, and the format's stop tokens and texts. The
// caller sets MaxTokens and Sampler, and may add stops.
func (f *ChatFormat) Request(messages []chat.Message) (Request, error) {
	tokens, err := f.Tokens(messages)
	if err != nil {
		return Request{}, err
	}
	return Request{
		Tokens:     tokens,
		StopTokens: append([]int(nil), f.StopTokens...),
		Stop:       append([]string(nil), f.Stop...),
	}, nil
}
