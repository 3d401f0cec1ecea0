package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmap/llmap/runtime/serve"
	"go.uber.org/goleak"
)

// Every test leaves no goroutine behind: servers, the model's scheduler
// and workers, and the browser's connections all end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// call sends body (a string, or a value to encode) to path and returns
// the status and the decoded answer.
func call(t *testing.T, h http.Handler, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		r = bytes.NewReader(data)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, r))
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %q", method, path, rec.Code, rec.Body.String())
	}
	return rec.Code, out
}

// TestBadRequests: every malformed or out-of-range request is a 400 (413
// above the body limit) in OpenAI's error shape, naming the field.
func TestBadRequests(t *testing.T) {
	srv, _ := newServer(t, serve.Config{Parallel: 1, Context: 64, MaxBody: 4096}, Config{Context: 32})
	h := srv.Mux()
	long := strings.Repeat("w", MaxWord+1)
	many := make([]string, MaxWords+1)
	for i := range many {
		many[i] = "cat"
	}
	cases := []struct {
		path  string
		body  any
		code  int
		param string
	}{
		{"/api/next", "", 400, ""},
		{"/api/next", "[1]", 400, ""},
		{"/api/next", `{"prompt": 7}`, 400, "prompt"},
		{"/api/next", `{"prompt": "a"} {}`, 400, ""},
		{"/api/next", `{"prompt": "a"`, 400, ""},
		{"/api/next", map[string]any{}, 400, "prompt"},
		{"/api/next", map[string]any{"prompt": "Once", "top_k": 0.5}, 400, "top_k"},
		{"/api/next", map[string]any{"prompt": "Once", "top_k": -1}, 400, "top_k"},
		{"/api/next", map[string]any{"prompt": "Once", "top_k": MaxTopK + 1}, 400, "top_k"},
		{"/api/next", map[string]any{"prompt": "Once", "temperature": -0.1}, 400, "temperature"},
		{"/api/next", map[string]any{"prompt": "Once", "temperature": 2.5}, 400, "temperature"},
		{"/api/next", `{"prompt": "Once", "temperature": 1e999}`, 400, "temperature"},
		{"/api/next", map[string]any{"prompt": strings.Repeat("Once upon a time ", 20)}, 400, ""}, // longer than the explorer's 32 positions
		{"/api/next", `{"prompt": "` + strings.Repeat("x", 5000) + `"}`, 413, ""},
		{"/api/nearest", map[string]any{"word": ""}, 400, "word"},
		{"/api/nearest", map[string]any{"word": "   "}, 400, "word"},
		{"/api/nearest", map[string]any{"word": long}, 400, "word"},
		{"/api/nearest", map[string]any{"word": "cat", "metric": "l2"}, 400, "metric"},
		{"/api/nearest", map[string]any{"word": "cat", "k": 1000}, 400, "k"},
		{"/api/nearest", map[string]any{"word": "日本"}, 400, ""}, // not in the vocabulary
		{"/api/analogy", map[string]any{"a": "he", "b": "she"}, 400, "c"},
		{"/api/analogy", map[string]any{"a": "he", "b": "she", "c": "him", "k": -3}, 400, "k"},
		{"/api/map", map[string]any{}, 400, "words"},
		{"/api/map", map[string]any{"words": []string{"cat", ""}}, 400, "words"},
		{"/api/map", map[string]any{"words": many}, 400, "words"},
		{"/api/map", map[string]any{"words": []string{"cat"}, "basis": "all"}, 400, "basis"},
		{"/api/map", map[string]any{"words": []string{"cat"}, "pairs": [][]string{{"cat"}}}, 400, "pairs"},
		{"/api/map", `{"words": ["cat"], "pairs": [["a", "b", "c"]]}`, 400, "pairs"},
		{"/api/map", map[string]any{"pairs": make([][2]string, MaxPairs+1)}, 400, "pairs"},
		{"/api/map", map[string]any{"pairs": [][2]string{{"cat", ""}}}, 400, "pairs"},
		{"/api/context", map[string]any{"text": ""}, 400, "text"},
		{"/api/context", map[string]any{"text": "Lily", "position": 5}, 400, "position"},
		{"/api/context", map[string]any{"text": "Lily", "position": -2}, 400, "position"},
		{"/api/context", `{"text": "Lily", "position": 1.5}`, 400, "position"},
	}
	for _, c := range cases {
		code, out := call(t, h, "POST", c.path, c.body)
		e, _ := out["error"].(map[string]any)
		if code != c.code || e == nil || e["message"] == "" {
			t.Errorf("%s %v: %d %v, want %d with an error", c.path, c.body, code, out, c.code)
			continue
		}
		if c.param != "" && e["param"] != c.param {
			t.Errorf("%s %v: param %v, want %q (%v)", c.path, c.body, e["param"], c.param, e["message"])
		}
	}
	if code, _ := call(t, h, "GET", "/api/next", nil); code != 404 && code != 405 {
		t.Errorf("GET /api/next: %d", code)
	}
	if code, _ := call(t, h, "POST", "/api/unknown", "{}"); code != 404 {
		t.Errorf("unknown endpoint: %d", code)
	}
}

