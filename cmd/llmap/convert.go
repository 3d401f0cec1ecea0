package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/format/llama2c"
	"github.com/llmap/llmap/quant"
	"github.com/spf13/cobra"
)

type convertFlags struct {
	from      string
	tokenizer string
	output    string
	quant     string
	prof      profileFlags
}

func newConvertCmd() *cobra.Command {
	var f convertFlags
	cmd := &cobra.Command{
		Use:   "convert INPUT -o OUTPUT [flags]",
		Short: "Convert a model to the .llmap format",
		Long: `Convert a model to a .llmap file, with its tokenizer embedded so that
'llmap run OUTPUT' needs no other file. The output appears only when the
conversion has finished; a failed conversion leaves nothing behind.

Input formats (--from auto detects them):
  llama2c  llama2.c checkpoints (legacy version 0, and version 1 fp32 /
           version 2 int8 exports) with their tokenizer.bin
  gguf     GGUF v3 files of the llama (LLaMA 1-3, Mistral), qwen2, qwen3,
           phi3 and gpt2 architectures; f32, f16, bf16, q8_0, q4_0 and
           K-quant (q2_k to q6_k) tensors are copied without requantising
  hf       Hugging Face model directories (config.json, model.safetensors
           or shards with model.safetensors.index.json, tokenizer files):
           LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM,
           Qwen3ForCausalLM, Phi3ForCausalLM, GPT2LMHeadModel, GPT2Model;
           F32/F16/BF16

Lines starting 'llmap convert:' before the conversion say how the model
will run where that is worth knowing: a sliding window, a context capped at
LongRoPE's original length, tensors left out.

--quant takes a tensor type for every matrix, or one of llama.cpp's
K-quant mixes, which choose a type per matrix as llama-quantize does:
q4_k_m (the usual choice), q5_k_m, q6_k, q3_k_m, q2_k. K-quants need rows
of whole 256-element blocks; other matrices fall back to q4_0 (for q2_k to
q4_k) or q8_0 (q5_k, q6_k), or f16, with a line saying so.

Without --quant, tensors keep their stored type; tensors that must be
rearranged on import (GPT-2's transposed Conv1D weights, LLaMA's RoPE-permuted
q/k) are written in the checkpoint's own dtype. For hf inputs, --tokenizer
replaces the directory's tokenizer (any file 'llmap tokenize --tokenizer'
accepts, e.g. a llama2.c tokenizer.bin).`,
		Example: `  llmap convert --tokenizer tok512.bin -o stories260K.llmap stories260K.bin
  llmap convert -o tiny.llmap llama-2-tiny-random.gguf
  llmap convert --quant q4_k_m -o model-q4_k_m.llmap model-f16.gguf
  llmap convert -o gpt2.llmap ./gpt2/          # a Hugging Face directory`,
		Args: args("INPUT"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return runConvert(cmd, a[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "auto", "input format: auto, llama2c, gguf, hf")
	fl.StringVarP(&f.tokenizer, "tokenizer", "z", "", "tokenizer file (llama2.c: tokenizer.bin, default: tokenizer.bin beside INPUT; hf: replaces the directory's tokenizer)")
	fl.StringVarP(&f.output, "output", "o", "", "output .llmap file (required)")
	fl.StringVarP(&f.quant, "quant", "q", "", "type of the weight matrices: f32, f16, bf16, q8_0, q4_0, q3_k, q4_k, q5_k; or a K-quant mix: q2_k, q3_k_m, q4_k_m, q5_k_m, q6_k (default: as stored)")
	f.prof.register(fl)
	return cmd
}

func runConvert(cmd *cobra.Command, input string, f convertFlags) error {
	if f.output == "" {
		return usagef("-o/--output is required")
	}
	opts := convert.Options{Keep: true, Matrices: quant.F32}
	if mix, ok := convert.ParseMix(f.quant); ok {
		opts = convert.Options{Mix: mix}
	} else if f.quant != "" {
		t, err := quant.ParseType(f.quant)
		if err != nil {
			return usagef("--quant: %v, or a K-quant mix (q2_k, q3_k_m, q4_k_m, q5_k_m, q6_k)", err)
		}
		opts = convert.Options{Matrices: t}
	}
	switch f.from {
	case "auto", "llama2c", "gguf", "hf":
	default:
		return usagef("--from: unknown input format %q (want auto, llama2c, gguf or hf)", f.from)
	}
	if _, err := os.Stat(input); err != nil {
		return fmt.Errorf("%s: %w", input, unwrapPathError(err))
	}
	// The outputs are checked against the inputs before detection (which
	// may fail) and again after it, when the files read are all known.
	check := func(from string) error {
		reads := convertReads(input, from, f.tokenizer)
		if err := checkWritable("-o", f.output, reads); err != nil {
			return err
		}
		return f.prof.check(reads)
	}
	from := f.from
	if err := check(from); err != nil {
		return err
	}
	if from == "auto" {
		var err error
		if from, err = detectFormat(input); err != nil {
			return err
		}
		if err := check(from); err != nil {
			return err
		}
	}
	stderr := cmd.ErrOrStderr()
	cleanStaleTemps(stderr, "llmap convert", f.output)
	defer removeOutputOnInterrupt(stderr, "llmap convert", f.output)()
	start := time.Now()
	err := f.prof.run(func() error { return convertFrom(cmd, input, from, f, opts) })
	if err == nil {
		printWritten(stderr, "llmap convert", f.output, start)
	}
	return err
}

// convertReads lists what converting input reads: the input, the
// tokenizer (given, or llama2.c's tokenizer.bin beside the input) with the
// files a JSON tokenizer reads beside it, and for a directory all its files.
func convertReads(input, from, tokenizer string) readSet {
	var r readSet
	if fi, err := os.Stat(input); err == nil && fi.IsDir() {
		r.addDir(input, "the input directory "+input)
	} else {
		r.addFile(input, "the input file")
	}
	if tokenizer == "" && from == "llama2c" {
		tokenizer = filepath.Join(filepath.Dir(input), "tokenizer.bin")
	}
	if tokenizer != "" {
		what := "the tokenizer (--tokenizer " + tokenizer + ")"
		r.addFile(tokenizer, what)
		if strings.HasSuffix(tokenizer, ".json") {
			for _, m := range []string{"vocab.bpe", "merges.txt"} {
				r.addFile(filepath.Join(filepath.Dir(tokenizer), m), m+" beside "+what)
			}
		}
	}
	return r
}

// convertFrom runs the conversion from the detected format.
func convertFrom(cmd *cobra.Command, input, from string, f convertFlags, opts convert.Options) error {
	stderr := cmd.ErrOrStderr()
	opts.Notice = func(msg string) { fmt.Fprintf(stderr, "llmap convert: %s\n", msg) }
	bar := newProgress("converting")
	opts.Progress = bar.update

	switch from {
	case "llama2c":
		return convertLlama2c(input, f, opts)
	case "gguf":
		return convertGGUF(input, f, opts)
	default:
		return convertHF(input, f, opts, opts.Keep)
	}
}

// unwrapPathError drops the "stat NAME:" prefix of a *fs.PathError, since
// the caller names the file itself.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// detectFormat recognises an input: a directory is a Hugging Face model,
// a file is recognised by its magic bytes. A file without one is tried as
// each format in turn, the most likely first by its extension and first
// bytes; when none fits, one line lists each format with the reason it
// was rejected.
func detectFormat(path string) (string, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "config.json")); err != nil {
			return "", fmt.Errorf("%s: a directory without config.json is not a Hugging Face model", path)
		}
		return "hf", nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, unwrapPathError(err))
	}
	defer fh.Close()
	head := make([]byte, 16)
	n, _ := io.ReadFull(fh, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte(gguf.Magic)):
		return "gguf", nil
	case bytes.HasPrefix(head, []byte(format.Magic[:6])):
		return "", fmt.Errorf("%s: already a .llmap file", path)
	case n >= 4 && binary.LittleEndian.Uint32(head) == llama2c.Magic:
		return "llama2c", nil
	}

	// No magic. A legacy llama2.c checkpoint has none: its header must
	// match its size. The other formats are named with why they do not fit.
	reasons := map[string]string{
		"llama2c": "",
		"gguf":    fmt.Sprintf("no GGUF magic (the file starts with %q)", head[:min(n, 4)]),
		"hf":      "a Hugging Face model is a directory holding config.json and *.safetensors",
	}
	order := []string{"llama2c", "gguf", "hf"}
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case ext == ".gguf":
		order = []string{"gguf", "llama2c", "hf"}
	case looksLikeSafetensors(head):
		order = []string{"hf", "llama2c", "gguf"}
		reasons["hf"] = "a safetensors file: pass the directory that holds it and its config.json"
	case ext == ".safetensors":
		order = []string{"hf", "llama2c", "gguf"}
		reasons["hf"] = "not a safetensors file (no JSON header), and a Hugging Face model is a directory"
	case ext == ".json":
		order = []string{"hf", "llama2c", "gguf"}
		reasons["hf"] = "a JSON file: pass the Hugging Face model directory that holds it"
	}
	ck, err := llama2c.Open(path)
	if err == nil {
		ck.Close()
		return "llama2c", nil
	}
	reasons["llama2c"] = trimPrefix(err, path)
	tried := make([]string, len(order))
	for i, name := range order {
		tried[i] = name + ": " + reasons[name]
	}
	return "", fmt.Errorf("%s: unrecognised input format; tried %s", path, strings.Join(tried, "; "))
}

