package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/runtime/tokenizer"
)

// hfConfig is the part of config.json the tokenizer readers use.
type hfConfig struct {
	BOSTokenID json.RawMessage `json:"bos_token_id"`
	EOSTokenID json.RawMessage `json:"eos_token_id"`
}

// LoadHFTokenizer reads the tokenizer of a Hugging Face directory and
// returns it as tokenizer.* metadata. It looks for, in order:
//
//   - tokenizer.json: read by tokenizer.FromHFDir with its side files
//     (tokenizer_config.json, config.json, generation_config.json,
//     chat_template.jinja): vocabulary, merges, added and special tokens,
//     normalizer, pre-tokenizer, BOS rule and chat templates. It comes first
//     because directories that also ship vocab.json + merges.txt (Qwen) or
//     tokenizer.model (LLaMA 2) describe only part of the tokenizer there.
//   - vocab.json + merges.txt: a GPT-2 byte-level BPE;
//   - tokenizer.model: a SentencePiece model (LLaMA), whose pieces and
//     scores are used as they are.
//
// For tokenizer.model, BOS and EOS ids come from config.json (bos_token_id,
// eos_token_id) if it exists (default 1 and 2). GPT-2 tokenizers get no BOS
// and "<|endoftext|>" as EOS.
func LoadHFTokenizer(dir string) (*format.Metadata, error) {
	cfg := &hfConfig{}
	if raw, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
		if err := json.Unmarshal(raw, cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
		}
	}
	return loadHFTokenizer(dir, cfg)
}

func loadHFTokenizer(dir string, cfg *hfConfig) (*format.Metadata, error) {
	if exists(filepath.Join(dir, "tokenizer.json")) {
		s, err := tokenizer.FromHFDir(dir)
		if err != nil {
			return nil, err
		}
		return checkedTokenizerMeta(s)
	}
	vocabPath, mergesPath := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
	if exists(vocabPath) && exists(mergesPath) {
		return LoadGPT2Tokenizer(vocabPath, mergesPath)
	}
	if p := filepath.Join(dir, "tokenizer.model"); exists(p) {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		pieces, scores, types, err := parseSentencePieceModel(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return llamaTokenizerMeta(pieces, scores, types, cfg.tokenID(cfg.BOSTokenID, 1), cfg.tokenID(cfg.EOSTokenID, 2)), nil
	}
	return nil, fmt.Errorf("%s: no tokenizer (want tokenizer.json, vocab.json + merges.txt or tokenizer.model; or pass --tokenizer)", dir)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// tokenID reads a bos/eos id from config.json: a number, or the first of a
// list; def if absent.
func (c *hfConfig) tokenID(raw json.RawMessage, def int) int {
	var n int
	if json.Unmarshal(raw, &n) == nil && len(raw) > 0 && string(raw) != "null" {
		return n
	}
	var l []int
	if json.Unmarshal(raw, &l) == nil && len(l) > 0 {
		return l[0]
	}
	return def
}

// LoadGPT2Tokenizer reads a GPT-2 byte-level BPE from a token-to-id JSON
// object (HF vocab.json or OpenAI encoder.json) and a merges file (HF
// merges.txt or OpenAI vocab.bpe; a first line starting with "#version" is
// skipped).
func LoadGPT2Tokenizer(vocabPath, mergesPath string) (*format.Metadata, error) {
	vj, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, err
	}
	mt, err := os.ReadFile(mergesPath)
	if err != nil {
		return nil, err
	}
	var vocab map[string]int
	if err := json.Unmarshal(vj, &vocab); err != nil {
		return nil, fmt.Errorf("%s: %w", vocabPath, err)
	}
	tokens, err := denseVocab(vocab)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", vocabPath, err)
	}
	var merges []string
	text := strings.TrimSuffix(string(mt), "\n")
	if text != "" {
		lines := strings.Split(text, "\n")
		if strings.HasPrefix(lines[0], "#version") {
			lines = lines[1:]
		}
		for _, l := range lines {
			merges = append(merges, strings.TrimSuffix(l, "\r"))
		}
	}
	return gpt2TokenizerMeta(tokens, merges), nil
}

// denseVocab turns a token-to-id map into tokens indexed by id; the ids
// must be exactly 0..n-1.
func denseVocab(vocab map[string]int) ([]string, error) {
	if len(vocab) == 0 {
		return nil, errors.New("empty vocabulary")
	}
	tokens := make([]string, len(vocab))
	seen := make([]bool, len(vocab))
	for tok, id := range vocab {
		if id < 0 || id >= len(vocab) || seen[id] {
			return nil, fmt.Errorf("token %q: id %d is out of range or repeated (ids must be 0..%d, each once)", tok, id, len(vocab)-1)
		}
		seen[id] = true
		tokens[id] = tok
	}
	return tokens, nil
}
