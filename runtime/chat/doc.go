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
// the other well-known end-of-turn tokens present in the source, and EOS.
// The generation loop stops when it samples one of these tokens, or, for
// the plain fallback, when the reply text contains [PlainStop].
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
// A template comes from a downloaded file, so [New] admits a source only
// after a conservative check of its tags: at most [MaxSourceBytes], blocks
// and brackets nested at most [MaxNesting] deep, no include, import,
// extends or call blocks, no recursive for loops and no recursion through
// macros (a macro may call only macros defined before it, and a macro name
// may only be called), no * or ** (string and list repetition), indent
// widths at most [MaxIndent], and replace only of a non-empty literal string.
// At render time range() produces at most [MaxRange] items per render, a
// failure inside the engine becomes an error, and the output is at most
// [MaxOutputBytes]. So a template that passes New always terminates and
// cannot recurse without bound.
//
// What these checks do not bound: the engine (github.com/ardanlabs/jinja)
// counts neither steps nor bytes, so a template that grows a string by
// doubling it in a loop ({% set ns.s = ns.s ~ ns.s %}) or nests many loops
// over a long conversation can still take a long time and much memory
// before Render returns. Render templates from files you would also run the
// weights of, or render in a process you can afford to lose.
//
// Errors are *[Error] values: errors.Is matches [ErrSyntax], [ErrUnsafe],
// [ErrRender] and [ErrInput], and a template's own raise_exception sets
// [Error.Raised] (usually a conversation the template does not accept, such
// as roles that do not alternate).
package chat
