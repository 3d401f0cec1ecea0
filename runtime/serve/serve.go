// Package serve is an HTTP server for one model that speaks the OpenAI API:
// POST /v1/chat/completions and /v1/completions (streamed as server-sent
// events with "stream": true), GET /v1/models, plus GET /health and GET
// /metrics (Prometheus). llmap serve is a thin command around it.
//
// The server owns Config.Parallel sessions of the model, allocated when the
// model is loaded. A request takes a free session (the one whose KV cache
// shares the longest prefix with the request, so a client that sends a
// growing conversation pays only for the new turn), generates, and gives
// it back. Requests that find none free wait in a bounded queue; beyond it
// they are refused with 503 and Retry-After. The sessions generating at
// any moment are decoded together, one forward pass per step, by the
// model's scheduler (see runtime.Session): continuous batching.
//
// Mux returns the server's http.ServeMux, to which a program may add its
// own routes (an explorer page, /api endpoints) before serving. "/" and
// everything under it that no route claims answers 404 in OpenAI's error
// shape; a route registered for "GET /{$}" or a path of its own wins.
//
// A bad request (malformed JSON, a field of the wrong type, an unknown
// model, a negative temperature, no messages, ...) is answered 400 with an
// OpenAI-style error object: {"error": {"message", "type", "param",
// "code"}}. A client that disconnects frees its session at once: its
// generation is cancelled within one step.
package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmap/llmap/runtime"
	"github.com/prometheus/client_golang/prometheus"
)

// Config sets the server's limits. Zero values take the defaults given.
type Config struct {
	// Model is the model's name in /v1/models and in responses; a request
	// naming another model is refused. Default "llmap".
	Model string
	// Parallel is the number of sequences generated at once, each with
	// its own KV cache allocated at Load. Default 4.
	Parallel int
	// Context is the number of positions of each sequence: prompt and
	// reply. Default runtime.DefaultContext, capped at the model's.
	Context int
	// Queue is the number of requests that may wait for a sequence; one
	// more is refused with 503. Default 4 x Parallel; < 0 means none.
	Queue int
	// MaxBody caps a request body in bytes (413 above). Default 1 MiB.
	MaxBody int64
	// MaxTokens is the reply length when a request sets none; 0 means up
	// to the end of the context. A request's max_tokens is capped by the
	// context left after its prompt.
	MaxTokens int
	// RetryAfter is the Retry-After of a 503 (queue full, loading,
	// draining). Default 1s.
	RetryAfter time.Duration
	// Logger receives one line per request and the server's events; nil
	// discards them.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Model == "" {
		c.Model = "llmap"
	}
	if c.Parallel <= 0 {
		c.Parallel = 4
	}
	if c.Context <= 0 {
		c.Context = runtime.DefaultContext
	}
	if c.Queue == 0 {
		c.Queue = 4 * c.Parallel
	}
	c.Queue = max(c.Queue, 0)
	if c.MaxBody <= 0 {
		c.MaxBody = 1 << 20
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server states, as /health reports them.
const (
	stateLoading int32 = iota
	stateReady
	stateDraining
)

// Server serves one model over HTTP. Create it with New, attach the model
// with Load, serve Mux (or Run), and stop it with Drain and CancelAll (Run
// does both).
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	reg     *prometheus.Registry
	metrics *metrics
	state   atomic.Int32
	created int64 // for /v1/models

	model  *runtime.Model
	format *runtime.ChatFormat

	mu       sync.Mutex
	slots    []*slot
	waiting  []*waiter
	inflight map[*inflight]struct{}
	wg       sync.WaitGroup // generations in flight
}

// slot is one of the server's sequences.
type slot struct {
	session *runtime.Session
	busy    bool
	used    time.Time
}

// waiter is a request queued for a slot.
type waiter struct {
	tokens []int
	got    chan *slot // buffered: the slot handed over
}

// inflight is a generation that CancelAll may cancel.
type inflight struct{ cancel context.CancelFunc }

// New returns a server that is loading: /health answers 503 "loading" and
// the API 503 until Load.
func New(cfg Config) *Server {
	cfg.setDefaults()
	s := &Server{cfg: cfg, mux: http.NewServeMux(), reg: prometheus.NewRegistry(), created: time.Now().Unix(),
		inflight: map[*inflight]struct{}{}}
	s.metrics = newMetrics(s.reg, s)
	s.routes()
	return s
}

// Load attaches the model and allocates the sequences: Parallel KV caches
// of Context positions (KVBytes says how much), committed now
// (Session.Commit). The server is ready when it returns. A chat template
// that runtime/chat refuses is logged, and chat uses the fallback.
func (s *Server) Load(m *runtime.Model) error {
	if s.model != nil {
		return errors.New("serve: a model is already loaded")
	}
	format, err := m.ChatFormat()
	if err != nil {
		// A template the renderer refuses (see runtime/chat) should not
		// keep the model from being served: completions work, and chat
		// gets the fallback, as llama.cpp's server does.
		s.cfg.Logger.Warn("the model's chat template cannot be used; chat uses the built-in fallback", "err", err)
		format = m.FallbackChatFormat()
	}
	slots := make([]*slot, s.cfg.Parallel)
	for i := range slots {
		sess, err := m.NewSession(s.cfg.Context)
		if err != nil {
			return err
		}
		sess.Commit()
		slots[i] = &slot{session: sess}
	}
	s.mu.Lock()
	s.model, s.format, s.slots = m, format, slots
	s.cfg.Context = slots[0].session.Context()
	s.mu.Unlock()
	s.metrics.capacity(s.cfg.Parallel, s.KVBytes())
	s.state.CompareAndSwap(stateLoading, stateReady)
	return nil
}

