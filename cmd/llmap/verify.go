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
			tensors, size, err := verifyModel(a[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok, %d tensors, %d bytes checked\n", a[0], tensors, size)
			return nil
		},
	}
}

// verifyModel checks every tensor of the .llmap file at path against its
// CRC-32C and returns the number of tensors and the file's size.
func verifyModel(path string) (tensors int, size int64, err error) {
	f, err := format.Open(path)
	if err != nil {
		return 0, 0, describeOpenError(path, err)
	}
	defer f.Close()
	if err := f.Verify(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	return len(f.Tensors), f.Size(), nil
}
