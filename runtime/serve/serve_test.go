package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/internal/testmodels/stories"
	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/runtime"
	"go.uber.org/goleak"
)

// Every test of the package must leave no goroutine behind: servers,
// streams, the model's scheduler and workers all end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// storiesModel converts and opens stories260K.
func storiesModel(t *testing.T) *runtime.Model {
	t.Helper()
	m, err := runtime.Open(stories.Convert(t), runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// slowModel writes a random-weight model that generates for a long time
// (a context of 4096 and no way to end its text early: the classifier
// rows of BOS and EOS are zero, so greedy decoding never picks them) with
// the given chat template, and opens it.
func slowModel(t *testing.T, template string) *runtime.Model {
	t.Helper()
	src, err := convert.Synth("slow", arch.Config{Dim: 128, HiddenDim: 384, NLayers: 4, NHeads: 4, VocabSize: 300, ContextLength: 4096}, 7)
	if err != nil {
		t.Fatal(err)
	}
	for i := range src.Tensors {
		if src.Tensors[i].Name == "output.weight" {
			row := src.Tensors[i].Row
			src.Tensors[i].Row = func(r int, dst []float32) {
				if r == 1 || r == 2 {
					clear(dst)
					return
				}
				row(r, dst)
			}
		}
	}
	if template != "" {
		src.Meta.Set(format.KeyTokenizerChatTemplate, format.String(template))
	}
	path := filepath.Join(t.TempDir(), "slow.llmap")
	if err := convert.Write(path, src, convert.Options{Matrices: quant.Q8_0}); err != nil {
		t.Fatal(err)
	}
	m, err := runtime.Open(path, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// start serves m with cfg on a loopback test server.
func start(t *testing.T, m *runtime.Model, cfg Config) (*Server, string) {
	t.Helper()
	s := New(cfg)
	if err := s.Load(m); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Mux())
	t.Cleanup(func() {
		s.CancelAll()
		ts.Close()
		s.Wait()
	})
	return s, ts.URL
}

// post sends a JSON body and returns the status, headers and body.
func post(t *testing.T, url, body string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// errorBody decodes an OpenAI-style error response.
type errorBody struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Param   any    `json:"param"`
		Code    any    `json:"code"`
	} `json:"error"`
}

// readEvents reads server-sent events until [DONE] or the end of the
// stream, returning the data lines.
func readEvents(t *testing.T, r io.Reader) (events []string, done bool) {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("not an SSE data line: %q", line)
		}
		if data == "[DONE]" {
			return events, true
		}
		events = append(events, data)
	}
	return events, false
}

