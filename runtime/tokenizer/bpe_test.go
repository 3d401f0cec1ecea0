package tokenizer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/llmap/llmap/internal/testmodels"
)

// bpeGPT2 loads OpenAI's GPT-2 tokenizer once per test binary.
var bpeGPT2 = struct {
	once sync.Once
	tok  *BPE
	err  error
}{}

func loadGPT2BPE(tb testing.TB) *BPE {
	tb.Helper()
	encPath := testmodels.Path(tb, "gpt2-tokenizer/encoder.json")
	bpePath := testmodels.Path(tb, "gpt2-tokenizer/vocab.bpe")
	bpeGPT2.once.Do(func() {
		enc, err := os.ReadFile(encPath)
		if err != nil {
			bpeGPT2.err = err
			return
		}
		merges, err := os.ReadFile(bpePath)
		if err != nil {
			bpeGPT2.err = err
			return
		}
		tokens, ml, err := LoadGPT2Files(enc, merges)
		if err != nil {
			bpeGPT2.err = err
			return
		}
		bpeGPT2.tok, bpeGPT2.err = NewBPE(tokens, ml)
	})
	if bpeGPT2.err != nil {
		tb.Fatal(bpeGPT2.err)
	}
	return bpeGPT2.tok
}

// loadGPT2VocabCases reads llama.cpp's ggml-vocab-gpt-2.gguf.inp/.out
// (see loadCases).
func loadGPT2VocabCases(tb testing.TB) []vocabCase {
	return loadCases(tb, "llamacpp-vocab/ggml-vocab-gpt-2.gguf.inp", "llamacpp-vocab/ggml-vocab-gpt-2.gguf.out")
}

func TestBPEGPT2VocabCases(t *testing.T) {
	tok := loadGPT2BPE(t)
	cases := loadGPT2VocabCases(t)
	// 46 texts, each followed by the separator; one of them is empty. (A
	// plain split also yields the empty piece after the final separator.)
	if len(cases) != 46 {
		t.Fatalf("got %d cases, want 46", len(cases))
	}
	match := 0
	for i, c := range cases {
		got := tok.Encode(c.text)
		if slices.Equal(got, c.ids) {
			match++
		} else {
			t.Errorf("case %d %q:\n got %v\nwant %v", i, c.text, got, c.ids)
		}
		if dec := tok.Decode(got); string(dec) != c.text {
			t.Errorf("case %d: Decode(Encode(%q)) = %q", i, c.text, dec)
		}
	}
	t.Logf("%d/%d llama.cpp GPT-2 cases match", match, len(cases))
}

func TestBPEGPT2Vocab(t *testing.T) {
	tok := loadGPT2BPE(t)
	if got := tok.VocabSize(); got != 50257 {
		t.Errorf("VocabSize = %d, want 50257", got)
	}
	if got := tok.EOT(); got != 50256 {
		t.Errorf("EOT = %d, want 50256", got)
	}
	// GPT-2's alphabet: ' ' is 'Ġ' (id 220), '\n' is 'Ċ' (198), 'A' is 32.
	for _, c := range []struct {
		id    int
		tok   string
		bytes string
	}{{220, "Ġ", " "}, {198, "Ċ", "\n"}, {32, "A", "A"}, {18435, "ĠHello", " Hello"}, {50256, "<|endoftext|>", "<|endoftext|>"}} {
		if got := tok.Token(c.id); got != c.tok {
			t.Errorf("Token(%d) = %q, want %q", c.id, got, c.tok)
		}
		if got := string(tok.TokenBytes(c.id)); got != c.bytes {
			t.Errorf("TokenBytes(%d) = %q, want %q", c.id, got, c.bytes)
		}
	}
	for _, id := range []int{-1, 50257, 1 << 40} {
		if tok.TokenBytes(id) != nil || tok.Token(id) != "" {
			t.Errorf("id %d out of range: want nil and \"\"", id)
		}
	}
	// Every byte has its own token, and bytes 0..255 decode back.
	for b := range 256 {
		if tok.byteID[b] < 0 {
			t.Fatalf("byte 0x%02x has no token", b)
		}
		if got := tok.TokenBytes(int(tok.byteID[b])); len(got) != 1 || got[0] != byte(b) {
			t.Errorf("byte token of 0x%02x decodes to %q", b, got)
		}
	}
	// "<|endoftext|>" in text is ordinary text, as in tiktoken's
	// encode_ordinary: it is not the single EOT id.
	ids := tok.Encode("a<|endoftext|>b")
	if slices.Contains(ids, tok.EOT()) {
		t.Errorf("Encode of literal <|endoftext|> produced EOT: %v", ids)
	}
	if got := string(tok.Decode(ids)); got != "a<|endoftext|>b" {
		t.Errorf("round trip: %q", got)
	}
	if got := string(tok.Decode([]int{-5, 15496, 99999999})); got != "Hello" {
		t.Errorf("Decode skips out-of-range ids: got %q", got)
	}
}

