package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/runtime/chat"
)

// collect runs a generation to its end and returns the reply, the tokens
// and the error that ended it, if any.
func collect(s *Session, ctx context.Context, req Request) (text string, ids []int, err error) {
	var b strings.Builder
	for tok, e := range s.Generate(ctx, req) {
		if e != nil {
			return b.String(), ids, e
		}
		b.WriteString(tok.Text)
		ids = append(ids, tok.ID)
	}
	return b.String(), ids, nil
}

func openStories(t *testing.T, threads int) *Model {
	t.Helper()
	m, err := Open(convertStories(t), Options{Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestSessionGolden: a session reproduces llama2.c's published stories260K
// outputs byte for byte, greedy and sampled (the sampler draws in the same
// order as run.c), on 1 and 2 threads, with llama2.c's float32 KV cache
// (sampled text follows every rounding).
func TestSessionGolden(t *testing.T) {
	cases := []struct {
		file    string
		sampled int
		sampler func() *Sampler
	}{
		{"expected_t0.0_n200.txt", 200, func() *Sampler { return nil }},
		{"expected_t0.0_n256.txt", 256, func() *Sampler { return NewSampler(512, 0, 0, 0, nil) }},
		{"expected_t1.0_p0.9_s133742_n256.txt", 256, func() *Sampler { return NewSampler(512, 1, 0.9, 0, NewRNG(133742)) }},
	}
	for _, threads := range []int{1, 2} {
		m, err := Open(convertStories(t), Options{Threads: threads, KVType: KVF32})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		for _, c := range cases {
			want, err := os.ReadFile(testmodels.Path(t, "stories260K/"+c.file))
			if err != nil {
				t.Fatal(err)
			}
			s, err := m.NewSession(256)
			if err != nil {
				t.Fatal(err)
			}
			text, ids, err := collect(s, context.Background(), Request{Tokens: []int{m.Tokenizer.BOS()}, MaxTokens: c.sampled, Sampler: c.sampler()})
			if err != nil {
				t.Fatal(err)
			}
			if text != string(want) {
				t.Errorf("threads %d, %s:\n got %q\nwant %q", threads, c.file, text, want)
			}
			st := s.Stats()
			if len(ids) != c.sampled || st.Sampled != c.sampled || st.Finish != FinishLength || st.PromptTokens != 1 {
				t.Errorf("threads %d, %s: %d tokens, stats %+v", threads, c.file, len(ids), st)
			}
		}
	}
}

// TestSessionContinues: a generation stopped at MaxTokens and continued
// gives the tokens of one longer generation, and the continuation runs only
// the token sampled last, not the prompt again.
func TestSessionContinues(t *testing.T) {
	m := openStories(t, 1)
	prompt := m.Tokenizer.Encode("Once upon a time", true)
	whole, _ := m.NewSession(128)
	_, all, err := collect(whole, context.Background(), Request{Tokens: prompt, MaxTokens: 40})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.NewSession(128)
	_, first, err := collect(s, context.Background(), Request{Tokens: prompt, MaxTokens: 15})
	if err != nil {
		t.Fatal(err)
	}
	_, rest, err := collect(s, context.Background(), Request{MaxTokens: 25})
	if err != nil {
		t.Fatal(err)
	}
	if got := append(first, rest...); fmt.Sprint(got) != fmt.Sprint(all) {
		t.Errorf("continued %v\n     want %v", got, all)
	}
	if st := s.Stats(); st.CachedTokens != len(prompt)+15-1 || st.PromptTokens != len(prompt)+15 {
		t.Errorf("continuation stats %+v, want %d cached of %d", st, len(prompt)+14, len(prompt)+15)
	}
	if got := s.Tokens(); len(got) != len(prompt)+40 || s.Cached() != len(got)-1 {
		t.Errorf("session holds %d tokens, %d cached", len(got), s.Cached())
	}
}

// TestSessionReusesPrefix: a new sequence that shares a prefix with the
// session's runs only the rest, and generates exactly what a fresh session
// generates for it.
func TestSessionReusesPrefix(t *testing.T) {
	m := openStories(t, 2)
	s, _ := m.NewSession(256)
	first := m.Tokenizer.Encode("Once upon a time, there was a cat.", true)
	if _, _, err := collect(s, context.Background(), Request{Tokens: first, MaxTokens: 20}); err != nil {
		t.Fatal(err)
	}
	held := s.Tokens()
	// The conversation goes on: what the session holds, then new text.
	next := append(held, m.Tokenizer.Encode("The dog said", false)...)
	text, ids, err := collect(s, context.Background(), Request{Tokens: next, MaxTokens: 30})
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.CachedTokens != len(held)-1 {
		t.Errorf("reused %d tokens of the cache, want %d (all but the last token sampled)", st.CachedTokens, len(held)-1)
	}
	fresh, _ := m.NewSession(256)
	wantText, wantIDs, err := collect(fresh, context.Background(), Request{Tokens: next, MaxTokens: 30})
	if err != nil {
		t.Fatal(err)
	}
	if text != wantText || fmt.Sprint(ids) != fmt.Sprint(wantIDs) {
		t.Errorf("with the cache reused: %q\nfresh: %q", text, wantText)
	}
	// A different sequence keeps only the common prefix (BOS + "Once").
	other := m.Tokenizer.Encode("Once there lived a fox.", true)
	if _, _, err := collect(s, context.Background(), Request{Tokens: other, MaxTokens: 5}); err != nil {
		t.Fatal(err)
	}
	common := 0
	for common < len(other) && other[common] == first[common] {
		common++
	}
	if st := s.Stats(); st.CachedTokens != common {
		t.Errorf("reused %d tokens, want the %d in common", st.CachedTokens, common)
	}
}

// TestConcurrentSessions: several goroutines generate on one model at the
// same time (decoded together by the scheduler); each gets exactly what it
// gets alone. Run with -race, it also proves the model's bookkeeping safe.
func TestConcurrentSessions(t *testing.T) {
	for _, threads := range []int{1, 2} {
		m := openStories(t, threads)
		prompts := []string{"Once upon a time", "The cat", "Lily and Ben went to the park", "One day", "A big dog", ""}
		type result struct {
			text string
			ids  []int
		}
		want := make([]result, len(prompts))
		for i, p := range prompts {
			s, _ := m.NewSession(160)
			text, ids, err := collect(s, context.Background(), Request{Tokens: m.Tokenizer.Encode(p, true), MaxTokens: 60 + 10*i})
			if err != nil {
				t.Fatal(err)
			}
			want[i] = result{text, ids}
		}
		for round := range 3 {
			var wg sync.WaitGroup
			got := make([]result, len(prompts))
			errs := make([]error, len(prompts))
			for i, p := range prompts {
				wg.Go(func() {
					s, err := m.NewSession(160)
					if err != nil {
						errs[i] = err
						return
					}
					// Each turn of the loop is one prompt and a reply; the
					// second reuses the cache of the first.
					got[i].text, got[i].ids, errs[i] = collect(s, context.Background(), Request{Tokens: m.Tokenizer.Encode(p, true), MaxTokens: 60 + 10*i})
				})
			}
			wg.Wait()
			for i := range prompts {
				if errs[i] != nil {
					t.Fatalf("threads %d round %d, prompt %q: %v", threads, round, prompts[i], errs[i])
				}
				if got[i].text != want[i].text || fmt.Sprint(got[i].ids) != fmt.Sprint(want[i].ids) {
					t.Errorf("threads %d round %d, prompt %q:\n together %q\n    alone %q", threads, round, prompts[i], got[i].text, want[i].text)
				}
			}
		}
	}
}

// TestSessionCancel: cancelling the context ends the generation with the
// context's error: no token is yielded after it, the scheduler stops
// within a step (far fewer tokens than asked are sampled), and the session
// is usable again at once.
func TestSessionCancel(t *testing.T) {
	m := openStories(t, 1)
	s, _ := m.NewSession(512)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const at = 5
	n := 0
	var last error
	for _, err := range s.Generate(ctx, Request{Tokens: []int{m.Tokenizer.BOS()}, MaxTokens: 500}) {
		if err != nil {
			last = err
			break
		}
		n++
		if n == at {
			cancel()
		}
	}
	if n != at || !errors.Is(last, context.Canceled) {
		t.Errorf("after cancelling at token %d: %d tokens, error %v", at, n, last)
	}
	if st := s.Stats(); st.Sampled > at+outTokens+1 || st.Finish != FinishNone {
		t.Errorf("stats after cancel: %+v", st)
	}
	// Breaking out of the loop stops it as well; the session goes on.
	for range s.Generate(context.Background(), Request{MaxTokens: 100}) {
		break
	}
	if _, _, err := collect(s, context.Background(), Request{MaxTokens: 3}); err != nil {
		t.Fatal(err)
	}
	// A context cancelled before the start.
	if _, _, err := collect(s, ctx, Request{MaxTokens: 3}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// TestSessionErrors: bad requests are refused before any work, a second
// Generate on a busy session gets ErrBusy, and a closed model ErrClosed.
func TestSessionErrors(t *testing.T) {
	m, err := Open(convertStories(t), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.NewSession(16)
	ctx := context.Background()
	bad := []struct {
		req  Request
		want error
	}{
		{Request{}, ErrEmptyPrompt},
		{Request{Tokens: make([]int, 17)}, ErrContextFull},
		{Request{Tokens: []int{1}, Sampler: NewSampler(512, -1, 0, 0, NewRNG(1))}, ErrTemperature},
		{Request{Tokens: []int{1, 512}}, nil},
		{Request{Tokens: []int{1}, StopTokens: []int{-1}}, nil},
	}
	for _, c := range bad {
		_, _, err := collect(s, ctx, c.req)
		if err == nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%+v: error %v, want %v", c.req, err, c.want)
		}
	}
	for _, err := range s.Generate(ctx, Request{Tokens: []int{1}, MaxTokens: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := collect(s, ctx, Request{Tokens: []int{1}}); !errors.Is(err, ErrBusy) {
			t.Errorf("nested Generate: %v, want ErrBusy", err)
		}
	}
	// The context fills: the reply ends with FinishContext.
	_, ids, err := collect(s, ctx, Request{Tokens: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Finish != FinishContext && st.Finish != FinishStop || len(ids) > 16 {
		t.Errorf("to the end of the context: %d tokens, %+v", len(ids), st)
	}
	m.Close()
	if _, _, err := collect(s, ctx, Request{Tokens: []int{1}}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

// TestStopText: a stop text ends the reply before it, across token
// boundaries; a character split over pieces comes out whole.
func TestStopText(t *testing.T) {
	cases := []struct {
		stops  []string
		pieces []string
		want   []string // text per piece
		stop   bool
	}{
		{[]string{"\nUser:"}, []string{"Hi", " there", "\n", "Us", "er", ":", "x"}, []string{"Hi", " there", "", "", "", ""}, true},
		{[]string{"\nUser:"}, []string{"a", "\n", "Ux"}, []string{"a", "", "\nUx"}, false},
		{[]string{"END", "ND!"}, []string{"xE", "ND"}, []string{"x", ""}, true},
		{nil, []string{"\xe6", "\x97", "\xa5x"}, []string{"", "", "日x"}, false},
		{nil, []string{"\xff", "a"}, []string{"\xff", "a"}, false},
		{[]string{"stop"}, []string{"nonstop"}, []string{"non"}, true},
	}
	for _, c := range cases {
		r := replyText{stops: c.stops}
		var got []string
		stopped := false
		for _, p := range c.pieces {
			text, s := r.add([]byte(p))
			got = append(got, text)
			if s {
				stopped = true
				break
			}
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) || stopped != c.stop {
			t.Errorf("stops %q, pieces %q: got %q stop %v, want %q stop %v", c.stops, c.pieces, got, stopped, c.want, c.stop)
		}
	}
	r := replyText{stops: []string{"\nUser:"}}
	r.add([]byte("end\nUs"))
	if got := r.flush(); got != "\nUs" {
		t.Errorf("flush: %q", got)
	}
}

// TestChatFormatOfRealTemplates: LLaMA 3 and Qwen 2 files converted from
// GGUF carry their chat templates; ChatFormat uses them (not the fallback),
// maps their end-of-turn markers to single tokens (<|eot_id|> 128009,
// <|im_end|> 151645), puts exactly one BOS first where the family has one,
// and a two-turn chat through a session reuses the first turn's cache.
func TestChatFormatOfRealTemplates(t *testing.T) {
	cases := []struct {
		gguf     string
		stop     int
		firstBOS int // the id the prompt starts with
	}{
		{"llama3-random/l3-F16.gguf", 128009, 128000},
		{"qwen2-random/qw-F16.gguf", 151645, -1},
	}
	for _, c := range cases {
		m, err := Open(convertGGUF(t, testmodels.Path(t, c.gguf)), Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		f, err := m.ChatFormat()
		if err != nil {
			t.Fatal(err)
		}
		if f.Builtin || !slices.Contains(f.StopTokens, c.stop) || len(f.Stop) != 0 {
			t.Errorf("%s: builtin %v, stop tokens %v, stop texts %q", c.gguf, f.Builtin, f.StopTokens, f.Stop)
		}
		conv := []chat.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hello there"}}
		req, err := f.Request(conv)
		if err != nil {
			t.Fatal(err)
		}
		bos := m.Tokenizer.BOS()
		if c.firstBOS >= 0 && (req.Tokens[0] != c.firstBOS || req.Tokens[1] == bos) {
			t.Errorf("%s: prompt starts %v, want one %d", c.gguf, req.Tokens[:3], c.firstBOS)
		}
		if c.firstBOS < 0 && req.Tokens[0] == bos {
			t.Errorf("%s: prompt starts with BOS %d", c.gguf, bos)
		}
		s, _ := m.NewSession(256)
		req.MaxTokens = 6
		reply, _, err := collect(s, context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		conv = append(conv, chat.Message{Role: "assistant", Content: reply}, chat.Message{Role: "user", Content: "And?"})
		if req, err = f.Request(conv); err != nil {
			t.Fatal(err)
		}
		req.MaxTokens = 3
		if _, _, err := collect(s, context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); st.CachedTokens < 10 {
			t.Errorf("%s: second turn reused %d tokens of the cache", c.gguf, st.CachedTokens)
		}
	}
}
