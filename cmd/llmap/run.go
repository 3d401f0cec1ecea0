package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/llmap/llmap/internal/memstats"
	"github.com/llmap/llmap/runtime"
	"github.com/spf13/cobra"
)

type runFlags struct {
	prompt  string
	steps   int
	temp    float32
	topP    float32
	topK    int
	seed    uint64
	ctx     int
	threads int
	kvType  string
	kv      runtime.KVType
	verify  bool
	prof    profileFlags
	mem     memoryFlags
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run MODEL [flags]",
		Short: "Generate text from a prompt",
		Long: `Generate text: the prompt is fed through the model, then tokens are sampled
until -n positions (prompt included) have run, the context is full, or the
model ends the text. stdout carries only the text; stderr the statistics.

A damaged file (a bad disk, an interrupted copy) is not noticed by itself:
the weights are used as they are and the text is nonsense. --verify checks
every tensor's CRC-32C before generating, as 'llmap verify MODEL' does; it
reads the whole file once on one core, which takes about as long as
generating a few tokens when the model is in the page cache (from a cold
cache it mostly moves the reading from the first token to the check).`,
		Example: `  llmap run stories260K.llmap -t 0 -n 200
  llmap run model.llmap -p "Once upon a time" --top-p 0.9 --seed 42`,
		Args: args("MODEL"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if err := f.prof.check(filesRead(a[0])); err != nil {
				return err
			}
			return f.prof.run(func() error { return runRun(cmd, a[0], f) })
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.prompt, "prompt", "p", "", "text to start from")
	fl.IntVarP(&f.steps, "steps", "n", 256, "positions to run, prompt included; 0 = up to the end of the context")
	fl.Float32VarP(&f.temp, "temp", "t", 1.0, "sampling temperature; 0 = always the most likely token")
	fl.Float32Var(&f.topP, "top-p", 0.9, "nucleus sampling: sample from the most likely tokens whose probabilities sum to P; 0 or 1 = off")
	fl.IntVar(&f.topK, "top-k", 0, "sample from the K most likely tokens; 0 = off")
	fl.Uint64VarP(&f.seed, "seed", "s", 0, "random seed; 0 = from the clock")
	fl.IntVar(&f.ctx, "ctx", runtime.DefaultContext, "context length in positions (capped at the model's own)")
	fl.IntVar(&f.threads, "threads", 0, threadsHelp)
	fl.StringVar(&f.kvType, "kv-type", "f16", kvTypeHelp)
	fl.BoolVar(&f.verify, "verify", false, "check every tensor's CRC-32C before generating (reads the whole file once; see 'llmap verify')")
	f.prof.register(fl)
	f.mem.register(fl)
	return cmd
}

func (f *runFlags) check() error {
	if err := checkSampling(f.temp, f.topP, f.topK); err != nil {
		return err
	}
	switch {
	case f.steps < 0:
		return usagef("-n/--steps must be 0 or more, got %d", f.steps)
	case f.ctx < 1:
		return usagef("--ctx must be at least 1, got %d", f.ctx)
	case f.threads < 0:
		return usagef("--threads must be 0 or more, got %d", f.threads)
	}
	var err error
	if f.kv, err = parseKVType(f.kvType); err != nil {
		return err
	}
	return f.mem.check()
}