// metric returns the value of a series in the /metrics text, or -1.
func metric(t *testing.T, base, series string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	return -1
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCompletionGolden: /v1/completions with an empty prompt (BOS) at
// temperature 0 gives llama2.c's published stories260K text, whole and
// streamed, with the usage counted.
func TestCompletionGolden(t *testing.T) {
	m := storiesModel(t)
	_, base := start(t, m, Config{Model: "stories260K", Parallel: 2, Context: 512})
	want, err := os.ReadFile(testmodels.Path(t, "stories260K/expected_t0.0_n200.txt"))
	if err != nil {
		t.Fatal(err)
	}
	code, _, body := post(t, base+"/v1/completions", `{"model":"stories260K","prompt":"","max_tokens":200,"temperature":0,"some_future_field":{"x":1}}`)
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var resp completionResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].Text != string(want) || *resp.Choices[0].FinishReason != "length" {
		t.Fatalf("completion %+v\nwant %q", resp, want)
	}
	if resp.Object != "text_completion" || !strings.HasPrefix(resp.ID, "cmpl-") || resp.Usage == nil ||
		resp.Usage.PromptTokens != 1 || resp.Usage.CompletionTokens != 200 || resp.Usage.TotalTokens != 201 {
		t.Errorf("response fields %+v usage %+v", resp, resp.Usage)
	}

	req, _ := http.NewRequest("POST", base+"/v1/completions", strings.NewReader(`{"prompt":[""],"max_tokens":200,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}`))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	events, done := readEvents(t, res.Body)
	if !done {
		t.Fatal("stream did not end with [DONE]")
	}
	var text strings.Builder
	var finish string
	var u *usage
	for _, e := range events {
		var c completionResponse
		if err := json.Unmarshal([]byte(e), &c); err != nil {
			t.Fatalf("%v: %s", err, e)
		}
		for _, ch := range c.Choices {
			text.WriteString(ch.Text)
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
		if c.Usage != nil {
			u = c.Usage
		}
	}
	if text.String() != string(want) || finish != "length" || u == nil || u.CompletionTokens != 200 {
		t.Errorf("streamed %q finish %q usage %+v", text.String(), finish, u)
	}
}

// TestChatTemplateAndStops: a model with a ChatML template; the chat
// endpoint renders it, the reply stops at a request's stop text, and the
// second turn of a conversation reuses the first's cache.
func TestChatTemplateAndStops(t *testing.T) {
	const chatML = `{% for message in messages %}{{ '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`
	m := slowModel(t, chatML)
	s, base := start(t, m, Config{Parallel: 1, Context: 512})
	f, _ := m.ChatFormat()
	if f.Builtin || len(f.Stop) != 1 || f.Stop[0] != "<|im_end|>" {
		t.Fatalf("chat format: builtin %v, stop texts %q", f.Builtin, f.Stop)
	}
	code, _, body := post(t, base+"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"max_tokens":40,"temperature":0}`)
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var first chatResponse
	json.Unmarshal(body, &first)
	reply := *first.Choices[0].Message.Content
	if len(reply) < 10 {
		t.Fatalf("reply %q", reply)
	}
	// The same request with a stop text from the middle of the reply (an
	// ASCII letter: the random model writes bytes that are not all UTF-8).
	cut := strings.IndexFunc(reply[1:], func(r rune) bool { return r > ' ' && r < 0x7f }) + 1
	if cut < 1 {
		t.Fatalf("no ASCII in the reply %q", reply)
	}
	stop := reply[cut : cut+1]
	stopJSON, _ := json.Marshal(stop)
	code, _, body = post(t, base+"/v1/chat/completions", fmt.Sprintf(`{"messages":[{"role":"user","content":"hi"}],"max_tokens":40,"temperature":0,"stop":%s}`, stopJSON))
	var stopped chatResponse
	json.Unmarshal(body, &stopped)
	if code != 200 || *stopped.Choices[0].Message.Content != reply[:strings.Index(reply, stop)] || *stopped.Choices[0].FinishReason != "stop" {
		t.Errorf("with stop %q: %d %s (full reply %q)", stop, code, body, reply)
	}
	// The next turn: the conversation's prefix comes from the cache.
	before := metric(t, base, "llmap_prompt_tokens_cached_total")
	replyJSON, _ := json.Marshal(reply)
	turn2 := fmt.Sprintf(`{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":%s},{"role":"user","content":"and?"}],"max_tokens":5,"temperature":0}`, replyJSON)
	if code, _, body := post(t, base+"/v1/chat/completions", turn2); code != 200 {
		t.Fatalf("turn 2: %d %s", code, body)
	}
	if cached := metric(t, base, "llmap_prompt_tokens_cached_total") - before; cached < 10 {
		t.Errorf("turn 2 reused %v tokens of the cache", cached)
	}
	_ = s
}

// TestBadRequests: malformed and invalid requests get 400 (413 for a big
// body, 404/405 for routes) with an OpenAI error object, and the server
// keeps serving.
func TestBadRequests(t *testing.T) {
	m := storiesModel(t)
	_, base := start(t, m, Config{Model: "stories260K", Parallel: 1, Context: 256, MaxBody: 4096})
	chat, compl := base+"/v1/chat/completions", base+"/v1/completions"
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	cases := []struct {
		url, body string
		status    int
		param     string
	}{
		{chat, `{`, 400, ""},
		{chat, `not json`, 400, ""},
		{chat, ``, 400, ""},
		{chat, `[1,2]`, 400, ""},
		{chat, `{` + msgs + `} {}`, 400, ""},
		{chat, `{"messages":"hi"}`, 400, "messages"},
		{chat, `{"messages":[]}`, 400, "messages"},
		{chat, `{}`, 400, "messages"},
		{chat, `{"messages":[{"role":"wizard","content":"hi"}]}`, 400, "messages[0].role"},
		{chat, `{"messages":[{"role":"user","content":42}]}`, 400, ""},
		{chat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, 400, ""},
		{chat, `{"model":"gpt-4",` + msgs + `}`, 400, "model"},
		{chat, `{"temperature":-0.5,` + msgs + `}`, 400, "temperature"},
		{chat, `{"temperature":"hot",` + msgs + `}`, 400, "temperature"},
		{chat, `{"temperature":3,` + msgs + `}`, 400, "temperature"},
		{chat, `{"top_p":1.5,` + msgs + `}`, 400, "top_p"},
		{chat, `{"max_tokens":0,` + msgs + `}`, 400, "max_tokens"},
		{chat, `{"max_tokens":-3,` + msgs + `}`, 400, "max_tokens"},
		{chat, `{"max_tokens":1.5,` + msgs + `}`, 400, "max_tokens"},
		{chat, `{"max_completion_tokens":0,` + msgs + `}`, 400, "max_completion_tokens"},
		{chat, `{"stream":"yes",` + msgs + `}`, 400, "stream"},
		{chat, `{"seed":"x",` + msgs + `}`, 400, "seed"},
		{chat, `{"stop":5,` + msgs + `}`, 400, ""},
		{chat, `{"stop":["a","b","c","d","e"],` + msgs + `}`, 400, "stop"},
		{chat, `{"n":3,` + msgs + `}`, 400, "n"},
		{chat, `{"messages":[{"role":"user","content":"` + strings.Repeat("x", 5000) + `"}]}`, 413, ""},
		{chat, `{"messages":[{"role":"user","content":"` + strings.Repeat("a b ", 400) + `"}]}`, 400, "messages"},
		{compl, `{}`, 400, "prompt"},
		{compl, `{"prompt":7}`, 400, ""},
		{compl, `{"prompt":["a","b"]}`, 400, ""},
		{compl, `{"prompt":[1,2,99999]}`, 400, "prompt"},
		{compl, `{"prompt":[1,-2]}`, 400, ""},
		{base + "/v1/nothing", `{}`, 404, ""},
	}
	for _, c := range cases {
		code, hdr, body := post(t, c.url, c.body)
		if code != c.status {
			t.Errorf("%s %.60s: status %d, want %d: %s", c.url[len(base):], c.body, code, c.status, body)
			continue
		}
		var e errorBody
		if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" || hdr.Get("Content-Type") != "application/json" {
			t.Errorf("%.60s: not an OpenAI error object: %s", c.body, body)
			continue
		}
		if c.param != "" && e.Error.Param != c.param {
			t.Errorf("%.60s: param %v, want %s (%s)", c.body, e.Error.Param, c.param, e.Error.Message)
		}
		if strings.Contains(e.Error.Message, "Go struct") || strings.Contains(e.Error.Message, "serve.") {
			t.Errorf("%.60s: message speaks Go: %s", c.body, e.Error.Message)
		}
	}
	if resp, err := http.Get(chat); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on a POST route: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	// Still serving.
	if code, _, body := post(t, chat, `{`+msgs+`,"max_tokens":3}`); code != 200 {
		t.Errorf("after the bad requests: %d %s", code, body)
	}
}

// TestModelsHealthMetrics: the small GET endpoints.
func TestModelsHealthMetrics(t *testing.T) {
	s := New(Config{Model: "tiny", Parallel: 2, Context: 128})
	ts := httptest.NewServer(s.Mux())
	defer ts.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/health"); code != 503 || !strings.Contains(body, `"loading"`) {
		t.Errorf("health while loading: %d %s", code, body)
	}
	if code, hdr, body := post(t, ts.URL+"/v1/completions", `{"prompt":"x"}`); code != 503 || hdr.Get("Retry-After") == "" {
		t.Errorf("completion while loading: %d %s", code, body)
	}
	m := storiesModel(t)
	if err := s.Load(m); err != nil {
		t.Fatal(err)
	}
	if code, body := get("/health"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("health: %d %s", code, body)
	}
	code, body := get("/v1/models")
	var list struct {
		Object string        `json:"object"`
		Data   []modelObject `json:"data"`
	}
	if json.Unmarshal([]byte(body), &list); code != 200 || list.Object != "list" || len(list.Data) != 1 || list.Data[0].ID != "tiny" {
		t.Errorf("models: %d %s", code, body)
	}
	if code, _ := get("/v1/models/tiny"); code != 200 {
		t.Errorf("models/tiny: %d", code)
	}
	if code, body := get("/v1/models/other"); code != 404 || !strings.Contains(body, "model_not_found") {
		t.Errorf("models/other: %d %s", code, body)
	}
	post(t, ts.URL+"/v1/completions", `{"prompt":"Once","max_tokens":7}`)
	for series, want := range map[string]float64{
		`llmap_generated_tokens_total`:                           7,
		`llmap_requests_total{code="200",endpoint="completion"}`: 1,
		`llmap_requests_total{code="503",endpoint="completion"}`: 1,
		`llmap_sequences`:                         2,
		`llmap_queue_length`:                      0,
		`llmap_active_sequences`:                  0,
		`llmap_time_to_first_token_seconds_count`: 1,
	} {
		if got := metric(t, ts.URL, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	kv, _ := m.StateBytes(128)
	if got := metric(t, ts.URL, "llmap_kv_cache_bytes"); got != float64(2*kv) {
		t.Errorf("llmap_kv_cache_bytes %v, want %d", got, 2*kv)
	}
	if metric(t, ts.URL, "llmap_tokens_per_second") < 0 {
		t.Error("no llmap_tokens_per_second")
	}
}

// streamUntilFirst starts a streaming completion and returns once its first
// event has arrived, with a function that hangs up.
func streamUntilFirst(t *testing.T, url, body string) (hangUp func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		cancel()
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		cancel()
		t.Fatal(err)
	}
	return func() {
		cancel()
		resp.Body.Close()
	}
}

// TestDisconnectAndQueue: a client that hangs up mid-stream frees its
// sequence at once; while the one sequence is busy a request waits in the
// queue, and one more is refused with 503 and Retry-After.
func TestDisconnectAndQueue(t *testing.T) {
	m := slowModel(t, "")
	_, base := start(t, m, Config{Parallel: 1, Queue: 1, Context: 4096})
	url := base + "/v1/completions"
	hangUp := streamUntilFirst(t, url, `{"prompt":"a","temperature":0,"stream":true}`)
	waitFor(t, "one active sequence", func() bool { return metric(t, base, "llmap_active_sequences") == 1 })

	queued := make(chan int, 1)
	go func() {
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"prompt":"b","max_tokens":3}`))
		if err != nil {
			queued <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		queued <- resp.StatusCode
	}()
	waitFor(t, "a queued request", func() bool { return metric(t, base, "llmap_queue_length") == 1 })
	code, hdr, body := post(t, url, `{"prompt":"c","max_tokens":3}`)
	var e errorBody
	if json.Unmarshal(body, &e); code != 503 || hdr.Get("Retry-After") == "" || e.Error.Message == "" {
		t.Errorf("over the queue: %d %q %s", code, hdr.Get("Retry-After"), body)
	}
	// The stream's client goes away: the queued request gets its sequence.
	t0 := time.Now()
	hangUp()
	select {
	case code := <-queued:
		if code != 200 {
			t.Errorf("queued request: status %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the queued request did not get the sequence after the first client hung up")
	}
	t.Logf("sequence handed over %v after the hang-up", time.Since(t0))
	if n := metric(t, base, `llmap_requests_refused_total`); n != 1 {
		t.Errorf("refused %v, want 1", n)
	}
}

// TestRunShutdown: Run stops on its context: /health turns 503, a short
// generation in flight finishes, a long one is cancelled after the grace
// period, and Run returns nil.
func TestRunShutdown(t *testing.T) {
	m := slowModel(t, "")
	s := New(Config{Parallel: 2, Context: 4096})
	if err := s.Load(m); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx, ln, 300*time.Millisecond) }()

	long := streamUntilFirst(t, base+"/v1/completions", `{"prompt":"a","temperature":0,"stream":true}`)
	defer long()
	short := make(chan int, 1)
	go func() {
		resp, err := http.Post(base+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"b","max_tokens":200,"temperature":0}`))
		if err != nil {
			short <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		short <- resp.StatusCode
	}()
	waitFor(t, "two active sequences", func() bool { return metric(t, base, "llmap_active_sequences") == 2 })
	t0 := time.Now()
	stop()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	t.Logf("Run returned %v after the stop", time.Since(t0))
	if code := <-short; code != 200 {
		t.Errorf("the short request in flight: %d", code)
	}
	if _, err := http.Get(base + "/health"); err == nil {
		t.Error("still accepting after Run returned")
	}
}

