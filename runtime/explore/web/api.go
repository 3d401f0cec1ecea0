package web

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/explore"
	"github.com/llmap/llmap/runtime/serve"
	"github.com/llmap/llmap/simd"
)

// token is a vocabulary entry in a response: its id and its text.
type token struct {
	ID    int    `json:"id"`
	Token string `json:"token"`
}

func tokenOf(m *runtime.Model, id int) token {
	return token{id, strings.ToValidUTF8(string(m.Tokenizer.Piece(-1, id)), "\ufffd")}
}

func tokensOf(m *runtime.Model, ids []int) []token {
	out := make([]token, len(ids))
	for i, id := range ids {
		out[i] = tokenOf(m, id)
	}
	return out
}

// word is a word and the tokens whose mean stands for it.
type word struct {
	Word   string  `json:"word"`
	Tokens []token `json:"tokens"`
}

func wordOf(m *runtime.Model, w explore.Word) word { return word{w.Text, tokensOf(m, w.IDs)} }

// scored is a ranked vocabulary entry.
type scored struct {
	token
	Score float32 `json:"score"`
}

func scoredOf(m *runtime.Model, res []explore.TokenScore) []scored {
	out := make([]scored, len(res))
	for i, r := range res {
		out[i] = scored{tokenOf(m, r.ID), r.Score}
	}
	return out
}

// checkWord refuses an empty or overlong word.
func checkWord(param, w string) *serve.Error {
	switch {
	case strings.TrimSpace(w) == "":
		return serve.BadRequest(param, "%s must be a non-empty word", param)
	case len(w) > MaxWord:
		return serve.BadRequest(param, "%s is %d bytes long; at most %d", param, len(w), MaxWord)
	}
	return nil
}

// checkK sets *k to def when it is absent (0) and refuses it outside 1..MaxTopK.
func checkK(param string, k *int, def int) *serve.Error {
	if *k == 0 {
		*k = def
	}
	if *k < 1 || *k > MaxTopK {
		return serve.BadRequest(param, "%s must be between 1 and %d, got %d", param, MaxTopK, *k)
	}
	return nil
}

// GET /api/info

type info struct {
	Model     string `json:"model"`
	Arch      string `json:"arch"`
	VocabSize int    `json:"vocab_size"`
	Dim       int    `json:"dim"`
	Layers    int    `json:"layers"`
	Heads     int    `json:"heads"`
	KVHeads   int    `json:"kv_heads"`
	Context   int    `json:"context"` // positions of an explorer text
	MaxWords  int    `json:"max_words"`
	MaxPairs  int    `json:"max_pairs"`
	MaxTopK   int    `json:"max_top_k"`
}

func (x *Explorer) handleInfo(w http.ResponseWriter, r *http.Request) {
	m, e := x.model()
	if e != nil {
		serve.WriteError(w, e)
		return
	}
	c := &m.Config
	serve.WriteJSON(w, http.StatusOK, info{Model: x.srv.Config().Model, Arch: c.Arch, VocabSize: c.VocabSize, Dim: c.Dim,
		Layers: c.NLayers, Heads: c.NHeads, KVHeads: c.NKVHeads, Context: min(x.cfg.Context, c.ContextLength),
		MaxWords: MaxWords, MaxPairs: MaxPairs, MaxTopK: MaxTopK})
}

// POST /api/next

type nextRequest struct {
	Prompt      string   `json:"prompt"`
	TopK        int      `json:"top_k"`
	Temperature *float64 `json:"temperature"`
}

func (q *nextRequest) check() *serve.Error {
	if q.Prompt == "" {
		return serve.BadRequest("prompt", "prompt must be a non-empty string")
	}
	if e := checkK("top_k", &q.TopK, 10); e != nil {
		return e
	}
	if q.Temperature == nil {
		one := 1.0
		q.Temperature = &one
	}
	if t := *q.Temperature; !(t >= 0 && t <= 2) {
		return serve.BadRequest("temperature", "temperature must be between 0 and 2, got %g", t)
	}
	return nil
}

type nextEntry struct {
	token
	Logit float32 `json:"logit"`
	Prob  float32 `json:"prob"` // at the request's temperature
}

type nextResponse struct {
	PromptTokens []token     `json:"prompt_tokens"`
	Temperature  float64     `json:"temperature"`
	Top          []nextEntry `json:"top"`    // the top_k most likely, largest logit first
	Logits       []float32   `json:"logits"` // (vocab,) every logit, for other temperatures
}

