package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/llmap/llmap/format"
)

// hfConfig is the part of config.json the tokenizer readers use.
type hfConfig struct {
	BOSTokenID json.RawMessage `json:"bos_token_id"`
	EOSTokenID json.RawMessage `json:"eos_token_id"`
}

// LoadHFTokenizer reads the tokenizer of a Hugging Face directory and
// returns it as tokenizer.* metadata. It looks for, in order:
//
//   - vocab.json + merges.txt: a GPT-2 byte-level BPE;
//   - tokenizer.model: a SentencePiece model (LLaMA), whose pieces and
//     scores are used as they are;
//   - tokenizer.json with "model": {"type": "BPE", "vocab", "merges"}: a
//     GPT-2 tokenizer if its vocabulary is in GPT-2's byte alphabet, else a
//     SentencePiece-style one ("▁" for spaces, "<0xNN>" byte fallback),
//     whose scores are minus the rank of the first merge that produces each
//     token (tokens no merge produces score 0), so that llmap's
//     score-driven merging applies the merges in rank order.
//
// BOS and EOS ids come from config.json (bos_token_id, eos_token_id) if
// it exists (default 1 and 2). GPT-2 tokenizers get no BOS and
// "<|endoftext|>" as EOS.
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
	if p := filepath.Join(dir, "tokenizer.json"); exists(p) {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		return tokenizerJSON(p, data, cfg)
	}
	return nil, fmt.Errorf("%s: no tokenizer (want vocab.json + merges.txt, tokenizer.model or tokenizer.json; or pass --tokenizer)", dir)
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

// tokenizerJSON reads a Hugging Face tokenizer.json with a BPE model.
func tokenizerJSON(path string, data []byte, cfg *hfConfig) (*format.Metadata, error) {
	var tj struct {
		Model struct {
			Type   string          `json:"type"`
			Vocab  map[string]int  `json:"vocab"`
			Merges json.RawMessage `json:"merges"`
		} `json:"model"`
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
		} `json:"added_tokens"`
	}
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if tj.Model.Type != "BPE" {
		return nil, fmt.Errorf("%s: tokenizer model type %q is not supported (want BPE)", path, tj.Model.Type)
	}
	vocab := tj.Model.Vocab
	for _, a := range tj.AddedTokens {
		if _, ok := vocab[a.Content]; !ok {
			vocab[a.Content] = a.ID
		}
	}
	tokens, err := denseVocab(vocab)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// merges are "a b" strings or, in newer files, ["a", "b"] pairs.
	var merges []string
	if len(tj.Model.Merges) > 0 {
		if err := json.Unmarshal(tj.Model.Merges, &merges); err != nil {
			var pairs [][2]string
			if err := json.Unmarshal(tj.Model.Merges, &pairs); err != nil {
				return nil, fmt.Errorf("%s: merges: %w", path, err)
			}
			merges = make([]string, len(pairs))
			for i, p := range pairs {
				merges[i] = p[0] + " " + p[1]
			}
		}
	}
	if _, ok := vocab["<0x00>"]; !ok && !hasSentencePieceSpace(tokens) {
		return gpt2TokenizerMeta(tokens, merges), nil
	}
	// SentencePiece-style BPE: score = -(rank of the first merge giving the token).
	ids := make(map[string]int, len(tokens))
	for i, t := range tokens {
		ids[t] = i
	}
	scores := make([]float32, len(tokens))
	done := make([]bool, len(tokens))
	for rank, m := range merges {
		l, r, ok := strings.Cut(m, " ")
		if !ok {
			return nil, fmt.Errorf("%s: merge %d %q: want two tokens separated by a space", path, rank, m)
		}
		if id, ok := ids[l+r]; ok && !done[id] {
			scores[id], done[id] = -float32(rank), true
		}
	}
	return llamaTokenizerMeta(tokens, scores, nil, cfg.tokenID(cfg.BOSTokenID, 1), cfg.tokenID(cfg.EOSTokenID, 2)), nil
}

func hasSentencePieceSpace(tokens []string) bool {
	for _, t := range tokens {
		if strings.HasPrefix(t, "▁") {
			return true
		}
	}
	return false
}
