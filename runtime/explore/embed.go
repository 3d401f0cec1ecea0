package explore

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/simd"
)

// This file holds the tools that look inside a model rather than run it:
// the token embedding matrix as a vector space (nearest entries, analogies,
// directions), the hidden state of every position of a text, and the
// next-token distribution at several temperatures.

// Errors of the embedding tools, wrapped with the word or value at fault.
var (
	// ErrUnknownWord: a word encodes to nothing, to the unknown token or to
	// byte-fallback pieces, so the vocabulary has no entry for it.
	ErrUnknownWord = errors.New("not in the vocabulary")
	// ErrCount: a number of results is below 1 or above the vocabulary size.
	ErrCount = errors.New("number of results out of range")
)

// Metric is how a vocabulary entry is scored against a query vector.
type Metric int

const (
	Cosine Metric = iota // dot(row, q) / (|row| |q|); 0 for a zero vector
	Dot                  // dot(row, q)
)

// String returns "cosine" or "dot".
func (mt Metric) String() string {
	if mt == Dot {
		return "dot"
	}
	return "cosine"
}

// ParseMetric accepts "cosine" and "dot".
func ParseMetric(s string) (Metric, error) {
	switch s {
	case "cosine":
		return Cosine, nil
	case "dot":
		return Dot, nil
	}
	return 0, fmt.Errorf("unknown metric %q (want cosine or dot)", s)
}

// TokenScore is a vocabulary entry with its score.
type TokenScore struct {
	ID    int
	Score float32
}

// Word is a word as the embedding tools see it: the tokens it encodes to
// and the mean of their embedding rows.
type Word struct {
	Text   string
	IDs    []int     // the tokens used, in order
	Vector []float32 // (dim,) mean of the tokens' embeddings
}

// Embeddings looks at a model's token embedding matrix (vocab, dim) as a
// vector space. Every scan over the vocabulary is one matrix-vector product
// with the generation kernels on the matrix as stored in the mapping, on the
// model's worker pool: an Embeddings must not be used while the same model
// runs Forward on another goroutine, nor by two goroutines at once.
type Embeddings struct {
	matrix      quant.Matrix                                      // (vocab, dim) the token embedding, as stored
	mul         func(out []float32, m quant.Matrix, v *quant.Vec) // out = m @ v, on the model's pool
	guard       func(f func()) error                              // runs f, a fault on the mapping becoming an error
	prefixSpace bool                                              // words get a leading space (byte-level BPE has no dummy prefix)
	tokenizer   runtime.Tokenizer

	norms  []float32  // (vocab,) row norms, computed on the first cosine scan
	scores []float32  // (vocab,) scratch: one score per entry
	row    []float32  // (dim,) scratch: one dequantised row
	query  []float32  // (dim,) scratch: the query vector being scanned
	vec    *quant.Vec // the query, prepared for the matrix type
	vocab  *axes      // the principal axes of the vocabulary, computed on the first BasisVocab map
}

// NewEmbeddings returns the embedding-space tools of m. It allocates
// scratch of a few vocabulary-sized float vectors, never a copy of the
// matrix. An Embeddings is used by one goroutine at a time; several may
// share a model.
func NewEmbeddings(m *runtime.Model) *Embeddings {
	e := newEmbeddings(m.Weights.TokenEmbedding, m.MatVec, m.Guard)
	e.tokenizer = m.Tokenizer
	if f := m.File(); f != nil {
		if kind, err := f.Meta.String(format.KeyTokenizerKind); err == nil && kind == format.TokenizerGPT2 {
			e.prefixSpace = true
		}
	}
	return e
}

func newEmbeddings(mat quant.Matrix, mul func([]float32, quant.Matrix, *quant.Vec), guard func(func()) error) *Embeddings {
	return &Embeddings{
		matrix: mat,
		mul:    mul,
		guard:  guard,
		scores: make([]float32, mat.Rows),
		row:    make([]float32, mat.Cols),
		query:  make([]float32, mat.Cols),
		vec:    quant.NewVec(mat.Cols),
	}
}

// Dim is the width of an embedding vector.
func (e *Embeddings) Dim() int { return e.matrix.Cols }

// VocabSize is the number of embedding rows.
func (e *Embeddings) VocabSize() int { return e.matrix.Rows }

// Vector returns a copy of token id's embedding row, dequantised.
func (e *Embeddings) Vector(id int) (v []float32, err error) {
	if id < 0 || id >= e.matrix.Rows {
		return nil, fmt.Errorf("token %d is outside the vocabulary (0..%d)", id, e.matrix.Rows-1)
	}
	v = make([]float32, e.matrix.Cols)
	if err := e.guard(func() { e.matrix.Row(id, v) }); err != nil {
		return nil, err
	}
	return v, nil
}