// Config returns the server's configuration, defaults filled in (Context
// as capped by the model once loaded).
func (s *Server) Config() Config { return s.cfg }

// KVBytes is the memory of the sequences' KV caches, allocated at Load.
func (s *Server) KVBytes() int64 {
	if s.model == nil {
		return 0
	}
	kv, _ := s.model.StateBytes(s.cfg.Context)
	return kv * int64(s.cfg.Parallel)
}

// Mux is the server's request router, to add routes to before serving.
func (s *Server) Mux() *http.ServeMux { return s.mux }

// Registry is the Prometheus registry behind /metrics, to add metrics to.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Model returns the loaded model, nil while loading.
func (s *Server) Model() *runtime.Model { return s.model }

// Drain stops taking generation requests: new ones, and those still
// queued, get 503; /health answers 503 "draining" so that load balancers
// stop sending traffic. Generations in flight go on.
func (s *Server) Drain() {
	s.state.Store(stateDraining)
	s.mu.Lock()
	for _, w := range s.waiting {
		close(w.got)
	}
	s.waiting = nil
	s.mu.Unlock()
	s.metrics.queue.Set(0)
}

// CancelAll cancels every generation in flight; their clients get what was
// generated so far (a stream ends without [DONE]).
func (s *Server) CancelAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for f := range s.inflight {
		f.cancel()
	}
}

// Wait blocks until no generation is in flight.
func (s *Server) Wait() { s.wg.Wait() }

// Run serves on ln until ctx is done, then shuts down gracefully: it stops
// accepting, drains, lets generations in flight finish for up to grace,
// cancels those still running, and returns nil once every handler has
// returned.
func (s *Server) Run(ctx context.Context, ln net.Listener, grace time.Duration) error {
	hs := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.cfg.Logger.Info("shutting down", "grace", grace)
	s.Drain()
	graceCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(graceCtx) // stops accepting; waits for handlers
	if errors.Is(err, context.DeadlineExceeded) {
		s.cfg.Logger.Warn("grace period over; cancelling the generations in flight")
		s.CancelAll()
		last, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel2()
		err = hs.Shutdown(last)
	}
	if err != nil {
		hs.Close()
		return err
	}
	<-errc // http.ErrServerClosed
	s.Wait()
	return nil
}

// acquire returns a free slot for a request whose sequence is tokens,
// waiting in the queue if need be. The slot chosen is the free one whose
// cache shares the longest prefix with tokens (the least recently used on
// a tie).
func (s *Server) acquire(ctx context.Context, tokens []int) (*slot, *Error) {
	s.mu.Lock()
	if s.state.Load() != stateReady {
		s.mu.Unlock()
		return nil, s.unavailable()
	}
	if sl := s.bestFree(tokens); sl != nil {
		sl.busy = true
		s.mu.Unlock()
		return sl, nil
	}
	if len(s.waiting) >= s.cfg.Queue {
		s.mu.Unlock()
		s.metrics.refused.Inc()
		return nil, &Error{Status: http.StatusServiceUnavailable, Type: "server_error", Code: "overloaded",
			Message: "the server is busy: every sequence is generating and the queue is full; retry later"}
	}
	w := &waiter{tokens: tokens, got: make(chan *slot, 1)}
	s.waiting = append(s.waiting, w)
	s.metrics.queue.Set(float64(len(s.waiting)))
	s.mu.Unlock()
	select {
	case sl, ok := <-w.got:
		if !ok {
			return nil, s.unavailable() // drained
		}
		return sl, nil
	case <-ctx.Done():
		s.mu.Lock()
		if i := slices.Index(s.waiting, w); i >= 0 {
			s.waiting = slices.Delete(s.waiting, i, i+1)
			s.metrics.queue.Set(float64(len(s.waiting)))
			s.mu.Unlock()
		} else {
			// Handed a slot (or drained) before we took the lock: the
			// value is in the channel already.
			s.mu.Unlock()
			if sl, ok := <-w.got; ok {
				s.release(sl)
			}
		}
		return nil, &Error{Status: 499, Message: "client went away", Type: "invalid_request_error"}
	}
}

// bestFree picks a free slot (s.mu held), nil if none.
func (s *Server) bestFree(tokens []int) *slot {
	var best *slot
	bestLen := -1
	for _, sl := range s.slots {
		if sl.busy {
			continue
		}
		n := commonPrefix(sl.session.Tokens(), tokens)
		if n > bestLen || n == bestLen && sl.used.Before(best.used) {
			best, bestLen = sl, n
		}
	}
	return best
}

func commonPrefix(a, b []int) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// release gives a slot back: to the first request in the queue, or free.
func (s *Server) release(sl *slot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl.used = time.Now()
	if len(s.waiting) > 0 {
		w := s.waiting[0]
		s.waiting = s.waiting[1:]
		s.metrics.queue.Set(float64(len(s.waiting)))
		w.got <- sl
		return
	}
	sl.busy = false
}

// unavailable is the 503 of a server that is loading or draining.
func (s *Server) unavailable() *Error {
	msg := "the model is loading; retry shortly"
	if s.state.Load() == stateDraining {
		msg = "the server is shutting down"
	}
	return &Error{Status: http.StatusServiceUnavailable, Message: msg, Type: "server_error", Code: "unavailable"}
}

// newID returns an id for a response: prefix and 24 hex digits.
func newID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
