package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/chat"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Endpoint names, as the metrics label them.
const (
	endpointChat       = "chat"
	endpointCompletion = "completion"
)

func (s *Server) routes() {
	s.mux.Handle("POST /v1/chat/completions", s.instrument(endpointChat, s.handleChat))
	s.mux.Handle("POST /v1/completions", s.instrument(endpointCompletion, s.handleCompletion))
	s.mux.Handle("GET /v1/models", s.instrument("models", s.handleModels))
	s.mux.Handle("GET /v1/models/{id...}", s.instrument("models", s.handleModel))
	s.mux.Handle("GET /health", s.instrument("health", s.handleHealth))
	s.mux.Handle("GET /metrics", s.instrument("metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}).ServeHTTP))
	for path, allow := range map[string]string{"/v1/chat/completions": "POST", "/v1/completions": "POST",
		"/v1/models": "GET", "/health": "GET", "/metrics": "GET"} {
		s.mux.Handle(path, s.instrument("other", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			WriteError(w, &Error{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error",
				Message: fmt.Sprintf("%s takes %s, not %s", r.URL.Path, allow, r.Method), Code: "method_not_allowed"})
		}))
	}
	s.mux.Handle("/", s.instrument("other", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, &Error{Status: http.StatusNotFound, Type: "invalid_request_error",
			Message: fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path), Code: "not_found"})
	}))
}

// statusWriter records the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument counts and times the requests of one endpoint and logs them.
func (s *Server) instrument(endpoint string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(endpoint, strconv.Itoa(sw.status)).Inc()
		s.metrics.duration.WithLabelValues(endpoint).Observe(d.Seconds())
		if endpoint != "health" && endpoint != "metrics" {
			s.cfg.Logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"duration", d.Round(time.Microsecond), "remote", r.RemoteAddr)
		}
	})
}

// WriteJSON sends v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"message":"encoding the response failed","type":"server_error","param":null,"code":null}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// WriteError sends e as an OpenAI-style error object with its status (a
// 503 with Retry-After).
func WriteError(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	status := e.Status
	if status == 499 { // the client is gone; nobody reads this
		status = http.StatusBadRequest
	}
	WriteJSON(w, status, map[string]*Error{"error": e})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	switch s.state.Load() {
	case stateReady:
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	case stateLoading:
		w.Header().Set("Retry-After", "1")
		WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "loading"})
	default:
		WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
	}
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []modelObject{s.modelObject()}})
}

func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	if id := r.PathValue("id"); id != s.cfg.Model {
		WriteError(w, &Error{Status: http.StatusNotFound, Type: "invalid_request_error", Param: "model", Code: "model_not_found",
			Message: fmt.Sprintf("the model %q does not exist; this server has %q", id, s.cfg.Model)})
		return
	}
	WriteJSON(w, http.StatusOK, s.modelObject())
}

func (s *Server) modelObject() modelObject {
	return modelObject{ID: s.cfg.Model, Object: "model", Created: s.created, OwnedBy: "llmap"}
}

// Handle adds a route for pattern to the server's mux, counted in its
// metrics and logged under endpoint as the server's own routes are.
func (s *Server) Handle(pattern, endpoint string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.instrument(endpoint, h))
}

// ReadJSON checks that the server is ready (503 while loading or
// draining) and decodes the JSON object in r's body, of at most
// Config.MaxBody bytes (413 above), into v, with the messages the
// server's own endpoints give for malformed JSON and fields of the wrong
// type (400).
func (s *Server) ReadJSON(r *http.Request, v any) *Error {
	if s.state.Load() != stateReady {
		return s.unavailable()
	}
	return decode(http.MaxBytesReader(nil, r.Body, s.cfg.MaxBody), v)
}

// read checks that the server can take a generation request and decodes
// its body into v.
func (s *Server) read(r *http.Request, v any, model func() string) *Error {
	if e := s.ReadJSON(r, v); e != nil {
		return e
	}
	if m := model(); m != "" && m != s.cfg.Model {
		return &Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: "model", Code: "model_not_found",
			Message: fmt.Sprintf("the model %q does not exist; this server has %q", m, s.cfg.Model)}
	}
	return nil
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if e := s.read(r, &req, func() string { return req.Model }); e != nil {
		WriteError(w, e)
		return
	}
	if len(req.Messages) == 0 {
		WriteError(w, BadRequest("messages", "messages must be a non-empty list"))
		return
	}
	msgs := make([]chat.Message, len(req.Messages))
	for i, m := range req.Messages {
		role := m.Role
		switch role {
		case "system", "user", "assistant", "tool":
		case "developer":
			role = "system" // OpenAI's newer name; templates know "system"
		default:
			WriteError(w, BadRequest(fmt.Sprintf("messages[%d].role", i), "messages[%d].role must be system, developer, user, assistant or tool, got %q", i, m.Role))
			return
		}
		msgs[i] = chat.Message{Role: role, Content: m.Content.Text, Name: m.Name}
	}
	gen, err := s.format.Request(msgs)
	if err != nil {
		var ce *chat.Error
		if errors.As(err, &ce) {
			WriteError(w, BadRequest("messages", "the model's chat template refused the conversation: %v", err))
			return
		}
		WriteError(w, &Error{Status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()})
		return
	}
	s.generate(w, r, endpointChat, gen, &req.sampling)
}

