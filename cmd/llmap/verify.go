package main

import (
	"fmt"

	"github.com/llmap/llmap/format"
	"github.com/spf13/cobra"
)

func newVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify MODEL",
		Short: "Check every tensor's CRC-32C",
		Long: `Read every tensor of a .llmap file and compare its CRC-32C with the one in
the tensor directory. Reports the first tensor that does not match.`,
		Args: args("MODEL"),
		RunE: func(cmd *cobra.Command, a []string) error {
			f, err := format.Open(a[0])
			if err != nil {
				return describeOpenError(a[0], err)
			}
			defer f.Close()
			if err := f.Verify(); err != nil {
				return fmt.Errorf("%s: %w", a[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok, %d tensors, %d bytes checked\n", a[0], len(f.Tensors), f.Size())
			return nil
		},
	}
}
