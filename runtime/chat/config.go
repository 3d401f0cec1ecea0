package chat

import (
	"encoding/json"
	"fmt"
)

// TokenizerConfig is the part of a Hugging Face tokenizer_config.json that
// chat templates need.
type TokenizerConfig struct {
	// ChatTemplate is the default template: chat_template when it is a
	// string, or the entry named "default" when it is a list.
	ChatTemplate string
	// Templates holds every named template of a list-valued chat_template
	// ("default", "tool_use", "rag", ...); nil for a single template.
	Templates map[string]string
	Special   SpecialTokens
}

// ParseTokenizerConfig reads a tokenizer_config.json. A missing
// chat_template leaves ChatTemplate empty (use [Fallback]). Newer
// repositories keep the template in a separate chat_template.jinja file,
// which the caller reads as it is.
func ParseTokenizerConfig(data []byte) (TokenizerConfig, error) {
	var raw struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
		BOS          json.RawMessage `json:"bos_token"`
		EOS          json.RawMessage `json:"eos_token"`
	}
	var c TokenizerConfig
	if err := json.Unmarshal(data, &raw); err != nil {
		return c, fmt.Errorf("tokenizer config: %w", err)
	}
	var err error
	if c.Special.BOS, err = tokenText(raw.BOS); err != nil {
		return c, fmt.Errorf("tokenizer config: bos_token: %w", err)
	}
	if c.Special.EOS, err = tokenText(raw.EOS); err != nil {
		return c, fmt.Errorf("tokenizer config: eos_token: %w", err)
	}
	if len(raw.ChatTemplate) == 0 || string(raw.ChatTemplate) == "null" {
		return c, nil
	}
	if raw.ChatTemplate[0] == '"' {
		if err := json.Unmarshal(raw.ChatTemplate, &c.ChatTemplate); err != nil {
			return c, fmt.Errorf("tokenizer config: chat_template: %w", err)
		}
		return c, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw.ChatTemplate, &named); err != nil {
		return c, fmt.Errorf("tokenizer config: chat_template is neither a string nor a list of named templates: %w", err)
	}
	c.Templates = make(map[string]string, len(named))
	for _, n := range named {
		c.Templates[n.Name] = n.Template
	}
	c.ChatTemplate = c.Templates["default"]
	return c, nil
}

// tokenText reads a special token: a string, null, or an AddedToken object
// {"content": "...", ...}.
func tokenText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if raw[0] == '"' {
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var obj struct {
		Content string `json:"content"`
	}
	err := json.Unmarshal(raw, &obj)
	return obj.Content, err
}