// TestLoadingAndBusy: before the model is loaded every endpoint answers
// 503; a request that finds every explorer worker taken waits, then gets
// 503 with Retry-After.
func TestLoadingAndBusy(t *testing.T) {
	loading := serve.New(serve.Config{})
	Register(loading, Config{})
	for _, p := range []string{"/api/info", "/api/next"} {
		method := "POST"
		if p == "/api/info" {
			method = "GET"
		}
		if code, _ := call(t, loading.Mux(), method, p, `{"prompt": "Once"}`); code != 503 {
			t.Errorf("%s while loading: %d, want 503", p, code)
		}
	}

	m := storiesOpen(t)
	srv := serve.New(serve.Config{Parallel: 1, Context: 64})
	x := Register(srv, Config{Wait: 50 * time.Millisecond})
	if err := srv.Load(m); err != nil {
		t.Fatal(err)
	}
	wk, e := x.acquire(context.Background(), m)
	if e != nil {
		t.Fatal(e)
	}
	rec := httptest.NewRecorder()
	srv.Mux().ServeHTTP(rec, httptest.NewRequest("POST", "/api/next", strings.NewReader(`{"prompt": "Once"}`)))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Errorf("busy: %d %v", rec.Code, rec.Header())
	}
	x.release(wk)
	if code, _ := call(t, srv.Mux(), "POST", "/api/next", `{"prompt": "Once"}`); code != 200 {
		t.Errorf("after release: %d", code)
	}
}

