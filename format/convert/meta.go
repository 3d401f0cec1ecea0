package convert

import (
	"fmt"
	"slices"
	"strings"

	"github.com/llmap/llmap/format"
)

// withName returns meta with general.name and general.source set right
// after general.architecture, the order llmap's own files use.
func withName(meta *format.Metadata, name, source string) *format.Metadata {
	out := &format.Metadata{}
	if v, ok := meta.Get(format.KeyArchitecture); ok {
		out.Set(format.KeyArchitecture, v)
	}
	out.Set(format.KeyName, format.String(name))
	out.Set(format.KeySource, format.String(source))
	for _, k := range meta.Keys() {
		if v, _ := meta.Get(k); k != format.KeyArchitecture && k != format.KeyName && k != format.KeySource {
			out.Set(k, v)
		}
	}
	return out
}

// mergeTokenizer copies the tokenizer.* keys of tok into meta and checks
// the vocabulary size against the model's.
func mergeTokenizer(meta, tok *format.Metadata) error {
	for _, k := range tok.Keys() {
		if strings.HasPrefix(k, "tokenizer.") {
			v, _ := tok.Get(k)
			meta.Set(k, v)
		}
	}
	tokens, err := meta.Strings(format.KeyTokenizerTokens)
	if err != nil {
		return err
	}
	vocab, err := meta.U32(format.KeyVocabSize)
	if err != nil {
		return err
	}
	if len(tokens) != int(vocab) {
		// HF checkpoints often pad the embedding past the tokenizer
		// (vocab_size 32000 vs. added tokens); llmap requires one token
		// per embedding row, so padding rows get placeholder pieces.
		if len(tokens) > int(vocab) {
			return fmt.Errorf("tokenizer has %d tokens, more than the model's vocab_size %d", len(tokens), vocab)
		}
		tokens = padTokens(tokens, int(vocab))
		meta.Set(format.KeyTokenizerTokens, format.Strings(tokens))
		if scores, err := meta.F32s(format.KeyTokenizerScores); err == nil {
			for len(scores) < int(vocab) {
				scores = append(scores, -1e10)
			}
			meta.Set(format.KeyTokenizerScores, format.F32s(scores))
		}
		if types, err := meta.I32s(format.KeyTokenizerTokenTypes); err == nil {
			for len(types) < int(vocab) {
				types = append(types, format.TokenTypeUnused)
			}
			meta.Set(format.KeyTokenizerTokenTypes, format.I32s(types))
		}
	}
	return nil
}

// padTokens extends tokens to n entries with unique placeholder pieces.
func padTokens(tokens []string, n int) []string {
	seen := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		seen[t] = true
	}
	out := slices.Clone(tokens)
	for i := len(tokens); i < n; i++ {
		p := fmt.Sprintf("<|llmap_pad_%d|>", i)
		for seen[p] {
			p += "_"
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}
