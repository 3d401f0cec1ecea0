package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pretokenizer names how a byte-level BPE splits text into pre-tokens before
// merging. The zero value is GPT-2's.
type Pretokenizer uint8

const (
	PreGPT2   Pretokenizer = iota // GPT-2's regular expression
	PreLlama3                     // LLaMA 3: contractions in any case, numbers in groups of up to 3
	PreQwen2                      // Qwen 2, 2.5 and 3: as LLaMA 3 with one digit per pre-token
	PreSmolLM                     // SmolLM: every digit alone, then GPT-2's expression
	nPretokenizers
)

// pretokenizerNames are the values of the tokenizer.pre metadata key.
var pretokenizerNames = [nPretokenizers]string{"gpt2", "llama3", "qwen2", "smollm"}

func (p Pretokenizer) valid() bool { return p < nPretokenizers }

// String returns the name stored in tokenizer.pre ("gpt2", "llama3", ...).
func (p Pretokenizer) String() string {
	if !p.valid() {
		return fmt.Sprintf("Pretokenizer(%d)", p)
	}
	return pretokenizerNames[p]
}

// ParsePretokenizer returns the pre-tokenizer stored as name in tokenizer.pre.
func ParsePretokenizer(name string) (Pretokenizer, bool) {
	for i, n := range pretokenizerNames {
		if n == name {
			return Pretokenizer(i), true
		}
	}
	return 0, false
}

// pretokens iterates over the pre-tokens of a text.
type pretokens struct {
	pre    Pretokenizer
	text   string
	i      int // start of the next pre-token
	segEnd int // PreSmolLM: end of the digit-free segment that holds i
}

// next returns the next pre-token, or false at the end of the text.
func (p *pretokens) next() (string, bool) {
	s, i := p.text, p.i
	if i >= len(s) {
		return "", false
	}
	var end int
	switch p.pre {
	case PreLlama3:
		end = llama3PretokenEnd(s, i, 3)
	case PreQwen2:
		end = llama3PretokenEnd(s, i, 1)
	case PreSmolLM:
		// Every number character is a pre-token of its own; the text
		// between them is split as GPT-2 splits it, as if it were all.
		if i >= p.segEnd {
			c, w := bpeCharAt(s, i)
			if c == bpeNumber {
				end = i + w
				break
			}
			j := i + w
			for j < len(s) {
				cj, wj := bpeCharAt(s, j)
				if cj == bpeNumber {
					break
				}
				j += wj
			}
			p.segEnd = j
		}
		end = bpePretokenEnd(s[:p.segEnd], i)
	default:
		end = bpePretokenEnd(s, i)
	}
	p.i = end
	return s[i:end], true
}

// GPT-2 splits text into pre-tokens with the regular expression
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// and runs BPE on each pre-token separately. Go's regexp has no lookahead, so
// bpePretokenEnd implements the same leftmost-first alternation by hand:
//
//   - \p{L} is unicode.IsLetter, \p{N} is unicode.IsNumber and \s is
//     unicode.IsSpace (the Unicode White_Space property, as in tiktoken's and
//     Hugging Face's Unicode regex engines). The optional prefix " ?" is the
//     ASCII space only, and the contractions are case-sensitive, as in GPT-2.
//   - \s+(?!\S) takes a whitespace run that reaches the end of the text whole,
//     but gives back the last whitespace character when a non-space follows,
//     so " world" keeps its space; a single whitespace character followed by
//     a non-space is matched by the final \s+ alone.
//   - Text that is not valid UTF-8 is split as Go's range loop decodes it:
//     each invalid byte is one character of the "other" class (neither
//     letter, number nor space), so it joins a ` ?[^\s\p{L}\p{N}]+` run. The
//     pre-tokens still cover the input byte for byte, so invalid UTF-8
//     round-trips through Encode and Decode exactly.

// bpeClass is the character class a pre-token is built from.
type bpeClass uint8

