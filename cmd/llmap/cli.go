package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/llmap/llmap/format"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// args returns a cobra argument check that wants exactly the named
// positional arguments ("MODEL", "TEXT"), with a one-line usage error.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if len(a) < len(names) {
			return usagef("missing %s (usage: %s)", names[len(a)], cmd.UseLine())
		}
		if len(a) > len(names) {
			return usagef("unexpected argument %q (usage: %s)", a[len(names)], cmd.UseLine())
		}
		return nil
	}
}

// describeOpenError turns errors from opening a model into one line that
// names the file and says what is wrong.
func describeOpenError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such file", path)
	case errors.Is(err, format.ErrBadMagic):
		return fmt.Errorf("%s: not a .llmap file (convert it first with 'llmap convert')", path)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		msg = path + ": " + msg
	}
	return errors.New(msg)
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progress draws a one-line progress bar on stderr when it is a terminal.
type progress struct {
	label string
	on    bool
	last  int
}

func newProgress(label string) *progress {
	return &progress{label: label, on: isTerminal(os.Stderr), last: -1}
}

func (p *progress) update(done, total int64) {
	if !p.on || total <= 0 {
		return
	}
	pct := int(done * 100 / total)
	if pct == p.last {
		return
	}
	p.last = pct
	const width = 40
	fill := pct * width / 100
	fmt.Fprintf(os.Stderr, "\r%s [%s%s] %3d%% %s", p.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), pct, humanBytes(done))
	if done >= total {
		fmt.Fprintln(os.Stderr)
	}
}

// humanBytes formats n with a binary unit.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// withPath puts path in front of err unless the message names it already:
// a file is named once.
func withPath(path string, err error) error {
	if strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// cleanStaleTemps removes the unfinished .llmap files an interrupted run
// left in output's directory, and mentions other leftovers, one line each.
func cleanStaleTemps(stderr io.Writer, name, output string) {
	stale, err := format.CleanStaleTemps(filepath.Dir(output))
	if err != nil {
		return
	}
	for _, s := range stale {
		if s.Removed {
			fmt.Fprintf(stderr, "%s: removed %s (%s), an unfinished file an interrupted run left\n", name, s.Path, humanBytes(s.Size))
		} else {
			fmt.Fprintf(stderr, "%s: note: %s (%s) looks like a temporary file an interrupted run left; remove it if nothing is writing it\n", name, s.Path, humanBytes(s.Size))
		}
	}
}