func (x *Explorer) handleNext(w http.ResponseWriter, r *http.Request) {
	var q nextRequest
	x.run(w, r, &q, func(m *runtime.Model, wk *worker) (any, error) {
		ids, logits, err := explore.NextLogits(m, wk.state, q.Prompt)
		if err != nil {
			return nil, err
		}
		probs := make([]float32, len(logits))
		if err := explore.Probabilities(probs, logits, float32(*q.Temperature)); err != nil {
			return nil, err
		}
		resp := nextResponse{PromptTokens: tokensOf(m, ids), Temperature: *q.Temperature, Logits: logits}
		for _, t := range explore.TopK(logits, min(q.TopK, len(logits))) {
			resp.Top = append(resp.Top, nextEntry{tokenOf(m, t.ID), t.Score, probs[t.ID]})
		}
		return resp, nil
	})
}

// POST /api/nearest

type nearestRequest struct {
	Word   string `json:"word"`
	K      int    `json:"k"`
	Metric string `json:"metric"`
	metric explore.Metric
}

func (q *nearestRequest) check() *serve.Error {
	if e := checkWord("word", q.Word); e != nil {
		return e
	}
	if q.Metric == "" {
		q.Metric = "cosine"
	}
	mt, err := explore.ParseMetric(q.Metric)
	if err != nil {
		return serve.BadRequest("metric", "metric: %v", err)
	}
	q.metric = mt
	return checkK("k", &q.K, 10)
}

func (x *Explorer) handleNearest(w http.ResponseWriter, r *http.Request) {
	var q nearestRequest
	x.run(w, r, &q, func(m *runtime.Model, wk *worker) (any, error) {
		wd, err := wk.emb.Word(q.Word)
		if err != nil {
			return nil, err
		}
		res, err := wk.emb.Nearest(wd.Vector, min(q.K, wk.emb.VocabSize()), q.metric)
		if err != nil {
			return nil, err
		}
		return map[string]any{"word": wordOf(m, wd), "metric": q.metric.String(), "results": scoredOf(m, res)}, nil
	})
}

// POST /api/analogy

type analogyRequest struct {
	A string `json:"a"` // b - a + c: "man" in king - man + woman
	B string `json:"b"`
	C string `json:"c"`
	K int    `json:"k"`
}

func (q *analogyRequest) check() *serve.Error {
	for _, f := range []struct{ name, w string }{{"a", q.A}, {"b", q.B}, {"c", q.C}} {
		if e := checkWord(f.name, f.w); e != nil {
			return e
		}
	}
	return checkK("k", &q.K, 5)
}

func (x *Explorer) handleAnalogy(w http.ResponseWriter, r *http.Request) {
	var q analogyRequest
	x.run(w, r, &q, func(m *runtime.Model, wk *worker) (any, error) {
		res, words, err := wk.emb.Analogy(q.A, q.B, q.C, min(q.K, wk.emb.VocabSize()), explore.Cosine)
		if err != nil {
			return nil, err
		}
		ws := make([]word, 3)
		for i, wd := range words {
			ws[i] = wordOf(m, wd)
		}
		return map[string]any{"words": ws, "results": scoredOf(m, res)}, nil
	})
}

// POST /api/map

type mapRequest struct {
	Words []string   `json:"words"`
	Pairs [][]string `json:"pairs"` // [from, to]
	Basis string     `json:"basis"`
	basis explore.Basis
	pairs [][2]string
}

func (q *mapRequest) check() *serve.Error {
	if len(q.Words) == 0 && len(q.Pairs) == 0 {
		return serve.BadRequest("words", "words must be a non-empty list (or give pairs)")
	}
	if len(q.Pairs) > MaxPairs {
		return serve.BadRequest("pairs", "at most %d pairs, got %d", MaxPairs, len(q.Pairs))
	}
	if n := len(q.Words) + 2*len(q.Pairs); n > MaxWords {
		return serve.BadRequest("words", "at most %d words, pairs' included, got %d", MaxWords, n)
	}
	for _, w := range q.Words {
		if e := checkWord("words", w); e != nil {
			return e
		}
	}
	for i, p := range q.Pairs {
		if len(p) != 2 {
			return serve.BadRequest("pairs", "pairs[%d] must be [from, to], got %d words", i, len(p))
		}
		for _, w := range p {
			if e := checkWord("pairs", w); e != nil {
				return e
			}
		}
		q.pairs = append(q.pairs, [2]string{p[0], p[1]})
	}
	if q.Basis == "" {
		q.Basis = "words"
	}
	b, err := explore.ParseBasis(q.Basis)
	if err != nil {
		return serve.BadRequest("basis", "basis: %v", err)
	}
	q.basis = b
	return nil
}

