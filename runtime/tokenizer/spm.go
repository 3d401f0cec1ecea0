package tokenizer

import (
	"fmt"
	"math"
)

// SentencePiece is a scored-BPE tokenizer with the semantics of llama2.c's
// run.c encode() and decode() (see /work/shared/models/FORMATS.md).
//
// Piece lookup: a piece string maps to its lowest id if the vocabulary holds
// it more than once. run.c binary-searches a sorted copy of the vocabulary,
// so which duplicate it finds is unspecified; the LLaMA and tok512
// vocabularies have no duplicates.
type SentencePiece struct {
	pieces []string         // (vocabSize,) id -> piece
	scores []float32        // (vocabSize,) id -> merge score
	ids    map[string]int32 // piece -> lowest id with that piece
	canon  []int32          // (vocabSize,) id -> lowest id with the same piece
	// merges maps a pair of canonical ids whose pieces concatenate to a
	// piece scoring above minMergeScore to that piece's lowest id. It is
	// built from the splits of every piece, so Encode never concatenates
	// or hashes strings while merging.
	merges map[uint64]int32
	bos    int
	eos    int
	space  int32 // id of " " (the dummy prefix), -1 if the vocabulary has none

	byteIDs [256]int32 // byte -> id of "<0xHH>", or 0 (unk) if absent
	charIDs [256]int32 // byte -> id of the one-byte piece, -1 if none

	// splitAtSpace is set when no piece holds a byte other than ' '
	// followed by ' '. Then no merge can join a token ending in a non-space
	// byte to a following token starting with ' ', so the text splits there
	// into segments that merge independently (see mergeAll).
	splitAtSpace bool

	rawBytes [256]byte // rawBytes[b] == b, backing store for byte pieces
	decoded  [][]byte  // (vocabSize,) id -> bytes Piece returns when prev is not BOS
}

// minMergeScore mirrors run.c's initial best score (-1e10 as a C float): a
// pair merges only if its piece scores strictly higher, so pieces scored at
// or below it, and NaN scores, never merge.
const minMergeScore float32 = -1e10

// unkID is the id used for a byte with no "<0xHH>" piece.
const unkID = 0

// NewSentencePiece builds a tokenizer from pieces and their scores (a higher
// score merges first). bos and eos are the ids Encode adds on request; bos
// is also the id after which Piece strips a leading space.
func NewSentencePiece(pieces []string, scores []float32, bos, eos int) (*SentencePiece, error) {
	n := len(pieces)
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: no pieces", ErrInvalidVocab)
	case n > math.MaxInt32:
		return nil, fmt.Errorf("%w: %d pieces exceed the int32 id range", ErrInvalidVocab, n)
	case len(scores) != n:
		return nil, fmt.Errorf("%w: %d pieces but %d scores", ErrInvalidVocab, n, len(scores))
	case bos < 0 || bos >= n:
		return nil, fmt.Errorf("%w: BOS id %d outside [0,%d)", ErrInvalidVocab, bos, n)
	case eos < 0 || eos >= n:
		return nil, fmt.Errorf("%w: EOS id %d outside [0,%d)", ErrInvalidVocab, eos, n)
	}
	t := &SentencePiece{
		pieces:  append([]string(nil), pieces...),
		scores:  append([]float32(nil), scores...),
		ids:     make(map[string]int32, n),
		bos:     bos,
		eos:     eos,
		decoded: make([][]byte, n),
	}
	total := 0
	t.splitAtSpace = true
	for id, p := range t.pieces {
		if _, dup := t.ids[p]; !dup {
			t.ids[p] = int32(id)
		}
		if hasSpaceAfterNonSpace(p) {
			t.splitAtSpace = false
		}
		total += len(p)
	}
	t.canon = make([]int32, n)
	for id, p := range t.pieces {
		t.canon[id] = t.ids[p]
	}
	t.buildMerges()
	t.space = -1
	if id, ok := t.ids[" "]; ok {
		t.space = id
	}
	for b := range 256 {
		t.rawBytes[b] = byte(b)
		t.byteIDs[b] = unkID
		t.charIDs[b] = -1
		if id, ok := t.ids[string([]byte{byte(b)})]; ok {
			t.charIDs[b] = id
		}
		if id, ok := t.ids[bytePieceName(byte(b))]; ok {
			t.byteIDs[b] = id
		}
	}
	// One backing array for every piece's bytes; slices are capped so that
	// a caller's append cannot overwrite the next piece.
	store := make([]byte, 0, total)
	for id, p := range t.pieces {
		if b, ok := parseBytePiece(p); ok {
			t.decoded[id] = t.rawByte(b)
			continue
		}
		start := len(store)
		store = append(store, p...)
		t.decoded[id] = store[start:len(store):len(store)]
	}
	return t, nil
}

