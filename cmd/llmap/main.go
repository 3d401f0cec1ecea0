// Command llmap converts, inspects and runs language models stored in the
// memory-mapped .llmap format.
//
// Flags may come before or after positional arguments (llmap run model.llmap
// -t 0 -n 64); long flags take two dashes; `llmap help CMD` explains a command.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// usageError marks a mistake in the command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "llmap",
		Short: "Run language models from memory-mapped .llmap files",
		Long: `llmap converts models from llama2.c, GGUF and Hugging Face files into the
memory-mapped .llmap format, runs them, and shows what is inside them.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Runs before every subcommand (none defines its own).
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return checkFiniteFlags(cmd)
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if !c.HasParent() {
			return usagef("%v (see 'llmap --help')", err)
		}
		return usagef("%v (see 'llmap help %s')", err, c.Name())
	})
	// --version prints what llmap version prints.
	root.Version = "set"
	root.SetVersionTemplate(versionText())
	root.AddCommand(
		newRunCmd(),
		newConvertCmd(),
		newInspectCmd(),
		newVerifyCmd(),
		newTokenizeCmd(),
		newEmbedCmd(), newNextCmd(),
		newSynthCmd(),
		newBenchCmd(),
		newPerplexityCmd(),
		newChatCmd(), newServeCmd(),
		newVersionCmd(),
	)
	return root
}

// execute runs the command line args and returns the exit status.
func execute(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	name := "llmap"
	if cmd != nil && cmd != root {
		name = "llmap " + cmd.Name()
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	var ue usageError
	var ie interruptError
	switch {
	case errors.As(err, &ie):
		return ie.exitCode()
	case errors.As(err, &ue) || isCobraUsage(err):
		return 2
	}
	return 1
}

// isCobraUsage recognises the argument errors cobra itself returns.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "unknown flag", "unknown shorthand"} {
		if len(msg) >= len(p) && (msg[:len(p)] == p) {
			return true
		}
	}
	return false
}

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}