// bpeRandomText returns a string of n pieces drawn from an alphabet chosen
// to hit every branch of the pre-tokenizer: ASCII and non-ASCII white space,
// letters, numbers (Nd, Nl, No), contractions, punctuation, emoji and invalid
// UTF-8.
func bpeRandomText(r *rand.Rand, n int) string {
	pieces := []string{
		" ", " ", "  ", "\t", "\n", "\r\n", "\v", "\u00a0", "\u3000", "\u0085", "\u2028",
		"a", "Z", "the", "Hello", "é", "日本", "Ωμέγα", "ß",
		"3", "42", "٣", "Ⅻ", "½",
		"'", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'RE", "'l", "'r",
		"!", "...", "-", "_", "(", "€", "😀", "\u200d", "\ufeff", "\U0001f3fb",
		"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\x00", "\x7f", "\ufffd",
	}
	var sb strings.Builder
	for range n {
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

// bpeRandomBytes returns n uniformly random bytes (mostly invalid UTF-8).
func bpeRandomBytes(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

func TestBPERoundTripRandom(t *testing.T) {
	tok := loadGPT2BPE(t)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		var s string
		switch i % 3 {
		case 0:
			s = bpeRandomBytes(r, r.IntN(300))
		case 1:
			s = bpeRandomText(r, r.IntN(100))
		default:
			// Long single pre-tokens: the heap merge and uncached paths.
			s = strings.Repeat(string(rune('a'+r.IntN(26))), r.IntN(200)) + bpeRandomBytes(r, r.IntN(20))
		}
		ids := tok.Encode(s)
		if got := string(tok.Decode(ids)); got != s {
			t.Fatalf("Decode(Encode(%q)) = %q (ids %v)", s, got, ids)
		}
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("Encode(%q) produced id %d", s, id)
			}
		}
	}
}

// bpeWhiteSpace is \s as a Go regexp class: the Unicode White_Space property.
const bpeWhiteSpace = `\t\n\v\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`

// bpeSplitRegexp is GPT-2's pattern without the lookahead alternative.
var bpeSplitRegexp = regexp.MustCompile(`^(?:'s|'t|'re|'ve|'m|'ll|'d| ?\pL+| ?\pN+| ?[^` + bpeWhiteSpace + `\pL\pN]+|[` + bpeWhiteSpace + `]+)`)
var bpeAllSpace = regexp.MustCompile(`^[` + bpeWhiteSpace + `]+$`)

// bpeSplitRef splits s with Go's regexp, then applies \s+(?!\S) by hand: a
// white-space match of two or more characters that is followed by more text
// gives back its last character. Go's regexp reads an invalid UTF-8 byte as
// U+FFFD of width 1, which is in the "other" class, as in bpePretokenEnd.
func bpeSplitRef(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		m := bpeSplitRegexp.FindStringIndex(s[i:])
		if m == nil || m[1] == 0 {
			panic(fmt.Sprintf("no match at %d of %q", i, s))
		}
		end := i + m[1]
		if piece := s[i:end]; end < len(s) && bpeAllSpace.MatchString(piece) && utf8.RuneCountInString(piece) > 1 {
			_, w := utf8.DecodeLastRuneInString(piece)
			end -= w
		}
		out = append(out, s[i:end])
		i = end
	}
	return out
}

func bpeSplit(s string) []string { return pretokenSplit(PreGPT2, s) }

