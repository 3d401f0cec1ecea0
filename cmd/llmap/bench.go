package main

import (
	"context"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"slices"
	"syscall"
	"time"

	"github.com/llmap/llmap/bench"
	"github.com/llmap/llmap/internal/memstats"
	"github.com/spf13/cobra"
)

type benchFlags struct {
	prompt   []int
	gen      []int
	depth    []int
	reps     int
	threads  []int
	kvType   string
	noMmap   bool
	noRefold bool
	output   string
	prof     profileFlags
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench MODEL [flags]",
		Short: "Measure prompt processing and generation speed",
		Long: `Measure a model as llama.cpp's llama-bench does: for each thread count,
prompt processing of -p tokens (pp N) and generation of -n tokens (tg N),
each as tokens/s, the mean and standard deviation of -r repetitions after a
warm-up, and as GFLOP/s (2 x parameters x tokens/s: prompt processing is
bound by arithmetic). Generation is also set against the memory read
bandwidth measured in the same run: the bytes of weights one token reads
times tokens/s, and the fraction of the bandwidth that reaches (generation
is bound by memory). Also reported: the time to open the model and to the
first token, and peak resident memory (anonymous, and file-backed: the
mapped weights).

-d runs every test again after a context of that many tokens (llama-bench's
-d): "tg128 @ d1920" generates 128 tokens at positions 1920 to 2047, so
attention reads a long KV cache. The context is filled by an untimed prompt.

Prompt tokens are random ids; -p 0 or -n 0 leaves that test out. Progress
goes to stderr, the report to stdout.`,
		Example: `  llmap bench stories110M-q8_0.llmap --threads 1,2
  llmap bench model.llmap -p 128 -n 64 -r 3 -o csv > results.csv
  llmap bench tinyllama.llmap -p 512 -n 128 -d 0,1920`,
		Args: args("MODEL"),
		RunE: func(cmd *cobra.Command, a []string) error {
			opts, err := f.options(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := f.prof.check(filesRead(a[0])); err != nil {
				return err
			}
			return f.prof.run(func() error { return runBench(cmd, a[0], f.output, opts) })
		},
	}
	fl := cmd.Flags()
	fl.IntSliceVarP(&f.prompt, "prompt", "p", []int{512}, "prompt lengths to time, comma-separated (pp N); 0 = none")
	fl.IntSliceVarP(&f.gen, "gen", "n", []int{128}, "generation lengths to time, comma-separated (tg N); 0 = none")
	fl.IntSliceVarP(&f.depth, "depth", "d", []int{0}, "context depths to run the tests at, comma-separated (tokens already in the context)")
	fl.IntVarP(&f.reps, "reps", "r", 5, "repetitions of each test, after one warm-up")
	fl.IntSliceVar(&f.threads, "threads", []int{goruntime.GOMAXPROCS(0)}, "thread counts to run, comma-separated; more than the CPUs available is capped there")
	fl.StringVar(&f.kvType, "kv-type", "f16", kvTypeHelp)
	fl.BoolVar(&f.noMmap, "no-mmap", false, "read the weights into memory for each thread count instead of mapping the file (figures then do not depend on the page cache's state)")
	fl.BoolVar(&f.noRefold, "no-refold", false, "leave the page cache as it is: do not read weights cached in small pages again into 2 MiB pages after the first token (docs/memory.md)")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json or csv")
	f.prof.register(fl)
	return cmd
}

// maxReps bounds -r: a typo of a few extra digits should not start a run of days.
const maxReps = 10000

