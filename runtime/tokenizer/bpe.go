package tokenizer

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// BPE is GPT-2's byte-level byte-pair-encoding tokenizer, also used by
// LLaMA 3, Qwen 2/2.5/3 and SmolLM: text is split into pre-tokens (by the
// family's pre-tokenizer, see bpe_pretokenize.go), each pre-token's UTF-8
// bytes become one symbol per byte, and adjacent symbols are merged, lowest
// merge rank first, until no listed merge applies. Encode adds no BOS or EOS,
// and special tokens in the text ("<|endoftext|>") are ordinary text (like
// tiktoken's encode_ordinary; Tokenizer matches them), so Decode(Encode(s))
// == s for every s whose bytes all have tokens, including invalid UTF-8.
//
// A BPE is safe for concurrent use.
type BPE struct {
	tokens     []string            // id -> vocabulary string in GPT-2's byte alphabet
	tokenBytes [][]byte            // id -> the bytes the token stands for
	byteID     [256]int32          // byte -> id of its one-byte token, or -1
	merges     map[uint64]bpeMerge // (left id, right id) -> merge
	eot        int                 // id of "<|endoftext|>", or -1
	unk        int                 // id of "<unk>", or -1; stands for bytes without a token
	pre        Pretokenizer        // how text is split before merging
	// ids maps a vocabulary string to its token, kept when merges are
	// ignored for pre-tokens that are tokens (BPEConfig.IgnoreMerges): the
	// pre-token, written in the byte alphabet, is looked up. nil otherwise.
	ids map[string]int32
	// regular reports whether a token is a normal or byte token, not an
	// added one (those are matched before pre-tokenizing, if at all).
	regular func(id int32) bool

	cacheMu sync.Mutex
	cache   map[string][]int32 // pre-token -> ids, at most bpeCacheEntries entries
}

// bpeMerge is one merge rule: the rank orders merges (lower first), id is the
// token the pair becomes.
type bpeMerge struct {
	rank int32
	id   int32
}

const (
	bpeCacheEntries  = 1 << 15 // the cache is cleared when it reaches this size
	bpeCacheMaxBytes = 64      // longer pre-tokens are not cached
	bpeShortWord     = 16      // pre-tokens of at most this many bytes use the plain scan
	bpeEndOfText     = "<|endoftext|>"
	bpeUnknown       = "<unk>"
)

// BPEError reports an invalid vocabulary or merge list.
type BPEError struct {
	What  string // "vocab" or "merges"
	Index int    // token id or merge rank (0-based) the error is about; -1 if none
	Item  string // the token or merge line, if any
	Msg   string
}

func (e *BPEError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("bpe: %s: %s", e.What, e.Msg)
	}
	kind := "token"
	if e.What == "merges" {
		kind = "merge"
	}
	return fmt.Sprintf("bpe: %s: %s %d %q: %s", e.What, kind, e.Index, e.Item, e.Msg)
}

// BPEConfig holds the settings of a byte-level BPE beyond its vocabulary and
// merges. The zero value is GPT-2's.
type BPEConfig struct {
	Pretokenizer Pretokenizer
	// IgnoreMerges makes a pre-token that is itself a token encode as that
	// token without merging (Hugging Face's ignore_merges, set for LLaMA 3,
	// as llama.cpp does for its llama-bpe pre-tokenizer).
	IgnoreMerges bool
	// Types are the token types by id (TypeNormal, TypeControl, ...), or
	// nil. Control and user-defined tokens are added tokens: they stand for
	// their text as written, not for GPT-2 byte-alphabet characters. Without
	// types, a token stands for its text when it is not in the alphabet.
	Types []int32
}

// NewBPE builds a GPT-2 byte-level BPE tokenizer from its vocabulary (token
// strings in GPT-2's byte-to-unicode alphabet, index = id) and its
// rank-ordered merges ("a b" per entry, rank = index). Every merge's two parts
// and their concatenation must be tokens. A vocabulary that lacks the token of
// some byte must have "<unk>", which Encode emits for such bytes.
func NewBPE(tokens []string, merges []string) (*BPE, error) {
	return NewBPEConfig(tokens, merges, BPEConfig{})
}

