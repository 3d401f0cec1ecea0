package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/quant"
	"github.com/spf13/cobra"
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

// progress draws a one-line progress bar on stderr when it is a terminal,
// once the work has taken more than progressDelay: quick jobs print none.
type progress struct {
	label string
	w     io.Writer
	on    bool
	start time.Time
	drawn bool
	last  int
}

// progressDelay is how long work runs before its progress bar appears.
const progressDelay = time.Second

func newProgress(label string) *progress {
	return &progress{label: label, w: os.Stderr, on: isTerminal(os.Stderr), start: time.Now(), last: -1}
}

func (p *progress) update(done, total int64) {
	if !p.on || total <= 0 || (!p.drawn && time.Since(p.start) < progressDelay) {
		return
	}
	p.drawn = true
	pct := int(done * 100 / total)
	if pct == p.last {
		return
	}
	p.last = pct
	const width = 40
	fill := pct * width / 100
	fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %s", p.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), pct, humanBytes(done))
	if done >= total {
		fmt.Fprintln(p.w)
	}
}

// printWritten says what a command wrote to path: the tensors by type,
// the size, and the time since start.
func printWritten(w io.Writer, name, path string, start time.Time) {
	f, err := format.Open(path)
	if err != nil {
		fmt.Fprintf(w, "%s: wrote %s in %v\n", name, path, time.Since(start).Round(time.Millisecond))
		return
	}
	defer f.Close()
	count := map[quant.Type]int{}
	var types []quant.Type
	for _, t := range f.Tensors {
		if count[t.Type] == 0 {
			types = append(types, t.Type)
		}
		count[t.Type]++
	}
	slices.Sort(types)
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s %d", t, count[t])
	}
	fmt.Fprintf(w, "%s: wrote %s: %d tensors (%s), %s in %v\n", name, path, len(f.Tensors),
		strings.Join(parts, ", "), humanBytes(f.Size()), time.Since(start).Round(time.Millisecond))
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
