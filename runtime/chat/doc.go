// Package chat turns a conversation into the prompt text a model was trained
// on, by rendering the model's own chat template: the Jinja source in GGUF
// tokenizer.chat_template or in tokenizer_config.json's chat_template.
//
// Compile a template once with [New] (or take the [Fallback] for a model
// without one), then [Template.Render] each conversation; a Template is safe
// for concurrent use. Rendering follows Hugging Face's apply_chat_template:
// the variables are messages, add_generation_prompt, bos_token, eos_token
// and tools (none unless given), plus [Options.Vars]; whitespace follows
// Hugging Face's trim_blocks and lstrip_blocks. The output is checked byte
// for byte against Hugging Face's own Jinja on LLaMA 3's and Qwen 3's
// templates.
//
// The rendered text contains the special tokens as text (for LLaMA 3 it
// starts with <|begin_of_text|>): tokenize it with special tokens parsed, and
// do not add a BOS token when the text already starts with one.
//
// # Stopping
//
// [Template.Stops] lists the strings on which a reply ends: the marker the
// template writes right after an assistant message (found by rendering one,
// so <|eot_id|> for LLaMA 3, <|im_end|> for ChatML, <end_of_turn> for Gemma),
// the end-of-turn tokens <|eot_id|>, <|eom_id|>, <|im_end|> and
// <end_of_turn> if the source contains them, and EOS.
// The generation loop stops when it samples one of these tokens (or any
// other end-of-generation token its vocabulary declares, such as Qwen's
// <|endoftext|>), or, for the plain fallback, when the reply text contains
// [PlainStop].
//
// # Models without a template
//
// [Fallback] gives ChatML when the vocabulary has <|im_start|> and
// <|im_end|> (what llama.cpp does for a model without a template), and
// otherwise a plain transcript for base models:
//
//	System prompt
//
//	User: Hello
//	Assistant: Hi!
//	User: How are you?
//	Assistant:
//
// # Untrusted templates
//
// A template comes from a downloaded file, and the Jinja engine
// (github.com/ardanlabs/jinja) counts neither steps nor bytes. So [New]
// first checks the source's tags (a conservative lexical check, which may
// reject a harmless template) and then weaves calls to a per-render budget
// into it; the output is the one the original template gives.
//
// New rejects, as ErrUnsafe: sources over [MaxSourceBytes]; blocks or
// brackets nested over [MaxNesting]; include, import, extends and call
// blocks; recursive for loops; the * and ** operators (string and list
// repetition); a macro used as a value or called with more positional
// arguments than it has; slices with a step and non-literal bounds; indent
// widths over [MaxIndent]; replace and join arguments that are not short
// literals; and tags that can grow a value more than [MaxGrowth] times.
//
// Render then charges every loop (its iterations, and the text of its body
// per iteration), every macro call (its body's text, its arguments), every
// stored value, every printed value and every condition (the tag's growth
// times the sizes of the variables it reads) to budgets: [MaxIterations],
// [MaxMacroCalls], [MaxRange] and the [Limits] for the input's size. A
// render that exceeds one fails with ErrRender; an engine panic is an error
// too. So every template that New admits renders in bounded time and
// memory: the hostile templates tried (doubling strings in loops, deep and
// growing recursion, nested loops, text-heavy loops) stop within seconds and
// a few hundred MB, and real templates stay far inside the budgets (Qwen 3's
// over a 4000-message conversation uses 1/20 of its work budget).
//
// Errors are *[Error] values: errors.Is matches [ErrSyntax], [ErrUnsafe],
// [ErrRender] and [ErrInput], and a template's own raise_exception sets
// [Error.Raised] (usually a conversation the template does not accept, such
// as roles that do not alternate).
package chat
