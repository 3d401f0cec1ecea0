package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBench(t *testing.T) {
	model := stories260K(t)
	out, errs, code := llmap(t, "bench", model, "-p", "16,32", "-n", "8", "-r", "2", "--threads", "1,2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// Header lines, then a table of 2 prompt and 1 generation tests on 2 thread counts.
	for _, want := range []string{"model: stories260K (llama)", "open: ", "memory: peak RSS",
		"weights read per token: ", "| pp16 |       1 |", "| tg8  |       2 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n| "); n != 8 {
		t.Errorf("%d table lines, want 8:\n%s", n, out)
	}
	if !strings.Contains(errs, "llmap bench: tg8, 2 threads") {
		t.Errorf("stderr lacks progress: %s", errs)
	}

	out, errs, code = llmap(t, "bench", model, "-p", "0", "-n", "4", "-r", "1", "--threads", "1", "-o", "json")
	var rep struct {
		Model   struct{ Name string }
		Results []struct {
			Test         string
			TokensPerSec float64 `json:"tokens_per_sec"`
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Model.Name != "stories260K" ||
		len(rep.Results) != 1 || rep.Results[0].Test != "tg4" || !(rep.Results[0].TokensPerSec > 0) {
		t.Errorf("-o json: exit %d, %s\n%s", code, errs, out)
	}

	// -d: each test again after a context of 100 tokens, with GFLOP/s
	out, errs, code = llmap(t, "bench", model, "-p", "8", "-n", "4", "-d", "0,100", "-r", "1", "--threads", "1")
	for _, want := range []string{"| pp8 ", "| tg4 ", "| pp8 @ d100 ", "| tg4 @ d100 ", "GFLOP/s"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("-d 0,100: exit %d, output lacks %q: %s\n%s", code, want, errs, out)
		}
	}

	// --no-mmap: the weights copied into memory, said in the header.
	for _, args := range [][]string{{}, {"--no-mmap"}} {
		out, errs, code = llmap(t, append([]string{"bench", model, "-p", "0", "-n", "4", "-r", "1", "--threads", "1"}, args...)...)
		want := "weights mapped"
		if len(args) > 0 {
			want = "weights read into memory (--no-mmap)"
		}
		if code != 0 || !strings.Contains(out, "open: ") || !strings.Contains(out, want) || !strings.Contains(out, "| tg4 ") {
			t.Errorf("bench %v: exit %d, output lacks %q: %s\n%s", args, code, want, errs, out)
		}
	}

	prof := filepath.Join(t.TempDir(), "cpu.pprof")
	out, errs, code = llmap(t, "bench", model, "-p", "8", "-n", "0", "-r", "1", "--threads", "1", "-o", "csv", "--cpuprofile", prof)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(recs) != 2 || recs[1][4] != "pp8" {
		t.Errorf("-o csv: exit %d, %v, %s\n%s", code, err, errs, out)
	}
	if fi, err := os.Stat(prof); err != nil || fi.Size() == 0 {
		t.Errorf("--cpuprofile wrote nothing: %v", err)
	}
}

func TestBenchBadFlags(t *testing.T) {
	model := stories260K(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-p", "x"}, "invalid argument"},
		{[]string{"-p", "-5"}, "-p/--prompt: token counts must be 0 or more, got -5"},
		{[]string{"-p", "0", "-n", "0"}, "nothing to measure"},
		{[]string{"-r", "0"}, "-r/--reps must be at least 1, got 0"},
		{[]string{"--threads", "0"}, "--threads: thread counts must be 1 or more, got 0"},
		{[]string{"-o", "xml"}, `-o/--output: unknown format "xml"`},
		{[]string{"-p", "600", "-n", "0"}, "600 tokens do not fit the model's context of 512 positions"},
		{[]string{"-d", "-1"}, "-d/--depth: depths must be 0 or more, got -1"},
		{[]string{"-d", "500", "-p", "0", "-n", "16"}, "516 tokens (a depth of 500 and a test of 16) do not fit the model's context of 512 positions"},
	} {
		_, errs, code := llmap(t, append([]string{"bench", model, "-r", "1"}, tc.args...)...)
		if code == 0 || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("bench %v: exit %d, stderr %q; want one line with %q", tc.args, code, errs, tc.want)
		}
	}
	_, errs, code := llmap(t, "bench", filepath.Join(t.TempDir(), "missing.llmap"))
	if code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing model: exit %d, %q", code, errs)
	}
	if _, _, code := llmap(t, "bench"); code != 2 {
		t.Errorf("no model: exit %d, want 2", code)
	}
}