func (s *Server) handleCompletion(w http.ResponseWriter, r *http.Request) {
	var req completionRequest
	if e := s.read(r, &req, func() string { return req.Model }); e != nil {
		WriteError(w, e)
		return
	}
	if !req.Prompt.Set {
		WriteError(w, BadRequest("prompt", "prompt is required"))
		return
	}
	tok := s.model.Tokenizer
	tokens := req.Prompt.Tokens
	if tokens == nil {
		tokens = tok.Encode(req.Prompt.Text, true)
	}
	if len(tokens) == 0 {
		WriteError(w, BadRequest("prompt", "the prompt encodes to no tokens"))
		return
	}
	for _, t := range tokens {
		if t >= tok.VocabSize() {
			WriteError(w, BadRequest("prompt", "token %d is outside the vocabulary (0..%d)", t, tok.VocabSize()-1))
			return
		}
	}
	s.generate(w, r, endpointCompletion, runtime.Request{Tokens: tokens}, &req.sampling)
}

// options checks the sampling fields and completes gen with them.
func (s *Server) options(gen *runtime.Request, p *sampling) *Error {
	if p.N != nil && *p.N != 1 {
		return BadRequest("n", "n must be 1 (one choice per request), got %d", *p.N)
	}
	ctx := s.cfg.Context
	if len(gen.Tokens) >= ctx {
		e := BadRequest("messages", "the prompt is %d tokens; this server's context holds %d, with room for at least one token of reply", len(gen.Tokens), ctx)
		e.Code = "context_length_exceeded"
		return e
	}
	room := ctx - len(gen.Tokens)
	maxTokens := s.cfg.MaxTokens
	name := "max_tokens"
	limit := p.MaxTokens
	if p.MaxCompletionTokens != nil {
		name, limit = "max_completion_tokens", p.MaxCompletionTokens
	}
	if limit != nil {
		if *limit < 1 {
			return BadRequest(name, "%s must be at least 1, got %d", name, *limit)
		}
		maxTokens = *limit
	}
	if maxTokens <= 0 || maxTokens > room {
		maxTokens = room // capped by the context
	}
	gen.MaxTokens = maxTokens

	temp, topP := 1.0, 1.0 // OpenAI's defaults
	if p.Temperature != nil {
		temp = *p.Temperature
		if !(temp >= 0 && temp <= 2) {
			return BadRequest("temperature", "temperature must be between 0 and 2, got %g", temp)
		}
	}
	if p.TopP != nil {
		topP = *p.TopP
		if !(topP >= 0 && topP <= 1) {
			return BadRequest("top_p", "top_p must be between 0 and 1, got %g", topP)
		}
	}
	if temp > 0 && topP > 0 {
		seed := uint64(time.Now().UnixNano())
		if p.Seed != nil {
			seed = uint64(*p.Seed)
		}
		if seed == 0 {
			seed = 0x9e3779b97f4a7c15 // xorshift needs a state other than 0
		}
		if topP >= 1 {
			topP = 0 // the sampler's "off"
		}
		gen.Sampler = runtime.NewSampler(s.model.Config.VocabSize, float32(temp), float32(topP), 0, runtime.NewRNG(seed))
	}
	if len(p.Stop) > 4 {
		return BadRequest("stop", "stop takes at most 4 sequences, got %d", len(p.Stop))
	}
	for _, st := range p.Stop {
		if st != "" {
			gen.Stop = append(gen.Stop, st)
		}
	}
	return nil
}

// finishReason is OpenAI's name for why a reply ended.
func finishReason(f runtime.Finish) *string {
	r := "stop"
	if f == runtime.FinishLength || f == runtime.FinishContext {
		r = "length"
	}
	return &r
}