// looksLikeSafetensors reports whether head starts like a safetensors file:
// a little-endian u64 header length of sensible size, then a JSON object.
func looksLikeSafetensors(head []byte) bool {
	if len(head) < 9 {
		return false
	}
	n := binary.LittleEndian.Uint64(head)
	return n >= 2 && n < 1<<30 && head[8] == '{'
}

func trimPrefix(err error, path string) string {
	return strings.TrimPrefix(err.Error(), path+": ")
}

func convertLlama2c(input string, f convertFlags, opts convert.Options) error {
	ck, err := llama2c.Open(input)
	if err != nil {
		return describeOpenError(input, err)
	}
	defer ck.Close()
	tokPath := f.tokenizer
	if tokPath == "" {
		tokPath = filepath.Join(filepath.Dir(input), "tokenizer.bin")
		if _, err := os.Stat(tokPath); err != nil {
			return usagef("%s: llama2.c checkpoints need their tokenizer: pass --tokenizer tokenizer.bin", input)
		}
	}
	data, err := os.ReadFile(tokPath)
	if err != nil {
		return fmt.Errorf("--tokenizer %s: %w", tokPath, unwrapPathError(err))
	}
	tok, err := llama2c.ReadTokenizer(data, ck.Config.VocabSize)
	if err != nil {
		return fmt.Errorf("--tokenizer %s: %w", tokPath, err)
	}
	name := strings.TrimSuffix(filepath.Base(input), filepath.Ext(input))
	if err := convert.Write(f.output, convert.FromLlama2c(ck, tok, name), opts); err != nil {
		return withPath(f.output, err)
	}
	return nil
}