const (
	bpeOther  bpeClass = iota // neither letter, number nor white space
	bpeLetter                 // \p{L}
	bpeNumber                 // \p{N}
	bpeSpace                  // \s (White_Space)
)

// bpeASCIIClass is the class of every ASCII byte.
var bpeASCIIClass = func() (t [utf8.RuneSelf]bpeClass) {
	for b := range t {
		t[b] = bpeRuneClass(rune(b))
	}
	return t
}()

// bpeRuneClass classifies one decoded character.
func bpeRuneClass(r rune) bpeClass {
	switch {
	case unicode.IsLetter(r):
		return bpeLetter
	case unicode.IsNumber(r):
		return bpeNumber
	case unicode.IsSpace(r):
		return bpeSpace
	}
	return bpeOther
}

// bpeCharAt returns the class and byte width of the character starting at
// s[i]; an invalid UTF-8 byte is a one-byte bpeOther character.
func bpeCharAt(s string, i int) (bpeClass, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return bpeASCIIClass[b], 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && w == 1 {
		return bpeOther, 1
	}
	return bpeRuneClass(r), w
}

// bpeRunEnd returns the end of the run of class c characters starting at i.
func bpeRunEnd(s string, i int, c bpeClass) int {
	for i < len(s) {
		ci, w := bpeCharAt(s, i)
		if ci != c {
			break
		}
		i += w
	}
	return i
}

// bpePretokenEnd returns the end of the GPT-2 pre-token that starts at s[i],
// for 0 <= i < len(s). The result is always greater than i.
func bpePretokenEnd(s string, i int) int {
	// 's|'t|'re|'ve|'m|'ll|'d
	if s[i] == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < len(s) && s[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < len(s) && s[i+2] == 'l' {
				return i + 3
			}
		}
	}
	c, w := bpeCharAt(s, i)
	// ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`: an ASCII space joins the run
	// that follows it when that run is not white space.
	if s[i] == ' ' && i+1 < len(s) {
		if cn, wn := bpeCharAt(s, i+1); cn != bpeSpace {
			return bpeRunEnd(s, i+1+wn, cn)
		}
	}
	if c != bpeSpace {
		return bpeRunEnd(s, i+w, c)
	}
	// `\s+(?!\S)|\s+`: here s[i] is white space and is not a space that
	// prefixes a word.
	last, j := i, i+w
	for j < len(s) {
		cj, wj := bpeCharAt(s, j)
		if cj != bpeSpace {
			break
		}
		last = j
		j += wj
	}
	if j == len(s) || last == i {
		return j // the run reaches the end, or is one character (\s+)
	}
	return last // leave the last white space to the next pre-token
}

// The LLaMA 3 pre-tokenizer (llama.cpp's "llama-bpe", Hugging Face's Split
// step of Meta's tokenizer.json) is the regular expression
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// and Qwen 2's (also Qwen 2.5 and 3) is the same with \p{N} in place of
// \p{N}{1,3}. llama3PretokenEnd implements both as GPT-2's is implemented
// above (same classes, same handling of invalid UTF-8), alternative by
// alternative:
//
//   - The contractions ignore case as Unicode simple case folding does (as
//     in Hugging Face's regex engine): 'S, 'rE, 'LL, and 'ſ (U+017F LONG S,
//     which folds to s).
//   - A letter run may take one character before it that is neither CR, LF,
//     a letter nor a number: a space, a tab, a punctuation mark ("(hello").
//   - Numbers come in groups of at most maxDigits characters from the left.
//   - A run of "other" characters, after an optional ASCII space, takes the
//     CR and LF characters that follow it.
//   - \s*[\r\n]+ takes a white-space run up to and including its last CR or
//     LF; a run without CR or LF falls to the \s+(?!\S)|\s+ alternatives
//     as in GPT-2.

