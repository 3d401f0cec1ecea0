package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/explore/web"
	"github.com/llmap/llmap/runtime/serve"
	"github.com/spf13/cobra"
)

type serveFlags struct {
	addr      string
	name      string
	parallel  int
	ctx       int
	queue     int
	maxBody   string
	maxBodyN  int64
	maxTokens int
	threads   int
	kvType    string
	kv        runtime.KVType
	grace     time.Duration
	dryRun    bool
	quiet     bool
	noExplore bool
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve MODEL [flags]",
		Short: "Serve the model over HTTP with an OpenAI-compatible API",
		Long: `Serve the model over HTTP, speaking the OpenAI API that most clients use:

  POST /v1/chat/completions   chat, with the model's chat template ("stream": true for server-sent events)
  POST /v1/completions        plain text completion
  GET  /v1/models             the one model served
  GET  /health                200 {"status":"ok"}; 503 while loading or shutting down
  GET  /metrics               Prometheus metrics (requests, tokens, queue, tokens/s, time to first token)
  GET  /                      the explorer: chat, next-token probabilities with a temperature
                              slider, an embedding map, context and attention (docs/explorer.md)
  POST /api/...               the explorer's JSON endpoints (next, nearest, analogy, map, context)

--parallel sequences are generated at once, decoded together in one pass
over the weights per step (continuous batching); their KV caches are
allocated at start, and the memory is printed. Requests beyond them wait
in a queue of --queue; beyond that they get 503 with Retry-After.
SIGINT or SIGTERM stops accepting, lets replies in flight finish for up to
--grace, cancels the rest and exits 0.`,
		Example: `  llmap serve model.llmap
  llmap serve model.llmap --addr :8080 --parallel 8 --ctx 4096
  curl http://127.0.0.1:8080/v1/chat/completions -d '{"messages":[{"role":"user","content":"Hello"}],"stream":true}'`,
		Args: args("MODEL"),
		RunE: func(cmd *cobra.Command, a []string) error { return runServe(cmd, a[0], &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; ':8080' listens on every interface)")
	fl.StringVar(&f.name, "name", "", "the model's name in the API (default: the file name without its extension)")
	fl.IntVar(&f.parallel, "parallel", 4, "sequences generated at once, each with its own KV cache allocated at start")
	fl.IntVar(&f.ctx, "ctx", runtime.DefaultContext, "positions per sequence, prompt and reply (capped at the model's)")
	fl.IntVar(&f.queue, "queue", 0, "requests that may wait for a sequence before new ones get 503; 0 = 4 x --parallel")
	fl.StringVar(&f.maxBody, "max-body", "1M", "largest request body accepted (413 above)")
	fl.IntVar(&f.maxTokens, "max-tokens", 0, "reply length for requests that set none; 0 = up to the end of the context")
	fl.IntVar(&f.threads, "threads", 0, threadsHelp)
	fl.StringVar(&f.kvType, "kv-type", "f16", kvTypeHelp)
	fl.DurationVar(&f.grace, "grace", 30*time.Second, "on SIGINT/SIGTERM, how long replies in flight may take to finish before they are cancelled")
	fl.BoolVar(&f.dryRun, "dry-run", false, "open the model, allocate the sequences, print what serving would use, and exit")
	fl.BoolVar(&f.quiet, "quiet", false, "do not log each request on stderr")
	fl.BoolVar(&f.noExplore, "no-explorer", false, "do not serve the explorer page at / and its /api endpoints")
	return cmd
}

func (f *serveFlags) check() error {
	n, err := parseSize(f.maxBody)
	switch {
	case err != nil:
		return usagef("--max-body: %v", err)
	case f.parallel < 1 || f.parallel > 1024:
		return usagef("--parallel must be between 1 and 1024, got %d", f.parallel)
	case f.ctx < 1:
		return usagef("--ctx must be at least 1, got %d", f.ctx)
	case f.queue < 0 || f.queue > 1<<20:
		return usagef("--queue must be between 0 and %d, got %d", 1<<20, f.queue)
	case f.maxTokens < 0:
		return usagef("--max-tokens must be 0 or more, got %d", f.maxTokens)
	case f.threads < 0:
		return usagef("--threads must be 0 or more, got %d", f.threads)
	case f.grace < 0:
		return usagef("--grace must be 0 or more, got %v", f.grace)
	case f.addr == "":
		return usagef("--addr must be host:port, got an empty address")
	}
	if _, _, err := net.SplitHostPort(f.addr); err != nil {
		return usagef("--addr %q: want host:port (127.0.0.1:8080, :8080)", f.addr)
	}
	f.maxBodyN = n
	f.kv, err = parseKVType(f.kvType)
	return err
}

func runServe(cmd *cobra.Command, path string, f *serveFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	name := f.name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	var logger *slog.Logger
	if f.quiet {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	srv := serve.New(serve.Config{Model: name, Parallel: f.parallel, Context: f.ctx, Queue: f.queue,
		MaxBody: f.maxBodyN, MaxTokens: f.maxTokens, Logger: logger})
	if !f.noExplore {
		web.Register(srv, web.Config{})
	}

	// Listen first, so that /health says "loading" while the model opens.
	var ln net.Listener
	if !f.dryRun {
		var err error
		if ln, err = net.Listen("tcp", f.addr); err != nil {
			return fmt.Errorf("--addr %s: %w", f.addr, unwrapOp(err))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ran := make(chan error, 1)
	if ln != nil {
		go func() { ran <- srv.Run(ctx, ln, f.grace) }()
	}
	// abort ends a server that never had a model: closing the listener
	// ends Run without the graceful shutdown (nothing is in flight), whose
	// "shutting down" line would come before the one-line error.
	abort := func(err error) error {
		if ln != nil {
			ln.Close()
			<-ran
		}
		return err
	}

	t0 := time.Now()
	m, err := runtime.Open(path, runtime.Options{Threads: capThreads(stderr, f.threads), KVType: f.kv})
	if err != nil {
		return abort(describeKVError(path, f.kv, err))
	}
	defer m.Close()
	capContext(stderr, cmd, f.ctx, m.Config.ContextLength) // the server caps it too; this says so
	if err := srv.Load(m); err != nil {
		return abort(fmt.Errorf("%s: %w", path, err))
	}
	cfg := srv.Config()
	kv, act := m.StateBytes(cfg.Context)
	fmt.Fprintf(stderr, "llmap: %s: %s, %d layers, dim %d, vocab %d; opened in %v; model %q\n",
		path, m.Config.Arch, m.Config.NLayers, m.Config.Dim, m.Config.VocabSize, time.Since(t0).Round(time.Millisecond), name)
	fmt.Fprintf(stderr, "llmap: %d sequences x %d positions: KV cache %s each, %s in all (allocated now), plus %s of activations per sequence; queue %d\n",
		cfg.Parallel, cfg.Context, humanBytes(kv), humanBytes(srv.KVBytes()), humanBytes(act), cfg.Queue)
	if format, err := m.ChatFormat(); err == nil && format.Builtin {
		fmt.Fprintf(stderr, "llmap: the model has no chat template; chat uses the built-in fallback (%s)\n", fallbackName(format))
	}
	if f.dryRun {
		return nil
	}
	fmt.Fprintf(stderr, "llmap: listening on http://%s (Ctrl-C or SIGTERM to stop)\n", ln.Addr())
	if err := <-ran; err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	fmt.Fprintln(stderr, "llmap: stopped")
	return nil
}

// fallbackName says which built-in chat template a format is.
func fallbackName(f *runtime.ChatFormat) string {
	if strings.Contains(f.Template.Source(), "<|im_start|>") {
		return "ChatML"
	}
	return `plain "User:/Assistant:" transcript`
}

// unwrapOp drops the "listen tcp ADDR:" prefix of a net.OpError, which
// the caller's message already names.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
