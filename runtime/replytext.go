package runtime

import (
	"bytes"
	"unicode/utf8"
)

// replyText turns the pieces of generated tokens into the text of a reply.
// It holds back the bytes that may begin a stop text, and those of a
// character whose UTF-8 encoding is split across tokens (byte-fallback
// pieces), so that what it returns is final and, where the model's output
// is valid UTF-8, whole characters. It ends the reply at the first stop
// text, which is not part of it.
type replyText struct {
	stops []string
	held  []byte
}

// add appends piece and returns the text that is now certain. stopped is
// true when a stop text was completed: text is then everything before it.
func (r *replyText) add(piece []byte) (text string, stopped bool) {
	r.held = append(r.held, piece...)
	cut := -1
	for _, s := range r.stops {
		if i := bytes.Index(r.held, []byte(s)); i >= 0 && s != "" && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut >= 0 {
		text = string(r.held[:cut])
		r.held = r.held[:0]
		return text, true
	}
	keep := max(r.partialStop(), partialRune(r.held))
	n := len(r.held) - keep
	text = string(r.held[:n])
	r.held = append(r.held[:0], r.held[n:]...)
	return text, false
}

// flush returns what is held back, at the end of a reply.
func (r *replyText) flush() string {
	text := string(r.held)
	r.held = r.held[:0]
	return text
}

// partialStop is the length of the longest end of the held bytes that is
// the beginning of a stop text.
func (r *replyText) partialStop() int {
	best := 0
	for _, s := range r.stops {
		for k := min(len(s)-1, len(r.held)); k > best; k-- {
			if bytes.HasSuffix(r.held, []byte(s[:k])) {
				best = k
				break
			}
		}
	}
	return best
}

// partialRune is the number of bytes at the end of b that begin a UTF-8
// character without completing it.
func partialRune(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		c := b[i]
		if c < utf8.RuneSelf {
			return 0
		}
		if utf8.RuneStart(c) {
			if utf8.FullRune(b[i:]) {
				return 0
			}
			return len(b) - i
		}
	}
	return 0
}