// options turns the flags into bench.Options, rejecting bad values with a
// one-line usage error.
func (f *benchFlags) options(stderr io.Writer) (bench.Options, error) {
	var o bench.Options
	switch f.output {
	case "table", "json", "csv":
	default:
		return o, usagef("-o/--output: unknown format %q (want table, json or csv)", f.output)
	}
	pick := func(name string, v []int) ([]int, error) {
		var out []int
		for _, n := range v {
			switch {
			case n < 0:
				return nil, usagef("%s: token counts must be 0 or more, got %d", name, n)
			case n > 1<<20:
				return nil, usagef("%s: %d tokens is too many", name, n)
			case n > 0 && !slices.Contains(out, n):
				out = append(out, n)
			}
		}
		return out, nil
	}
	var err error
	if o.Prompt, err = pick("-p/--prompt", f.prompt); err != nil {
		return o, err
	}
	if o.Gen, err = pick("-n/--gen", f.gen); err != nil {
		return o, err
	}
	if len(o.Prompt) == 0 && len(o.Gen) == 0 {
		return o, usagef("-p and -n are both 0: nothing to measure")
	}
	if len(f.depth) == 0 {
		return o, usagef("-d/--depth needs at least one depth")
	}
	for _, d := range f.depth {
		switch {
		case d < 0:
			return o, usagef("-d/--depth: depths must be 0 or more, got %d", d)
		case d > 1<<20:
			return o, usagef("-d/--depth: %d tokens is too many", d)
		case !slices.Contains(o.Depth, d):
			o.Depth = append(o.Depth, d)
		}
	}
	if f.reps < 1 {
		return o, usagef("-r/--reps must be at least 1, got %d", f.reps)
	}
	if f.reps > maxReps {
		return o, usagef("-r/--reps must be at most %d, got %d", maxReps, f.reps)
	}
	o.Reps = f.reps
	o.NoMmap, o.NoRefold = f.noMmap, f.noRefold
	if o.KVType, err = parseKVType(f.kvType); err != nil {
		return o, err
	}
	if len(f.threads) == 0 {
		return o, usagef("--threads needs at least one thread count")
	}
	for _, t := range f.threads {
		if t < 1 {
			return o, usagef("--threads: thread counts must be 1 or more, got %d", t)
		}
	}
	for _, t := range f.threads {
		if t = capThreads(stderr, t); !slices.Contains(o.Threads, t) {
			o.Threads = append(o.Threads, t)
		}
	}
	return o, nil
}

func runBench(cmd *cobra.Command, path, output string, opts bench.Options) error {
	if _, err := os.Stat(path); err != nil {
		return describeOpenError(path, err)
	}
	stderr := cmd.ErrOrStderr()
	opts.Progress = func(msg string) { fmt.Fprintf(stderr, "llmap bench: %s\n", msg) }
	opts.SampleMemory = sampleMemory
	// Ctrl-C stops the run between repetitions; the results so far are
	// printed and the exit status is 130.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stopped interruptError
	defer onInterrupt(func(sig syscall.Signal) { stopped.sig = sig; cancel() })()
	opts.Context = ctx
	r, err := bench.Run(path, opts)
	if err != nil && (r == nil || !r.Interrupted) {
		return describeKVError(path, opts.KVType, err)
	}
	out := cmd.OutOrStdout()
	switch output {
	case "json":
		err = r.WriteJSON(out)
	case "csv":
		err = r.WriteCSV(out)
	default:
		err = r.WriteTable(out)
	}
	if err == nil && r.Interrupted {
		return stopped
	}
	return err
}

// sampleMemory follows the process's memory with memstats.Sampler,
// sampling every 200ms; without /proc the figures stay zero. The sampler
// reads smaps_rollup every tenth sample, which walks the page tables of
// the mapped model: at 10ms that took 10% of a core on a 1.1B model,
// taken from the threads being measured.
func sampleMemory() (stop func() bench.Memory) {
	s, err := memstats.Start(200 * time.Millisecond)
	if err != nil {
		return func() bench.Memory { return bench.Memory{} }
	}
	return func() bench.Memory {
		st, err := s.Stop()
		if err != nil {
			return bench.Memory{}
		}
		return bench.Memory{PeakRSS: st.PeakRSS, PeakAnon: st.PeakAnonRSS, PeakFile: st.PeakFileRSS,
			MajorFaults: st.MajorFaults, MinorFaults: st.MinorFaults}
	}
}
