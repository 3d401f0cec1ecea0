package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/tokenizer"
	"github.com/spf13/cobra"
)

type tokenizeFlags struct {
	tokenizer string
	file      string
	noBOS     bool
}

func newTokenizeCmd() *cobra.Command {
	var f tokenizeFlags
	cmd := &cobra.Command{
		Use:   "tokenize {MODEL | --tokenizer PATH} {TEXT | -f FILE}",
		Short: "Print the token ids of a text",
		Long: `Encode TEXT (or the contents of FILE) with a tokenizer and print the ids on
one line, separated by spaces.

The tokenizer is the .llmap model's, or, with --tokenizer and no model, one of:
a .llmap file, a llama2.c tokenizer.bin, a GGUF file (vocabulary-only files
included), a Hugging Face model directory (tokenizer.json, tokenizer.model or
vocab.json with merges.txt), or an encoder.json (or vocab.json) with its
vocab.bpe (or merges.txt) beside it.

The ids start with BOS when the tokenizer adds one to prompts, as the model's
files say (LLaMA 2 and LLaMA 3 do; GPT-2, Qwen and SmolLM do not), unless
--no-bos is given. Special tokens written in the text, such as <|im_start|>
or <|eot_id|>, are encoded as those tokens, as Hugging Face and llama.cpp do.`,
		Example: `  llmap tokenize stories260K.llmap "Once upon a time"
  llmap tokenize --tokenizer ggml-vocab-gpt-2.gguf "Hello world"
  llmap tokenize --tokenizer Qwen3-0.6B/ "<|im_start|>user"
  llmap tokenize --tokenizer gpt2/encoder.json -f prompt.txt`,
		Args: func(cmd *cobra.Command, a []string) error {
			var names []string
			if f.tokenizer == "" {
				names = append(names, "MODEL")
			}
			if f.file == "" {
				names = append(names, "TEXT")
			}
			return args(names...)(cmd, a)
		},
		RunE: func(cmd *cobra.Command, a []string) error {
			var tok runtime.Tokenizer
			if f.tokenizer != "" {
				meta, err := loadTokenizer(f.tokenizer)
				if err != nil {
					return describeTokenizerError(f.tokenizer, err)
				}
				if tok, err = runtime.TokenizerFromMetadata(meta); err != nil {
					return describeTokenizerError(f.tokenizer, err)
				}
			} else {
				m, err := runtime.Open(a[0], runtime.Options{Threads: 1})
				if err != nil {
					return describeOpenError(a[0], err)
				}
				defer m.Close()
				tok, a = m.Tokenizer, a[1:]
			}
			var text string
			if f.file != "" {
				data, err := os.ReadFile(f.file)
				if err != nil {
					return fmt.Errorf("-f %s: %w", f.file, unwrapPathError(err))
				}
				text = string(data)
			} else {
				text = a[0]
			}
			ids := tokenIDs(tok, text, !f.noBOS)
			parts := make([]string, len(ids))
			for i, id := range ids {
				parts[i] = strconv.Itoa(id)
			}
			fmt.Fprintln(cmd.OutOrStdout(), strings.Join(parts, " "))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.tokenizer, "tokenizer", "z", "", "tokenize without a model, with the tokenizer in PATH")
	fl.StringVarP(&f.file, "file", "f", "", "read the text from FILE")
	fl.BoolVar(&f.noBOS, "no-bos", false, "leave out the BOS token the tokenizer adds to prompts")
	return cmd
}

// tokenIDs returns the ids tokenize prints: the text's, after BOS when
// addBOS is set and the tokenizer adds one to prompts. Unlike a prompt for
// generation, an empty text has no ids.
func tokenIDs(tok runtime.Tokenizer, text string, addBOS bool) []int {
	ids := tok.Encode(text, false)
	if addBOS && tok.AddBOS() {
		ids = append([]int{tok.BOS()}, ids...)
	}
	return ids
}

// loadTokenizer reads the tokenizer in path as tokenizer.* metadata: a
// Hugging Face directory with tokenizer.json and a GGUF file through the
// tokenizer package, anything else through convert.LoadTokenizer.
func loadTokenizer(path string) (*format.Metadata, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		spec, err := tokenizer.FromHFDir(path)
		if errors.Is(err, tokenizer.ErrNoTokenizerJSON) {
			return convert.LoadTokenizer(path)
		}
		if err != nil {
			return nil, err
		}
		return spec.Metadata(), nil
	}
	if isGGUF(path) {
		f, err := gguf.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		spec, err := tokenizer.FromGGUF(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return spec.Metadata(), nil
	}
	return convert.LoadTokenizer(path)
}

// isGGUF reports whether the file at path starts with GGUF's magic.
func isGGUF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(gguf.Magic))
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == gguf.Magic
}

// describeTokenizerError names the tokenizer file once, in one line.
func describeTokenizerError(path string, err error) error {
	msg := unwrapPathError(err).Error()
	if !strings.Contains(msg, path) {
		msg = path + ": " + msg
	}
	return fmt.Errorf("--tokenizer %s", msg)
}
