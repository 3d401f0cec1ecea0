package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

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

// bpeRuneToByte inverts bpeByteToRune; its domain is U+0000..U+0143.
var bpeRuneToByte = func() map[rune]byte {
	m := make(map[rune]byte, 256)
	for b, r := range bpeByteToRune {
		m[r] = byte(b)
	}
	return m
}()

// bpeUnicodeToBytes returns the bytes a vocabulary string stands for, and
// false if it contains a character outside the byte alphabet.
func bpeUnicodeToBytes(tok string) ([]byte, bool) {
	out := make([]byte, 0, len(tok))
	for _, r := range tok {
		b, ok := bpeRuneToByte[r]
		if !ok {
			return nil, false
		}
		out = append(out, b)
	}
	return out, true
}
