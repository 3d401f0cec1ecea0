package main

import (
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/explore"
	"github.com/spf13/cobra"
)

type perplexityFlags struct {
	ref     string
	ctx     int
	threads int
	prof    profileFlags
}

func newPerplexityCmd() *cobra.Command {
	var f perplexityFlags
	cmd := &cobra.Command{
		Use:   "perplexity MODEL FILE... [flags]",
		Short: "Measure a model's perplexity on text files",
		Long: `Score text files teacher-forced: each file is encoded, cut into windows that
fill the context (each starting from BOS), and every token is predicted from
the ones before it. Prints the perplexity, exp(mean negative log-likelihood),
per file and over all files.

With --ref MODEL (for example the f32 model a quantised one was made from),
both models run on the same windows and the top-1 agreement is the fraction
of predictions where their most likely tokens are the same.`,
		Example: `  llmap perplexity stories260K-q8_0.llmap story1.txt story2.txt --ref stories260K.llmap`,
		Args: func(cmd *cobra.Command, a []string) error {
			if len(a) < 2 {
				return args("MODEL", "FILE")(cmd, a)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if err := f.prof.check(filesRead(append(a, f.ref)...)); err != nil {
				return err
			}
			return f.prof.run(func() error { return runPerplexity(cmd, a[0], a[1:], f) })
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.ref, "ref", "", "reference `MODEL` for the top-1 agreement")
	fl.IntVar(&f.ctx, "ctx", runtime.DefaultContext, "window length in positions (capped at the model's context)")
	fl.IntVar(&f.threads, "threads", 0, threadsHelp)
	f.prof.register(fl)
	return cmd
}

func (f *perplexityFlags) check() error {
	if f.ctx < 2 {
		return usagef("--ctx must be at least 2, got %d", f.ctx)
	}
	if f.threads < 0 {
		return usagef("--threads must be 0 or more, got %d", f.threads)
	}
	return nil
}

func runPerplexity(cmd *cobra.Command, path string, files []string, f perplexityFlags) error {
	texts := make([]string, len(files))
	for i, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, unwrapPathError(err))
		}
		texts[i] = string(b)
	}
	threads := capThreads(cmd.ErrOrStderr(), f.threads)
	m, err := runtime.Open(path, runtime.Options{Threads: threads})
	if err != nil {
		return describeOpenError(path, err)
	}
	defer m.Close()
	s, err := m.NewState(capContext(cmd.ErrOrStderr(), cmd, f.ctx, m.Config.ContextLength))
	if err != nil {
		return err
	}
	var ref *runtime.Model
	var refState *runtime.State
	if f.ref != "" {
		if ref, err = runtime.Open(f.ref, runtime.Options{Threads: threads}); err != nil {
			return fmt.Errorf("--ref: %w", describeOpenError(f.ref, err))
		}
		defer ref.Close()
		if ref.Config.VocabSize != m.Config.VocabSize {
			return fmt.Errorf("--ref %s: vocabulary of %d tokens, %s has %d", f.ref, ref.Config.VocabSize, path, m.Config.VocabSize)
		}
		if refState, err = ref.NewState(f.ctx); err != nil {
			return err
		}
	}

	out := cmd.OutOrStdout()
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "file\tpredictions\tperplexity\t"
	if ref != nil {
		header += "top-1 agreement\t"
	}
	fmt.Fprintln(tw, header)
	var total explore.PerplexityResult
	t0 := time.Now()
	for i, text := range texts {
		r, err := explore.Perplexity(m, s, text, ref, refState)
		if err != nil {
			return fmt.Errorf("%s: %w", files[i], err)
		}
		total.Predictions += r.Predictions
		total.NLL += r.NLL
		total.Agreements += r.Agreements
		total.Windows += r.Windows
		printPerplexityRow(tw, filepath.Base(files[i]), r, ref != nil)
	}
	if len(texts) > 1 {
		printPerplexityRow(tw, "all", total, ref != nil)
	}
	tw.Flush()
	fmt.Fprintf(cmd.ErrOrStderr(), "llmap: %d predictions in %d windows of up to %d positions, %v\n",
		total.Predictions, total.Windows, s.Context(), time.Since(t0).Round(time.Millisecond))
	return nil
}

func printPerplexityRow(tw *tabwriter.Writer, name string, r explore.PerplexityResult, withRef bool) {
	fmt.Fprintf(tw, "%s\t%d\t%.4f\t", name, r.Predictions, r.Perplexity())
	if withRef {
		fmt.Fprintf(tw, "%.2f%%\t", 100*r.Agreement())
	}
	fmt.Fprintln(tw)
}
