package main

import (
	"bufio"
	"fmt"
	"io"
	"time"

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
model ends the text. stdout carries only the text; stderr the statistics.`,
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
	fl.IntVar(&f.threads, "threads", 0, "threads for matrix products; 0 = one per CPU")
	f.prof.register(fl)
	f.mem.register(fl)
	return cmd
}

func (f *runFlags) check() error {
	switch {
	case f.steps < 0:
		return usagef("-n/--steps must be 0 or more, got %d", f.steps)
	case f.temp < 0 || f.temp != f.temp:
		return usagef("-t/--temp must be 0 or more, got %g", f.temp)
	case f.topP < 0 || f.topP > 1 || f.topP != f.topP:
		return usagef("--top-p must be between 0 and 1, got %g", f.topP)
	case f.topK < 0:
		return usagef("--top-k must be 0 or more, got %d", f.topK)
	case f.ctx < 1:
		return usagef("--ctx must be at least 1, got %d", f.ctx)
	case f.threads < 0:
		return usagef("--threads must be 0 or more, got %d", f.threads)
	}
	return f.mem.check()
}

// runRun generates; the flags have been checked.
func runRun(cmd *cobra.Command, path string, f runFlags) error {
	stderr := cmd.ErrOrStderr()
	var sampler0 *runtime.MemSampler // follows the run's memory figures for --stats
	if f.mem.stats {
		var err error
		if sampler0, err = runtime.StartMemSampler(0); err != nil {
			return fmt.Errorf("--stats: %w", err)
		}
		defer func() {
			if sampler0 != nil {
				sampler0.Stop()
			}
		}()
	}
	t0 := time.Now()
	opts := runtime.Options{Threads: f.threads}
	f.mem.options(&opts)
	m, err := runtime.Open(path, opts)
	if err != nil {
		return describeOpenError(path, err)
	}
	defer m.Close()
	openTime := time.Since(t0)

	s, err := m.NewState(f.ctx)
	if err != nil {
		return err
	}
	kv, act := m.StateBytes(s.Context())
	fmt.Fprintf(stderr, "llmap: %s: %s, %d layers, dim %d, vocab %d; context %d positions (KV cache %s, activations %s); opened in %v\n",
		path, m.Config.Arch, m.Config.NLayers, m.Config.Dim, m.Config.VocabSize, s.Context(),
		humanBytes(kv), humanBytes(act), openTime.Round(time.Microsecond))
	if floor := m.BudgetFloor(); floor > f.mem.budgetN {
		fmt.Fprintf(stderr, "llmap: warning: --mem-budget %s is below the largest layer plus an embedding row (%s): mapped weights will reach about %s\n",
			humanBytes(f.mem.budgetN), humanBytes(floor), humanBytes(floor))
	}

	seed := f.seed
	if seed == 0 {
		seed = uint64(time.Now().Unix())
	}
	sampler := runtime.NewSampler(m.Config.VocabSize, f.temp, f.topP, f.topK, runtime.NewRNG(seed))
	out := bufio.NewWriter(cmd.OutOrStdout())
	emit := func(piece []byte) error {
		if _, err := out.Write(piece); err != nil {
			return err
		}
		return out.Flush()
	}
	st, err := m.Generate(s, runtime.Generation{Prompt: f.prompt, Steps: f.steps, Sampler: sampler}, emit)
	if err != nil {
		out.Flush()
		return err
	}
	io.WriteString(out, "\n")
	if err := out.Flush(); err != nil {
		return err
	}
	if st.ContextFull {
		fmt.Fprintf(stderr, "llmap: stopped at the end of the context (%d positions); use --ctx to change it (the model allows %d)\n",
			s.Context(), m.Config.ContextLength)
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
	return nil
}
