package main

import (
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagLabel names a flag as the error messages do: "-t/--temp" or "--top-p".
func flagLabel(f *pflag.Flag) string {
	if f.Shorthand != "" {
		return "-" + f.Shorthand + "/--" + f.Name
	}
	return "--" + f.Name
}

// checkFiniteFlags rejects NaN and ±Inf in every floating-point flag the
// user set, whatever the command: each command then checks only its own
// ranges, and a new float flag is covered without a line of its own.
func checkFiniteFlags(cmd *cobra.Command) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if err != nil {
			return
		}
		var values []string
		switch f.Value.Type() {
		case "float32", "float64":
			values = []string{f.Value.String()}
		case "float32Slice", "float64Slice":
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				values = sv.GetSlice()
			}
		}
		for _, v := range values {
			x, perr := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if perr == nil && (math.IsNaN(x) || math.IsInf(x, 0)) {
				err = usagef("%s must be a finite number, got %s", flagLabel(f), v)
				return
			}
		}
	})
	return err
}