// llama3PretokenEnd returns the end of the LLaMA 3 (maxDigits 3) or Qwen 2
// (maxDigits 1) pre-token that starts at s[i], for 0 <= i < len(s). The
// result is always greater than i.
func llama3PretokenEnd(s string, i, maxDigits int) int {
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if s[i] == '\'' {
		if n := contractionLen(s[i+1:]); n > 0 {
			return i + 1 + n
		}
	}
	c, w := bpeCharAt(s, i)
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c == bpeLetter {
		return bpeRunEnd(s, i+w, bpeLetter)
	}
	if c != bpeNumber && !isCRLF(s[i]) && i+w < len(s) {
		if cn, wn := bpeCharAt(s, i+w); cn == bpeLetter {
			return bpeRunEnd(s, i+w+wn, bpeLetter)
		}
	}
	// \p{N}{1,maxDigits}
	if c == bpeNumber {
		j := i + w
		for n := 1; n < maxDigits && j < len(s); n++ {
			cj, wj := bpeCharAt(s, j)
			if cj != bpeNumber {
				break
			}
			j += wj
		}
		return j
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	start := i
	if s[i] == ' ' && i+1 < len(s) {
		if cn, _ := bpeCharAt(s, i+1); cn == bpeOther {
			start, c = i+1, bpeOther
		}
	}
	if c == bpeOther {
		j := bpeRunEnd(s, start, bpeOther)
		for j < len(s) && isCRLF(s[j]) {
			j++
		}
		return j
	}
	// Here s[i] is white space. \s*[\r\n]+: the white-space run up to its
	// last CR or LF.
	last, lastNL, j := i, -1, i
	for j < len(s) {
		cj, wj := bpeCharAt(s, j)
		if cj != bpeSpace {
			break
		}
		if isCRLF(s[j]) {
			lastNL = j
		}
		last = j
		j += wj
	}
	if lastNL >= 0 {
		return lastNL + 1
	}
	// \s+(?!\S)|\s+
	if j == len(s) || last == i {
		return j
	}
	return last
}

func isCRLF(b byte) bool { return b == '\r' || b == '\n' }

// contractionLen returns the length of the contraction suffix ("s", "T",
// "re", "LL", ...) that s starts with, ignoring case, or 0 if none does.
func contractionLen(s string) int {
	if len(s) == 0 {
		return 0
	}
	switch s[0] | 0x20 { // ASCII lower case: only 'X' and 'x' map to 'x'
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if len(s) > 1 && s[1]|0x20 == 'e' {
			return 2
		}
	case 'l':
		if len(s) > 1 && s[1]|0x20 == 'l' {
			return 2
		}
	}
	if strings.HasPrefix(s, "ſ") { // U+017F folds to s
		return len("ſ")
	}
	return 0
}

// bpeByteToRune is GPT-2's bytes_to_unicode table: printable Latin-1 bytes
// ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves and the other 68 bytes,
// in increasing order, for U+0100, U+0101, ... (so ' ' is 'Ġ' and '\n' 'Ċ').
// Vocabulary strings are written in this alphabet.
var bpeByteToRune = func() (t [256]rune) {
	n := rune(0)
	for b := range 256 {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			t[b] = rune(b)
		} else {
			t[b] = 256 + n
			n++
		}
	}
	return t
}()

// bpeAlphabetSize is the number of runes the byte alphabet spans: U+0000..U+0143.
const bpeAlphabetSize = 256 + 68

// bpeRuneToByte inverts bpeByteToRune: the byte a rune of the alphabet
// stands for, or -1.
var bpeRuneToByte = func() (t [bpeAlphabetSize]int16) {
	for i := range t {
		t[i] = -1
	}
	for b, r := range bpeByteToRune {
		t[r] = int16(b)
	}
	return t
}()

// bpeAppendUnicodeBytes appends the bytes a vocabulary string stands for to
// out, and reports false if the string contains a character outside the
// byte alphabet (out is then partly extended).
func bpeAppendUnicodeBytes(out []byte, tok string) ([]byte, bool) {
	for _, r := range tok {
		if r < 0 || r >= bpeAlphabetSize || bpeRuneToByte[r] < 0 {
			return out, false
		}
		out = append(out, byte(bpeRuneToByte[r]))
	}
	return out, true
}
