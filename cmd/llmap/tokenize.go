package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/llmap/llmap/runtime"
	"github.com/spf13/cobra"
)

func newTokenizeCmd() *cobra.Command {
	var noBOS bool
	cmd := &cobra.Command{
		Use:   "tokenize MODEL TEXT",
		Short: "Print the token ids of a text",
		Long:  `Encode TEXT with the model's tokenizer and print the ids on one line, separated by spaces.`,
		Args:  args("MODEL", "TEXT"),
		RunE: func(cmd *cobra.Command, a []string) error {
			m, err := runtime.Open(a[0], runtime.Options{Threads: 1})
			if err != nil {
				return describeOpenError(a[0], err)
			}
			defer m.Close()
			ids := m.Tokenizer.Encode(a[1], !noBOS)
			parts := make([]string, len(ids))
			for i, id := range ids {
				parts[i] = strconv.Itoa(id)
			}
			fmt.Fprintln(cmd.OutOrStdout(), strings.Join(parts, " "))
			return nil
		},
	}
	cmd.Flags().BoolVar(&noBOS, "no-bos", false, "leave out the BOS token the tokenizer adds")
	return cmd
}