// buildMerges fills t.merges: for every mergeable piece p and every split
// p = l + r into two pieces, (l, r) -> p. An empty piece e also makes
// (x, e) and (e, x) merge into x itself.
func (t *SentencePiece) buildMerges() {
	t.merges = make(map[uint64]int32)
	empty, hasEmpty := t.ids[""]
	for id, p := range t.pieces {
		if t.canon[id] != int32(id) || !(t.scores[id] > minMergeScore) {
			continue
		}
		for k := 1; k < len(p); k++ {
			l, okl := t.ids[p[:k]]
			r, okr := t.ids[p[k:]]
			if okl && okr {
				t.merges[pairKey(l, r)] = int32(id)
			}
		}
		if hasEmpty {
			t.merges[pairKey(int32(id), empty)] = int32(id)
			t.merges[pairKey(empty, int32(id))] = int32(id)
		}
	}
}

func pairKey(l, r int32) uint64 { return uint64(uint32(l))<<32 | uint64(uint32(r)) }

// VocabSize returns the number of pieces.
func (t *SentencePiece) VocabSize() int { return len(t.pieces) }

// BOS returns the beginning-of-sequence id.
func (t *SentencePiece) BOS() int { return t.bos }

// EOS returns the end-of-sequence id.
func (t *SentencePiece) EOS() int { return t.eos }

// Token returns the piece of id as stored in the vocabulary ("<0x0A>", not
// "\n"), or "" if id is out of range.
func (t *SentencePiece) Token(id int) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// Piece returns the bytes to print for token id following token prev, by
// run.c's decode(): after BOS one leading space is stripped, and a piece of
// the form "<0xHH>" gives the raw byte 0xHH (also 0x00, which run.c's C
// strings cannot print). It returns nil if id is out of range. The result
// points into t and must not be modified.
func (t *SentencePiece) Piece(prev, id int) []byte {
	if id < 0 || id >= len(t.pieces) {
		return nil
	}
	if prev == t.bos {
		if p := t.pieces[id]; len(p) > 0 && p[0] == ' ' {
			if b, ok := parseBytePiece(p[1:]); ok {
				return t.rawByte(b)
			}
			return t.decoded[id][1:]
		}
	}
	return t.decoded[id]
}

// SafePiece is Piece filtered like run.c's safe_printf: a piece of exactly
// one byte that is neither printable ASCII nor ASCII whitespace (for
// example one byte of a multi-byte character produced by byte fallback)
// gives an empty result. It returns nil if id is out of range.
func (t *SentencePiece) SafePiece(prev, id int) []byte {
	p := t.Piece(prev, id)
	if len(p) == 1 && !isPrintOrSpace(p[0]) {
		return p[:0]
	}
	return p
}

// rawByte returns the one-byte slice holding b, capped at its length.
func (t *SentencePiece) rawByte(b byte) []byte {
	i := int(b)
	return t.rawBytes[i : i+1 : i+1]
}