type mapPoint struct {
	word
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

type mapPair struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Cosine is the cosine similarity of this pair's direction (to -
	// from, in every dimension) with the first pair's.
	Cosine float32 `json:"cosine_with_first"`
}

type mapResponse struct {
	Basis     string     `json:"basis"`
	Fitted    int        `json:"fitted"`
	Explained [2]float64 `json:"explained"`
	Title     string     `json:"title"`
	Points    []mapPoint `json:"points"`
	Pairs     []mapPair  `json:"pairs"`
	SVG       string     `json:"svg"` // the picture llmap embed map draws
}

func (x *Explorer) handleMap(w http.ResponseWriter, r *http.Request) {
	var q mapRequest
	x.run(w, r, &q, func(m *runtime.Model, wk *worker) (any, error) {
		mp, err := wk.emb.Map(q.Words, q.pairs, q.basis)
		if err != nil {
			return nil, err
		}
		var svg strings.Builder
		if err := mp.WriteSVG(&svg); err != nil {
			return nil, err
		}
		resp := mapResponse{Basis: mp.Basis.String(), Fitted: mp.Fitted, Explained: mp.Explained, Title: mp.Title(),
			Points: []mapPoint{}, Pairs: []mapPair{}, SVG: svg.String()}
		for i, wd := range mp.Words {
			resp.Points = append(resp.Points, mapPoint{wordOf(m, wd), mp.Points[i][0], mp.Points[i][1]})
		}
		var first []float32
		for i, p := range mp.Pairs {
			d := make([]float32, len(mp.Words[p[0]].Vector))
			for j := range d {
				d[j] = mp.Words[p[1]].Vector[j] - mp.Words[p[0]].Vector[j]
			}
			if i == 0 {
				first = d
			}
			resp.Pairs = append(resp.Pairs, mapPair{mp.Words[p[0]].Text, mp.Words[p[1]].Text, explore.CosineSimilarity(first, d)})
		}
		return resp, nil
	})
}

// POST /api/context

type contextRequest struct {
	Text     string `json:"text"`
	Position *int   `json:"position"`
}

func (q *contextRequest) check() *serve.Error {
	if q.Text == "" {
		return serve.BadRequest("text", "text must be a non-empty string")
	}
	if !utf8.ValidString(q.Text) {
		return serve.BadRequest("text", "text is not valid UTF-8")
	}
	if q.Position == nil {
		last := -1
		q.Position = &last
	}
	return nil
}

type contextResponse struct {
	Tokens   []token `json:"tokens"`
	Start    int     `json:"start"`
	Position int     `json:"position"`
	Layers   int     `json:"layers"`
	Heads    int     `json:"heads"`
	// Similarity[pos][l]: cosine of position pos's vector after block l
	// with its token's embedding.
	Similarity [][]float32 `json:"similarity"`
	// Attention[l][h][t]: the weight head h of block l gives position t
	// when computing Position.
	Attention [][][]float32 `json:"attention"`
	// Next is the most likely token after the whole text.
	Next token `json:"next"`
}

func (x *Explorer) handleContext(w http.ResponseWriter, r *http.Request) {
	var q contextRequest
	x.run(w, r, &q, func(m *runtime.Model, wk *worker) (any, error) {
		in, err := explore.Trace(m, wk.state, q.Text, *q.Position)
		if err != nil {
			if errors.Is(err, explore.ErrPosition) {
				return nil, serve.BadRequest("position", "%v", err)
			}
			return nil, err
		}
		for _, row := range in.Similarity {
			for i, v := range row {
				if math.IsNaN(float64(v)) {
					row[i] = 0 // a zero vector has no direction; JSON has no NaN
				}
			}
		}
		return contextResponse{Tokens: tokensOf(m, in.Tokens), Start: in.Start, Position: in.Position,
			Layers: m.Config.NLayers, Heads: m.Config.NHeads, Similarity: in.Similarity, Attention: in.Attention,
			Next: tokenOf(m, simd.Argmax(wk.state.Logits()))}, nil
	})
}