// NewBPEConfig is NewBPE with a pre-tokenizer and settings other than
// GPT-2's.
func NewBPEConfig(tokens []string, merges []string, c BPEConfig) (*BPE, error) {
	if len(tokens) == 0 {
		return nil, &BPEError{What: "vocab", Index: -1, Msg: "empty vocabulary"}
	}
	if len(tokens) > math.MaxInt32 {
		return nil, &BPEError{What: "vocab", Index: -1, Msg: "too many tokens"}
	}
	if len(merges) > math.MaxInt32 {
		return nil, &BPEError{What: "merges", Index: -1, Msg: "too many merges"}
	}
	if c.Types != nil && len(c.Types) != len(tokens) {
		return nil, &BPEError{What: "vocab", Index: -1, Msg: fmt.Sprintf("%d token types for %d tokens", len(c.Types), len(tokens))}
	}
	if !c.Pretokenizer.valid() {
		return nil, &BPEError{What: "vocab", Index: -1, Msg: fmt.Sprintf("unknown pre-tokenizer %d", c.Pretokenizer)}
	}
	t := &BPE{
		tokens:     slices.Clone(tokens),
		tokenBytes: make([][]byte, len(tokens)),
		merges:     make(map[uint64]bpeMerge, len(merges)),
		eot:        -1,
		unk:        -1,
		pre:        c.Pretokenizer,
		cache:      make(map[string][]int32),
	}
	ids := make(map[string]int32, len(tokens))
	size := 0
	for _, tok := range tokens {
		size += len(tok)
	}
	all := make([]byte, 0, size) // the bytes of every token, back to back
	for id, tok := range tokens {
		ids[tok] = int32(id) // duplicates are found below, off the fast path
		start := len(all)
		added := c.Types != nil && (c.Types[id] == TypeControl || c.Types[id] == TypeUserDefined)
		var ok bool
		if !added {
			all, ok = bpeAppendUnicodeBytes(all, tok)
		}
		if !ok {
			// Added tokens, and tokens outside the byte alphabet, decode as
			// their UTF-8.
			all = append(all[:start], tok...)
		}
		t.tokenBytes[id] = all[start:len(all):len(all)]
	}
	if len(ids) != len(tokens) {
		first := make(map[string]int, len(tokens))
		for id, tok := range tokens {
			if prev, dup := first[tok]; dup {
				return nil, &BPEError{What: "vocab", Index: id, Item: tok, Msg: fmt.Sprintf("duplicate of token %d", prev)}
			}
			first[tok] = id
		}
	}
	for b, r := range bpeByteToRune {
		t.byteID[b] = -1
		if id, ok := ids[string(r)]; ok {
			t.byteID[b] = id
		}
	}
	if id, ok := ids[bpeEndOfText]; ok {
		t.eot = int(id)
	}
	if id, ok := ids[bpeUnknown]; ok {
		t.unk = int(id)
	}
	if t.unk < 0 {
		for b, id := range t.byteID {
			if id < 0 {
				return nil, &BPEError{What: "vocab", Index: -1, Msg: fmt.Sprintf("no token for byte 0x%02x and no %s token", b, bpeUnknown)}
			}
		}
	}
	var joined []byte
	mid := int32(-1)
	for rank, m := range merges {
		left, right, ok := strings.Cut(m, " ")
		if !ok || left == "" || right == "" || strings.Contains(right, " ") {
			return nil, &BPEError{What: "merges", Index: rank, Item: m, Msg: `want two tokens separated by one space`}
		}
		lid, ok := ids[left]
		if !ok {
			return nil, &BPEError{What: "merges", Index: rank, Item: m, Msg: fmt.Sprintf("unknown token %q", left)}
		}
		rid, ok := ids[right]
		if !ok {
			return nil, &BPEError{What: "merges", Index: rank, Item: m, Msg: fmt.Sprintf("unknown token %q", right)}
		}
		// Vocabularies number the tokens merges make in merge order, so
		// the result is often the token after the previous result (always
		// in Qwen's, for half the merges in LLaMA 3's): a comparison
		// instead of a lookup.
		if next := int(mid) + 1; next < len(tokens) && len(tokens[next]) == len(left)+len(right) &&
			strings.HasPrefix(tokens[next], left) && strings.HasSuffix(tokens[next], right) {
			mid = int32(next)
		} else {
			joined = append(append(joined[:0], left...), right...)
			if mid, ok = ids[string(joined)]; !ok { // no allocation: the compiler looks up the bytes
				return nil, &BPEError{What: "merges", Index: rank, Item: m, Msg: fmt.Sprintf("result %q is not a token", joined)}
			}
		}
		t.merges[bpePairKey(lid, rid)] = bpeMerge{rank: int32(rank), id: mid}
	}
	if len(t.merges) != len(merges) {
		// Some pair is listed twice: name the second listing.
		seen := make(map[uint64]int, len(merges))
		for rank, m := range merges {
			left, right, _ := strings.Cut(m, " ")
			key := bpePairKey(ids[left], ids[right])
			if prev, dup := seen[key]; dup {
				return nil, &BPEError{What: "merges", Index: rank, Item: m, Msg: fmt.Sprintf("duplicate of merge %d", prev)}
			}
			seen[key] = rank
		}
	}
	if c.IgnoreMerges {
		t.ids = ids
		t.regular = func(id int32) bool {
			return c.Types == nil || c.Types[id] == TypeNormal || c.Types[id] == TypeByte
		}
	}
	return t, nil
}

