package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/internal/cgroup"
	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/runtime"
)

// TestPagingLlama7B is the benchmark of models larger than RAM (make
// bench-paging; not part of make test: it writes a 7 GB model and runs for
// several minutes). A llama2-7b-shaped Q8_0 model generates under a 1 GiB
// memory cgroup from a cold page cache, with prefetch on and off and with a
// budget, beside the ceiling set by the disk's sequential read speed
// measured in the same run; then with a warm cache and no limit beside the
// memory-bandwidth ceiling. It prints a Markdown table.
//
// Environment: LLMAP_BENCH_PAGING=1 to run; LLMAP_BENCH_MODELS=DIR to keep
// the model between runs; LLMAP_BENCH_SHAPE (default llama2-7b),
// LLMAP_BENCH_LIMIT (default 1G), LLMAP_BENCH_STEPS (default 6). Needs root
// (cgroups, drop_caches).
func TestPagingLlama7B(t *testing.T) {
	if os.Getenv("LLMAP_BENCH_PAGING") != "1" {
		t.Skip("set LLMAP_BENCH_PAGING=1 (make bench-paging) to run the paging benchmark")
	}
	cgroup.Require(t)
	shapeName := envOr("LLMAP_BENCH_SHAPE", "llama2-7b")
	limit := parseBytes(t, envOr("LLMAP_BENCH_LIMIT", "1G"))
	steps := envOr("LLMAP_BENCH_STEPS", "6")
	dir := os.Getenv("LLMAP_BENCH_MODELS")
	if dir == "" {
		dir = t.TempDir()
	}
	bin := filepath.Join(t.TempDir(), "llmap")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/llmap").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	model := filepath.Join(dir, shapeName+"-q8_0.llmap")
	if _, err := os.Stat(model); err != nil {
		shape, ok := convert.Shapes[shapeName]
		if !ok {
			t.Fatalf("unknown shape %q", shapeName)
		}
		t0 := time.Now()
		m, err := convert.Synth(shapeName, shape, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := convert.Write(model, m, convert.Options{Matrices: quant.Q8_0}); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s in %v", model, time.Since(t0).Round(time.Second))
	}
	m, err := runtime.Open(model, runtime.Options{NoPrefetch: true})
	if err != nil {
		t.Fatal(err)
	}
	perToken := WeightBytesPerToken(m)
	size := m.File().Size()
	m.Close()

	// Disk ceiling: reading 4 GiB of the file from a cold cache, through
	// the page cache as page faults are (kernel readahead).
	readSpeed := readSpeedOf(t, model, 4<<30)
	diskCeiling := readSpeed / float64(perToken)

	var rows []pagingRow
	cold := func(name string, extra ...string) {
		dropCaches(t)
		g, err := cgroup.New(limit)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Remove()
		args := append([]string{"run", model, "-t", "0", "-n", steps, "--ctx", "64", "--stats"}, extra...)
		r := runChild(t, g.Command(bin, args...))
		st, _ := g.Stats()
		r.name, r.limit, r.ceiling, r.ceilingKind = name, bench2human(limit), diskCeiling, "disk"
		if st.OOMKills > 0 {
			r.note = "OOM killed"
		}
		rows = append(rows, r)
	}
	cold("cold, prefetch on")
	cold("cold, prefetch off", "--no-prefetch")
	budget := strconv.FormatInt(limit/2, 10)
	cold("cold, prefetch on, --mem-budget "+bench2human(limit/2), "--mem-budget", budget)
	cold("cold, prefetch off, --mem-budget "+bench2human(limit/2), "--mem-budget", budget, "--no-prefetch")

	// Warm: read the file into the page cache, then run without a limit.
	warmPageCache(t, model)
	bw := ReadBandwidth(ReadBytes(), []int{2}, time.Second)[0]
	for _, extra := range [][]string{nil, {"--no-prefetch"}} {
		r := runChild(t, exec.Command(bin, append([]string{"run", model, "-t", "0", "-n", steps, "--ctx", "64", "--stats"}, extra...)...))
		r.name, r.limit, r.ceiling, r.ceilingKind = "warm, prefetch on", "none", bw/float64(perToken), "memory"
		if extra != nil {
			r.name = "warm, prefetch off"
		}
		rows = append(rows, r)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "model %s Q8_0, %s (%s of weights read per token); disk read %.2f GB/s; memory read %.1f GB/s (2 threads)\n\n",
		shapeName, bench2human(size), bench2human(perToken), readSpeed/1e9, bw/1e9)
	b.WriteString("| run | limit | tokens/s | ceiling | % of ceiling | peak anon RSS | peak file RSS | major / minor faults | read from disk |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %.3f | %.3f (%s) | %.0f%% | %s | %s | %s / %s | %s |\n", r.name+r.noteSuffix(), r.limit, r.tps, r.ceiling, r.ceilingKind,
			100*r.tps/r.ceiling, r.anon, r.file, r.major, r.minor, r.read)
	}
	t.Log("\n" + b.String())
	if out := os.Getenv("LLMAP_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

type pagingRow struct {
	name, limit, note              string
	tps, ceiling                   float64
	ceilingKind                    string
	anon, file, major, minor, read string
}

func (r pagingRow) noteSuffix() string {
	if r.note == "" {
		return ""
	}
	return " (" + r.note + ")"
}

var (
	genRe   = regexp.MustCompile(`generated \d+ at ([0-9.]+) tokens/s`)
	rssRe   = regexp.MustCompile(`peak anonymous RSS ([0-9.]+ [KMGT]?i?B).*peak file RSS ([0-9.]+ [KMGT]?i?B)`)
	faultRe = regexp.MustCompile(`(\d+) major and (\d+) minor page faults, ([0-9.]+ [KMGT]?i?B) read from disk`)
)

// runChild runs an llmap run command and parses its --stats output.
func runChild(t *testing.T, cmd *exec.Cmd) pagingRow {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		t.Logf("%v: %v\n%s", cmd.Args, err, stderr.String())
		return pagingRow{note: err.Error()}
	}
	s := stderr.String()
	t.Logf("%v\n%s", cmd.Args, s)
	var r pagingRow
	if m := genRe.FindStringSubmatch(s); m != nil {
		r.tps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := rssRe.FindStringSubmatch(s); m != nil {
		r.anon, r.file = m[1], m[2]
	}
	if m := faultRe.FindStringSubmatch(s); m != nil {
		r.major, r.minor, r.read = m[1], m[2], m[3]
	}
	return r
}

// dropCaches empties the page cache of the whole machine.
func dropCaches(t *testing.T) {
	t.Helper()
	exec.Command("sync").Run()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0o200); err != nil {
		t.Fatalf("dropping caches: %v", err)
	}
}

// readSpeedOf reads up to n bytes of path sequentially and returns bytes/s.
// readSpeedOf measures the disk's read speed: the first n bytes of path, from
// a cold cache, read by readers goroutines at once, each streaming its own
// part in 16 MiB reads. One stream understates a disk that serves several
// requests in parallel, as the page faults of two threads and the
// prefetcher do; the fastest of 1, 4 and 8 streams is the ceiling.
func readSpeedOf(t *testing.T, path string, n int64) float64 {
	t.Helper()
	best := 0.0
	for _, readers := range []int{1, 4, 8} {
		dropCaches(t)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		part := n / int64(readers)
		var wg sync.WaitGroup
		var total atomic.Int64
		t0 := time.Now()
		for r := range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 16<<20)
				sr := io.NewSectionReader(f, int64(r)*part, part)
				got, _ := io.CopyBuffer(io.Discard, struct{ io.Reader }{sr}, buf)
				total.Add(got)
			}()
		}
		wg.Wait()
		speed := float64(total.Load()) / time.Since(t0).Seconds()
		f.Close()
		t.Logf("disk read, %d stream(s): %.2f GB/s", readers, speed/1e9)
		best = max(best, speed)
	}
	return best
}

// warmPageCache reads path once so that it is in the page cache.
func warmPageCache(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, make([]byte, 16<<20)); err != nil {
		t.Fatal(err)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func parseBytes(t *testing.T, s string) int64 {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("bad size %q", s)
	}
	return int64(v * float64(mult))
}

func bench2human(n int64) string { return HumanBytes(n) }
