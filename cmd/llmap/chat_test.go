package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/chat"
)

// llmapIn runs llmap in-process with stdin.
func llmapIn(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	if _, err := root.ExecuteC(); err != nil {
		return out.String(), errb.String() + err.Error() + "\n", 1
	}
	return out.String(), errb.String(), 0
}

// libraryReplies is what the runtime's own chat gives for messages sent one
// after the other, greedy, each reply at most n tokens.
func libraryReplies(t *testing.T, model string, n int, system string, msgs ...string) []string {
	t.Helper()
	m, err := runtime.Open(model, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	format, _ := m.ChatFormat()
	s, _ := m.NewSession(runtime.DefaultContext)
	var conv []chat.Message
	if system != "" {
		conv = append(conv, chat.Message{Role: "system", Content: system})
	}
	var replies []string
	for _, msg := range msgs {
		conv = append(conv, chat.Message{Role: "user", Content: msg})
		req, err := format.Request(conv)
		if err != nil {
			t.Fatal(err)
		}
		req.MaxTokens = n
		var b strings.Builder
		for tok, err := range s.Generate(context.Background(), req) {
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(tok.Text)
		}
		reply := strings.TrimSpace(b.String())
		replies = append(replies, reply)
		conv = append(conv, chat.Message{Role: "assistant", Content: reply})
	}
	return replies
}

// TestChatPiped: with stdin from a pipe, each line is a message and each
// reply one line of stdout, the same replies the library's chat gives;
// /reset starts over; unknown commands and empty lines send nothing.
func TestChatPiped(t *testing.T) {
	model := stories260K(t)
	in := "Tell me about a cat.\n\nWhat did the cat do?\n/nonsense\n/reset\nTell me about a cat.\n/exit\nnever sent\n"
	stdout, stderr, code := llmapIn(t, in, "chat", model, "-t", "0", "-n", "40", "--system", "Stories for children.")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := libraryReplies(t, model, 40, "Stories for children.", "Tell me about a cat.", "What did the cat do?")
	if wantOut := want[0] + "\n" + want[1] + "\n" + want[0] + "\n"; stdout != wantOut {
		t.Errorf("replies:\n%q\nwant %q", stdout, wantOut)
	}
	if !strings.Contains(stderr, "unknown command /nonsense") || !strings.Contains(stderr, "new conversation") {
		t.Errorf("stderr: %s", stderr)
	}
	// One message as an argument.
	stdout, stderr, code = llmapIn(t, "", "chat", model, "Tell me about a cat.", "-t", "0", "-n", "40", "--system", "Stories for children.")
	if code != 0 || stdout != want[0]+"\n" {
		t.Errorf("one-shot: exit %d, %q (want %q): %s", code, stdout, want[0], stderr)
	}
}

// TestChatContextLimit: a conversation longer than the context drops its
// oldest messages and says so; a message that cannot fit is refused with a
// line and the chat goes on.
func TestChatContextLimit(t *testing.T) {
	model := stories260K(t)
	in := strings.Repeat("Tell me a story about a dog and a cat.\n", 6) + strings.Repeat("word ", 200) + "\nThe end.\n"
	_, stderr, code := llmapIn(t, in, "chat", model, "-t", "0", "-n", "24", "--ctx", "128", "-v")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stderr, "tokens at"); n != 7 {
		t.Errorf("%d replies, want 7 (6 + the last; the long message is refused):\n%s", n, stderr)
	}
	if !strings.Contains(stderr, "dropped the") || !strings.Contains(stderr, "not sent") {
		t.Errorf("stderr does not report the context limit:\n%s", stderr)
	}
	// Every prompt stayed within the context.
	for _, m := range regexp.MustCompile(`prompt (\d+) tokens`).FindAllStringSubmatch(stderr, -1) {
		if n, _ := strconv.Atoi(m[1]); n > 128-24 {
			t.Errorf("a prompt of %s tokens in a context of 128 with 24 for the reply", m[1])
		}
	}
}

// TestChatAndServeSignals runs the real binary on a slow (110M-shaped)
// model: Ctrl-C stops a chat reply and the chat goes on; SIGTERM makes
// llmap serve cancel a stream after the grace period and exit 0.
func TestChatAndServeSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 130 MB model; skipped with -short")
	}
	model := synth(t, t.TempDir(), "110m.llmap", "--shape", "stories110M", "--quant", "q8_0")

	// Chat: the first reply is long (no -n); stop it with SIGINT.
	cmd := child("chat", model, "-t", "1", "--seed", "3", "--ctx", "1024", "--threads", "1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	io.WriteString(stdin, "Tell me a long story.\n")
	out := bufio.NewReader(stdout)
	if _, err := out.ReadByte(); err != nil {
		t.Fatalf("no reply: %v\n%s", err, stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	if _, err := out.ReadString('\n'); err != nil { // the stopped reply ends its line
		t.Fatal(err)
	}
	io.WriteString(stdin, "/exit\n")
	stdin.Close()
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		t.Errorf("chat after Ctrl-C: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "reply stopped") {
		t.Errorf("stderr: %s", stderr.String())
	}

	// Serve: SIGTERM with a stream in flight.
	srv := child("serve", model, "--addr", "127.0.0.1:0", "--grace", "300ms", "--parallel", "1", "--threads", "1")
	errPipe, _ := srv.StderrPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	addr, lines := "", bufio.NewScanner(errPipe)
	var log strings.Builder
	for lines.Scan() {
		log.WriteString(lines.Text() + "\n")
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
			break
		}
	}
	if addr == "" {
		t.Fatalf("serve did not say where it listens:\n%s", log.String())
	}
	go func() {
		for lines.Scan() {
			log.WriteString(lines.Text() + "\n")
		}
	}()
	resp, err := http.Post(addr+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"Once","stream":true,"max_tokens":900}`))
	if err != nil {
		t.Fatal(err)
	}
	body := bufio.NewReader(resp.Body)
	if _, err := body.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	srv.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(body)
	resp.Body.Close()
	waited := make(chan error, 1)
	go func() { waited <- srv.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
	t.Logf("serve exited %v after SIGTERM", time.Since(t0))
	if strings.Contains(string(rest), "[DONE]") || !strings.Contains(string(rest), "cancelled") {
		t.Errorf("the stream in flight should end with a cancellation event, got ...%q", tail(string(rest), 300))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestServeBadModel: a file that is no model gets the one-line error,
// exit 1, and nothing else on stderr, also when serve is listening already
// (it listens before it opens the model, so that /health says "loading").
func TestServeBadModel(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.llmap")
	if err := os.WriteFile(bad, []byte("not a model\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bad, filepath.Join(t.TempDir(), "missing.llmap")} {
		stdout, stderr, code := llmap(t, "serve", path, "--addr", "127.0.0.1:0")
		if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, path) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", path, code, stdout, stderr)
		}
	}
}

// TestServeDryRun: --dry-run opens the model, allocates the sequences and
// prints the memory, without listening.
func TestServeDryRun(t *testing.T) {
	model := stories260K(t)
	stdout, stderr, code := llmap(t, "serve", model, "--dry-run", "--parallel", "3", "--ctx", "100")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "3 sequences x 100 positions: KV cache") || strings.Contains(stderr, "listening") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	for _, bad := range [][]string{{"--parallel", "0"}, {"--addr", "nowhere"}, {"--max-body", "big"}, {"--grace", "-1s"}, {"--queue", "-1"}} {
		_, stderr, code := llmap(t, append([]string{"serve", model, "--dry-run"}, bad...)...)
		if code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", bad, code, stderr)
		}
	}
}
