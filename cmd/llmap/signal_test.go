package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/internal/testmodels"
)

// waitFor polls until cond holds, failing the test after 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// tempFiles lists the temporary files in dir.
func tempFiles(dir string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	return matches
}

// exitStatus returns a finished command's exit status (-1 if a signal
// killed it).
func exitStatus(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Fatal(err)
	}
	return ee.ExitCode()
}

// TestInterruptedWriteLeavesNothing: SIGINT or SIGTERM while synth or
// convert writes removes the temporary file, says so in one line and exits
// 130 or 143 (before the fix the hidden temporary file stayed behind).
func TestInterruptedWriteLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("writes part of a stories110M-shaped model; skipped with -short")
	}
	src := synth(t, t.TempDir(), "src.bin", "--shape", "stories110M", "--format", "llama2c")
	tok := testmodels.Path(t, "llama2c-tokenizer-32k/tokenizer.bin")
	cases := []struct {
		name string
		sig  syscall.Signal
		args func(out string) []string
	}{
		{"synth SIGINT", syscall.SIGINT, func(out string) []string { return []string{"synth", "--shape", "stories110M", "-o", out} }},
		{"synth llama2c SIGTERM", syscall.SIGTERM, func(out string) []string {
			return []string{"synth", "--shape", "stories110M", "--format", "llama2c", "-o", out}
		}},
		{"convert SIGINT", syscall.SIGINT, func(out string) []string { return []string{"convert", "--tokenizer", tok, "-o", out, src} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := child(c.args(filepath.Join(dir, "out.llmap"))...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the temporary file", func() bool { return len(tempFiles(dir)) > 0 })
			cmd.Process.Signal(c.sig)
			code := exitStatus(t, cmd.Wait())
			if code != 128+int(c.sig) {
				t.Errorf("exit %d, want %d; stderr %q", code, 128+int(c.sig), stderr.String())
			}
			if msg := stderr.String(); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "interrupted; removed the unfinished") {
				t.Errorf("stderr %q, want one line saying the output was removed", msg)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("the directory holds %v after the interrupt", entries)
			}
		})
	}
}

// TestStaleTempsAreCleaned: a temporary file that a killed run left (no
// signal handler runs on SIGKILL) is removed by the next write into the
// same directory, which says so; one that is not a .llmap file is only
// mentioned; one that a live process holds is left alone.
func TestStaleTempsAreCleaned(t *testing.T) {
	if testing.Short() {
		t.Skip("writes part of a stories110M-shaped model; skipped with -short")
	}
	dir := t.TempDir()
	// A writer that is still running when the small model is written.
	live := child("synth", "--shape", "stories110M", "-o", filepath.Join(dir, "live.llmap"))
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { live.Process.Kill(); live.Wait() }()
	waitFor(t, "the live temporary file", func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, ".live.llmap.tmp-*"))
		return len(m) == 1
	})

	cmd := child("synth", "--shape", "stories110M", "-o", filepath.Join(dir, "big.llmap"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the temporary file", func() bool {
		tmp, _ := filepath.Glob(filepath.Join(dir, ".big.llmap.tmp-*"))
		if len(tmp) == 0 {
			return false
		}
		fi, err := os.Stat(tmp[0])
		return err == nil && fi.Size() >= int64(len(format.Magic))
	})
	m, _ := filepath.Glob(filepath.Join(dir, ".big.llmap.tmp-*"))
	killed := m[0]
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(killed); err != nil {
		t.Fatal("SIGKILL left no temporary file to clean")
	}
	other := filepath.Join(dir, ".big.bin.tmp-0123abcd")
	os.WriteFile(other, []byte("not a .llmap file"), 0o644)

	_, stderr, code := llmap(t, "synth", "--shape", "stories260K", "-o", filepath.Join(dir, "small.llmap"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "removed "+killed) || !strings.Contains(stderr, "note: "+other) || strings.Contains(stderr, "live.llmap") {
		t.Errorf("stderr %q should report %s as removed and %s as a leftover, and not the live file", stderr, killed, other)
	}
	if _, err := os.Stat(killed); err == nil {
		t.Errorf("%s is still there", killed)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("%s was removed: %v", other, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".live.llmap.tmp-*")); len(m) != 1 {
		t.Errorf("the live temporary file is gone: %v", m)
	}
}
