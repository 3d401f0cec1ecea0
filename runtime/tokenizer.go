package runtime

import (
	"fmt"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/runtime/tokenizer"
)

// Tokenizer turns text into token ids and ids back into the bytes to print.
type Tokenizer interface {
	// Encode returns the ids of text, starting with BOS when addBOS is set
	// and the tokenizer has one.
	Encode(text string, addBOS bool) []int
	// Piece returns the bytes that token id prints after token prev.
	Piece(prev, id int) []byte
	// Token returns the vocabulary entry of id as stored.
	Token(id int) string
	BOS() int // -1 if none
	EOS() int // -1 if none
	VocabSize() int
}

// tokenizerFrom builds the tokenizer stored in the file's metadata.
func tokenizerFrom(meta *format.Metadata, vocabSize int) (Tokenizer, error) {
	kind, err := meta.String(format.KeyTokenizerKind)
	if err != nil {
		return nil, err
	}
	tokens, err := meta.Strings(format.KeyTokenizerTokens)
	if err != nil {
		return nil, err
	}
	if len(tokens) != vocabSize {
		return nil, fmt.Errorf("tokenizer has %d tokens, the model's vocabulary %d", len(tokens), vocabSize)
	}
	bos, eos := optionalID(meta, format.KeyTokenizerBOSID), optionalID(meta, format.KeyTokenizerEOSID)
	switch kind {
	case "llama":
		scores, err := meta.F32s(format.KeyTokenizerScores)
		if err != nil {
			return nil, err
		}
		sp, err := tokenizer.NewSentencePiece(tokens, scores, bos, eos)
		if err != nil {
			return nil, err
		}
		return spmTokenizer{sp}, nil
	default:
		return nil, fmt.Errorf("unknown tokenizer kind %q", kind)
	}
}

func optionalID(meta *format.Metadata, key string) int {
	v, err := meta.I32(key)
	if err != nil {
		return -1
	}
	return int(v)
}

// spmTokenizer adapts tokenizer.SentencePiece to Tokenizer.
type spmTokenizer struct{ *tokenizer.SentencePiece }

func (t spmTokenizer) Encode(text string, addBOS bool) []int {
	return t.SentencePiece.Encode(text, addBOS, false)
}

// Piece drops a lone ASCII control byte, as llama2.c's safe_printf does, so
// a stray byte token cannot emit a terminal escape. Unlike llama2.c it keeps
// lone bytes of 0x80 and above: they are parts of UTF-8 characters that
// byte fallback spells out one token at a time.
func (t spmTokenizer) Piece(prev, id int) []byte {
	p := t.SentencePiece.Piece(prev, id)
	if len(p) == 1 && p[0] < 0x80 && !(p[0] >= 0x20 && p[0] <= 0x7e || p[0] >= '\t' && p[0] <= '\r') {
		return p[:0]
	}
	return p
}