// runRun generates; the flags have been checked.
func runRun(cmd *cobra.Command, path string, f runFlags) error {
	stderr := cmd.ErrOrStderr()
	var sampler0 *memstats.Sampler // follows the run's memory figures for --stats
	if f.mem.stats {
		var err error
		if sampler0, err = memstats.Start(0); err != nil {
			return fmt.Errorf("--stats: %w", err)
		}
		defer func() {
			if sampler0 != nil {
				sampler0.Stop()
			}
		}()
	}
	if f.verify {
		t := time.Now()
		_, size, err := verifyModel(path)
		if err != nil {
			return fmt.Errorf("%w; the file is damaged: convert or copy it again", err)
		}
		fmt.Fprintf(stderr, "llmap: %s: every tensor matches its CRC-32C (%s checked in %v)\n",
			path, humanBytes(size), time.Since(t).Round(time.Millisecond))
	}
	t0 := time.Now()
	opts := runtime.Options{Threads: capThreads(stderr, f.threads), KVType: f.kv}
	f.mem.options(&opts)
	m, err := runtime.Open(path, opts)
	if err != nil {
		return describeKVError(path, f.kv, err)
	}
	defer m.Close()
	openTime := time.Since(t0)

	s, err := m.NewState(capContext(stderr, cmd, f.ctx, m.Config.ContextLength))
	if err != nil {
		return err
	}
	// A prompt longer than the context is refused, as next refuses it; one
	// that -n ends inside runs as far as -n says (llama2.c's meaning of
	// -n), with a warning, since nothing will be generated.
	promptTokens := len(m.Tokenizer.Encode(f.prompt, true))
	if promptTokens > s.Context() {
		return fmt.Errorf("-p/--prompt: the prompt is %d tokens, more than the context of %d positions%s",
			promptTokens, s.Context(), contextHint(s.Context(), m.Config.ContextLength))
	}

	kv, act := m.StateBytes(s.Context())
	fmt.Fprintf(stderr, "llmap: %s: %s, %d layers, dim %d, vocab %d; context %d positions (KV cache %s %s, activations %s); opened in %v\n",
		path, m.Config.Arch, m.Config.NLayers, m.Config.Dim, m.Config.VocabSize, s.Context(),
		humanBytes(kv), f.kv, humanBytes(act), openTime.Round(time.Microsecond))
	if floor := m.BudgetFloor(); floor > f.mem.budgetN {
		fmt.Fprintf(stderr, "llmap: warning: --mem-budget %s is below the largest layer plus an embedding row (%s): mapped weights will reach about %s\n",
			humanBytes(f.mem.budgetN), humanBytes(floor), humanBytes(floor))
	}
	if f.steps > 0 && f.steps < promptTokens {
		fmt.Fprintf(stderr, "llmap: warning: -n %d ends inside the prompt (%d tokens): only its first %d positions run and nothing is generated\n",
			f.steps, promptTokens, f.steps)
	}
	seed := f.seed
	if seed == 0 {
		seed = uint64(time.Now().Unix())
	}
	sampler := runtime.NewSampler(m.Config.VocabSize, f.temp, f.topP, f.topK, runtime.NewRNG(seed))
	out := bufio.NewWriter(cmd.OutOrStdout())
	var interrupted atomic.Int32 // the signal, once one arrived
	defer onInterrupt(func(sig syscall.Signal) { interrupted.Store(int32(sig)) })()
	emit := func(piece []byte) error {
		if sig := interrupted.Load(); sig != 0 {
			return interruptError{syscall.Signal(sig)}
		}
		if _, err := out.Write(piece); err != nil {
			return err
		}
		return out.Flush()
	}
	st, err := m.Generate(s, runtime.Generation{Prompt: f.prompt, Steps: f.steps, Sampler: sampler}, emit)
	var stopped interruptError
	if err != nil && !errors.As(err, &stopped) {
		out.Flush()
		return err
	}
	// The text ends with a newline, also when interrupted.
	io.WriteString(out, "\n")
	if err := out.Flush(); err != nil {
		return err
	}
	switch {
	case stopped.sig != 0:
	case st.ContextFull:
		fmt.Fprintf(stderr, "llmap: stopped at the end of the context (%d positions)%s\n",
			s.Context(), contextHint(s.Context(), m.Config.ContextLength))
	case f.steps > 0 && st.Positions >= f.steps:
		fmt.Fprintf(stderr, "llmap: stopped after -n %d positions (-n 0 runs to the end of the context)\n", f.steps)
	default:
		fmt.Fprintf(stderr, "llmap: stopped where the model ended the text\n")
	}
	fmt.Fprintf(stderr, "llmap: %v\n", st)
	if sampler0 != nil {
		ms, err := sampler0.Stop()
		sampler0 = nil
		if err != nil {
			return fmt.Errorf("--stats: %w", err)
		}
		printMemStats(stderr, ms, m.PagingStats())
	}
	if stopped.sig != 0 {
		return stopped
	}
	return nil
}

// contextHint says how the context could be longer: raise --ctx when the
// model allows more, nothing to be done when it is the model's own.
func contextHint(ctx, model int) string {
	if ctx < model {
		return fmt.Sprintf("; raise --ctx (the model allows %d)", model)
	}
	return ", the model's maximum"
}

// checkSampling checks the sampling flags run and chat share: -t/--temp,
// --top-p and --top-k.
func checkSampling(temp, topP float32, topK int) error {
	switch {
	case temp < 0 || temp != temp:
		return usagef("-t/--temp must be 0 or more, got %g", temp)
	case topP < 0 || topP > 1 || topP != topP:
		return usagef("--top-p must be between 0 and 1, got %g", topP)
	case topK < 0:
		return usagef("--top-k must be 0 or more, got %d", topK)
	}
	return nil
}
