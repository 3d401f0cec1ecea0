package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/internal/cgroup"
	"github.com/llmap/llmap/internal/memstats"
)

// The tests below run llmap as a child process: the test binary re-executes
// itself with LLMAP_TEST_MAIN=1 and runs the CLI instead of the tests.
func init() {
	if os.Getenv("LLMAP_TEST_MAIN") == "1" {
		os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
	}
}

// child returns a command that runs llmap with args in a child process.
func child(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LLMAP_TEST_MAIN=1")
	return cmd
}

// synth writes a random-weight model into dir with llmap synth.
func synth(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if _, stderr, code := llmap(t, append([]string{"synth", "-o", path}, args...)...); code != 0 {
		t.Fatalf("synth %v: %s", args, stderr)
	}
	return path
}

// TestRunUnderMemoryLimit runs a 2 GiB model inside a 512 MiB memory cgroup
// from a cold page cache: it must finish, without the OOM killer, and print
// exactly what the same run prints without a limit.
func TestRunUnderMemoryLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and runs a 2 GiB model; skipped with -short")
	}
	cgroup.Require(t)
	const limit = 512 << 20
	// tinyllama's layers, 44 of them: 2.05 GiB at q8_0.
	model := synth(t, t.TempDir(), "2g.llmap", "--shape", "tinyllama-1.1b", "--layers", "44", "--quant", "q8_0")
	fi, err := os.Stat(model)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 2<<30 {
		t.Fatalf("model is %d bytes, want at least 2 GiB", fi.Size())
	}
	args := []string{"run", model, "-t", "0", "-n", "16", "--ctx", "64", "-p", "once upon a time"}

	want, err := child(args...).Output()
	if err != nil {
		t.Fatalf("run without a limit: %v", err)
	}

	// Evict the file, so that the limited run reads it from disk and every
	// page it touches is charged to its cgroup.
	if err := format.EvictPageCache(model); err != nil {
		t.Fatal(err)
	}
	g, err := cgroup.New(limit)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := g.Remove(); err != nil {
			t.Error(err)
		}
	}()
	cmd := g.Command(os.Args[0], append(args, "--stats")...)
	cmd.Env = append(os.Environ(), "LLMAP_TEST_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	st, serr := g.Stats()
	if serr != nil {
		t.Fatal(serr)
	}
	t.Logf("under %d MiB: %v, cgroup %+v\n%s", limit>>20, time.Since(start).Round(time.Millisecond), st, stderr.String())
	if cgroup.KilledBySIGKILL(err) || st.OOMKills > 0 {
		t.Fatalf("the OOM killer fired: %v, %+v", err, st)
	}
	if err != nil {
		t.Fatalf("run under %d MiB: %v\n%s", limit>>20, err, stderr.String())
	}
	if got := stdout.String(); got != string(want) {
		t.Errorf("output under the limit differs:\n got %q\nwant %q", got, want)
	}
	// The kernel may charge a page or two before it reclaims.
	if st.MaxUsage > limit+64<<10 {
		t.Errorf("cgroup max usage %d is above the limit %d", st.MaxUsage, limit)
	}
	if st.MaxUsage < limit/2 {
		t.Errorf("cgroup max usage %d: the run never came near the limit, so the test shows nothing", st.MaxUsage)
	}
}

// runningChild starts llmap run on model for a long generation and returns
// once it has printed its first token.
func runningChild(t *testing.T, model string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := child("run", model, "-n", "0", "-t", "1", "--seed", "7")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	r := bufio.NewReader(out)
	if _, err := r.ReadByte(); err != nil {
		t.Fatalf("child printed nothing: %v\n%s", err, stderr.String())
	}
	go io.Copy(io.Discard, r)
	return cmd, &stderr
}

// TestProcessesShareMappedPages runs two generations of one model at the
// same time: the pages of the mapping are shared, so each process's
// proportional set size of the model is about half its resident size.
func TestProcessesShareMappedPages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two generations of a 130 MB model; skipped with -short")
	}
	model := synth(t, t.TempDir(), "110m.llmap", "--shape", "stories110M", "--quant", "q8_0")
	fi, err := os.Stat(model)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := runningChild(t, model)
	b, _ := runningChild(t, model)
	// Every weight but the embedding rows is read once per token, so after
	// the first token each process maps most of the file.
	want := fi.Size() * 3 / 4
	var sa, sb memstats.Mapping
	deadline := time.Now().Add(30 * time.Second)
	for {
		if sa, err = memstats.ReadMapping(a.Process.Pid, model); err != nil {
			t.Fatal(err)
		}
		if sb, err = memstats.ReadMapping(b.Process.Pid, model); err != nil {
			t.Fatal(err)
		}
		if sa.RSS >= want && sb.RSS >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the processes did not map %d bytes of the model in time: %+v %+v", want, sa, sb)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("model %d bytes; process A %+v; process B %+v", fi.Size(), sa, sb)
	for _, s := range []memstats.Mapping{sa, sb} {
		if s.PSS > s.RSS*6/10 {
			t.Errorf("PSS %d of RSS %d: the pages are not shared", s.PSS, s.RSS)
		}
	}
	// Shared pages are counted once in the sum of PSS.
	if sum := sa.PSS + sb.PSS; sum > max(sa.RSS, sb.RSS)*11/10 {
		t.Errorf("PSS sum %d is above the larger RSS %d", sum, max(sa.RSS, sb.RSS))
	}
}