// TestDrain: a draining server answers /health and new requests with 503.
func TestDrain(t *testing.T) {
	m := storiesModel(t)
	s, base := start(t, m, Config{Parallel: 1, Context: 128})
	s.Drain()
	resp, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(b), "draining") {
		t.Errorf("health while draining: %d %s", resp.StatusCode, b)
	}
	if code, hdr, body := post(t, base+"/v1/completions", `{"prompt":"x"}`); code != 503 || hdr.Get("Retry-After") == "" {
		t.Errorf("request while draining: %d %s", code, body)
	}
}

// TestLoad: 16 clients send 20 requests each (chat and completions,
// streamed and not) to a server with 4 sequences and a queue of 4: every
// request is answered 200 with a finished reply, or refused with 503 and
// Retry-After; nothing hangs, and no goroutine is left (TestMain).
func TestLoad(t *testing.T) {
	m := storiesModel(t)
	_, base := start(t, m, Config{Parallel: 4, Queue: 4, Context: 256})
	const clients, requests = 16, 20
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for r := range requests {
				stream := (c+r)%2 == 0
				url, body := base+"/v1/completions", fmt.Sprintf(`{"prompt":"Once upon a time %d","max_tokens":%d,"stream":%v,"seed":%d}`, r, 10+r*3, stream, c*100+r)
				if c%2 == 1 {
					url, body = base+"/v1/chat/completions", fmt.Sprintf(`{"messages":[{"role":"user","content":"story %d"}],"max_tokens":%d,"stream":%v,"temperature":0.7}`, r, 10+r*3, stream)
				}
				req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("client %d request %d: %v", c, r, err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Errorf("client %d request %d: reading: %v", c, r, err)
					return
				}
				switch resp.StatusCode {
				case 200:
					finished := false
					if stream {
						finished = strings.Contains(string(b), `"finish_reason":"`) && strings.HasSuffix(string(b), "data: [DONE]\n\n")
					} else {
						finished = strings.Contains(string(b), `"finish_reason":"`)
					}
					if !finished {
						t.Errorf("client %d request %d: unfinished reply %q", c, r, b)
					}
				case 503, 429:
					if resp.Header.Get("Retry-After") == "" {
						t.Errorf("client %d request %d: %d without Retry-After", c, r, resp.StatusCode)
					}
				default:
					t.Errorf("client %d request %d: status %d: %s", c, r, resp.StatusCode, b)
				}
				mu.Lock()
				counts[resp.StatusCode]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("the load test ran out of time: something hung")
	}
	t.Logf("statuses: %v", counts)
	if counts[200]+counts[503]+counts[429] != clients*requests || counts[200] == 0 {
		t.Errorf("statuses %v", counts)
	}
}

// TestRefusedTemplate: a model whose chat template the renderer refuses is
// still served; chat falls back to the built-in format.
func TestRefusedTemplate(t *testing.T) {
	m := slowModel(t, "{% for m in messages %}{{ m.content * 3 }}{% endfor %}")
	if _, err := m.ChatFormat(); err == nil {
		t.Fatal("the template was accepted")
	}
	_, base := start(t, m, Config{Parallel: 1, Context: 256})
	if code, _, body := post(t, base+"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"max_tokens":4}`); code != 200 {
		t.Errorf("chat with a refused template: %d %s", code, body)
	}
}
