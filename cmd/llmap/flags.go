package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	goruntime "runtime"
	"strconv"
	"strings"

	"github.com/llmap/llmap/runtime"
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

// The rule for limits, the same in every command: a value below a flag's
// range is an error; a value above what the machine or the model allows
// is capped, with one line on stderr saying what was used instead.

// kvTypeHelp explains --kv-type the same way in every command.
const kvTypeHelp = "type the KV cache is stored in: f16 (half of f32), q8_0 (34/128 of f32) or f32 (exact)"

// parseKVType checks --kv-type.
func parseKVType(s string) (runtime.KVType, error) {
	k, err := runtime.ParseKVType(s)
	if err != nil {
		return 0, usagef("--kv-type: %v", err)
	}
	return k, nil
}

// describeKVError names --kv-type in an Open error the cache type caused.
func describeKVError(path string, k runtime.KVType, err error) error {
	if errors.Is(err, runtime.ErrKVType) {
		return usagef("--kv-type %s: %s", k, strings.TrimPrefix(err.Error(), path+": "))
	}
	return describeOpenError(path, err)
}

// threadsHelp explains --threads the same way in every command.
const threadsHelp = "threads for matrix products; 0 = one per CPU, more than the CPUs available is capped there"

// capThreads applies the rule to --threads: 0 means one thread per CPU
// available to the process (GOMAXPROCS, which follows a cgroup's CPU
// limit), and more than that is capped there, since extra threads only
// wait for a CPU. Negative values are rejected by the commands' checks.
func capThreads(stderr io.Writer, n int) int {
	cpus := goruntime.GOMAXPROCS(0)
	if n > cpus {
		fmt.Fprintf(stderr, "llmap: --threads %d is more than the %d CPUs available; using %d\n", n, cpus, cpus)
		return cpus
	}
	return n
}

// capContext applies the rule to --ctx: a context longer than the model's
// is capped there. Only a value the user gave is mentioned; the default
// (runtime.DefaultContext) is capped silently.
func capContext(stderr io.Writer, cmd *cobra.Command, n, model int) int {
	if n > model {
		if cmd.Flags().Changed("ctx") {
			fmt.Fprintf(stderr, "llmap: --ctx %d is more than the model's context; using %d\n", n, model)
		}
		return model
	}
	return n
}