func convertGGUF(input string, f convertFlags, opts convert.Options) error {
	if f.tokenizer != "" {
		return usagef("--tokenizer: GGUF files carry their own tokenizer")
	}
	g, err := gguf.Open(input)
	if err != nil {
		return describeOpenError(input, err)
	}
	defer g.Close()
	m, err := convert.FromGGUF(g, input)
	if err != nil {
		return err
	}
	notify(m, opts)
	if err := convert.Write(f.output, m, opts); err != nil {
		return withPath(f.output, err)
	}
	return nil
}

// convertHF imports a Hugging Face directory. keepTypes (no --quant) writes
// the tensors that must be rearranged in the checkpoint's dtype.
func convertHF(input string, f convertFlags, opts convert.Options, keepTypes bool) error {
	var hopts convert.HFOptions
	if f.tokenizer != "" {
		tok, err := convert.LoadTokenizer(f.tokenizer)
		if err != nil {
			return fmt.Errorf("--tokenizer %s: %w", f.tokenizer, trimPathError(err, f.tokenizer))
		}
		hopts.Tokenizer = tok
	}
	h, err := convert.OpenHF(input, hopts)
	if err != nil {
		return err
	}
	defer h.Close()
	if keepTypes {
		opts.Matrices = h.DType
	}
	notify(h.Model, opts)
	if err := convert.Write(f.output, h.Model, opts); err != nil {
		return withPath(f.output, err)
	}
	return nil
}

// notify shows the source's notes (a sliding window, a capped context,
// tensors left out) before the conversion starts.
func notify(m *convert.Model, opts convert.Options) {
	for _, n := range m.Notes {
		opts.Notice(n)
	}
}

// trimPathError drops a repeated "PATH: " prefix and the "open PATH:" of an
// *os.PathError, since the caller names the file.
func trimPathError(err error, path string) error {
	err = unwrapPathError(err)
	if msg := err.Error(); strings.HasPrefix(msg, path+": ") {
		return errors.New(strings.TrimPrefix(msg, path+": "))
	}
	return err
}
