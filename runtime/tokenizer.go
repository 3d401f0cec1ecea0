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
