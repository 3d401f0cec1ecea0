package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/chzyer/readline"
	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/chat"
	"github.com/spf13/cobra"
)

type chatFlags struct {
	system     string
	ctx        int
	temp       float32
	topP       float32
	topK       int
	seed       uint64
	maxTokens  int
	threads    int
	kvType     string
	kv         runtime.KVType
	verbose    bool
	noTemplate bool
}

func newChatCmd() *cobra.Command {
	var f chatFlags
	cmd := &cobra.Command{
		Use:   "chat MODEL [MESSAGE] [flags]",
		Short: "Chat with the model in the terminal",
		Long: `Chat with the model: each line you type is a message, and the reply streams
as it is generated. The conversation is rendered with the model's chat
template (or a plain "User:/Assistant:" transcript for a model without one)
and kept in the KV cache, so each turn runs only the new message.

Commands: /reset starts a new conversation, /exit (or Ctrl-D) quits, /help
lists them. Ctrl-C stops the reply being written; at the prompt it quits.
Line editing and history (arrow keys, Ctrl-R) work when stdin is a
terminal. With stdin from a file or a pipe, every line is one message and
only the replies are written to stdout, each followed by a newline.

When the conversation no longer fits the context (--ctx), the oldest
messages after the system prompt are dropped, with a line on stderr saying
so; /reset starts over. A reply that fills the context is cut there.

With MESSAGE, the reply to that one message is printed and chat exits.`,
		Example: `  llmap chat model.llmap
  llmap chat model.llmap --system "You are a pirate." -t 0.7
  llmap chat model.llmap "Tell me a joke"
  printf 'Hello\nWhat is 2+2?\n' | llmap chat model.llmap -t 0`,
		Args: func(cmd *cobra.Command, a []string) error {
			if len(a) == 0 {
				return usagef("missing MODEL (usage: %s)", cmd.UseLine())
			}
			if len(a) > 2 {
				return usagef("unexpected argument %q (usage: %s; quote a message with spaces)", a[2], cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, a []string) error { return runChat(cmd, a, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.system, "system", "", "system prompt: instructions the conversation starts with")
	fl.IntVar(&f.ctx, "ctx", runtime.DefaultContext, "context length in positions (capped at the model's own)")
	fl.Float32VarP(&f.temp, "temp", "t", 0.8, "sampling temperature; 0 = always the most likely token")
	fl.Float32Var(&f.topP, "top-p", 0.9, "nucleus sampling: sample from the most likely tokens whose probabilities sum to P; 0 or 1 = off")
	fl.IntVar(&f.topK, "top-k", 0, "sample from the K most likely tokens; 0 = off")
	fl.Uint64VarP(&f.seed, "seed", "s", 0, "random seed; 0 = from the clock")
	fl.IntVarP(&f.maxTokens, "max-tokens", "n", 0, "longest reply in tokens; 0 = up to the end of the context")
	fl.IntVar(&f.threads, "threads", 0, threadsHelp)
	fl.StringVar(&f.kvType, "kv-type", "f16", kvTypeHelp)
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print each reply's statistics on stderr")
	fl.BoolVar(&f.noTemplate, "no-template", false, "ignore the model's chat template and use the built-in fallback")
	return cmd
}

func (f *chatFlags) check() error {
	if err := checkSampling(f.temp, f.topP, f.topK); err != nil {
		return err
	}
	switch {
	case f.ctx < 2:
		return usagef("--ctx must be at least 2, got %d", f.ctx)
	case f.maxTokens < 0:
		return usagef("-n/--max-tokens must be 0 or more, got %d", f.maxTokens)
	case f.threads < 0:
		return usagef("--threads must be 0 or more, got %d", f.threads)
	}
	var err error
	f.kv, err = parseKVType(f.kvType)
	return err
}

// chatter is one terminal conversation.
type chatter struct {
	m       *runtime.Model
	format  *runtime.ChatFormat
	session *runtime.Session
	sampler *runtime.Sampler
	flags   chatFlags
	out     io.Writer
	stderr  io.Writer

	messages []chat.Message // the conversation, system prompt first

	mu       sync.Mutex
	cancel   context.CancelFunc // of the reply being written, nil at the prompt
	stopping bool               // Ctrl-C was pressed during this reply
}

func runChat(cmd *cobra.Command, a []string, f chatFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	path, stderr := a[0], cmd.ErrOrStderr()
	m, err := runtime.Open(path, runtime.Options{Threads: capThreads(stderr, f.threads), KVType: f.kv})
	if err != nil {
		return describeKVError(path, f.kv, err)
	}
	defer m.Close()
	f.ctx = capContext(stderr, cmd, f.ctx, m.Config.ContextLength)
	format := m.FallbackChatFormat()
	if !f.noTemplate {
		if own, err := m.ChatFormat(); err != nil {
			fmt.Fprintf(stderr, "llmap: warning: %s: %v; using the built-in %s\n", path, err, fallbackName(format))
		} else {
			format = own
		}
	}
	s, err := m.NewSession(f.ctx)
	if err != nil {
		return err
	}
	seed := f.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()) | 1
	}
	c := &chatter{m: m, format: format, session: s, flags: f, out: cmd.OutOrStdout(), stderr: stderr,
		sampler: runtime.NewSampler(m.Config.VocabSize, f.temp, f.topP, f.topK, runtime.NewRNG(seed))}
	c.reset()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	go func() {
		for range sigs {
			c.interrupt()
		}
	}()

	if len(a) == 2 {
		return c.turn(a[1])
	}
	in := cmd.InOrStdin()
	if file, ok := in.(*os.File); ok && isTerminal(file) && isTerminal(os.Stdout) {
		return c.interactive(path, file)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if quit, err := c.line(sc.Text()); quit || err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	return nil
}

// interactive reads lines with editing and history until /exit or Ctrl-D.
func (c *chatter) interactive(path string, stdin *os.File) error {
	rl, err := readline.NewEx(&readline.Config{Prompt: ">>> ", Stdin: stdin, Stdout: os.Stdout, Stderr: c.stderr, HistoryLimit: 1000})
	if err != nil {
		return err
	}
	defer rl.Close()
	tmpl := "the model's chat template"
	if c.format.Builtin {
		tmpl = "the built-in " + fallbackName(c.format)
	}
	fmt.Fprintf(c.stderr, "llmap chat: %s, %s, context %d. Ctrl-C stops a reply; /help, /reset, /exit (or Ctrl-D).\n", path, tmpl, c.session.Context())
	for {
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			if line == "" {
				return nil // Ctrl-C at an empty prompt quits
			}
			continue // it clears the line
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		if quit, err := c.line(line); quit || err != nil {
			return err
		}
		fmt.Fprintln(c.out)
	}
}

// line handles one line of input: a command or a message.
func (c *chatter) line(text string) (quit bool, err error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return false, nil
	case text == "/exit" || text == "/quit" || text == "/bye":
		return true, nil
	case text == "/reset":
		c.reset()
		fmt.Fprintln(c.stderr, "llmap chat: new conversation")
		return false, nil
	case text == "/help" || text == "/?":
		fmt.Fprintln(c.stderr, "/reset  start a new conversation (the system prompt stays)\n/exit   quit (also /quit, /bye, Ctrl-D)\nCtrl-C  stop the reply being written; at an empty prompt, quit")
		return false, nil
	case strings.HasPrefix(text, "/") && !strings.Contains(text, " ") && len(text) > 1:
		fmt.Fprintf(c.stderr, "llmap chat: unknown command %s (/help lists them; start a message with a space to send it as text)\n", text)
		return false, nil
	}
	return false, c.turn(text)
}

// reset starts a new conversation.
func (c *chatter) reset() {
	c.messages = c.messages[:0]
	if c.flags.system != "" {
		c.messages = append(c.messages, chat.Message{Role: "system", Content: c.flags.system})
	}
	c.session.Reset()
}

// turn sends one user message and streams the reply.
func (c *chatter) turn(text string) error {
	c.messages = append(c.messages, chat.Message{Role: "user", Content: text})
	req, err := c.fit()
	if err != nil {
		c.messages = c.messages[:len(c.messages)-1]
		fmt.Fprintf(c.stderr, "llmap chat: %v\n", err)
		return nil
	}
	req.MaxTokens = c.flags.maxTokens
	req.Sampler = c.sampler
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.mu.Lock()
	c.cancel, c.stopping = cancel, false
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.cancel = nil
		c.mu.Unlock()
	}()

	var reply strings.Builder
	var finish runtime.Finish
	interrupted := false
	for tok, err := range c.session.Generate(ctx, req) {
		if errors.Is(err, context.Canceled) {
			interrupted = true
			break
		}
		if err != nil {
			return err
		}
		text := tok.Text
		if reply.Len() == 0 {
			text = strings.TrimLeft(text, " \n")
		}
		reply.WriteString(text)
		if _, err := io.WriteString(c.out, text); err != nil {
			return err
		}
		finish = tok.Finish
	}
	fmt.Fprintln(c.out)
	c.messages = append(c.messages, chat.Message{Role: "assistant", Content: strings.TrimSpace(reply.String())})
	st := c.session.Stats()
	switch {
	case interrupted:
		fmt.Fprintln(c.stderr, "llmap chat: reply stopped (Ctrl-C)")
	case finish == runtime.FinishContext:
		fmt.Fprintf(c.stderr, "llmap chat: the context (%d positions) is full: the reply was cut; the next message drops the oldest messages (/reset starts over)\n", c.session.Context())
	}
	if c.flags.verbose {
		decode := st.Duration - st.FirstToken
		rate := 0.0
		if st.Sampled > 1 && decode > 0 {
			rate = float64(st.Sampled-1) / decode.Seconds()
		}
		fmt.Fprintf(c.stderr, "llmap chat: %d tokens at %.1f tokens/s, first after %v; prompt %d tokens, %d from the cache\n",
			st.Sampled, rate, st.FirstToken.Round(time.Millisecond), st.PromptTokens, st.CachedTokens)
	}
	return nil
}

// fit renders the conversation and, while it leaves too little room for a
// reply, drops its oldest messages after the system prompt.
func (c *chatter) fit() (runtime.Request, error) {
	ctx := c.session.Context()
	room := ctx / 4
	if c.flags.maxTokens > 0 {
		room = min(c.flags.maxTokens, ctx/2)
	}
	dropped := 0
	for {
		req, err := c.format.Request(c.messages)
		if err != nil {
			return req, err
		}
		if len(req.Tokens)+room <= ctx {
			if dropped > 0 {
				fmt.Fprintf(c.stderr, "llmap chat: the conversation outgrew the context (%d positions); dropped the %d oldest messages (/reset starts over, --ctx allows more)\n", ctx, dropped)
			}
			return req, nil
		}
		first := 0
		if len(c.messages) > 0 && c.messages[0].Role == "system" {
			first = 1
		}
		if first >= len(c.messages)-1 { // only the new message is left
			if len(req.Tokens) < ctx {
				return req, nil // a short reply still fits
			}
			return req, fmt.Errorf("the message is %d tokens with the template, more than the context of %d positions; not sent", len(req.Tokens), ctx)
		}
		// Drop the oldest message, and the replies up to the next user message.
		end := first + 1
		for end < len(c.messages)-1 && c.messages[end].Role != "user" {
			end++
		}
		dropped += end - first
		c.messages = append(c.messages[:first], c.messages[end:]...)
	}
}

// interrupt handles Ctrl-C (SIGINT): it stops the reply being written; a
// second one during the same reply, or one while no reply is written
// (stdin from a pipe), quits with status 130.
func (c *chatter) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil && !c.stopping {
		c.stopping = true
		c.cancel()
		return
	}
	fmt.Fprintln(c.stderr, "\nllmap chat: interrupted")
	os.Exit(130)
}