// Tokens returns the tokens of word, encoded without BOS as the word reads
// mid-text: a SentencePiece tokenizer adds its dummy-prefix space, so "cat"
// finds the piece " cat"; for byte-level BPE a space is put in front. A
// leading space that stays a token of its own is dropped when other tokens
// follow. A word that encodes to nothing, to the unknown token or to
// byte-fallback pieces gets an error wrapping ErrUnknownWord.
func (e *Embeddings) Tokens(word string) ([]int, error) {
	tok := e.tokenizer
	if strings.TrimSpace(word) == "" {
		return nil, fmt.Errorf("word %q is empty: %w", word, ErrUnknownWord)
	}
	text := word
	if e.prefixSpace && !strings.HasPrefix(word, " ") {
		text = " " + word
	}
	ids := tok.Encode(text, false)
	if len(ids) > 1 && tok.Token(ids[0]) == " " && !strings.HasPrefix(word, " ") {
		ids = ids[1:]
	}
	var bad []string
	for _, id := range ids {
		p := tok.Token(id)
		if p == "<unk>" || isBytePiece(p) {
			bad = append(bad, p)
		}
	}
	switch {
	case len(ids) == 0:
		return nil, fmt.Errorf("word %q is %w: it encodes to no tokens", word, ErrUnknownWord)
	case len(bad) > 0:
		return nil, fmt.Errorf("word %q is %w: it falls back to %s", word, ErrUnknownWord, strings.Join(bad, " "))
	}
	return ids, nil
}

// isBytePiece reports whether p is a byte-fallback piece "<0xHH>".
func isBytePiece(p string) bool {
	return len(p) == 6 && strings.HasPrefix(p, "<0x") && p[5] == '>'
}

// Word encodes word (see Tokens) and returns its tokens and the mean of
// their embedding rows.
func (e *Embeddings) Word(word string) (w Word, err error) {
	ids, err := e.Tokens(word)
	if err != nil {
		return Word{}, err
	}
	v := make([]float32, e.matrix.Cols)
	err = e.guard(func() {
		for _, id := range ids {
			e.matrix.Row(id, e.row)
			simd.Add(v, e.row)
		}
	})
	if err != nil {
		return Word{}, err
	}
	simd.Scale(v, 1/float32(len(ids)))
	return Word{Text: word, IDs: ids, Vector: v}, nil
}

// Norms returns the Euclidean norm of every embedding row (vocab,),
// computed once by dequantising the rows one at a time into a scratch row,
// and cached. The slice belongs to e.
func (e *Embeddings) Norms() (norms []float32, err error) {
	if e.norms != nil {
		return e.norms, nil
	}
	n := make([]float32, e.matrix.Rows)
	err = e.guard(func() {
		for r := range n {
			e.matrix.Row(r, e.row)
			n[r] = float32(math.Sqrt(float64(simd.Dot(e.row, e.row))))
		}
	})
	if err != nil {
		return nil, err
	}
	e.norms = n
	return n, nil
}

// Scores computes the score of every vocabulary entry against q (dim,)
// into the returned slice (vocab,), which is valid until the next call.
// The dot products are one matrix-vector product over the stored matrix.
func (e *Embeddings) Scores(q []float32, metric Metric) (scores []float32, err error) {
	if len(q) != e.matrix.Cols {
		return nil, fmt.Errorf("query has %d elements, the embeddings %d", len(q), e.matrix.Cols)
	}
	var norms []float32
	if metric == Cosine {
		if norms, err = e.Norms(); err != nil {
			return nil, err
		}
	}
	copy(e.query, q) // the prepared Vec refers to it, not to the caller's slice
	e.vec.Set(e.query, e.matrix.Type)
	// scores (vocab,) = E (vocab, dim) @ q (dim,)
	if err := e.guard(func() { e.mul(e.scores, e.matrix, e.vec) }); err != nil {
		return nil, err
	}
	if metric == Cosine {
		qn := float32(math.Sqrt(float64(simd.Dot(q, q))))
		for i, n := range norms {
			if d := n * qn; d > 0 {
				e.scores[i] /= d
			} else {
				e.scores[i] = 0
			}
		}
	}
	return e.scores, nil
}

