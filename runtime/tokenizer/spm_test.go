package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/llmap/llmap/format/llama2c"
	"github.com/llmap/llmap/internal/testmodels"
)

// loadLlama2C reads a llama2.c tokenizer file from the shared models and
// builds a SentencePiece with llama2.c's BOS=1, EOS=2.
func loadLlama2C(tb testing.TB, rel string, vocab int) (*SentencePiece, *llama2c.Tokenizer) {
	tb.Helper()
	data, err := os.ReadFile(testmodels.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	lt, err := llama2c.ReadTokenizer(data, vocab)
	if err != nil {
		tb.Fatal(err)
	}
	sp, err := NewSentencePiece(lt.Pieces, lt.Scores, 1, 2)
	if err != nil {
		tb.Fatal(err)
	}
	return sp, lt
}

// refVocab is run.c's sorted vocabulary: ids ordered by piece, searched by
// binary search.
type refVocab struct {
	pieces []string
	scores []float32
	sorted []int
}

func newRefVocab(pieces []string, scores []float32) *refVocab {
	sorted := make([]int, len(pieces))
	for i := range sorted {
		sorted[i] = i
	}
	sort.SliceStable(sorted, func(a, b int) bool { return pieces[sorted[a]] < pieces[sorted[b]] })
	return &refVocab{pieces, scores, sorted}
}

func (v *refVocab) lookup(s string) int {
	k := sort.Search(len(v.sorted), func(i int) bool { return v.pieces[v.sorted[i]] >= s })
	if k < len(v.sorted) && v.pieces[v.sorted[k]] == s {
		return v.sorted[k]
	}
	return -1
}

// encodeRef is a direct transcription of run.c's encode(): binary search
// over the sorted vocabulary, byte fallback to byte+3, and an O(n²) merge
// loop that rescans every adjacent pair and keeps the first strictly best
// score above -1e10.
func encodeRef(v *refVocab, text string, bos, eos bool) []int {
	pieces, scores, lookup := v.pieces, v.scores, v.lookup
	var toks []int
	if bos {
		toks = append(toks, 1)
	}
	if text != "" {
		toks = append(toks, lookup(" "))
	}
	var buf []byte
	for i := 0; i < len(text); i++ {
		buf = append(buf, text[i])
		if i+1 < len(text) && text[i+1]&0xC0 == 0x80 && len(buf) < 4 {
			continue
		}
		if id := lookup(string(buf)); id != -1 {
			toks = append(toks, id)
		} else {
			for _, b := range buf {
				toks = append(toks, int(b)+3)
			}
		}
		buf = buf[:0]
	}
	for {
		best, bestID, bestIdx := float32(-1e10), -1, -1
		for i := 0; i+1 < len(toks); i++ {
			id := lookup(pieces[toks[i]] + pieces[toks[i+1]])
			if id != -1 && scores[id] > best {
				best, bestID, bestIdx = scores[id], id, i
			}
		}
		if bestIdx == -1 {
			break
		}
		toks[bestIdx] = bestID
		toks = append(toks[:bestIdx+1], toks[bestIdx+2:]...)
	}
	if eos {
		toks = append(toks, 2)
	}
	return toks
}

func TestExpectedEncodings32k(t *testing.T) {
	sp, _ := loadLlama2C(t, "llama2c-tokenizer-32k/tokenizer.bin", 32000)
	f, err := os.Open(testmodels.Path(t, "llama2c-tokenizer-32k/expected_encodings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, matched := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c struct {
			Text string `json:"text"`
			IDs  []int  `json:"ids_with_bos"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		cases++
		if got := sp.Encode(c.Text, true, false); slices.Equal(got, c.IDs) {
			matched++
		} else {
			t.Errorf("Encode(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
		}
	}
	if cases != 5 {
		t.Fatalf("read %d cases, want 5", cases)
	}
	t.Logf("llama2.c test.c cases: %d/%d match", matched, cases)
}

// llamaCppCases splits llama.cpp's vocab test files. Every string in .inp is
// followed by "\n__ggml_vocab_test__\n" (so the text after the last
// separator is empty and is not a case); .out has one line of
// space-separated ids per string, without BOS.
func llamaCppCases(t *testing.T) ([]string, [][]int) {
	inp, err := os.ReadFile(testmodels.Path(t, "llamacpp-vocab/ggml-vocab-llama-spm.gguf.inp"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(testmodels.Path(t, "llamacpp-vocab/ggml-vocab-llama-spm.gguf.out"))
	if err != nil {
		t.Fatal(err)
	}
	const sep = "\n__ggml_vocab_test__\n"
	texts := strings.Split(string(inp), sep)
	if texts[len(texts)-1] != "" {
		t.Fatalf(".inp does not end with the separator")
	}
	texts = texts[:len(texts)-1]
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%d texts but %d expected-id lines", len(texts), len(lines))
	}
	ids := make([][]int, len(lines))
	for i, line := range lines {
		ids[i] = []int{}
		for _, f := range strings.Fields(line) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf(".out line %d: %v", i+1, err)
			}
			ids[i] = append(ids[i], id)
		}
	}
	return texts, ids
}

func TestLlamaCppVocabCases(t *testing.T) {
	sp, _ := loadLlama2C(t, "llama2c-tokenizer-32k/tokenizer.bin", 32000)
	texts, want := llamaCppCases(t)
	if len(texts) != 46 {
		t.Fatalf("split .inp into %d cases, want 46", len(texts))
	}
	matched := 0
	for i, text := range texts {
		// Ids 1 and 2 are "\n<s>\n"/"\n</s>\n" in tokenizer.bin but
		// "<s>"/"</s>" in the GGUF; neither can come out of these texts.
		if got := sp.Encode(text, false, false); slices.Equal(got, want[i]) {
			matched++
		} else {
			t.Errorf("case %d Encode(%q)\n got %v\nwant %v", i, text, got, want[i])
		}
	}
	t.Logf("llama.cpp llama-spm cases: %d/%d match", matched, len(texts))
}

// randomText draws text that exercises codepoint grouping: ASCII words and
// whitespace, multi-byte characters, emoji, and invalid UTF-8 (stray
// continuation bytes, truncated sequences, 0xFF, NUL).
func randomText(r *rand.Rand, n int) string {
	parts := []string{
		"the", " the", "Hello", " world", "ing", "tion", " ", "  ", "\n", "\t", ".", ",", "!",
		"é", "ü", "ß", "中", "文", "日本", "🦙", "😀", "𝄞", "\u00a0", "\u200b",
		"\x80", "\xbf\xbf", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xff", "\xf8\x88\x80\x80\x80", "\x00",
		"a", "b", "q", "z", "0", "1", "42", "<0x41>", "<s>", "<unk>",
	}
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(parts[r.IntN(len(parts))])
	}
	return sb.String()
}

func TestEncodeMatchesReference(t *testing.T) {
	for _, v := range []struct {
		rel   string
		vocab int
	}{
		{"llama2c-tokenizer-32k/tokenizer.bin", 32000},
		{"stories260K/tok512.bin", 512},
	} {
		t.Run(v.rel, func(t *testing.T) {
			sp, lt := loadLlama2C(t, v.rel, v.vocab)
			ref := newRefVocab(lt.Pieces, lt.Scores)
			check := func(text string) {
				t.Helper()
				for _, bos := range []bool{false, true} {
					got := sp.Encode(text, bos, !bos)
					want := encodeRef(ref, text, bos, !bos)
					if !slices.Equal(got, want) {
						t.Fatalf("Encode(%q, %v)\n got %v\nwant %v", text, bos, got, want)
					}
				}
			}
			r := rand.New(rand.NewPCG(1, 2))
			for range 300 {
				check(randomText(r, r.IntN(120)))
			}
			texts, _ := llamaCppCases(t)
			for _, text := range texts {
				check(text)
			}
			for _, rel := range []string{"stories260K/expected_t0.0_n256.txt", "stories260K/expected_t1.0_p0.9_s133742_n256.txt"} {
				story, err := os.ReadFile(testmodels.Path(t, rel))
				if err != nil {
					t.Fatal(err)
				}
				check(string(story))
			}
		})
	}
}

// tieVocab is a small vocabulary with many equal scores, NaN and scores at
// or below run.c's -1e10 floor, to exercise the merge order where the real
// vocabularies (almost all distinct scores) do not.
func tieVocab() ([]string, []float32) {
	pieces := []string{"<unk>", "<s>", "</s>"}
	for b := range 256 {
		pieces = append(pieces, bytePieceName(byte(b)))
	}
	scores := make([]float32, len(pieces))
	add := func(p string, s float32) {
		pieces = append(pieces, p)
		scores = append(scores, s)
	}
	for _, p := range []string{" ", "a", "b", "c"} {
		add(p, 0)
	}
	add("aa", -1)
	add("ab", -1)
	add("ba", -1)
	add("bb", -1)
	add(" a", -1)
	add("aaa", -1)
	add("aba", -1)
	add("abab", -2)
	add("bab", -2)
	add("cc", float32(math.NaN()))
	add("ac", -1e10)
	add("ca", -1e9)
	add("bc", -2e10)
	add(" b", -1)
	add("aab", -1)
	add("<0x61>b", 5) // reachable only through a byte-fallback piece's text
	return pieces, scores
}

// tieVocabVariants returns tieVocab as is (merges split at spaces), with a
// piece holding an inner space (one global merge), and with an empty BOS
// piece (which merges with its neighbour into that neighbour).
func tieVocabVariants() map[string][2]any {
	out := map[string][2]any{}
	pieces, scores := tieVocab()
	out["split"] = [2]any{pieces, scores}
	pieces, scores = tieVocab()
	out["inner space"] = [2]any{append(pieces, "a a", "b  a"), append(scores, -1, -2)}
	pieces, scores = tieVocab()
	pieces[1] = ""
	out["empty bos"] = [2]any{pieces, scores}
	return out
}

func TestEncodeTiesMatchReference(t *testing.T) {
	for name, v := range tieVocabVariants() {
		pieces, scores := v[0].([]string), v[1].([]float32)
		sp, err := NewSentencePiece(pieces, scores, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		if want := name == "split" || name == "empty bos"; sp.splitAtSpace != want {
			t.Errorf("%s: splitAtSpace = %v", name, sp.splitAtSpace)
		}
		ref := newRefVocab(pieces, scores)
		r := rand.New(rand.NewPCG(3, 4))
		alphabet := "aabbc  \x80"
		for range 3000 {
			b := make([]byte, r.IntN(40))
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			got := sp.Encode(string(b), true, false)
			want := encodeRef(ref, string(b), true, false)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: Encode(%q)\n got %v\nwant %v", name, b, got, want)
			}
		}
	}
}

func FuzzSentencePieceEncode(f *testing.F) {
	type pair struct {
		sp  *SentencePiece
		ref *refVocab
	}
	var vocabs []pair
	for _, v := range tieVocabVariants() {
		pieces, scores := v[0].([]string), v[1].([]float32)
		sp, err := NewSentencePiece(pieces, scores, 1, 2)
		if err != nil {
			f.Fatal(err)
		}
		vocabs = append(vocabs, pair{sp, newRefVocab(pieces, scores)})
	}
	for _, s := range []string{"", "a", "abab ba", "aaaa\x80b", "cca\xc3\xa9", "a a  b  a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, v := range vocabs {
			got := v.sp.Encode(text, true, true)
			want := encodeRef(v.ref, text, true, true)
			if !slices.Equal(got, want) {
				t.Fatalf("Encode(%q)\n got %v\nwant %v", text, got, want)
			}
		}
	})
}

// TestEncodeConcurrent runs Encode from several goroutines (for -race).
func TestEncodeConcurrent(t *testing.T) {
	sp, _ := loadLlama2C(t, "stories260K/tok512.bin", 512)
	text := "Once upon a time, there was a little girl named Lily. She liked to play."
	want := sp.Encode(text, true, false)
	done := make(chan []int)
	for range 4 {
		go func() { done <- sp.Encode(text, true, false) }()
	}
	for range 4 {
		if got := <-done; !slices.Equal(got, want) {
			t.Errorf("concurrent Encode = %v, want %v", got, want)
		}
	}
}

// decodeAfterBOS concatenates Piece over ids, which start with BOS.
func decodeAfterBOS(sp *SentencePiece, ids []int) []byte {
	var out []byte
	for i := 1; i < len(ids); i++ {
		out = append(out, sp.Piece(ids[i-1], ids[i])...)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	sp512, _ := loadLlama2C(t, "stories260K/tok512.bin", 512)
	if sp512.VocabSize() != 512 || sp512.BOS() != 1 || sp512.EOS() != 2 {
		t.Fatalf("tok512: vocab %d bos %d eos %d", sp512.VocabSize(), sp512.BOS(), sp512.EOS())
	}
	sp32k, _ := loadLlama2C(t, "llama2c-tokenizer-32k/tokenizer.bin", 32000)
	fixed := []string{
		"Once upon a time, there was a little girl named Lily.",
		"  two leading spaces\nand a newline\ttab",
		"Héllo wörld 🦙 中文",
		"invalid \xff\xc3 bytes \x80",
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, sp := range []*SentencePiece{sp512, sp32k} {
		texts := append([]string(nil), fixed...)
		for range 100 {
			texts = append(texts, randomText(r, r.IntN(80)))
		}
		for _, text := range texts {
			ids := sp.Encode(text, true, false)
			if got := decodeAfterBOS(sp, ids); string(got) != text {
				t.Errorf("vocab %d: decode(encode(%q)) = %q (ids %v)", sp.VocabSize(), text, got, ids)
			}
		}
	}
	// tok512 has few merges: a story sentence must still shrink below one
	// token per byte.
	text := fixed[0]
	if ids := sp512.Encode(text, true, false); len(ids) >= len(text) {
		t.Errorf("tok512 encoded %d bytes into %d tokens", len(text), len(ids))
	}
}

func TestPieceRules(t *testing.T) {
	sp, _ := loadLlama2C(t, "llama2c-tokenizer-32k/tokenizer.bin", 32000)
	const hello = 15043 // " Hello"
	if sp.Token(hello) != " Hello" {
		t.Fatalf("Token(%d) = %q", hello, sp.Token(hello))
	}
	cases := []struct {
		prev, id int
		want     string
	}{
		{1, hello, "Hello"},      // after BOS the leading space goes
		{29871, hello, " Hello"}, // elsewhere it stays
		{1, 259, " "},            // "  " after BOS loses one space only
		{1, 29871, ""},           // the lone dummy prefix prints nothing
		{1, 13, "\n"},            // "<0x0A>"
		{5, 13, "\n"},
		{0, 3 + 0xE2, "\xe2"},
		{0, 3, "\x00"},
		{0, 2, "\n</s>\n"},
	}
	for _, c := range cases {
		if got := sp.Piece(c.prev, c.id); string(got) != c.want {
			t.Errorf("Piece(%d, %d) = %q, want %q", c.prev, c.id, got, c.want)
		}
	}
	for _, id := range []int{-1, 32000, math.MaxInt} {
		if sp.Piece(1, id) != nil || sp.SafePiece(1, id) != nil || sp.Token(id) != "" {
			t.Errorf("id %d out of range did not give nil / \"\"", id)
		}
	}
	// SafePiece drops single bytes run.c's safe_printf would not print.
	safe := []struct {
		id   int
		want string
	}{{3 + 0xE2, ""}, {3 + 0x07, ""}, {3, ""}, {13, "\n"}, {3 + 'A', "A"}, {hello, " Hello"}}
	for _, c := range safe {
		if got := sp.SafePiece(5, c.id); string(got) != c.want {
			t.Errorf("SafePiece(5, %d) = %q, want %q", c.id, got, c.want)
		}
	}
	// The returned slices are capped: appending must not corrupt t.
	p := sp.Piece(5, hello)
	_ = append(p, 'X')
	if string(sp.Piece(5, hello+1)) != sp.Token(hello+1) {
		t.Errorf("append to a Piece result changed the next piece")
	}
}

func TestNewSentencePieceErrors(t *testing.T) {
	p := []string{"<unk>", "<s>", "</s>", " "}
	s := []float32{0, 0, 0, 0}
	bad := []struct {
		name     string
		pieces   []string
		scores   []float32
		bos, eos int
	}{
		{"empty", nil, nil, 0, 0},
		{"length mismatch", p, s[:3], 1, 2},
		{"bos negative", p, s, -1, 2},
		{"bos too large", p, s, 4, 2},
		{"eos too large", p, s, 1, 4},
	}
	for _, c := range bad {
		if _, err := NewSentencePiece(c.pieces, c.scores, c.bos, c.eos); !errors.Is(err, ErrInvalidVocab) {
			t.Errorf("%s: err = %v, want ErrInvalidVocab", c.name, err)
		}
	}
	// No byte pieces: bytes without a piece fall back to unk (0).
	sp, err := NewSentencePiece(p, s, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := sp.Encode("\xff", true, true); !slices.Equal(got, []int{1, 3, 0, 2}) {
		t.Errorf("Encode without byte pieces = %v, want [1 3 0 2]", got)
	}
	// No " " piece: no dummy prefix.
	sp, err = NewSentencePiece([]string{"<unk>", "<s>", "</s>", "x"}, s, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := sp.Encode("x", false, false); !slices.Equal(got, []int{3}) {
		t.Errorf("Encode without a space piece = %v, want [3]", got)
	}
	// Duplicate pieces: the lowest id wins.
	sp, err = NewSentencePiece([]string{"<unk>", "<s>", "</s>", " ", "x", "x"}, []float32{0, 0, 0, 0, 0, 0}, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := sp.Encode("x", false, false); !slices.Equal(got, []int{3, 4}) {
		t.Errorf("Encode with duplicate pieces = %v, want [3 4]", got)
	}
}

// benchText returns about 100 KB of English story text with some
// multi-byte characters from the test inputs.
func benchText(b testing.TB) string {
	story, err := os.ReadFile(testmodels.Path(b, "stories260K/expected_t1.0_p0.9_s133742_n256.txt"))
	if err != nil {
		b.Fatal(err)
	}
	inp, err := os.ReadFile(testmodels.Path(b, "llamacpp-vocab/ggml-vocab-llama-spm.gguf.inp"))
	if err != nil {
		b.Fatal(err)
	}
	inp = bytes.ReplaceAll(inp, []byte("__ggml_vocab_test__"), nil)
	var sb strings.Builder
	for sb.Len() < 100_000 {
		sb.Write(story)
		sb.WriteByte('\n')
		if sb.Len()%7 == 0 {
			sb.Write(inp)
		}
	}
	return sb.String()
}

func BenchmarkSentencePieceEncode(b *testing.B) {
	sp, _ := loadLlama2C(b, "llama2c-tokenizer-32k/tokenizer.bin", 32000)
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		sp.Encode(text, true, false)
	}
}