// generate runs one request on a slot and writes the response, whole or as
// server-sent events.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, endpoint string, gen runtime.Request, p *sampling) {
	start := time.Now()
	if e := s.options(&gen, p); e != nil {
		WriteError(w, e)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	f := &inflight{cancel: cancel}
	s.mu.Lock()
	if s.state.Load() != stateReady {
		s.mu.Unlock()
		WriteError(w, s.unavailable())
		return
	}
	s.inflight[f] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, f)
		s.mu.Unlock()
		s.wg.Done()
	}()

	sl, e := s.acquire(ctx, gen.Tokens)
	if e != nil {
		WriteError(w, e)
		return
	}
	defer s.release(sl)
	s.metrics.active.Inc()
	defer s.metrics.active.Dec()

	id, created := newID("cmpl-"), time.Now().Unix()
	if endpoint == endpointChat {
		id = newID("chatcmpl-")
	}
	out := &response{endpoint: endpoint, id: id, created: created, model: s.cfg.Model}
	if p.Stream {
		out.sse = newSSE(w, cancel)
	}
	var text strings.Builder
	var finish runtime.Finish
	first := true
	leading := endpoint == endpointChat // a chat reply's leading blanks are dropped
	for tok, err := range sl.session.Generate(ctx, gen) {
		if err != nil {
			s.generationFailed(w, out, err)
			return
		}
		if first {
			s.metrics.ttft.Observe(time.Since(start).Seconds())
			first = false
		}
		s.metrics.token()
		piece := tok.Text
		if leading {
			// The plain fallback ends its prompt with "Assistant:", so the
			// model starts with a space; a chat message does not.
			piece = strings.TrimLeft(piece, " \n")
			leading = piece == ""
		}
		if out.sse != nil {
			out.delta(piece)
		} else {
			text.WriteString(piece)
		}
		finish = tok.Finish
	}
	st := sl.session.Stats()
	s.metrics.prompt.Add(float64(st.PromptTokens))
	s.metrics.cached.Add(float64(st.CachedTokens))
	u := &usage{PromptTokens: st.PromptTokens, CompletionTokens: st.Sampled, TotalTokens: st.PromptTokens + st.Sampled}
	if out.sse != nil {
		out.end(finish, u, p.StreamOptions.IncludeUsage)
		return
	}
	WriteJSON(w, http.StatusOK, out.whole(text.String(), finish, u))
}

// generationFailed reports an error that ended a generation: nothing if
// the client is gone, else an error object (an SSE event once streaming).
func (s *Server) generationFailed(w http.ResponseWriter, out *response, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if out.sse != nil && out.sse.err == nil {
			out.sse.send(map[string]*Error{"error": {Message: "the generation was cancelled: the server is shutting down", Type: "server_error"}})
		}
		return
	}
	s.cfg.Logger.Error("generation failed", "err", err)
	e := &Error{Status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()}
	if out.sse != nil {
		out.sse.send(map[string]*Error{"error": e})
		return
	}
	WriteError(w, e)
}

// response builds the bodies of one generation.
type response struct {
	endpoint, id, model string
	created             int64
	sse                 *sse
	started             bool // the first chunk was sent
}

func (o *response) whole(text string, f runtime.Finish, u *usage) any {
	if o.endpoint == endpointChat {
		return chatResponse{ID: o.id, Object: "chat.completion", Created: o.created, Model: o.model, Usage: u,
			Choices: []chatChoice{{Message: &chatOut{Role: "assistant", Content: &text}, FinishReason: finishReason(f)}}}
	}
	return completionResponse{ID: o.id, Object: "text_completion", Created: o.created, Model: o.model, Usage: u,
		Choices: []completionChoice{{Text: text, FinishReason: finishReason(f)}}}
}

// chunk is one streamed event: text, or the end (finish set).
func (o *response) chunk(text string, finish *string, first bool) any {
	if o.endpoint == endpointChat {
		d := &chatOut{Content: &text}
		if first {
			d.Role = "assistant"
		}
		if finish != nil {
			d = &chatOut{}
		}
		return chatResponse{ID: o.id, Object: "chat.completion.chunk", Created: o.created, Model: o.model,
			Choices: []chatChoice{{Delta: d, FinishReason: finish}}}
	}
	return completionResponse{ID: o.id, Object: "text_completion", Created: o.created, Model: o.model,
		Choices: []completionChoice{{Text: text, FinishReason: finish}}}
}

// delta streams text (the role comes with the first chunk of a chat).
func (o *response) delta(text string) {
	if text == "" && o.started {
		return
	}
	o.sse.send(o.chunk(text, nil, !o.started))
	o.started = true
}

// end streams the last chunk, the usage if asked, and [DONE].
func (o *response) end(f runtime.Finish, u *usage, withUsage bool) {
	if !o.started {
		o.delta("")
	}
	o.sse.send(o.chunk("", finishReason(f), false))
	if withUsage {
		if o.endpoint == endpointChat {
			o.sse.send(chatResponse{ID: o.id, Object: "chat.completion.chunk", Created: o.created, Model: o.model, Choices: []chatChoice{}, Usage: u})
		} else {
			o.sse.send(completionResponse{ID: o.id, Object: "text_completion", Created: o.created, Model: o.model, Choices: []completionChoice{}, Usage: u})
		}
	}
	o.sse.raw("[DONE]")
}

// sse writes server-sent events, flushing each. A failed write (the
// client went away) cancels the generation.
type sse struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	cancel context.CancelFunc
	err    error
}

func newSSE(w http.ResponseWriter, cancel context.CancelFunc) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	return &sse{w: w, rc: http.NewResponseController(w), cancel: cancel}
}

func (e *sse) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":{"message":"encoding the event failed","type":"server_error"}}`)
	}
	e.raw(string(b))
}

func (e *sse) raw(data string) {
	if e.err != nil {
		return
	}
	if _, e.err = fmt.Fprintf(e.w, "data: %s\n\n", data); e.err == nil {
		e.err = e.rc.Flush()
	}
	if e.err != nil {
		e.cancel()
	}
}
