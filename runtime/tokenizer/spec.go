package tokenizer

import (
	"fmt"
	"slices"
)

// Spec describes a tokenizer as data: what a model file stores under its
// tokenizer.* metadata keys (format/SPEC.md), what FromGGUF and FromHFDir
// read from other formats, and what New builds a Tokenizer from. Loaders
// fill every field, family defaults included, so that the stored metadata
// says everything and the runtime guesses nothing.
type Spec struct {
	Model        string       // ModelSentencePiece or ModelBPE
	Pretokenizer Pretokenizer // byte-level BPE only
	Tokens       []string     // (vocab,) token text by id; SentencePiece pieces have " " where the vocabulary has "▁"
	Scores       []float32    // (vocab,) merge score by id, SentencePiece only
	Merges       []string     // "left right" merge rules by rank, byte-level BPE only
	Types        []int32      // (vocab,) TypeNormal, TypeControl, ... by id; nil if unknown
	BOS, EOS     int          // beginning and end of sequence, -1 if none
	EOT          int          // end of turn (<|eot_id|>, <|im_end|>), -1 if none
	EOG          []int        // every token that ends generation: EOS, EOT and the like, ascending
	AddBOS       bool         // a prompt starts with BOS
	IgnoreMerges bool         // a pre-token that is a token is not merged (byte-level BPE; LLaMA 3)
	Normalizer   string       // "" (none) or NormalizerNFC, applied to text outside special tokens
	ChatTemplate string       // Jinja chat template as the model ships it, or ""
	// ChatTemplates holds further named templates ("tool_use", "rag"), as
	// GGUF's tokenizer.chat_template.NAME and tokenizer_config.json's list
	// form carry them.
	ChatTemplates map[string]string
}

// Values of Spec.Model (and of the tokenizer.kind metadata key).
const (
	ModelSentencePiece = "llama" // SentencePiece-style BPE driven by scores, with <0xNN> byte fallback
	ModelBPE           = "gpt2"  // byte-level BPE driven by ranked merges
)

// NormalizerNFC is Spec.Normalizer for Unicode NFC (Qwen's tokenizer.json).
const NormalizerNFC = "nfc"

// eogTexts are the texts of tokens that end generation in the families
// llmap knows, as llama.cpp's vocabulary loader lists them: end of turn,
// end of message, end of text.
var eogTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>"}

// eotTexts are the texts that may be the end-of-turn token, in order of
// preference, when the source names none (llama.cpp's list).
var eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>"}

// findToken returns the id of the token with the given text, or -1.
func findToken(tokens []string, text string) int {
	return slices.Index(tokens, text)
}

// deriveEOT returns the first token of eotTexts the vocabulary has, or -1.
func deriveEOT(tokens []string) int {
	index := tokenIndex(tokens, eotTexts)
	for _, text := range eotTexts {
		if id, ok := index[text]; ok {
			return id
		}
	}
	return -1
}

// deriveEOG returns the end-of-generation set: EOS, EOT, extra (ids a
// source lists, such as generation_config.json's eos_token_id) and the
// tokens whose text is one of eogTexts; ascending, without duplicates or
// negative ids.
func deriveEOG(tokens []string, eos, eot int, extra ...int) []int {
	var out []int
	for _, id := range tokenIndex(tokens, eogTexts) {
		out = append(out, id)
	}
	for _, id := range append([]int{eos, eot}, extra...) {
		if id >= 0 && id < len(tokens) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// tokenIndex returns the ids of those of texts the vocabulary has (the
// lowest id of each).
func tokenIndex(tokens []string, texts []string) map[string]int {
	want := make(map[string]bool, len(texts))
	for _, t := range texts {
		want[t] = true
	}
	found := make(map[string]int, len(texts))
	for id, t := range tokens {
		if want[t] {
			if _, ok := found[t]; !ok {
				found[t] = id
			}
		}
	}
	return found
}

// check reports the first inconsistency of s, as an error wrapping
// ErrInvalidVocab.
func (s *Spec) check() error {
	n := len(s.Tokens)
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidVocab}, a...)...)
	}
	switch {
	case n == 0:
		return bad("no tokens")
	case s.Model != ModelSentencePiece && s.Model != ModelBPE:
		return bad("model %q is not %q or %q", s.Model, ModelSentencePiece, ModelBPE)
	case s.Model == ModelSentencePiece && len(s.Scores) != n:
		return bad("%d scores for %d tokens", len(s.Scores), n)
	case s.Types != nil && len(s.Types) != n:
		return bad("%d token types for %d tokens", len(s.Types), n)
	case !s.Pretokenizer.valid():
		return bad("unknown pre-tokenizer %d", s.Pretokenizer)
	case s.Normalizer != "" && s.Normalizer != NormalizerNFC:
		return bad("unknown normalizer %q (want %q or none)", s.Normalizer, NormalizerNFC)
	case s.AddBOS && s.BOS < 0:
		return bad("BOS is to be added but there is no BOS token")
	}
	for _, c := range []struct {
		name string
		id   int
	}{{"BOS", s.BOS}, {"EOS", s.EOS}, {"EOT", s.EOT}} {
		if c.id < -1 || c.id >= n {
			return bad("%s id %d outside [0,%d)", c.name, c.id, n)
		}
	}
	for _, id := range s.EOG {
		if id < 0 || id >= n {
			return bad("end-of-generation id %d outside [0,%d)", id, n)
		}
	}
	return nil
}
