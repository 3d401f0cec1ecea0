package llama2c

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/llmap/llmap/internal/testmodels"
)

// buildTokenizer writes a tokenizer.bin image from pieces and scores.
func buildTokenizer(maxLen uint32, pieces []string, scores []float32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, maxLen)
	for i, p := range pieces {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(scores[i]))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func readModelFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(testmodels.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadTokenizer32k(t *testing.T) {
	data := readModelFile(t, "llama2c-tokenizer-32k/tokenizer.bin")
	for _, vocab := range []int{32000, 0, -1} {
		tok, err := ReadTokenizer(data, vocab)
		if err != nil {
			t.Fatalf("vocab %d: %v", vocab, err)
		}
		if len(tok.Pieces) != 32000 || len(tok.Scores) != 32000 {
			t.Fatalf("vocab %d: got %d pieces, %d scores", vocab, len(tok.Pieces), len(tok.Scores))
		}
		if tok.MaxTokenLength != 27 {
			t.Errorf("MaxTokenLength = %d, want 27", tok.MaxTokenLength)
		}
		want := map[int]string{0: "<unk>", 1: "\n<s>\n", 2: "\n</s>\n", 3: "<0x00>", 13: "<0x0A>", 258: "<0xFF>", 29871: " "}
		for id, p := range want {
			if tok.Pieces[id] != p {
				t.Errorf("piece %d = %q, want %q", id, tok.Pieces[id], p)
			}
		}
		longest := 0
		for _, p := range tok.Pieces {
			longest = max(longest, len(p))
		}
		if longest != tok.MaxTokenLength {
			t.Errorf("longest piece %d, header says %d", longest, tok.MaxTokenLength)
		}
	}
}

func TestReadTokenizer512(t *testing.T) {
	data := readModelFile(t, "stories260K/tok512.bin")
	tok, err := ReadTokenizer(data, 512)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.Pieces) != 512 || tok.MaxTokenLength != 7 {
		t.Fatalf("got %d pieces, max length %d; want 512, 7", len(tok.Pieces), tok.MaxTokenLength)
	}
	if tok.Pieces[1] != "\n<s>\n" || tok.Pieces[3+'A'] != "<0x41>" {
		t.Errorf("pieces 1, 68 = %q, %q", tok.Pieces[1], tok.Pieces[3+'A'])
	}
	all, err := ReadTokenizer(data, 0)
	if err != nil || len(all.Pieces) != 512 {
		t.Fatalf("read to end: %v, %d pieces", err, len(all.Pieces))
	}
}

// TestReadTokenizerWrongVocab pairs each real tokenizer with the other
// model's vocabulary size.
func TestReadTokenizerWrongVocab(t *testing.T) {
	big := readModelFile(t, "llama2c-tokenizer-32k/tokenizer.bin")
	small := readModelFile(t, "stories260K/tok512.bin")
	var te *TokenizerError
	if _, err := ReadTokenizer(big, 512); !errors.As(err, &te) || !strings.Contains(err.Error(), "trailing") {
		t.Errorf("32k file with vocab 512: %v, want trailing-data error", err)
	}
	if _, err := ReadTokenizer(small, 32000); !errors.As(err, &te) || te.Record != -1 {
		t.Errorf("512 file with vocab 32000: %v, want header error", err)
	}
}

func TestReadTokenizerCorrupt(t *testing.T) {
	valid := buildTokenizer(3, []string{"a", "bc", "def"}, []float32{0, -1, -2})
	if tok, err := ReadTokenizer(valid, 3); err != nil || tok.Pieces[2] != "def" || tok.Scores[1] != -1 {
		t.Fatalf("valid image: %v %+v", err, tok)
	}
	put := func(off int, v uint32) []byte {
		b := append([]byte(nil), valid...)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	// Record 0 at 4 (len at 8, piece at 12), record 1 at 13 (len at 17),
	// record 2 at 23 (len at 27), end at 34.
	cases := []struct {
		name   string
		data   []byte
		vocab  int
		record int
		offset int64
	}{
		{"empty", nil, 3, -1, 0},
		{"short header", valid[:3], 3, -1, 0},
		{"vocab too large", valid, 5, -1, 0},
		{"huge vocab", valid, math.MaxInt, -1, 0},
		{"huge max_token_length", put(0, 0xFFFFFFFF), 3, -1, 0},
		{"negative length", put(17, 0xFFFFFFFE), 3, 1, 17},
		{"huge length", put(17, 0x7FFFFFFF), 3, 1, 17},
		{"length over max", put(0, 2), 3, 2, 27},
		{"truncated piece", valid[:len(valid)-1], 3, 2, 27},
		{"truncated piece, to end", valid[:len(valid)-1], 0, 2, 27},
		{"truncated record header", valid[:20], 0, 1, 13},
		{"trailing bytes", append(append([]byte(nil), valid...), 0), 3, 3, 34},
		{"fewer records than data", valid, 2, 2, 23},
	}
	for _, c := range cases {
		_, err := ReadTokenizer(c.data, c.vocab)
		var te *TokenizerError
		if !errors.As(err, &te) {
			t.Errorf("%s: err = %v, want *TokenizerError", c.name, err)
			continue
		}
		if te.Record != c.record || te.Offset != c.offset {
			t.Errorf("%s: record %d offset %d (%v), want record %d offset %d",
				c.name, te.Record, te.Offset, err, c.record, c.offset)
		}
	}
}

func TestReadTokenizerEmptyVocab(t *testing.T) {
	tok, err := ReadTokenizer([]byte{0, 0, 0, 0}, 0)
	if err != nil || len(tok.Pieces) != 0 {
		t.Fatalf("header only: %v, %+v", err, tok)
	}
}

func FuzzReadTokenizer(f *testing.F) {
	f.Add(buildTokenizer(3, []string{"a", "bc", "def"}, []float32{0, -1, -2}), 3)
	f.Add(buildTokenizer(0, []string{"", ""}, []float32{1, 2}), 0)
	f.Add([]byte{1, 2, 3}, 1)
	if data, err := os.ReadFile(testmodels.Dir() + "/stories260K/tok512.bin"); err == nil {
		f.Add(data, 512)
		f.Add(data, 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, vocab int) {
		tok, err := ReadTokenizer(data, vocab)
		if err != nil {
			var te *TokenizerError
			if !errors.As(err, &te) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if vocab > 0 && len(tok.Pieces) != vocab {
			t.Fatalf("%d pieces, want %d", len(tok.Pieces), vocab)
		}
		if len(tok.Pieces) != len(tok.Scores) {
			t.Fatalf("%d pieces, %d scores", len(tok.Pieces), len(tok.Scores))
		}
		// A successful parse consumed every byte: the records re-encode
		// to exactly the input.
		again := buildTokenizer(uint32(tok.MaxTokenLength), tok.Pieces, tok.Scores)
		if string(again) != string(data) {
			t.Fatalf("re-encoding differs from the input")
		}
	})
}
