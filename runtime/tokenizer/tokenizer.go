package tokenizer

import (
	"maps"
	"slices"

	"golang.org/x/text/unicode/norm"
)

// Tokenizer is a model's whole tokenizer: its encoder (SentencePiece or
// byte-level BPE), the special tokens it finds in text, its normalizer and
// its BOS rule, built from a Spec. It is safe for concurrent use.
type Tokenizer struct {
	spec *Spec
	spm  *SentencePiece // one of spm and bpe is set
	bpe  *BPE
	// special finds control, user-defined and unknown tokens in text;
	// userDefined only the user-defined ones (what is matched when special
	// tokens are not parsed, as in llama.cpp and Hugging Face).
	special, userDefined *specialMatcher
	eog                  map[int]bool
}

// New builds the tokenizer a Spec describes. The Spec must not be modified
// afterwards.
func New(s *Spec) (*Tokenizer, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	t := &Tokenizer{spec: s, eog: make(map[int]bool, len(s.EOG))}
	for _, id := range s.EOG {
		t.eog[id] = true
	}
	var err error
	switch s.Model {
	case ModelSentencePiece:
		bos, eos := s.BOS, s.EOS
		if bos < 0 {
			bos = 1 // llama2.c's; NewSentencePiece needs an id, Encode adds it only if AddBOS
		}
		if eos < 0 {
			eos = 2
		}
		t.spm, err = NewSentencePiece(s.Tokens, s.Scores, bos, eos)
	case ModelBPE:
		t.bpe, err = NewBPEConfig(s.Tokens, s.Merges, BPEConfig{Pretokenizer: s.Pretokenizer, IgnoreMerges: s.IgnoreMerges, Types: s.Types})
	}
	if err != nil {
		return nil, err
	}
	var special, user []int32
	switch {
	case s.Types != nil:
		for id, typ := range s.Types {
			switch typ {
			case TypeControl, TypeUnknown:
				special = append(special, int32(id))
			case TypeUserDefined:
				special = append(special, int32(id))
				user = append(user, int32(id))
			}
		}
	case s.Model == ModelBPE && t.bpe.EOT() >= 0:
		// GPT-2 vocabularies without types (encoder.json, older .llmap
		// files): "<|endoftext|>" is GPT-2's one special token.
		special = append(special, int32(t.bpe.EOT()))
	}
	t.special = newSpecialMatcher(s.Tokens, special)
	t.userDefined = newSpecialMatcher(s.Tokens, user)
	return t, nil
}

// Encode returns the ids of text. With addBOS, they start with BOS if the
// tokenizer adds one to a prompt (AddBOS), as llama.cpp's add_special and
// Hugging Face's add_special_tokens do. With parseSpecial, control tokens
// written in the text ("<|im_start|>", "<|eot_id|>") are encoded as those
// tokens, as Hugging Face does by default and llama.cpp's llama-cli does for
// prompts; without it they are text. User-defined tokens (Qwen's "<think>")
// are matched either way, as in both. Text between special tokens is
// normalized (Spec.Normalizer) and encoded by the model's encoder, each
// piece on its own.
func (t *Tokenizer) Encode(text string, addBOS, parseSpecial bool) []int {
	ids := make([]int, 0, len(text)/3+2)
	if addBOS && t.spec.AddBOS {
		ids = append(ids, t.spec.BOS)
	}
	m := t.userDefined
	if parseSpecial {
		m = t.special
	}
	var scratch bpeScratch
	for i := 0; i <= len(text); {
		start, end, id := m.next(text, i)
		if start < 0 {
			start = len(text)
		}
		if start > i {
			ids = t.appendText(ids, text[i:start], &scratch)
		}
		if id < 0 {
			break
		}
		ids = append(ids, int(id))
		i = end
	}
	return ids
}

// appendText appends the ids of a text without special tokens.
func (t *Tokenizer) appendText(ids []int, text string, scratch *bpeScratch) []int {
	if t.spec.Normalizer == NormalizerNFC && !norm.NFC.IsNormalString(text) {
		text = norm.NFC.String(text)
	}
	if t.spm != nil {
		return append(ids, t.spm.Encode(text, false, false)...)
	}
	return t.bpe.appendEncode(ids, text, scratch)
}

// Piece returns the bytes token id prints as after token prev: a
// SentencePiece token drops its leading space after BOS; control and
// user-defined tokens print their text. Out-of-range ids print nothing.
func (t *Tokenizer) Piece(prev, id int) []byte {
	if t.spm != nil {
		return t.spm.Piece(prev, id)
	}
	return t.bpe.TokenBytes(id)
}

// Decode returns the bytes of ids concatenated, each as Piece prints it.
func (t *Tokenizer) Decode(ids []int) []byte {
	var out []byte
	prev := -1
	for _, id := range ids {
		out = append(out, t.Piece(prev, id)...)
		prev = id
	}
	return out
}

// Token returns the vocabulary text of id as stored, or "" if id is out of
// range.
func (t *Tokenizer) Token(id int) string {
	if id < 0 || id >= len(t.spec.Tokens) {
		return ""
	}
	return t.spec.Tokens[id]
}

// VocabSize returns the number of tokens.
func (t *Tokenizer) VocabSize() int { return len(t.spec.Tokens) }

// BOS returns the beginning-of-sequence id, or -1.
func (t *Tokenizer) BOS() int { return t.spec.BOS }

// EOS returns the end-of-sequence id, or -1.
func (t *Tokenizer) EOS() int { return t.spec.EOS }

// EOT returns the end-of-turn id, or -1.
func (t *Tokenizer) EOT() int { return t.spec.EOT }

// AddBOS reports whether a prompt starts with BOS.
func (t *Tokenizer) AddBOS() bool { return t.spec.AddBOS }

// IsEOG reports whether id ends generation (EOS, EOT and the like).
func (t *Tokenizer) IsEOG(id int) bool { return t.eog[id] }

// EOG returns the end-of-generation ids, ascending.
func (t *Tokenizer) EOG() []int { return slices.Clone(t.spec.EOG) }

// ChatTemplate returns the model's Jinja chat template, or "".
func (t *Tokenizer) ChatTemplate() string { return t.spec.ChatTemplate }

// ChatTemplates returns the further named chat templates, if any.
func (t *Tokenizer) ChatTemplates() map[string]string { return maps.Clone(t.spec.ChatTemplates) }

// Spec returns the description the tokenizer was built from; it must not be
// modified.
func (t *Tokenizer) Spec() *Spec { return t.spec }
