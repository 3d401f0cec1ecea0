package tokenizer

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/llmap/llmap/format"
)

// Metadata returns the tokenizer.* metadata keys that describe s
// (format/SPEC.md). Every field is written, defaults included, except the
// empty optional ones (types, normalizer, chat templates). The slices are
// shared with s.
func (s *Spec) Metadata() *format.Metadata {
	m := &format.Metadata{}
	m.Set(format.KeyTokenizerKind, format.String(s.Model))
	if s.Model == ModelBPE {
		m.Set(format.KeyTokenizerPre, format.String(s.Pretokenizer.String()))
	}
	m.Set(format.KeyTokenizerTokens, format.Strings(s.Tokens))
	if s.Model == ModelSentencePiece {
		m.Set(format.KeyTokenizerScores, format.F32s(s.Scores))
	} else {
		m.Set(format.KeyTokenizerMerges, format.Strings(s.Merges))
		m.Set(format.KeyTokenizerIgnoreMerges, format.Bool(s.IgnoreMerges))
	}
	if s.Types != nil {
		m.Set(format.KeyTokenizerTokenTypes, format.I32s(s.Types))
	}
	m.Set(format.KeyTokenizerBOSID, format.I32(int32(s.BOS)))
	m.Set(format.KeyTokenizerEOSID, format.I32(int32(s.EOS)))
	m.Set(format.KeyTokenizerEOTID, format.I32(int32(s.EOT)))
	eog := make([]int32, len(s.EOG))
	for i, id := range s.EOG {
		eog[i] = int32(id)
	}
	m.Set(format.KeyTokenizerEOGIDs, format.I32s(eog))
	m.Set(format.KeyTokenizerAddBOS, format.Bool(s.AddBOS))
	if s.Normalizer != "" {
		m.Set(format.KeyTokenizerNormalizer, format.String(s.Normalizer))
	}
	if s.ChatTemplate != "" {
		m.Set(format.KeyTokenizerChatTemplate, format.String(s.ChatTemplate))
	}
	for _, name := range slices.Sorted(maps.Keys(s.ChatTemplates)) {
		m.Set(format.KeyTokenizerChatTemplate+"."+name, format.String(s.ChatTemplates[name]))
	}
	return m
}

// SpecFromMetadata reads the tokenizer.* keys of a .llmap file. Keys that
// files written before they existed lack get the values those files meant:
// pre-tokenizer gpt2, merges not ignored, no normalizer, EOT and the
// end-of-generation set found from the token texts, BOS added for
// SentencePiece tokenizers only. Errors name the key.
func SpecFromMetadata(m *format.Metadata) (*Spec, error) {
	s := &Spec{}
	var err error
	if s.Model, err = m.String(format.KeyTokenizerKind); err != nil {
		return nil, err
	}
	if s.Tokens, err = m.Strings(format.KeyTokenizerTokens); err != nil {
		return nil, err
	}
	switch s.Model {
	case ModelSentencePiece:
		if s.Scores, err = m.F32s(format.KeyTokenizerScores); err != nil {
			return nil, err
		}
	case ModelBPE:
		if s.Merges, err = m.Strings(format.KeyTokenizerMerges); err != nil {
			return nil, err
		}
		if name, err := optional(m, m.String, format.KeyTokenizerPre, PreGPT2.String()); err != nil {
			return nil, err
		} else if s.Pretokenizer, _ = ParsePretokenizer(name); s.Pretokenizer.String() != name {
			return nil, fmt.Errorf("metadata key %q: unknown pre-tokenizer %q (llmap knows %s)", format.KeyTokenizerPre, name, strings.Join(pretokenizerNames[:], ", "))
		}
		if s.IgnoreMerges, err = optional(m, m.Bool, format.KeyTokenizerIgnoreMerges, false); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("metadata key %q: unknown tokenizer kind %q (want %q or %q)", format.KeyTokenizerKind, s.Model, ModelSentencePiece, ModelBPE)
	}
	if s.Types, err = optional(m, m.I32s, format.KeyTokenizerTokenTypes, nil); err != nil {
		return nil, err
	}
	ids := []struct {
		key string
		id  *int
		def int
	}{
		{format.KeyTokenizerBOSID, &s.BOS, -1},
		{format.KeyTokenizerEOSID, &s.EOS, -1},
		{format.KeyTokenizerEOTID, &s.EOT, deriveEOT(s.Tokens)},
	}
	for _, c := range ids {
		v, err := optional(m, m.I32, c.key, int32(c.def))
		if err != nil {
			return nil, err
		}
		if v < -1 || int(v) >= len(s.Tokens) {
			return nil, fmt.Errorf("metadata key %q: token id %d outside [-1,%d)", c.key, v, len(s.Tokens))
		}
		*c.id = int(v)
	}
	if s.Model == ModelBPE && s.EOS < 0 {
		s.EOS = findToken(s.Tokens, "<|endoftext|>") // GPT-2 files converted before EOS was always written
	}
	eog, err := optional(m, m.I32s, format.KeyTokenizerEOGIDs, nil)
	if err != nil {
		return nil, err
	}
	if eog == nil {
		s.EOG = deriveEOG(s.Tokens, s.EOS, s.EOT)
	} else {
		s.EOG = make([]int, len(eog))
		for i, id := range eog {
			if id < 0 || int(id) >= len(s.Tokens) {
				return nil, fmt.Errorf("metadata key %q: token id %d outside [0,%d)", format.KeyTokenizerEOGIDs, id, len(s.Tokens))
			}
			s.EOG[i] = int(id)
		}
	}
	if s.AddBOS, err = optional(m, m.Bool, format.KeyTokenizerAddBOS, s.Model == ModelSentencePiece); err != nil {
		return nil, err
	}
	if s.Normalizer, err = optional(m, m.String, format.KeyTokenizerNormalizer, ""); err != nil {
		return nil, err
	}
	if s.ChatTemplate, err = optional(m, m.String, format.KeyTokenizerChatTemplate, ""); err != nil {
		return nil, err
	}
	for _, k := range m.Keys() {
		name, ok := strings.CutPrefix(k, format.KeyTokenizerChatTemplate+".")
		if !ok {
			continue
		}
		tmpl, err := m.String(k)
		if err != nil {
			return nil, err
		}
		if s.ChatTemplates == nil {
			s.ChatTemplates = make(map[string]string)
		}
		s.ChatTemplates[name] = tmpl
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// optional reads key with get, or returns def if m does not have the key.
// A key of the wrong kind is an error.
func optional[T any](m *format.Metadata, get func(string) (T, error), key string, def T) (T, error) {
	if _, ok := m.Get(key); !ok {
		return def, nil
	}
	return get(key)
}