func bpePairKey(left, right int32) uint64 { return uint64(uint32(left))<<32 | uint64(uint32(right)) }

// VocabSize returns the number of tokens.
func (t *BPE) VocabSize() int { return len(t.tokens) }

// Token returns the vocabulary string of id (in GPT-2's byte alphabet), or ""
// if id is out of range.
func (t *BPE) Token(id int) string {
	if id < 0 || id >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// TokenBytes returns the bytes token id stands for, or nil if id is out of
// range. The caller must not modify the result.
func (t *BPE) TokenBytes(id int) []byte {
	if id < 0 || id >= len(t.tokenBytes) {
		return nil
	}
	return t.tokenBytes[id]
}

// EOT returns the id of "<|endoftext|>", or -1 if the vocabulary has none.
func (t *BPE) EOT() int { return t.eot }

// Decode returns the bytes of ids concatenated. Out-of-range ids contribute
// nothing.
func (t *BPE) Decode(ids []int) []byte {
	n := 0
	for _, id := range ids {
		n += len(t.TokenBytes(id))
	}
	out := make([]byte, 0, n)
	for _, id := range ids {
		out = append(out, t.TokenBytes(id)...)
	}
	return out
}

// Encode returns the token ids of text.
func (t *BPE) Encode(text string) []int {
	var scratch bpeScratch
	return t.appendEncode(make([]int, 0, len(text)/4+1), text, &scratch)
}

// appendEncode appends the ids of text to ids.
func (t *BPE) appendEncode(ids []int, text string, scratch *bpeScratch) []int {
	it := pretokens{pre: t.pre, text: text}
	for {
		piece, ok := it.next()
		if !ok {
			return ids
		}
		ids = t.appendPiece(ids, piece, scratch)
	}
}

// bpeScratch holds the buffers one Encode call reuses across pre-tokens.
type bpeScratch struct {
	word []byte // a pre-token in the byte alphabet
	ids  []int32
	syms []bpeSymbol
	heap []bpeCandidate
}

// appendPiece appends the ids of one pre-token.
func (t *BPE) appendPiece(out []int, piece string, s *bpeScratch) []int {
	cacheable := len(piece) <= bpeCacheMaxBytes
	if cacheable {
		t.cacheMu.Lock()
		ids, ok := t.cache[piece]
		t.cacheMu.Unlock()
		if ok {
			for _, id := range ids {
				out = append(out, int(id))
			}
			return out
		}
	}
	ids := s.ids[:0]
	if id, ok := t.wholeToken(piece, s); ok {
		ids = append(ids, id)
	} else {
		for i := 0; i < len(piece); i++ {
			ids = append(ids, t.byteID[piece[i]])
		}
		if len(ids) <= bpeShortWord {
			ids = t.mergeScan(ids)
		} else {
			ids = t.mergeHeap(ids, s)
		}
	}
	s.ids = ids
	for i, id := range ids {
		if id < 0 {
			ids[i] = int32(t.unk)
		}
		out = append(out, int(ids[i]))
	}
	if cacheable {
		t.cacheMu.Lock()
		if len(t.cache) >= bpeCacheEntries {
			clear(t.cache)
		}
		t.cache[strings.Clone(piece)] = append([]int32(nil), ids...)
		t.cacheMu.Unlock()
	}
	return out
}

// wholeToken returns the token a pre-token is, if merges are ignored for
// such pre-tokens (BPEConfig.IgnoreMerges) and it is a regular token.
func (t *BPE) wholeToken(piece string, s *bpeScratch) (int32, bool) {
	if t.ids == nil {
		return 0, false
	}
	word := s.word[:0]
	for i := 0; i < len(piece); i++ {
		word = utf8.AppendRune(word, bpeByteToRune[piece[i]])
	}
	s.word = word
	id, ok := t.ids[string(word)]
	return id, ok && t.regular(id)
}

// mergeScan is the reference merge loop: while some adjacent pair has a
// merge, replace the leftmost pair of lowest rank by its merged token.
// Symbols with id -1 (bytes without a token) never merge. It is quadratic in
// len(ids) and used for short pre-tokens.
func (t *BPE) mergeScan(ids []int32) []int32 {
	for len(ids) > 1 {
		best, bestRank, bestID := -1, int32(math.MaxInt32), int32(0)
		for i := 0; i+1 < len(ids); i++ {
			if ids[i] < 0 || ids[i+1] < 0 {
				continue
			}
			if m, ok := t.merges[bpePairKey(ids[i], ids[i+1])]; ok && m.rank < bestRank {
				best, bestRank, bestID = i, m.rank, m.id
			}
		}
		if best < 0 {
			break
		}
		ids[best] = bestID
		ids = append(ids[:best+1], ids[best+2:]...)
	}
	return ids
}

// bpeSymbol is one symbol of a pre-token in mergeHeap's linked list.
type bpeSymbol struct {
	id         int32 // token id, or -1 for a byte without a token
	prev, next int32 // neighbouring symbol indices, -1 at the ends
}

// bpeCandidate is a possible merge of symbols pos and its next neighbour,
// valid while their ids are still left and right.
type bpeCandidate struct {
	rank, pos   int32
	left, right int32
	id          int32 // merged token
}

func bpeLess(a, b bpeCandidate) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

// mergeHeap computes the same result as mergeScan in O(n log n): candidate
// merges wait in a min-heap ordered by (rank, position), symbols form a
// doubly linked list, and candidates whose symbols have changed since they
// were pushed are skipped when popped. Symbol positions keep their order, so
// ties on rank go to the leftmost pair as in mergeScan.
func (t *BPE) mergeHeap(ids []int32, s *bpeScratch) []int32 {
	n := len(ids)
	if n < 2 {
		return ids
	}
	syms := s.syms[:0]
	for i, id := range ids {
		syms = append(syms, bpeSymbol{id: id, prev: int32(i - 1), next: int32(i + 1)})
	}
	syms[n-1].next = -1
	h := s.heap[:0]
	push := func(pos int32) {
		next := syms[pos].next
		if next < 0 {
			return
		}
		l, r := syms[pos].id, syms[next].id
		if l < 0 || r < 0 {
			return
		}
		m, ok := t.merges[bpePairKey(l, r)]
		if !ok {
			return
		}
		h = append(h, bpeCandidate{rank: m.rank, pos: pos, left: l, right: r, id: m.id})
		for i := len(h) - 1; i > 0; { // sift up
			p := (i - 1) / 2
			if !bpeLess(h[i], h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	for i := range n - 1 {
		push(int32(i))
	}
	for len(h) > 0 {
		c := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		for i := 0; ; { // sift down
			l, small := 2*i+1, i
			if l < len(h) && bpeLess(h[l], h[small]) {
				small = l
			}
			if r := l + 1; r < len(h) && bpeLess(h[r], h[small]) {
				small = r
			}
			if small == i {
				break
			}
			h[i], h[small] = h[small], h[i]
			i = small
		}
		sym := &syms[c.pos]
		if sym.id != c.left || sym.next < 0 || syms[sym.next].id != c.right {
			continue // stale: a neighbour was merged away or changed
		}
		// Merge pos with its next symbol; the next symbol leaves the list.
		gone := sym.next
		sym.id = c.id
		sym.next = syms[gone].next
		if sym.next >= 0 {
			syms[sym.next].prev = c.pos
		}
		syms[gone].id = -2 // dead; no candidate names -2
		if sym.prev >= 0 {
			push(sym.prev)
		}
		push(c.pos)
	}
	ids = ids[:0]
	for i := int32(0); i >= 0; i = syms[i].next {
		ids = append(ids, syms[i].id)
	}
	s.syms, s.heap = syms, h
	return ids
}
