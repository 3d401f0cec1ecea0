package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/runtime"
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
included), a Hugging Face model directory, or an encoder.json (or vocab.json)
with its vocab.bpe (or merges.txt) beside it.

LLaMA tokenizers start with BOS unless --no-bos is given. GPT-2 tokenizers
have no BOS and print none (generation starts GPT-2 prompts from
<|endoftext|>, but tokenize prints the text's own ids).`,
		Example: `  llmap tokenize stories260K.llmap "Once upon a time"
  llmap tokenize --tokenizer ggml-vocab-gpt-2.gguf "Hello world"
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
				meta, err := convert.LoadTokenizer(f.tokenizer)
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
			ids := tok.Encode(text, !f.noBOS && tok.BOS() >= 0)
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
	fl.BoolVar(&f.noBOS, "no-bos", false, "leave out the BOS token a LLaMA tokenizer adds")
	return cmd
}

// describeTokenizerError names the tokenizer file once, in one line.
func describeTokenizerError(path string, err error) error {
	msg := unwrapPathError(err).Error()
	if !strings.Contains(msg, path) {
		msg = path + ": " + msg
	}
	return fmt.Errorf("--tokenizer %s", msg)
}