// isPrintOrSpace reports C's isprint(c) || isspace(c) in the "C" locale.
func isPrintOrSpace(c byte) bool {
	return (c >= 0x20 && c <= 0x7e) || (c >= '\t' && c <= '\r')
}

// Encode returns the token ids of text: BOS if addBOS; the dummy prefix (the
// piece " ") if text is not empty; then every UTF-8 codepoint as its piece,
// or its bytes as "<0xHH>" pieces if it has none; then, repeatedly, the
// adjacent pair whose concatenation is the highest-scoring piece is merged,
// the leftmost of equal scores first; finally EOS if addEOS.
//
// Like run.c, Encode groups bytes into "codepoints" without validating
// UTF-8: a group is any byte followed by up to three continuation bytes
// (10xxxxxx), so invalid sequences fall back to bytes. BOS takes part in the
// merges as in run.c (no real vocabulary has a piece that starts with the
// BOS piece). Unlike run.c, which stops at the C string's NUL, a NUL byte
// in text is encoded like any other byte; a vocabulary without a " " piece
// gets no dummy prefix (run.c would emit id -1), and a byte without a
// "<0xHH>" piece becomes unk (id 0) where run.c assumes id byte+3.
func (t *SentencePiece) Encode(text string, addBOS, addEOS bool) []int {
	toks := make([]int32, 0, len(text)+3)
	if addBOS {
		toks = append(toks, int32(t.bos))
	}
	if text != "" && t.space >= 0 {
		toks = append(toks, t.space)
	}
	for i := 0; i < len(text); {
		j := i + 1
		for j < len(text) && j-i < 4 && text[j]&0xC0 == 0x80 {
			j++
		}
		if j == i+1 && t.charIDs[text[i]] >= 0 {
			toks = append(toks, t.charIDs[text[i]])
		} else if id, ok := t.ids[text[i:j]]; ok {
			toks = append(toks, id)
		} else {
			for k := i; k < j; k++ {
				toks = append(toks, t.byteIDs[text[k]])
			}
		}
		i = j
	}
	toks = t.mergeAll(toks)
	out := make([]int, len(toks), len(toks)+1)
	for i, id := range toks {
		out[i] = int(id)
	}
	if addEOS {
		out = append(out, t.eos)
	}
	return out
}

// mergeCandidate is an adjacent pair of nodes whose pieces concatenate to
// piece id. It is stale once either node has changed or died, which the
// recorded tokens detect.
type mergeCandidate struct {
	score       float32
	left, right int32 // node indices; left < right, so left orders by position
	leftTok     int32
	rightTok    int32
	id          int32
}

// before reports whether c merges before d: higher score, then leftmost.
func (c *mergeCandidate) before(d *mergeCandidate) bool {
	return c.score > d.score || (c.score == d.score && c.left < d.left)
}

// mergeScratch holds the buffers of one Encode call, reused across
// segments.
type mergeScratch struct {
	prev, next []int32 // node -> previous/next live node, -1 past the ends
	heap       []mergeCandidate
}

// mergeAll applies the BPE merges to toks in place and returns the
// shortened slice. With splitAtSpace, a boundary between a token whose
// piece ends in a byte other than ' ' and a token whose piece starts with
// ' ' can never be crossed by a merge (a merged piece would contain that
// byte followed by ' '), and merges on the two sides commute, so each
// segment is merged on its own: small heaps that stay in cache.
func (t *SentencePiece) mergeAll(toks []int32) []int32 {
	var s mergeScratch
	if !t.splitAtSpace {
		return t.merge(toks, &s)
	}
	out, start := 0, 0
	for k := 1; k <= len(toks); k++ {
		if k < len(toks) && !t.boundary(toks[k-1], toks[k]) {
			continue
		}
		// Positions below k may be overwritten; later checks read only >= k.
		out += copy(toks[out:], t.merge(toks[start:k], &s))
		start = k
	}
	return toks[:out]
}