// TestAgainstReference checks what /api/context and /api/next answer for
// stories260K against the numpy float64 reference: the attention weights
// and similarities of the text, and the most likely next token.
func TestAgainstReference(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/reference/explorer_stories260K.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Tokens     []int       `json:"tokens"`
		Similarity [][]float64 `json:"similarity"`
		Attention  []struct {
			Position int           `json:"position"`
			Weights  [][][]float64 `json:"weights"`
		} `json:"attention"`
		ArgmaxLast int `json:"argmax_last"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(t, serve.Config{Parallel: 1, Context: 64}, Config{})
	const text = "Lily saw a cat. Lily liked the cat."
	for _, ref := range g.Attention {
		var got contextResponse
		post(t, srv.Mux(), "/api/context", map[string]any{"text": text, "position": ref.Position}, &got)
		if got.Position != ref.Position || len(got.Tokens) != len(g.Tokens) || got.Next.ID != g.ArgmaxLast {
			t.Fatalf("position %d, %d tokens, next %v; want %d, %d, %d", got.Position, len(got.Tokens), got.Next, ref.Position, len(g.Tokens), g.ArgmaxLast)
		}
		for l := range ref.Weights {
			for h := range ref.Weights[l] {
				for p, w := range ref.Weights[l][h] {
					if d := math.Abs(float64(got.Attention[l][h][p]) - w); d > 1e-4 {
						t.Fatalf("attention [%d][%d][%d] = %g, want %g", l, h, p, got.Attention[l][h][p], w)
					}
				}
			}
		}
		for p := range g.Similarity {
			for l, w := range g.Similarity[p] {
				if d := math.Abs(float64(got.Similarity[p][l]) - w); d > 1e-4 {
					t.Fatalf("similarity [%d][%d] = %g, want %g", p, l, got.Similarity[p][l], w)
				}
			}
		}
	}
	var next nextResponse
	post(t, srv.Mux(), "/api/next", map[string]any{"prompt": text, "top_k": 5, "temperature": 0}, &next)
	if next.Top[0].ID != g.ArgmaxLast || next.Top[0].Prob != 1 || next.Top[1].Prob != 0 || len(next.Logits) != 512 {
		t.Errorf("next at T=0: %+v", next.Top)
	}
	// the probabilities at T=1 are softmax(logits), computed here in float64
	post(t, srv.Mux(), "/api/next", map[string]any{"prompt": text, "top_k": 5}, &next)
	mx, sum := math.Inf(-1), 0.0
	for _, l := range next.Logits {
		mx = max(mx, float64(l))
	}
	for _, l := range next.Logits {
		sum += math.Exp(float64(l) - mx)
	}
	for _, e := range next.Top {
		if want := math.Exp(float64(e.Logit)-mx) / sum; math.Abs(float64(e.Prob)-want) > 1e-6 {
			t.Errorf("token %d: probability %g, softmax %g", e.ID, e.Prob, want)
		}
	}
}

// TestAlongsideGeneration: explorer requests running while the server
// generates leave the generated text exactly as it is alone.
func TestAlongsideGeneration(t *testing.T) {
	srv, _ := newServer(t, serve.Config{Parallel: 2, Context: 256}, Config{Workers: 2})
	h := srv.Mux()
	complete := func() string {
		var out struct {
			Choices []struct {
				Text string `json:"text"`
			} `json:"choices"`
		}
		post(t, h, "/v1/completions", map[string]any{"prompt": "Once upon a time", "max_tokens": 120, "temperature": 0}, &out)
		return out.Choices[0].Text
	}
	alone := complete()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	requests := [][2]any{
		{"/api/next", map[string]any{"prompt": "Lily and Tom went to the park", "top_k": 20}},
		{"/api/context", map[string]any{"text": "Lily saw a cat. Lily liked the cat.", "position": 3}},
		{"/api/map", map[string]any{"words": []string{"cat", "dog", "Lily"}, "basis": "vocab"}},
		{"/api/nearest", map[string]any{"word": "Lily"}},
	}
	var mu sync.Mutex
	served := 0
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				r := requests[i%len(requests)]
				code, _ := callQuiet(h, r[0].(string), r[1])
				if code != 200 {
					t.Errorf("%s: %d", r[0], code)
					return
				}
				mu.Lock()
				served++
				mu.Unlock()
			}
		}()
	}
	for range 3 {
		if got := complete(); got != alone {
			t.Errorf("generated alongside the explorer:\n%q\nalone:\n%q", got, alone)
		}
	}
	cancel()
	wg.Wait()
	t.Logf("%d explorer requests during three completions", served)
}

func post(t *testing.T, h http.Handler, path string, body, v any) {
	t.Helper()
	data, _ := json.Marshal(body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(data)))
	if rec.Code != 200 {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatal(err)
	}
}

// callQuiet is call without a testing.T, for goroutines.
func callQuiet(h http.Handler, path string, body any) (int, []byte) {
	data, _ := json.Marshal(body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(data)))
	return rec.Code, rec.Body.Bytes()
}

// FuzzAPI sends arbitrary bodies to every POST endpoint: each answer is
// 200, or a 400 or 413 with an error object, never a crash or a 500.
func FuzzAPI(f *testing.F) {
	paths := []string{"/api/next", "/api/nearest", "/api/analogy", "/api/map", "/api/context"}
	seeds := []string{
		`{"prompt": "Once upon a time", "top_k": 5, "temperature": 0.7}`,
		`{"word": "Lily", "k": 3, "metric": "dot"}`,
		`{"a": "he", "b": "she", "c": "him"}`,
		`{"words": ["cat", "dog"], "pairs": [["he", "she"]], "basis": "vocab"}`,
		`{"text": "Lily saw a cat.", "position": 2}`,
		`{"prompt": "\u0000\ud800"}`, `{"words": [""]}`, `{"position": -1e309}`, `[]`, ``, `{`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	srv, _ := newServer(f, serve.Config{Parallel: 1, Context: 64, MaxBody: 1 << 12}, Config{Context: 48})
	h := srv.Mux()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := paths[int(which)%len(paths)]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(body)))
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %q: %d, not JSON: %q", path, body, rec.Code, rec.Body.String())
		}
		switch rec.Code {
		case 200:
		case 400, 413:
			if _, ok := out["error"]; !ok {
				t.Fatalf("%s %q: %d without an error object", path, body, rec.Code)
			}
		default:
			t.Fatalf("%s %q: %d %v", path, body, rec.Code, out)
		}
	})
}
