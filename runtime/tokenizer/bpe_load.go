package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// LoadGPT2Files parses OpenAI's GPT-2 release files: encoder.json (a JSON
// object from token string to id) and vocab.bpe (a "#version" comment line,
// then one merge "a b" per line, in rank order). It returns the tokens
// indexed by id and the merges, ready for NewBPE.
func LoadGPT2Files(encoderJSON, vocabBPE []byte) (tokens, merges []string, err error) {
	if !bytes.HasPrefix(vocabBPE, []byte("#")) { // encoder.py drops the first line unread
		return nil, nil, &BPEError{What: "merges", Index: -1, Msg: `vocab.bpe does not start with a "#version" line`}
	}
	return bpeLoad(encoderJSON, vocabBPE, "#")
}

// LoadHFFiles parses a Hugging Face GPT-2 style tokenizer: vocab.json (token
// string to id) and merges.txt (one merge "a b" per line in rank order,
// optionally after a first line starting with "#version"). The shapes are those of
// LoadGPT2Files.
func LoadHFFiles(vocabJSON, mergesTxt []byte) (tokens, merges []string, err error) {
	return bpeLoad(vocabJSON, mergesTxt, "#version")
}

// bpeLoad reads a token-to-id JSON object and a merges text whose first line
// is a comment if it starts with header. The ids must be exactly 0..n-1, each
// used once.
func bpeLoad(vocabJSON, mergesTxt []byte, header string) ([]string, []string, error) {
	var vocab map[string]int
	if err := json.Unmarshal(vocabJSON, &vocab); err != nil {
		return nil, nil, fmt.Errorf("bpe: vocab: %w", err)
	}
	if len(vocab) == 0 {
		return nil, nil, &BPEError{What: "vocab", Index: -1, Msg: "empty vocabulary"}
	}
	tokens := make([]string, len(vocab))
	seen := make([]bool, len(vocab))
	for tok, id := range vocab {
		if id < 0 || id >= len(vocab) {
			return nil, nil, &BPEError{What: "vocab", Index: id, Item: tok, Msg: fmt.Sprintf("id out of range [0, %d): ids must be dense", len(vocab))}
		}
		if seen[id] {
			return nil, nil, &BPEError{What: "vocab", Index: id, Item: tok, Msg: fmt.Sprintf("id also used by %q", tokens[id])}
		}
		seen[id] = true
		tokens[id] = tok
	}

	text := string(mergesTxt)
	text = strings.TrimSuffix(text, "\n")
	var merges []string
	if text != "" {
		lines := strings.Split(text, "\n")
		if strings.HasPrefix(lines[0], header) {
			lines = lines[1:] // "#version: 0.2"
		}
		merges = make([]string, len(lines))
		for i, l := range lines {
			merges[i] = strings.TrimSuffix(l, "\r")
		}
	}
	return tokens, merges, nil
}