func TestBPEPretokenize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Hello world", []string{"Hello", " world"}},
		{"  Hello", []string{" ", " Hello"}},
		{"a  \n\n b", []string{"a", "  \n\n", " b"}},
		{"a\n\nb", []string{"a", "\n", "\n", "b"}},
		{"x   ", []string{"x", "   "}},
		{"I've 'RE you'll", []string{"I", "'ve", " '", "RE", " you", "'ll"}},
		{"3.14 ½Ⅻ", []string{"3", ".", "14", " ½Ⅻ"}},
		{"!'s", []string{"!'", "s"}},
		{"a \xff\xfe b", []string{"a", " \xff\xfe", " b"}},
		{"\u00a0x", []string{"\u00a0", "x"}},
	} {
		if got := bpeSplit(c.in); !slices.Equal(got, c.want) {
			t.Errorf("split %q = %q, want %q", c.in, got, c.want)
		}
		if got := bpeSplitRef(c.in); !slices.Equal(got, c.want) {
			t.Errorf("reference split %q = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestBPEMergeHeapMatchesScan checks the heap merge against the plain scan
// on pre-tokens of every length, including long runs of one character where
// equal-rank pairs overlap ("aaaa", "3333").
func TestBPEMergeHeapMatchesScan(t *testing.T) {
	tok := loadGPT2BPE(t)
	r := rand.New(rand.NewPCG(5, 6))
	words := []string{"the", "ing", "tion", "an", "er", "3", "a", " ", "=", "-", "Ġ", "é", "日"}
	var s bpeScratch
	for i := range 3000 {
		var sb strings.Builder
		n := i % 200
		switch i % 4 {
		case 0:
			sb.WriteString(bpeRandomBytes(r, n))
		case 1:
			sb.WriteString(strings.Repeat(words[r.IntN(len(words))], n))
		default:
			for sb.Len() < n {
				sb.WriteString(words[r.IntN(len(words))])
			}
		}
		piece := sb.String()
		ids := make([]int32, len(piece))
		for j := range len(piece) {
			ids[j] = tok.byteID[piece[j]]
		}
		want := tok.mergeScan(slices.Clone(ids))
		got := tok.mergeHeap(slices.Clone(ids), &s)
		if !slices.Equal(got, want) {
			t.Fatalf("piece %q: heap %v, scan %v", piece, got, want)
		}
	}
}

func TestBPEConcurrentEncode(t *testing.T) {
	tok := loadGPT2BPE(t)
	cases := loadGPT2VocabCases(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for range 200 {
				c := cases[r.IntN(len(cases))]
				if got := tok.Encode(c.text); !slices.Equal(got, c.ids) {
					t.Errorf("concurrent Encode(%q) = %v, want %v", c.text, got, c.ids)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestLoadHFFilesTiny loads the toy 21-token GPT-2 tokenizer of lm-buddy's
// test model: 19 single characters and merge results, "<unk>" (19) and
// "<|endoftext|>" (20), and four merges "Ġ l", "Ġl o", "Ġlo w", "e r". The
// expected ids follow GPT-2's encoder.py (Hugging Face GPT2Tokenizer): only
// merges build tokens, so the vocabulary entry "Ġlowest" is never produced
// from " lowest", and characters without a token become "<unk>".
func TestLoadHFFilesTiny(t *testing.T) {
	vocab, err := os.ReadFile(testmodels.Path(t, "tiny-gpt2-random-lmbuddy/vocab.json"))
	if err != nil {
		t.Fatal(err)
	}
	mergesTxt, err := os.ReadFile(testmodels.Path(t, "tiny-gpt2-random-lmbuddy/merges.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, merges, err := LoadHFFiles(vocab, mergesTxt)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 21 || tokens[0] != "l" || tokens[10] != "Ġ" || tokens[16] != "Ġlowest" || tokens[20] != "<|endoftext|>" {
		t.Fatalf("tokens = %q", tokens)
	}
	if want := []string{"Ġ l", "Ġl o", "Ġlo w", "e r"}; !slices.Equal(merges, want) {
		t.Fatalf("merges = %q, want %q", merges, want)
	}
	tok, err := NewBPE(tokens, merges)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 21 || tok.EOT() != 20 {
		t.Errorf("VocabSize %d EOT %d, want 21 20", tok.VocabSize(), tok.EOT())
	}
	for _, c := range []struct {
		text string
		ids  []int
	}{
		{" low", []int{14}},
		{" lowest", []int{14, 3, 5, 6}},
		{" newer", []int{10, 9, 3, 2, 15}},
		{" wider", []int{10, 2, 7, 8, 15}},
		{"lower newer", []int{0, 1, 2, 15, 10, 9, 3, 2, 15}},
		{"hello", []int{19, 3, 0, 0, 1}}, // no token for 'h'
		{"", nil},
	} {
		got := tok.Encode(c.text)
		if !slices.Equal(got, c.ids) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.ids)
		}
		if !strings.ContainsRune(c.text, 'h') && string(tok.Decode(got)) != c.text {
			t.Errorf("Decode(Encode(%q)) = %q", c.text, tok.Decode(got))
		}
	}
}

func TestBPEBadInputs(t *testing.T) {
	for _, c := range []struct {
		name, vocab, merges string
		want                string // substring of the error
	}{
		{"malformed json", `{"a": 0,`, "", "bpe: vocab"},
		{"not an object", `[1,2]`, "", "bpe: vocab"},
		{"non-integer id", `{"a": 0.5}`, "", "bpe: vocab"},
		{"empty", `{}`, "", "empty vocabulary"},
		{"duplicate id", `{"a": 0, "b": 0}`, "", "id also used"},
		{"sparse ids", `{"a": 0, "b": 2}`, "", "out of range"},
		{"negative id", `{"a": -1}`, "", "out of range"},
		{"huge id", `{"a": 99999999999}`, "", "out of range"},
	} {
		_, _, err := LoadHFFiles([]byte(c.vocab), []byte(c.merges))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	if _, _, err := LoadGPT2Files([]byte(`{"a": 0}`), []byte("a b\n")); err == nil {
		t.Errorf("vocab.bpe without #version line: no error")
	}

	// A valid base: every byte token plus <unk>-free merges.
	base := make([]string, 0, 260)
	for _, r := range bpeByteToRune {
		base = append(base, string(r))
	}
	base = append(base, "ab", "abc")
	if _, err := NewBPE(base, []string{"a b", "ab c"}); err != nil {
		t.Fatalf("valid base: %v", err)
	}
	for _, c := range []struct {
		name   string
		tokens []string
		merges []string
		want   string
	}{
		{"empty vocab", nil, nil, "empty vocabulary"},
		{"duplicate token", append(slices.Clone(base), "ab"), nil, `duplicate of token 256`},
		{"missing byte", base[1:], nil, "no token for byte"},
		{"unknown left", base, []string{"a b", "ab c", "x? c"}, `merge 2 "x? c": unknown token "x?"`},
		{"unknown right", base, []string{"a b", "ab zz"}, `merge 1 "ab zz": unknown token "zz"`},
		{"result not a token", base, []string{"b c"}, `merge 0 "b c": result "bc" is not a token`},
		{"one part", base, []string{"ab"}, `merge 0 "ab": want two tokens`},
		{"three parts", base, []string{"a b c"}, `merge 0 "a b c": want two tokens`},
		{"empty line", base, []string{""}, `merge 0 "": want two tokens`},
		{"double space", base, []string{"a  b"}, `want two tokens`},
		{"duplicate merge", base, []string{"a b", "a b"}, `merge 1 "a b": duplicate of merge 0`},
	} {
		_, err := NewBPE(c.tokens, c.merges)
		var be *BPEError
		if err == nil || !errors.As(err, &be) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want *BPEError containing %q", c.name, err, c.want)
		}
	}
}

// bpeBenchText returns about n bytes of English-like text: words of a fixed
// paragraph in a seeded random order, with random capitals, numbers,
// punctuation, line breaks and made-up words, so the pre-token cache sees
// misses as well as hits.
func bpeBenchText(n int) string {
	const paragraph = `It was a bright cold day in April, and the clocks were striking thirteen.
Winston Smith, his chin nuzzled into his breast in an effort to escape the vile wind,
slipped quickly through the glass doors of Victory Mansions, though not quickly enough
to prevent a swirl of gritty dust from entering along with him. The hallway smelt of
boiled cabbage and old rag mats. At one end of it a coloured poster, too large for
indoor display, had been tacked to the wall. It depicted simply an enormous face,
more than a metre wide: the face of a man of about forty-five, with a heavy black
moustache and ruggedly handsome features. Winston made for the stairs. It's no use
trying the lift; even at the best of times it was seldom working, and they'd cut the
electric current during daylight hours.`
	words := strings.Fields(paragraph)
	r := rand.New(rand.NewPCG(42, 42))
	var sb strings.Builder
	for sb.Len() < n {
		switch x := r.IntN(100); {
		case x < 3:
			sb.WriteString(" " + strconv.Itoa(r.IntN(100000)))
		case x < 8: // a made-up word: a likely cache miss
			sb.WriteByte(' ')
			for range 3 + r.IntN(8) {
				sb.WriteByte(byte('a' + r.IntN(26)))
			}
		case x < 10:
			sb.WriteString(".\n\n")
		default:
			w := words[r.IntN(len(words))]
			if r.IntN(10) == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			sb.WriteString(" " + w)
		}
	}
	return sb.String()
}

func BenchmarkBPEEncode(b *testing.B) {
	tok := loadGPT2BPE(b)
	text := bpeBenchText(1 << 20)
	b.SetBytes(int64(len(text)))
	b.Run("cold", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			tok.cacheMu.Lock()
			clear(tok.cache)
			tok.cacheMu.Unlock()
			tok.Encode(text)
		}
	})
	b.Run("warm", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			tok.Encode(text)
		}
	})
}
