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
	case "gpt2":
		merges, err := meta.Strings(format.KeyTokenizerMerges)
		if err != nil {
			return nil, err
		}
		bpe, err := tokenizer.NewBPE(tokens, merges)
		if err != nil {
			return nil, err
		}
		if eos < 0 || eos >= len(tokens) {
			eos = bpe.EOT()
		}
		return bpeTokenizer{BPE: bpe, eos: eos}, nil
	default:
		return nil, fmt.Errorf("unknown tokenizer kind %q", kind)
	}
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

// bpeTokenizer adapts GPT-2's byte-level BPE to Tokenizer. GPT-2 has no BOS
// token: BOS() is -1 and EOS() is "<|endoftext|>". Encode with addBOS
// prepends "<|endoftext|>", the token GPT-2 saw between documents, so that
// generation starts from a document boundary (as GPT-2's sampling scripts
// do) and an empty prompt still has a first token. Callers that print ids
// (llmap tokenize) pass addBOS only when BOS() >= 0, so they print none.
type bpeTokenizer struct {
	*tokenizer.BPE
	eos int
}

func (t bpeTokenizer) Encode(text string, addBOS bool) []int {
	ids := t.BPE.Encode(text)
	if addBOS && t.EOT() >= 0 {
		ids = append([]int{t.EOT()}, ids...)
	}
	return ids
}

// Piece returns the bytes of id; byte-level BPE has no context rules.
func (t bpeTokenizer) Piece(prev, id int) []byte { return t.TokenBytes(id) }

func (t bpeTokenizer) BOS() int { return -1 }
func (t bpeTokenizer) EOS() int { return t.eos }
