package convert

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/format/llama2c"
)

// LoadTokenizer reads a tokenizer from any file llmap knows one in and
// returns it as tokenizer.* metadata (format/SPEC.md):
//
//   - a directory: a Hugging Face model directory (see LoadHFTokenizer);
//   - a GGUF file, model or vocabulary-only (see TokenizerFromGGUF);
//   - a .llmap file: its tokenizer keys;
//   - a file ending in ".json": OpenAI's encoder.json with vocab.bpe beside
//     it, or Hugging Face's vocab.json with merges.txt beside it;
//   - anything else: a llama2.c tokenizer.bin, read to its end (BOS 1,
//     EOS 2, as llama2.c has them).
func LoadTokenizer(path string) (*format.Metadata, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return LoadHFTokenizer(path)
	}
	head, err := readHead(path, 8)
	if err != nil {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, []byte(gguf.Magic)):
		f, err := gguf.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		meta, err := TokenizerFromGGUF(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return meta, nil
	case bytes.HasPrefix(head, []byte(format.Magic)):
		f, err := format.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		meta := &format.Metadata{}
		for _, k := range f.Meta.Keys() {
			if strings.HasPrefix(k, "tokenizer.") {
				v, _ := f.Meta.Get(k)
				meta.Set(k, v)
			}
		}
		if _, ok := meta.Get(format.KeyTokenizerTokens); !ok {
			return nil, fmt.Errorf("%s: no tokenizer in the file", path)
		}
		return meta, nil
	case strings.HasSuffix(path, ".json"):
		dir := filepath.Dir(path)
		for _, m := range []string{"vocab.bpe", "merges.txt"} {
			if p := filepath.Join(dir, m); exists(p) {
				return LoadGPT2Tokenizer(path, p)
			}
		}
		return nil, fmt.Errorf("%s: no vocab.bpe or merges.txt beside it", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tok, err := llama2c.ReadTokenizer(data, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: not a GGUF, .llmap, JSON or llama2.c tokenizer file: %w", path, err)
	}
	return TokenizerFromLlama2c(tok), nil
}

// TokenizerFromLlama2c is the tokenizer.* metadata of a llama2.c
// tokenizer.bin: SentencePiece-style, BOS 1, EOS 2, BOS added to prompts.
func TokenizerFromLlama2c(tok *llama2c.Tokenizer) *format.Metadata {
	meta := &format.Metadata{}
	meta.Set(format.KeyTokenizerKind, format.String(format.TokenizerLlama))
	meta.Set(format.KeyTokenizerTokens, format.Strings(tok.Pieces))
	meta.Set(format.KeyTokenizerScores, format.F32s(tok.Scores))
	meta.Set(format.KeyTokenizerBOSID, format.I32(1))
	meta.Set(format.KeyTokenizerEOSID, format.I32(2))
	meta.Set(format.KeyTokenizerAddBOS, format.Bool(true))
	return meta
}

// readHead returns up to n first bytes of the file at path.
func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	return b[:k], nil
}

// gpt2TokenizerMeta is the tokenizer.* metadata of a GPT-2 byte-level BPE:
// no BOS (prompts start from "<|endoftext|>", see runtime), EOS
// "<|endoftext|>" if the vocabulary has it.
func gpt2TokenizerMeta(tokens, merges []string) *format.Metadata {
	eos := int32(slices.Index(tokens, "<|endoftext|>"))
	meta := &format.Metadata{}
	meta.Set(format.KeyTokenizerKind, format.String(format.TokenizerGPT2))
	meta.Set(format.KeyTokenizerTokens, format.Strings(tokens))
	meta.Set(format.KeyTokenizerMerges, format.Strings(merges))
	meta.Set(format.KeyTokenizerBOSID, format.I32(-1))
	meta.Set(format.KeyTokenizerEOSID, format.I32(eos))
	meta.Set(format.KeyTokenizerAddBOS, format.Bool(false))
	return meta
}

// llamaTokenizerMeta is the tokenizer.* metadata of a SentencePiece-style
// vocabulary; "▁" in pieces becomes " ", as llama2.c's tokenizer.bin has it.
func llamaTokenizerMeta(pieces []string, scores []float32, types []int32, bos, eos int) *format.Metadata {
	out := make([]string, len(pieces))
	for i, p := range pieces {
		out[i] = strings.ReplaceAll(p, "▁", " ")
	}
	meta := &format.Metadata{}
	meta.Set(format.KeyTokenizerKind, format.String(format.TokenizerLlama))
	meta.Set(format.KeyTokenizerTokens, format.Strings(out))
	meta.Set(format.KeyTokenizerScores, format.F32s(scores))
	if types != nil {
		meta.Set(format.KeyTokenizerTokenTypes, format.I32s(types))
	}
	meta.Set(format.KeyTokenizerBOSID, format.I32(int32(bos)))
	meta.Set(format.KeyTokenizerEOSID, format.I32(int32(eos)))
	meta.Set(format.KeyTokenizerAddBOS, format.Bool(bos >= 0))
	return meta
}