// TestTruncateUnderRun truncates the model file while llmap run generates
// from it: the process must print one line naming the file and exit 1,
// without a crash or a stack trace.
func TestTruncateUnderRun(t *testing.T) {
	model := synth(t, t.TempDir(), "110m.llmap", "--shape", "stories110M", "--quant", "q8_0")
	f, err := format.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	keep := f.Tensors[0].Offset // the header stays, every weight goes
	f.Close()
	cmd, stderr := runningChild(t, model)
	if err := os.Truncate(model, keep); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("llmap run did not stop after the truncation")
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1\n%s", err, stderr.String())
	}
	msg := stderr.String()
	for _, bad := range []string{"panic", "goroutine ", "SIGBUS", "signal", ".go:"} {
		if strings.Contains(msg, bad) {
			t.Fatalf("stderr shows a crash (%q):\n%s", bad, msg)
		}
	}
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	last := lines[len(lines)-1]
	t.Logf("stderr: %s", last)
	if !strings.HasPrefix(last, "llmap run: ") || !strings.Contains(last, model) || !strings.Contains(last, "changed while in use") {
		t.Fatalf("last line of stderr %q: want one line naming %s and the cause", last, model)
	}
}

// TestSynthReplacesAtomically writes a model with llmap synth over a file
// that is mapped: the mapping must keep the old contents (the new file is
// written beside it and renamed into place, never written in place).
func TestSynthReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	model := synth(t, dir, "m.llmap", "--shape", "stories260K", "--seed", "1")
	old, err := format.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	synth(t, dir, "m.llmap", "--shape", "stories260K", "--seed", "2")
	if err := old.Verify(); err != nil {
		t.Fatalf("the mapping of the replaced file changed: %v", err)
	}
	now, err := format.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	defer now.Close()
	if now.Tensors[0].CRC == old.Tensors[0].CRC {
		t.Fatal("the file at the path was not replaced")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1 (no temporary left behind)", len(entries))
	}
}

// TestMemoryFlags runs stories260K with each memory option: the text is
// the same as the plain run's, --stats prints its figures, and bad sizes
// are one-line usage errors.
func TestMemoryFlags(t *testing.T) {
	model := stories260K(t)
	base := []string{"run", model, "-t", "0", "-n", "64"}
	want, _, code := llmap(t, base...)
	if code != 0 {
		t.Fatal("plain run failed")
	}
	for _, extra := range [][]string{
		{"--no-mmap"}, {"--mlock"}, {"--no-prefetch"}, {"--mem-budget", "64K"}, {"--mem-budget", "1G", "--no-prefetch"},
	} {
		t.Run(strings.Join(extra, " "), func(t *testing.T) {
			got, stderr, code := llmap(t, append(base, extra...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got != want {
				t.Errorf("output %q, want %q", got, want)
			}
		})
	}
	_, stderr, code := llmap(t, append(base, "--stats")...)
	if code != 0 {
		t.Fatalf("--stats: exit %d: %s", code, stderr)
	}
	for _, s := range []string{"peak anonymous RSS", "peak file RSS", "PSS", "page faults", "read from disk"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("--stats output lacks %q:\n%s", s, stderr)
		}
	}
	for _, bad := range [][]string{
		{"--mem-budget", "lots"}, {"--mem-budget", "12Q"}, {"--mem-budget", "0"}, {"--mem-budget", "-1G"},
		{"--mem-budget", "1G", "--mlock"}, {"--mem-budget", "1G", "--no-mmap"},
	} {
		_, stderr, code := llmap(t, append(base, bad...)...)
		if code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want a one-line usage error", bad, code, stderr)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"512M", 512 << 20}, {"2G", 2 << 30}, {"1.5GiB", 3 << 29}, {"100", 100}, {"64k", 64 << 10},
		{"1 GB", 1 << 30}, {"3MiB", 3 << 20}, {"1T", 1 << 40},
	} {
		got, err := parseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "M", "1.2.3G", "5X", "-1G", "0", "0.1", "99999999T"} {
		if n, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, n)
		}
	}
	// An out-of-range size says what the range is.
	for _, in := range []string{"0", "0.1", "99999999T"} {
		if _, err := parseSize(in); err == nil || !strings.Contains(err.Error(), "want 1 byte up to 8 EiB") {
			t.Errorf("parseSize(%q): %v does not give the range", in, err)
		}
	}
}
