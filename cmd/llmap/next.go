package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/explore"
	"github.com/spf13/cobra"
)

type nextFlags struct {
	prompt  string
	top     int
	temps   []float32
	output  string
	threads int
}

func newNextCmd() *cobra.Command {
	f := nextFlags{}
	cmd := &cobra.Command{
		Use:   "next MODEL -p PROMPT [flags]",
		Short: "Show the next-token distribution after a prompt, at one or more temperatures",
		Long: `Feed the prompt through the model and show the most likely next tokens: their
logits and their probabilities softmax(logits / T) at each temperature T, with a
bar per row. -t 0 puts all probability on the most likely token (greedy
decoding); several temperatures side by side (-t 0.5,1,2 or -t repeated) show
how a low temperature sharpens the distribution and a high one flattens it.`,
		Example: `  llmap next stories260K.llmap -p "Once upon a time"
  llmap next model.llmap -p "The capital of France is" -t 0,0.5,1,2 --top 5 -o json`,
		Args: args("MODEL"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return runNext(cmd, a[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.prompt, "prompt", "p", "", "text whose next token to show (required)")
	fl.IntVar(&f.top, "top", 10, "tokens to list, most likely first")
	fl.Float32SliceVarP(&f.temps, "temp", "t", []float32{1}, "temperatures, comma-separated or repeated; 0 = all on the most likely token")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	fl.IntVar(&f.threads, "threads", 0, threadsHelp)
	return cmd
}

func (f *nextFlags) check() error {
	switch {
	case f.prompt == "":
		return usagef("-p/--prompt is required and must not be empty")
	case f.top < 1:
		return usagef("--top must be at least 1, got %d", f.top)
	case len(f.temps) == 0:
		return usagef("-t/--temp needs at least one temperature")
	case f.threads < 0:
		return usagef("--threads must be 0 or more, got %d", f.threads)
	}
	for _, t := range f.temps {
		if !(t >= 0) || math.IsInf(float64(t), 1) {
			return usagef("-t/--temp must be 0 or more, got %g", t)
		}
	}
	return checkOutputFormat(f.output)
}

func runNext(cmd *cobra.Command, path string, f nextFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	m, err := runtime.Open(path, runtime.Options{Threads: capThreads(cmd.ErrOrStderr(), f.threads)})
	if err != nil {
		return describeOpenError(path, err)
	}
	defer m.Close()
	if f.top > m.Config.VocabSize {
		return usagef("--top %d is larger than the vocabulary (%d tokens)", f.top, m.Config.VocabSize)
	}
	s, err := m.NewState(len(m.Tokenizer.Encode(f.prompt, true)))
	if err != nil {
		return err
	}
	tokens, logits, err := explore.NextLogits(m, s, f.prompt)
	if err != nil {
		return err
	}
	top := explore.TopK(logits, f.top)
	probs := make([][]float32, len(f.temps)) // (temperature, top)
	mass := make([]float32, len(f.temps))    // probability held by the rows shown
	p := make([]float32, len(logits))
	for i, t := range f.temps {
		if err := explore.Probabilities(p, logits, t); err != nil {
			return err
		}
		probs[i] = make([]float32, len(top))
		for j, r := range top {
			probs[i][j] = p[r.ID]
			mass[i] += p[r.ID]
		}
	}
	w := cmd.OutOrStdout()
	if f.output == "json" {
		type row struct {
			Rank  int       `json:"rank"`
			ID    int       `json:"id"`
			Token string    `json:"token"`
			Logit float32   `json:"logit"`
			Probs []float32 `json:"probs"` // one per temperature
		}
		rows := make([]row, len(top))
		for j, r := range top {
			rows[j] = row{Rank: j + 1, ID: r.ID, Token: tokenText(m, r.ID), Logit: r.Score, Probs: make([]float32, len(f.temps))}
			for i := range f.temps {
				rows[j].Probs[i] = probs[i][j]
			}
		}
		ts := make([]jsonToken, len(tokens))
		for i, id := range tokens {
			ts[i] = jsonToken{id, tokenText(m, id)}
		}
		return writeJSON(w, struct {
			Prompt       string      `json:"prompt"`
			Tokens       []jsonToken `json:"tokens"`
			Temperatures []float32   `json:"temperatures"`
			Top          []row       `json:"top"`
			TopMass      []float32   `json:"top_mass"` // probability of the rows listed, per temperature
		}{f.prompt, ts, f.temps, rows, mass})
	}
	printNext(w, m, f, tokens, top, probs, mass)
	return nil
}

// printNext prints the table: rank, token, logit and, per temperature, the
// probability with a bar.
func printNext(w io.Writer, m *runtime.Model, f nextFlags, tokens []int, top []explore.TokenScore, probs [][]float32, mass []float32) {
	label := func(id int) string { return strconv.Quote(tokenText(m, id)) }
	fmt.Fprintf(w, "%q: %d tokens; the %d most likely next tokens of %d\n", f.prompt, len(tokens), len(top), m.Config.VocabSize)
	lw := 5
	for _, r := range top {
		lw = max(lw, len([]rune(label(r.ID))))
	}
	barWidth := max(8, 24/len(f.temps))
	cols := make([]string, len(f.temps))
	for i, t := range f.temps {
		cols[i] = padRunes("t="+strconv.FormatFloat(float64(t), 'g', -1, 32), 7+barWidth)
	}
	fmt.Fprintf(w, "%4s  %6s  %s  %8s  %s\n", "rank", "id", padRunes("token", lw), "logit", strings.TrimRight(strings.Join(cols, "  "), " "))
	for j, r := range top {
		for i := range f.temps {
			cols[i] = fmt.Sprintf("%6.4f %s", probs[i][j], padRunes(probBar(probs[i][j], barWidth), barWidth))
		}
		fmt.Fprintf(w, "%4d  %6d  %s  %8.4f  %s\n", j+1, r.ID, padRunes(label(r.ID), lw), r.Score, strings.TrimRight(strings.Join(cols, "  "), " "))
	}
	for i := range f.temps {
		cols[i] = padRunes(fmt.Sprintf("%6.4f", mass[i]), 7+barWidth)
	}
	fmt.Fprintf(w, "%s  %s\n", padRunes(fmt.Sprintf("the %d rows hold", len(top)), 4+2+6+2+lw+2+8), strings.TrimRight(strings.Join(cols, "  "), " "))
}

// probBar draws p (0..1) as a bar of up to width cells, in eighths of a cell.
func probBar(p float32, width int) string {
	eighths := int(math.Round(float64(p) * float64(width) * 8))
	eighths = min(max(eighths, 0), width*8)
	s := strings.Repeat("█", eighths/8)
	if r := eighths % 8; r > 0 {
		s += string([]rune("▏▎▍▌▋▊▉")[r-1])
	}
	return s
}
