package tokenizer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/llmap/llmap/format/gguf"
)

// ggufPretokenizers maps the values of GGUF's tokenizer.ggml.pre that name
// a pre-tokenizer llmap implements (llama.cpp's groups of names with the
// same expressions) to it.
var ggufPretokenizers = map[string]Pretokenizer{
	"gpt-2": PreGPT2, "phi-2": PreGPT2, "roberta-bpe": PreGPT2, "gigachat": PreGPT2,
	"jina-es": PreGPT2, "jina-de": PreGPT2, "jina-v1-en": PreGPT2, "jina-v2-es": PreGPT2,
	"jina-v2-de": PreGPT2, "jina-v2-code": PreGPT2,
	"llama-bpe": PreLlama3, "llama3": PreLlama3, "llama-v3": PreLlama3, "falcon3": PreLlama3,
	"qwen2": PreQwen2, "deepseek-r1-qwen": PreQwen2,
	"smollm": PreSmolLM,
}

// FromGGUF reads the tokenizer of a GGUF file (a model or a vocabulary-only
// file) from its tokenizer.* metadata:
//
//   - tokenizer.ggml.model "llama": SentencePiece-style, from tokens, scores
//     and token_type ("▁" becomes " "); BOS 1 and EOS 2 unless the file says
//     otherwise; BOS added unless add_bos_token is false.
//   - "gpt2": byte-level BPE from tokens, merges and token_type, with the
//     pre-tokenizer tokenizer.ggml.pre names (llama-bpe, qwen2, smollm,
//     gpt-2 and their aliases; GPT-2's when the key is missing). BOS is
//     added when add_bos_token says so, by default for llama-bpe only (as
//     llama.cpp does); llama-bpe also ignores merges for whole-token
//     pre-tokens.
//
// The end-of-turn token is tokenizer.ggml.eot_token_id, or else found by
// its text as llama.cpp does; the chat templates are copied unchanged.
func FromGGUF(f *gguf.File) (*Spec, error) {
	model, ok := f.String("tokenizer.ggml.model")
	if !ok {
		return nil, errors.New("metadata tokenizer.ggml.model: missing or not a string")
	}
	tokens, ok := f.Strings("tokenizer.ggml.tokens")
	if !ok {
		return nil, errors.New("metadata tokenizer.ggml.tokens: missing or not an array of strings")
	}
	if len(tokens) == 0 {
		return nil, errors.New("metadata tokenizer.ggml.tokens: empty")
	}
	s := &Spec{Tokens: slices.Clone(tokens), BOS: -1, EOS: -1, EOT: -1}
	if v, ok := f.Lookup("tokenizer.ggml.token_type"); ok {
		types, ok := v.Int32s()
		if !ok || len(types) != len(tokens) {
			return nil, fmt.Errorf("metadata tokenizer.ggml.token_type: want %d int32 values, one per token, got %s", len(tokens), v)
		}
		s.Types = slices.Clone(types)
	}
	// id reads a token id key: def if missing, an error if out of range.
	id := func(key string, def int) (int, error) {
		v, ok := f.Lookup(key)
		if !ok {
			return def, nil
		}
		n, ok := v.AsInt()
		if !ok || n < 0 || n >= int64(len(tokens)) {
			return 0, fmt.Errorf("metadata %s = %s: not a token id in [0,%d)", key, v, len(tokens))
		}
		return int(n), nil
	}
	var bosDef, eosDef int
	family := model
	switch model {
	case "llama":
		s.Model = ModelSentencePiece
		scores, ok := f.Float32s("tokenizer.ggml.scores")
		if !ok || len(scores) != len(tokens) {
			return nil, fmt.Errorf("metadata tokenizer.ggml.scores: missing or not one score per token (%d)", len(tokens))
		}
		s.Scores = slices.Clone(scores)
		for i, t := range s.Tokens {
			s.Tokens[i] = strings.ReplaceAll(t, "▁", " ")
		}
		bosDef, eosDef = min(1, len(tokens)-1), min(2, len(tokens)-1)
		s.AddBOS = true
	case "gpt2":
		s.Model = ModelBPE
		merges, ok := f.Strings("tokenizer.ggml.merges")
		if !ok {
			return nil, errors.New("metadata tokenizer.ggml.merges: missing or not an array of strings")
		}
		s.Merges = slices.Clone(merges)
		if name, ok := f.String("tokenizer.ggml.pre"); ok {
			pre, known := ggufPretokenizers[name]
			if !known {
				return nil, fmt.Errorf("metadata tokenizer.ggml.pre = %q: pre-tokenizer not supported (llmap knows llama-bpe, qwen2, smollm, gpt-2 and their aliases)", name)
			}
			s.Pretokenizer = pre
		}
		family = s.Pretokenizer.String()
		s.IgnoreMerges = s.Pretokenizer == PreLlama3
		s.AddBOS = s.Pretokenizer == PreLlama3
		bosDef, eosDef = -1, findToken(tokens, "<|endoftext|>")
		if s.Pretokenizer == PreLlama3 {
			bosDef, eosDef = findToken(tokens, "<|begin_of_text|>"), findToken(tokens, "<|end_of_text|>")
		}
	default:
		return nil, fmt.Errorf("metadata tokenizer.ggml.model = %q: tokenizer not supported (llmap reads llama and gpt2)", model)
	}
	var err error
	if s.BOS, err = id("tokenizer.ggml.bos_token_id", bosDef); err != nil {
		return nil, err
	}
	if s.EOS, err = id("tokenizer.ggml.eos_token_id", eosDef); err != nil {
		return nil, err
	}
	if s.EOT, err = id("tokenizer.ggml.eot_token_id", deriveEOT(tokens)); err != nil {
		return nil, err
	}
	eom, err := id("tokenizer.ggml.eom_token_id", -1)
	if err != nil {
		return nil, err
	}
	if v, ok := f.Lookup("tokenizer.ggml.add_bos_token"); ok {
		if s.AddBOS, ok = v.AsBool(); !ok {
			return nil, fmt.Errorf("metadata tokenizer.ggml.add_bos_token = %s: not a bool", v)
		}
	}
	if s.AddBOS && s.BOS < 0 {
		return nil, fmt.Errorf("metadata tokenizer.ggml.bos_token_id: missing, and the %s tokenizer adds BOS to prompts", family)
	}
	s.EOG = deriveEOG(tokens, s.EOS, s.EOT, eom)
	for _, kv := range f.KV {
		name, ok := strings.CutPrefix(kv.Key, "tokenizer.chat_template")
		if !ok || (name != "" && name[0] != '.') {
			continue
		}
		tmpl, ok := kv.Value.AsString()
		if !ok {
			return nil, fmt.Errorf("metadata %s: not a string", kv.Key)
		}
		if name == "" {
			s.ChatTemplate = tmpl
			continue
		}
		if s.ChatTemplates == nil {
			s.ChatTemplates = make(map[string]string)
		}
		s.ChatTemplates[name[1:]] = tmpl
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}
