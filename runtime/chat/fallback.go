package chat

// chatMLSource is ChatML, the format of Qwen, Yi, Hermes and many
// fine-tunes, and what llama.cpp uses for a model without a template.
const chatMLSource = `{%- for message in messages -%}
{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- '<|im_start|>assistant\n' -}}
{%- endif -%}`

// plainSource is a plain transcript for base models with no chat tokens:
// the system message as a first paragraph, then "User: ..." and
// "Assistant: ..." lines; the generation prompt is "Assistant:" so that the
// model writes the reply's leading space itself.
const plainSource = `{%- for message in messages -%}
{%- if message.role == 'system' -%}
{{- message.content + '\n\n' -}}
{%- else -%}
{{- message.role | capitalize -}}{{- ': ' + message.content + '\n' -}}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- 'Assistant:' -}}
{%- endif -%}`

// PlainStop is the stop string of the plain fallback: the start of the
// user's next line, which a base model writes when it has finished.
const PlainStop = "\nUser:"

// Fallback returns the template for a model that carries none. If the
// vocabulary has the ChatML tokens <|im_start|> and <|im_end|> (hasToken
// reports whether a token text is in the vocabulary; nil means no), it is
// ChatML, as llama.cpp chooses; otherwise a plain transcript
// ("User: ...\nAssistant:") whose stops are [PlainStop] and EOS.
func Fallback(hasToken func(text string) bool, special SpecialTokens) *Template {
	if hasToken != nil && hasToken("<|im_start|>") && hasToken("<|im_end|>") {
		return mustNew(chatMLSource, special)
	}
	t := mustNew(plainSource, special)
	t.stops = []string{PlainStop}
	if special.EOS != "" {
		t.stops = append(t.stops, special.EOS)
	}
	return t
}

// ChatML returns the ChatML template.
func ChatML(special SpecialTokens) *Template { return mustNew(chatMLSource, special) }

func mustNew(source string, special SpecialTokens) *Template {
	t, err := New(source, special)
	if err != nil {
		panic("chat: built-in template: " + err.Error())
	}
	return t
}
