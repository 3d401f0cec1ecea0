// Package web is the model explorer that llmap serve shows at "/": one
// page (HTML, CSS and plain JavaScript embedded in the binary; no build
// step, nothing loaded from elsewhere, so it works offline) with four
// views of the served model, and the JSON endpoints under /api/ it reads:
//
//	GET  /api/info      the model's shape and the explorer's limits
//	POST /api/next      the next-token distribution after a prompt: top k, every logit
//	POST /api/nearest   the vocabulary entries nearest a word (cosine or dot)
//	POST /api/analogy   the entries nearest b - a + c
//	POST /api/map       words projected to 2D (PCA), with arrows for pairs, as data and SVG
//	POST /api/context   per-block similarity of each token to its embedding, attention weights
//
// The chat view talks to the server's own /v1/chat/completions. The
// endpoints are built on runtime/explore and answer bad input as the
// OpenAI endpoints do: 400 with a message naming the field, 413 above the
// body limit, 503 while loading, draining or busy.
//
// The explorer shares the model with the server's generation sessions
// without touching them: it computes on its own States (Config.Workers of
// them, Config.Context positions each, allocated on first use), one
// position per forward pass, and each pass takes its turn with the
// scheduler's steps on the model's forward lock, so a generation step
// waits for at most one explorer position or one vocabulary scan.
package web

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"sync"
	"time"

	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/explore"
	"github.com/llmap/llmap/runtime/serve"
)

//go:embed static
var static embed.FS

// Limits of the requests, so that one cannot hold the model for long.
const (
	MaxWords = 64  // words on a map, pairs' words included
	MaxPairs = 16  // arrows on a map
	MaxTopK  = 100 // next-token rows, nearest entries
	MaxWord  = 100 // bytes of one word
)

// Config sets the explorer's resources. Zero values take the defaults.
type Config struct {
	// Context is the number of positions of each explorer state: the
	// longest prompt (next) or text (context), BOS included. Default 256,
	// capped at the model's context length.
	Context int
	// Workers is the number of explorer requests computed at once, each
	// with its own State and embedding scratch; others wait. Default 1.
	Workers int
	// Wait is how long a request waits for a worker before it is refused
	// with 503. Default 30s.
	Wait time.Duration
}

// Explorer serves the page and the /api endpoints for the model of a
// serve.Server.
type Explorer struct {
	srv *serve.Server
	cfg Config

	once    sync.Once
	workers chan *worker // the free workers, filled on first use
	err     error        // allocating the workers failed
}

// worker is what one request computes with.
type worker struct {
	state *runtime.State
	emb   *explore.Embeddings
}

// Register adds the explorer to srv's mux: the page at "GET /{$}", its
// files under /static/, and the endpoints under /api/.
func Register(srv *serve.Server, cfg Config) *Explorer {
	if cfg.Context <= 0 {
		cfg.Context = 256
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 30 * time.Second
	}
	x := &Explorer{srv: srv, cfg: cfg}
	files, _ := fs.Sub(static, "static")
	fileServer := http.FileServerFS(files)
	page := func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// everything comes from this server: no CDN, no inline script
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	}
	srv.Handle("GET /{$}", "explorer", page)
	srv.Handle("GET /static/", "explorer", http.StripPrefix("/static", http.HandlerFunc(page)).ServeHTTP)
	srv.Handle("GET /api/info", "explorer", x.handleInfo)
	srv.Handle("POST /api/next", "explorer", x.handleNext)
	srv.Handle("POST /api/nearest", "explorer", x.handleNearest)
	srv.Handle("POST /api/analogy", "explorer", x.handleAnalogy)
	srv.Handle("POST /api/map", "explorer", x.handleMap)
	srv.Handle("POST /api/context", "explorer", x.handleContext)
	srv.Handle("/api/", "explorer", func(w http.ResponseWriter, r *http.Request) {
		serve.WriteError(w, &serve.Error{Status: http.StatusNotFound, Type: "invalid_request_error", Code: "not_found",
			Message: "no explorer endpoint " + r.Method + " " + r.URL.Path + "; see GET /api/info and docs/explorer.md"})
	})
	return x
}

// acquire returns a free worker, allocating them on first use, or waits
// for one until ctx ends or Config.Wait passes.
func (x *Explorer) acquire(ctx context.Context, m *runtime.Model) (*worker, *serve.Error) {
	x.once.Do(func() {
		x.workers = make(chan *worker, x.cfg.Workers)
		for range x.cfg.Workers {
			s, err := m.NewState(x.cfg.Context)
			if err != nil {
				x.err = err
				return
			}
			x.workers <- &worker{state: s, emb: explore.NewEmbeddings(m)}
		}
	})
	if x.err != nil {
		return nil, &serve.Error{Status: http.StatusInternalServerError, Type: "server_error", Message: "explorer: " + x.err.Error()}
	}
	t := time.NewTimer(x.cfg.Wait)
	defer t.Stop()
	select {
	case wk := <-x.workers:
		return wk, nil
	case <-t.C:
		return nil, &serve.Error{Status: http.StatusServiceUnavailable, Type: "server_error", Code: "overloaded",
			Message: "the explorer is busy with other requests; retry later"}
	case <-ctx.Done():
		return nil, &serve.Error{Status: 499, Type: "invalid_request_error", Message: "client went away"}
	}
}

func (x *Explorer) release(wk *worker) { x.workers <- wk }

// model returns the loaded model, or the 503 of a server still loading.
func (x *Explorer) model() (*runtime.Model, *serve.Error) {
	m := x.srv.Model()
	if m == nil {
		return nil, &serve.Error{Status: http.StatusServiceUnavailable, Type: "server_error", Code: "unavailable",
			Message: "the model is loading; retry shortly"}
	}
	return m, nil
}

// run reads the request into req, checks it, and calls f with a worker;
// f's value is the response. Errors of f wrapping ErrFault are 500s; the
// others are the request's fault (a word the vocabulary cannot spell, a
// text longer than the context): 400.
func (x *Explorer) run(w http.ResponseWriter, r *http.Request, req interface{ check() *serve.Error }, f func(m *runtime.Model, wk *worker) (any, error)) {
	if e := x.srv.ReadJSON(r, req); e != nil {
		serve.WriteError(w, e)
		return
	}
	if e := req.check(); e != nil {
		serve.WriteError(w, e)
		return
	}
	m, e := x.model()
	if e != nil {
		serve.WriteError(w, e)
		return
	}
	wk, e := x.acquire(r.Context(), m)
	if e != nil {
		serve.WriteError(w, e)
		return
	}
	resp, err := f(m, wk)
	x.release(wk)
	if err != nil {
		var se *serve.Error
		switch {
		case errors.As(err, &se):
			serve.WriteError(w, se)
		case errors.Is(err, runtime.ErrFault):
			serve.WriteError(w, &serve.Error{Status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()})
		default:
			serve.WriteError(w, serve.BadRequest("", "%v", err))
		}
		return
	}
	serve.WriteJSON(w, http.StatusOK, resp)
}
