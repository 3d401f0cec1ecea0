package runtime

import (
	"fmt"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/runtime/tokenizer"
)

// Tokenizer turns text into token ids and ids back into the bytes to print.
type Tokenizer interface {
	// Encode returns the ids of text. Special tokens written in the text
	// ("<|im_start|>", "<|eot_id|>") are encoded as those tokens, for every
	// text, as Hugging Face's tokenizers and llama.cpp's llama-cli do. With
	// addBOS the text is a prompt: it starts with BOS if the model's
	// tokenizer adds one (AddBOS), and an empty prompt is [BOS], or [EOS]
	// for a model without BOS (GPT-2's <|endoftext|>), so that generation
	// has a position to start from.
	Encode(text string, addBOS bool) []int
	// Piece returns the bytes that token id prints after token prev.
	Piece(prev, id int) []byte
	// Token returns the vocabulary entry of id as stored.
	Token(id int) string
	BOS() int     // -1 if none
	EOS() int     // -1 if none
	EOT() int     // end of turn (<|eot_id|>, <|im_end|>), -1 if none
	AddBOS() bool // whether a prompt starts with BOS
	// IsEOG reports whether id ends generation: EOS, EOT and the tokens
	// the model's files mark so (tokenizer.eog_ids).
	IsEOG(id int) bool
	// ChatTemplate returns the model's Jinja chat template as shipped, or "".
	ChatTemplate() string
	VocabSize() int
}

// tokenizerFrom builds the tokenizer stored in the file's metadata.
func tokenizerFrom(meta *format.Metadata, vocabSize int) (Tokenizer, error) {
	spec, err := tokenizer.SpecFromMetadata(meta)
	if err != nil {
		return nil, err
	}
	if len(spec.Tokens) != vocabSize {
		return nil, fmt.Errorf("tokenizer has %d tokens, the model's vocabulary %d", len(spec.Tokens), vocabSize)
	}
	t, err := tokenizer.New(spec)
	if err != nil {
		return nil, err
	}
	return modelTokenizer{t}, nil
}

// TokenizerFromMetadata builds a tokenizer from the tokenizer.* keys of meta
// alone, for tokenising without a model (llmap tokenize --tokenizer).
func TokenizerFromMetadata(meta *format.Metadata) (Tokenizer, error) {
	tokens, err := meta.Strings(format.KeyTokenizerTokens)
	if err != nil {
		return nil, err
	}
	return tokenizerFrom(meta, len(tokens))
}

// modelTokenizer adapts tokenizer.Tokenizer to Tokenizer.
type modelTokenizer struct{ *tokenizer.Tokenizer }

func (t modelTokenizer) Encode(text string, addBOS bool) []int {
	ids := t.Tokenizer.Encode(text, addBOS, true)
	if addBOS && len(ids) == 0 {
		if t.BOS() >= 0 {
			return []int{t.BOS()}
		}
		if t.EOS() >= 0 {
			return []int{t.EOS()}
		}
	}
	return ids
}

// Piece drops a lone ASCII control byte of a SentencePiece tokenizer, as
// llama2.c's safe_printf does, so a stray byte token cannot emit a terminal
// escape. Unlike llama2.c it keeps lone bytes of 0x80 and above: they are
// parts of UTF-8 characters that byte fallback spells out one token at a
// time. Byte-level BPE pieces are printed as they are.
func (t modelTokenizer) Piece(prev, id int) []byte {
	p := t.Tokenizer.Piece(prev, id)
	if t.Spec().Model == tokenizer.ModelSentencePiece && len(p) == 1 && p[0] < 0x80 && !(p[0] >= 0x20 && p[0] <= 0x7e || p[0] >= '\t' && p[0] <= '\r') {
		return p[:0]
	}
	return p
}
