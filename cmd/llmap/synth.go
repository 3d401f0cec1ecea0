package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/format/llama2c"
	"github.com/llmap/llmap/quant"
	"github.com/spf13/cobra"
)

type synthFlags struct {
	shape, output, quant, format, arch string
	seed                               uint64
	dims                               arch.Config
}

func newSynthCmd() *cobra.Command {
	var f synthFlags
	cmd := &cobra.Command{
		Use:   "synth --shape NAME -o FILE [flags]",
		Short: "Write a model of a given shape with random weights",
		Long: `Write a model with random weights (normal, standard deviation 0.02; norm
weights 1) for benchmarks and tests, streaming one row at a time so memory
use does not grow with the model. The same seed gives the same weights
whatever the output type. Named shapes (LLaMA's): ` + strings.Join(convert.ShapeNames(), ", ") + `.
--dim, --hidden, --layers, --heads, --kv-heads, --vocab and --ctx override
the shape's values (or, without --shape, give them all). --arch picks the
family (` + strings.Join(arch.Names(), ", ") + `); every tensor of its table is written.

--format llama2c writes llama2.c's own checkpoint layout (fp32) instead, to
run the same weights with llama2.c's run.c.`,
		Example: `  llmap synth --shape stories110M --quant q8_0 -o s110m-q8.llmap
  llmap synth --shape stories110M --format llama2c -o s110m.bin`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error { return runSynth(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.shape, "shape", "", "named shape: "+strings.Join(convert.ShapeNames(), ", "))
	fl.StringVarP(&f.output, "output", "o", "", "output file (required)")
	fl.StringVarP(&f.quant, "quant", "q", "f32", "type of the weight matrices: f32, f16, bf16, q8_0, q4_0, q2_k, q3_k, q4_k, q5_k, q6_k")
	fl.StringVar(&f.format, "format", "llmap", "output format: llmap or llama2c")
	fl.StringVar(&f.arch, "arch", "llama", "model family: "+strings.Join(arch.Names(), ", "))
	fl.Uint64Var(&f.seed, "seed", 1, "random seed")
	fl.IntVar(&f.dims.Dim, "dim", 0, "model width")
	fl.IntVar(&f.dims.HiddenDim, "hidden", 0, "feed-forward width")
	fl.IntVar(&f.dims.NLayers, "layers", 0, "number of layers")
	fl.IntVar(&f.dims.NHeads, "heads", 0, "attention heads")
	fl.IntVar(&f.dims.NKVHeads, "kv-heads", 0, "key/value heads (default: --heads)")
	fl.IntVar(&f.dims.VocabSize, "vocab", 0, "vocabulary size")
	fl.IntVar(&f.dims.ContextLength, "ctx", 0, "context length")
	return cmd
}

func runSynth(cmd *cobra.Command, f *synthFlags) error {
	if f.output == "" {
		return usagef("-o/--output is required")
	}
	s := arch.Config{}
	name := "custom"
	if f.shape != "" {
		var ok bool
		if s, ok = convert.Shapes[f.shape]; !ok {
			return usagef("--shape: unknown shape %q (want one of %s)", f.shape, strings.Join(convert.ShapeNames(), ", "))
		}
		name = f.shape
	}
	override := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	override(&s.Dim, f.dims.Dim)
	override(&s.HiddenDim, f.dims.HiddenDim)
	override(&s.NLayers, f.dims.NLayers)
	override(&s.NHeads, f.dims.NHeads)
	override(&s.NKVHeads, f.dims.NKVHeads)
	override(&s.VocabSize, f.dims.VocabSize)
	override(&s.ContextLength, f.dims.ContextLength)
	if _, err := arch.Lookup(f.arch); err != nil {
		return usagef("--arch: %v", err)
	}
	s.Arch = f.arch
	if s.ContextLength == 0 {
		s.ContextLength = 2048
	}
	typ, err := quant.ParseType(f.quant)
	if err != nil {
		return usagef("--quant: %v", err)
	}
	if fi, err := os.Stat(f.output); err == nil && fi.IsDir() {
		return usagef("-o %s is a directory", f.output)
	}
	switch f.format {
	case "llmap", "llama2c":
	default:
		return usagef("--format: unknown format %q (want llmap or llama2c)", f.format)
	}
	if f.format == "llama2c" && typ != quant.F32 {
		return usagef("--format llama2c writes fp32 only (got --quant %s)", typ)
	}
	m, err := convert.Synth(name, s, f.seed)
	if err != nil {
		return usagef("%v", err)
	}
	s.SetDefaults()
	start := time.Now()
	cleanStaleTemps(cmd.ErrOrStderr(), "llmap synth", f.output)
	defer removeOutputOnInterrupt(cmd.ErrOrStderr(), "llmap synth", f.output)()
	switch f.format {
	case "llmap":
		bar := newProgress("writing")
		opts := convert.Options{Matrices: typ, Progress: bar.update,
			Notice: func(msg string) { fmt.Fprintf(cmd.ErrOrStderr(), "llmap synth: %s\n", msg) }}
		if err := convert.Write(f.output, m, opts); err != nil {
			return withPath(f.output, err)
		}
	default:
		if err := writeLlama2c(f.output, m, s); err != nil {
			return withPath(f.output, err)
		}
		fi, err := os.Stat(f.output)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "llmap synth: wrote %s: a llama2.c checkpoint (fp32), %s in %v\n",
			f.output, humanBytes(fi.Size()), time.Since(start).Round(time.Millisecond))
		return nil
	}
	printWritten(cmd.ErrOrStderr(), "llmap synth", f.output, start)
	return nil
}

// writeLlama2c writes m in llama2.c's legacy layout, atomically: a
// temporary file beside the output, renamed into place when complete.
func writeLlama2c(path string, m *convert.Model, c arch.Config) error {
	rows := map[string]*convert.Tensor{}
	size := int64(28) // the header: seven int32
	for i := range m.Tensors {
		t := &m.Tensors[i]
		rows[t.Name] = t
		size += 4 * int64(t.Rows()) * int64(t.Cols())
	}
	if err := format.CheckSpace(path, size); err != nil {
		return err
	}
	tmp, err := format.CreateTemp(path)
	if err != nil {
		return err
	}
	if err := llama2c.WriteLegacy(tmp, c, func(name string, r int, dst []float32) { rows[name].Row(r, dst) }); err != nil {
		format.DropTemp(tmp)
		return fmt.Errorf("write %s: %w", path, unwrapPathError(err))
	}
	return format.CommitTemp(tmp, path)
}