// Nearest returns the k vocabulary entries that score highest against q,
// best first (the lower id first on equal scores), leaving out the ids in
// exclude. k must be between 1 and the vocabulary size; fewer than k
// entries come back only when exclusions leave fewer.
func (e *Embeddings) Nearest(q []float32, k int, metric Metric, exclude ...int) ([]TokenScore, error) {
	if k < 1 || k > e.matrix.Rows {
		return nil, fmt.Errorf("%w: k = %d, the vocabulary has %d tokens", ErrCount, k, e.matrix.Rows)
	}
	scores, err := e.Scores(q, metric)
	if err != nil {
		return nil, err
	}
	return TopK(scores, k, exclude...), nil
}

// Analogy returns the k entries nearest under metric to b - a + c (king -
// man + woman), leaving out the tokens of a, b and c, and the three words.
func (e *Embeddings) Analogy(a, b, c string, k int, metric Metric) ([]TokenScore, [3]Word, error) {
	var ws [3]Word
	for i, s := range [3]string{a, b, c} {
		w, err := e.Word(s)
		if err != nil {
			return nil, ws, err
		}
		ws[i] = w
	}
	// q = b - a + c
	q := slices.Clone(ws[1].Vector)
	for i := range q {
		q[i] += ws[2].Vector[i] - ws[0].Vector[i]
	}
	var exclude []int
	for _, w := range ws {
		exclude = append(exclude, w.IDs...)
	}
	res, err := e.Nearest(q, k, metric, exclude...)
	return res, ws, err
}

// Projection is a word's position along a direction.
type Projection struct {
	Word   Word
	Dot    float32 // dot(word, to - from)
	Cosine float32 // cosine of the angle between word and to - from
}

// Direction returns dot(word, to - from) for each of words, largest first
// (ties keep the order given), and the direction vector itself.
func (e *Embeddings) Direction(from, to string, words []string) ([]Projection, []float32, error) {
	f, err := e.Word(from)
	if err != nil {
		return nil, nil, err
	}
	t, err := e.Word(to)
	if err != nil {
		return nil, nil, err
	}
	// d = to - from
	d := slices.Clone(t.Vector)
	for i := range d {
		d[i] -= f.Vector[i]
	}
	dn := norm(d)
	out := make([]Projection, 0, len(words))
	for _, s := range words {
		w, err := e.Word(s)
		if err != nil {
			return nil, nil, err
		}
		p := Projection{Word: w, Dot: simd.Dot(w.Vector, d)}
		if den := norm(w.Vector) * dn; den > 0 {
			p.Cosine = p.Dot / den
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b Projection) int { return cmp.Compare(b.Dot, a.Dot) })
	return out, d, nil
}

// norm returns the Euclidean norm of v.
func norm(v []float32) float32 { return float32(math.Sqrt(float64(simd.Dot(v, v)))) }

// CosineSimilarity returns dot(a, b) / (|a| |b|), 0 if either is zero,
// clamped to [-1, 1] against rounding.
func CosineSimilarity(a, b []float32) float32 {
	d := norm(a) * norm(b)
	if d == 0 {
		return 0
	}
	return min(max(simd.Dot(a, b)/d, -1), 1)
}

// TopK returns the k highest of scores with their indices, highest first
// and the lower index first on ties, skipping NaN and the indices in
// exclude. It keeps a heap of k entries: O(n log k), one pass.
func TopK(scores []float32, k int, exclude ...int) []TokenScore {
	if k <= 0 {
		return nil
	}
	h := make(worstFirst, 0, min(k, len(scores)))
	for i, s := range scores {
		if s != s || slices.Contains(exclude, i) {
			continue
		}
		c := TokenScore{i, s}
		switch {
		case len(h) < k:
			heap.Push(&h, c)
		case better(c, h[0]):
			h[0] = c
			heap.Fix(&h, 0)
		}
	}
	slices.SortFunc(h, func(a, b TokenScore) int {
		if better(a, b) {
			return -1
		}
		return 1
	})
	return h
}

// better orders candidates: higher score, then lower id.
func better(a, b TokenScore) bool {
	return a.Score > b.Score || (a.Score == b.Score && a.ID < b.ID)
}

// worstFirst is a heap whose root is the worst kept candidate.
type worstFirst []TokenScore

func (h worstFirst) Len() int           { return len(h) }
func (h worstFirst) Less(i, j int) bool { return better(h[j], h[i]) }
func (h worstFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *worstFirst) Push(x any)        { *h = append(*h, x.(TokenScore)) }
func (h *worstFirst) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// ContextVectors are the hidden states of every position of a text.
type ContextVectors struct {
	Tokens []int       // the text's tokens, BOS first
	Start  int         // the index of the text's first token: 1 after a BOS the tokenizer added
	Hidden [][]float32 // (positions, dim) the residual stream after the last block, before the final norm
	Next   []int       // (positions,) the most likely next token at each position
}