// boundary reports whether no merge can join token a to the following
// token b (valid only with splitAtSpace).
func (t *SentencePiece) boundary(a, b int32) bool {
	pa, pb := t.pieces[a], t.pieces[b]
	return len(pa) > 0 && pa[len(pa)-1] != ' ' && len(pb) > 0 && pb[0] == ' '
}

// merge applies the BPE merges to one segment in place and returns the
// shortened slice. It keeps the tokens in a doubly linked list and the
// candidate pairs in a binary heap, so it costs O(n log n) instead of
// run.c's O(n²) rescans, and picks the same pair at every step: the highest
// score, the leftmost of equal scores.
func (t *SentencePiece) merge(toks []int32, s *mergeScratch) []int32 {
	n := len(toks)
	if n < 2 {
		return toks
	}
	if cap(s.prev) < n {
		s.prev = make([]int32, n, 2*n)
		s.next = make([]int32, n, 2*n)
	}
	prev, next := s.prev[:n], s.next[:n]
	for i := range n {
		prev[i] = int32(i - 1)
		next[i] = int32(i + 1)
	}
	next[n-1] = -1

	heap := s.heap[:0]
	// push adds the pair (l, r) if its concatenation is a mergeable piece.
	push := func(heap []mergeCandidate, l, r int32) []mergeCandidate {
		a, b := toks[l], toks[r]
		id, ok := t.merges[pairKey(t.canon[a], t.canon[b])]
		if !ok {
			return heap
		}
		heap = append(heap, mergeCandidate{score: t.scores[id], left: l, right: r, leftTok: a, rightTok: b, id: id})
		siftUp(heap, len(heap)-1)
		return heap
	}
	for i := 0; i+1 < n; i++ {
		heap = push(heap, int32(i), int32(i+1))
	}
	for len(heap) > 0 {
		c := heap[0]
		last := len(heap) - 1
		heap[0] = heap[last]
		heap = heap[:last]
		if last > 0 {
			siftDown(heap, 0)
		}
		if toks[c.left] != c.leftTok || toks[c.right] != c.rightTok || next[c.left] != c.right {
			continue // stale: a neighbour merged since this pair was pushed
		}
		toks[c.left] = c.id
		toks[c.right] = -1
		nr := next[c.right]
		next[c.left] = nr
		if nr >= 0 {
			prev[nr] = c.left
		}
		if p := prev[c.left]; p >= 0 {
			heap = push(heap, p, c.left)
		}
		if nr >= 0 {
			heap = push(heap, c.left, nr)
		}
	}
	s.heap = heap
	// Node 0 is never a right node, so it is alive and heads the list.
	out := toks[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, toks[i])
	}
	return out
}

func siftUp(h []mergeCandidate, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(&h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func siftDown(h []mergeCandidate, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		best := l
		if r := l + 1; r < n && h[r].before(&h[l]) {
			best = r
		}
		if !h[best].before(&h[i]) {
			return
		}
		h[i], h[best] = h[best], h[i]
		i = best
	}
}

// hasSpaceAfterNonSpace reports whether p holds a byte other than ' '
// directly followed by ' '.
func hasSpaceAfterNonSpace(p string) bool {
	for i := 1; i < len(p); i++ {
		if p[i] == ' ' && p[i-1] != ' ' {
			return true
		}
	}
	return false
}

const hexDigits = "0123456789ABCDEF"

// bytePieceName returns the byte-fallback piece of b, "<0xHH>".
func bytePieceName(b byte) string {
	return string([]byte{'<', '0', 'x', hexDigits[b>>4], hexDigits[b&15], '>'})
}

// parseBytePiece reports whether p is a byte-fallback piece "<0xHH>" (hex
// digits of either case) and returns its byte. run.c's sscanf pattern also
// accepts some malformed variants; real vocabularies contain none.
func parseBytePiece(p string) (byte, bool) {
	if len(p) != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexValue(p[3])
	lo, ok2 := hexValue(p[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexValue(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
