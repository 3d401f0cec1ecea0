package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/format/llama2c"
	"github.com/llmap/llmap/quant"
	"github.com/spf13/cobra"
)

type convertFlags struct {
	from      string
	tokenizer string
	output    string
	quant     string
}

func newConvertCmd() *cobra.Command {
	var f convertFlags
	cmd := &cobra.Command{
		Use:   "convert INPUT -o OUTPUT [flags]",
		Short: "Convert a model to the .llmap format",
		Long: `Convert a model to a .llmap file, with its tokenizer embedded so that
'llmap run OUTPUT' needs no other file. The output appears only when the
conversion has finished; a failed conversion leaves nothing behind.

Input formats: llama2.c checkpoints (legacy version 0, and version 1 fp32 /
version 2 int8 exports) with their tokenizer.bin.`,
		Example: `  llmap convert --tokenizer tok512.bin -o stories260K.llmap stories260K.bin`,
		Args:    args("INPUT"),
		RunE: func(cmd *cobra.Command, a []string) error {
			return runConvert(cmd, a[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "auto", "input format: auto, llama2c")
	fl.StringVarP(&f.tokenizer, "tokenizer", "z", "", "tokenizer file (llama2.c: tokenizer.bin; default: tokenizer.bin beside INPUT)")
	fl.StringVarP(&f.output, "output", "o", "", "output .llmap file (required)")
	fl.StringVarP(&f.quant, "quant", "q", "", "type of the weight matrices: f32, f16, bf16, q8_0, q4_0 (default: as stored)")
	return cmd
}

func runConvert(cmd *cobra.Command, input string, f convertFlags) error {
	if f.output == "" {
		return usagef("-o/--output is required")
	}
	opts := convert.Options{Keep: true, Matrices: quant.F32}
	if f.quant != "" {
		t, err := quant.ParseType(f.quant)
		if err != nil {
			return usagef("--quant: %v", err)
		}
		opts = convert.Options{Matrices: t}
	}
	if err := checkOutput(input, f.output); err != nil {
		return err
	}
	from := f.from
	if from == "auto" {
		var err error
		if from, err = detectFormat(input); err != nil {
			return err
		}
	}
	stderr := cmd.ErrOrStderr()
	opts.Notice = func(msg string) { fmt.Fprintf(stderr, "llmap convert: %s\n", msg) }
	bar := newProgress("converting")
	opts.Progress = bar.update

	switch from {
	case "llama2c":
		return convertLlama2c(input, f, opts)
	default:
		return usagef("--from: unknown input format %q (want auto or llama2c)", from)
	}
}

// checkOutput refuses to write over the input.
func checkOutput(input, output string) error {
	in, err := os.Stat(input)
	if err != nil {
		return fmt.Errorf("%s: %w", input, unwrapPathError(err))
	}
	if out, err := os.Stat(output); err == nil && os.SameFile(in, out) {
		return usagef("-o %s is the input file; write the output elsewhere", output)
	}
	if fi, err := os.Stat(output); err == nil && fi.IsDir() {
		return usagef("-o %s is a directory", output)
	}
	return nil
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

// detectFormat recognises an input file by its first bytes.
func detectFormat(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, unwrapPathError(err))
	}
	defer fh.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(fh, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("GGUF")):
		return "", fmt.Errorf("%s: GGUF input is not supported yet", path)
	case bytes.HasPrefix(head, []byte("LLMAP")):
		return "", fmt.Errorf("%s: already a .llmap file", path)
	}
	if n >= 4 && uint32(head[0])|uint32(head[1])<<8|uint32(head[2])<<16|uint32(head[3])<<24 == llama2c.Magic {
		return "llama2c", nil
	}
	// A legacy llama2.c checkpoint has no magic: its header must match its size.
	ck, err := llama2c.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: unrecognised input format (not a llama2.c checkpoint: %v)", path, trimPrefix(err, path))
	}
	ck.Close()
	return "llama2c", nil
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
		return fmt.Errorf("%s: %w", f.output, err)
	}
	return nil
}