// Contextual feeds text (BOS first, as Generate does) through the model
// and keeps the hidden state of every position: the vector each token has
// become after soaking in the context before it: the residual stream after
// the last block, before the final norm.
func Contextual(m *runtime.Model, s *runtime.State, text string) (*ContextVectors, error) {
	tokens, err := promptTokens(m, s, text)
	if err != nil {
		return nil, err
	}
	cv := &ContextVectors{Tokens: tokens, Hidden: make([][]float32, len(tokens)), Next: make([]int, len(tokens))}
	cv.Start = max(0, len(tokens)-len(m.Tokenizer.Encode(text, false)))
	for pos, tok := range tokens {
		logits, err := m.Forward(s, tok, pos)
		if err != nil {
			return nil, err
		}
		cv.Hidden[pos] = slices.Clone(s.Hidden())
		cv.Next[pos] = simd.Argmax(logits)
	}
	return cv, nil
}

// Repeat compares the two contextual vectors of a token that occurs twice
// in a text with its static embedding.
type Repeat struct {
	ID         int
	First, Pos int     // the positions of the first and of a later occurrence
	Contextual float32 // cosine similarity of the hidden states at First and Pos
	Static     float32 // cosine similarity of the tokens' static embeddings (1 for one token)
}

// Repeats pairs the first occurrence of every token of the text that
// occurs more than once with each later one, in order of the later
// position. The BOS the tokenizer added is not part of the text.
func (cv *ContextVectors) Repeats(e *Embeddings) ([]Repeat, error) {
	first := map[int]int{}
	var out []Repeat
	for pos := cv.Start; pos < len(cv.Tokens); pos++ {
		id := cv.Tokens[pos]
		f, seen := first[id]
		if !seen {
			first[id] = pos
			continue
		}
		a, err := e.Vector(cv.Tokens[f])
		if err != nil {
			return nil, err
		}
		b, err := e.Vector(id)
		if err != nil {
			return nil, err
		}
		out = append(out, Repeat{ID: id, First: f, Pos: pos,
			Contextual: CosineSimilarity(cv.Hidden[f], cv.Hidden[pos]),
			Static:     CosineSimilarity(a, b)})
	}
	return out, nil
}

// NextLogits feeds prompt (BOS first, as Generate does) and returns the
// prompt's tokens and a copy of the logits (vocab,) for the position after it.
func NextLogits(m *runtime.Model, s *runtime.State, prompt string) (tokens []int, logits []float32, err error) {
	tokens, err = promptTokens(m, s, prompt)
	if err != nil {
		return nil, nil, err
	}
	for pos, tok := range tokens {
		if logits, err = m.Forward(s, tok, pos); err != nil {
			return nil, nil, err
		}
	}
	return tokens, slices.Clone(logits), nil
}

// promptTokens encodes a non-empty text with BOS and checks that it fits
// in the state's context.
func promptTokens(m *runtime.Model, s *runtime.State, text string) ([]int, error) {
	if text == "" {
		return nil, runtime.ErrEmptyPrompt
	}
	tokens := m.Tokenizer.Encode(text, true)
	if len(tokens) == 0 {
		return nil, runtime.ErrEmptyPrompt
	}
	if len(tokens) > s.Context() {
		return nil, fmt.Errorf("the text is %d tokens, more than the context of %d positions", len(tokens), s.Context())
	}
	return tokens, nil
}

// Probabilities sets probs (len(logits)) to the next-token distribution at
// temperature temp: softmax(logits / temp), computed as the sampler does;
// temperature 0 puts all probability on the argmax (the first of equal
// maxima), as greedy decoding picks it.
func Probabilities(probs, logits []float32, temp float32) error {
	if !(temp >= 0) || math.IsInf(float64(temp), 1) {
		return fmt.Errorf("%w, got %g", runtime.ErrTemperature, temp)
	}
	if len(probs) != len(logits) {
		return fmt.Errorf("probabilities have %d elements, logits %d", len(probs), len(logits))
	}
	if temp == 0 {
		clear(probs)
		if i := simd.Argmax(logits); i >= 0 {
			probs[i] = 1
		}
		return nil
	}
	copy(probs, logits)
	return simd.SoftmaxTemp(probs, temp)
}
