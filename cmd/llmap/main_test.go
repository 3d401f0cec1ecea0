package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/llmap/llmap/internal/testmodels"
)

// llmap runs the CLI in-process and returns stdout, stderr and the exit status.
func llmap(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = execute(args, &out, &errb)
	return out.String(), errb.String(), code
}

var (
	convertOnce sync.Once
	convertDir  string
	convertErr  string
)

// stories260K converts the shared stories260K checkpoint once per test
// binary and returns the .llmap path.
func stories260K(t *testing.T) string {
	t.Helper()
	bin := testmodels.Path(t, "stories260K/stories260K.bin")
	tok := testmodels.Path(t, "stories260K/tok512.bin")
	convertOnce.Do(func() {
		dir, err := os.MkdirTemp("", "llmap-cli-test")
		if err != nil {
			convertErr = err.Error()
			return
		}
		convertDir = dir
		if _, stderr, code := llmapNoT("convert", "--tokenizer", tok, "-o", filepath.Join(dir, "s.llmap"), bin); code != 0 {
			convertErr = stderr
		}
	})
	if convertErr != "" {
		t.Fatalf("convert: %s", convertErr)
	}
	return filepath.Join(convertDir, "s.llmap")
}

func llmapNoT(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := execute(args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestMain(m *testing.M) {
	code := m.Run()
	if convertDir != "" {
		os.RemoveAll(convertDir)
	}
	os.Exit(code)
}

// TestGolden checks llmap run against llama2.c's published outputs for
// stories260K, byte for byte (run.c prints each file plus one newline).
func TestGolden(t *testing.T) {
	model := stories260K(t)
	cases := []struct {
		expected string
		args     []string
	}{
		{"expected_t0.0_n200.txt", []string{"-t", "0", "-n", "200"}},
		{"expected_t0.0_n256.txt", []string{"-t", "0"}},
		// llama2.c keeps its KV cache in float32; sampled text follows
		// every rounding, so this one reads the same cache type.
		{"expected_t1.0_p0.9_s133742_n256.txt", []string{"-t", "1.0", "--top-p", "0.9", "--seed", "133742", "--kv-type", "f32"}},
	}
	for _, c := range cases {
		t.Run(c.expected, func(t *testing.T) {
			want, err := os.ReadFile(testmodels.Path(t, "stories260K/"+c.expected))
			if err != nil {
				t.Fatal(err)
			}
			// Flags after the model path, as llama.cpp users write them.
			for _, threads := range []string{"1", "2"} {
				args := append([]string{"run", model, "--threads", threads}, c.args...)
				stdout, stderr, code := llmap(t, args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				if stdout != string(want)+"\n" {
					t.Errorf("threads %s: stdout differs from %s\n got: %q\nwant: %q", threads, c.expected, stdout, string(want)+"\n")
				}
			}
		})
	}
}

func TestFlagsBeforeModel(t *testing.T) {
	model := stories260K(t)
	want, _ := os.ReadFile(testmodels.Path(t, "stories260K/expected_t0.0_n200.txt"))
	stdout, stderr, code := llmap(t, "run", "-t", "0", "--steps", "200", model)
	if code != 0 || stdout != string(want)+"\n" {
		t.Fatalf("exit %d, stderr %q, stdout %q", code, stderr, stdout)
	}
}

func TestContextEnd(t *testing.T) {
	model := stories260K(t)
	stdout, stderr, code := llmap(t, "run", model, "-t", "0", "-n", "100", "--ctx", "16")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "end of the context (16 positions)") {
		t.Errorf("stderr does not say the context ended: %q", stderr)
	}
	// The first 15 generated tokens are the start of the greedy story.
	want, _ := os.ReadFile(testmodels.Path(t, "stories260K/expected_t0.0_n200.txt"))
	if !strings.HasPrefix(string(want), strings.TrimSuffix(stdout, "\n")) || len(stdout) < 20 {
		t.Errorf("stdout %q is not a prefix of the greedy story", stdout)
	}
}

func TestPrompt(t *testing.T) {
	model := stories260K(t)
	stdout, stderr, code := llmap(t, "run", model, "-t", "0", "-n", "30", "-p", "Once upon a time, there was a dog")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "Once upon a time, there was a dog") {
		t.Errorf("stdout does not start with the prompt: %q", stdout)
	}
}

func TestInspectVerifyTokenize(t *testing.T) {
	model := stories260K(t)
	stdout, stderr, code := llmap(t, "inspect", model)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"general.architecture", "\"llama\"", "token_embd.weight", "blk.4.ffn_down.weight", "[64 172]", "f32"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q", want)
		}
	}
	if _, stderr, code := llmap(t, "verify", model); code != 0 {
		t.Errorf("verify: exit %d: %s", code, stderr)
	}
	stdout, _, code = llmap(t, "tokenize", model, "Once upon a time")
	if code != 0 || !strings.HasPrefix(stdout, "1 ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("tokenize: exit %d, %q", code, stdout)
	}
	noBOS, _, _ := llmap(t, "tokenize", "--no-bos", model, "Once upon a time")
	if "1 "+noBOS != stdout {
		t.Errorf("--no-bos: %q vs %q", noBOS, stdout)
	}
}

func TestVerifyFindsCorruption(t *testing.T) {
	model := stories260K(t)
	data, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.llmap")
	data[len(data)-100] ^= 0x40 // inside output_norm or the last block
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := llmap(t, "verify", bad)
	if code == 0 || !strings.Contains(stderr, "checksum") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("verify of a corrupted file: exit %d, stderr %q", code, stderr)
	}
}

// expectUserError runs the CLI with args and checks what a user mistake
// must give: a non-zero exit, nothing on stdout, and one line on stderr that
// contains each of want, with no stack trace. It returns stderr.
func expectUserError(t *testing.T, args []string, want ...string) string {
	t.Helper()
	stdout, stderr, code := llmap(t, args...)
	if code == 0 {
		t.Fatalf("exit 0, stdout %q", stdout)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not contain %q", stderr, w)
		}
	}
	if n := strings.Count(stderr, "\n"); n != 1 {
		t.Errorf("stderr has %d lines, want 1: %q", n, stderr)
	}
	if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
		t.Errorf("stack trace on stderr: %q", stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q after an error", stdout)
	}
	return stderr
}

// TestBadInput checks that every user mistake gets one line on stderr that
// names the problem, a non-zero exit and no stack trace.
func TestBadInput(t *testing.T) {
	model := stories260K(t)
	dir := t.TempDir()
	data, _ := os.ReadFile(model)
	truncated := filepath.Join(dir, "truncated.llmap")
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello, this is not a model\n"), 0o644)
	tok := testmodels.Path(t, "stories260K/tok512.bin")

	cases := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"missing file", []string{"run", filepath.Join(dir, "nope.llmap")}, "nope.llmap: no such file"},
		{"other format", []string{"run", tok}, "not a .llmap file"},
		{"text file", []string{"run", text}, "notes.txt"},
		{"truncated", []string{"run", truncated}, "truncated.llmap"},
		{"unknown flag", []string{"run", model, "--frobnicate"}, "unknown flag: --frobnicate"},
		{"ctx 0", []string{"run", model, "--ctx", "0"}, "--ctx must be at least 1"},
		{"negative temperature", []string{"run", model, "-t", "-0.5"}, "-t/--temp must be 0 or more"},
		{"top-p above 1", []string{"run", model, "--top-p", "1.5"}, "--top-p must be between 0 and 1"},
		{"infinite temperature", []string{"run", model, "-t", "inf"}, "-t/--temp must be a finite number, got +Inf"},
		{"+Inf temperature", []string{"run", model, "-t", "+Inf"}, "-t/--temp must be a finite number"},
		{"-Inf temperature", []string{"run", model, "--temp=-Inf"}, "-t/--temp must be a finite number"},
		{"NaN top-p", []string{"run", model, "--top-p", "NaN"}, "--top-p must be a finite number"},
		{"infinite next temperature", []string{"next", model, "-p", "Once", "-t", "0.5,Inf"}, "-t/--temp must be a finite number, got +Inf"},
		{"bad number", []string{"run", model, "-n", "many"}, "invalid argument \"many\""},
		{"no model", []string{"run"}, "missing MODEL"},
		{"two models", []string{"run", model, model}, "unexpected argument"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"convert without -o", []string{"convert", model}, "-o/--output is required"},
		{"convert unknown quant", []string{"convert", "-o", filepath.Join(dir, "x.llmap"), "--quant", "q3", model}, "unknown tensor type"},
		{"convert a text file", []string{"convert", "-o", filepath.Join(dir, "x.llmap"), text}, "unrecognised input format"},
		{"convert onto itself", []string{"convert", "-o", model, model}, "is the input file"},
		{"verify truncated", []string{"verify", truncated}, "truncated.llmap"},
		{"inspect missing", []string{"inspect", filepath.Join(dir, "nope.llmap")}, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expectUserError(t, c.args, c.want) })
	}
	if _, err := os.Stat(filepath.Join(dir, "x.llmap")); err == nil {
		t.Error("a failed conversion left a file at the output path")
	}
}

// TestConvertFailureLeavesNothing: a conversion that fails half-way (here, a
// tokenizer too short for the model's vocabulary) writes nothing at -o.
func TestConvertFailureLeavesNothing(t *testing.T) {
	bin := testmodels.Path(t, "stories260K/stories260K.bin")
	tok, _ := os.ReadFile(testmodels.Path(t, "stories260K/tok512.bin"))
	dir := t.TempDir()
	short := filepath.Join(dir, "short.bin")
	os.WriteFile(short, tok[:len(tok)/2], 0o644)
	out := filepath.Join(dir, "out.llmap")
	_, stderr, code := llmap(t, "convert", "--tokenizer", short, "-o", out, bin)
	if code == 0 {
		t.Fatal("convert with a truncated tokenizer succeeded")
	}
	if !strings.Contains(stderr, "short.bin") {
		t.Errorf("error does not name the tokenizer file: %q", stderr)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a failed conversion, want only the input", len(entries))
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"run", "convert", "inspect", "verify", "tokenize"} {
		stdout, _, code := llmap(t, "help", cmd)
		if code != 0 || !strings.Contains(stdout, "Usage:") {
			t.Errorf("help %s: exit %d: %q", cmd, code, stdout)
		}
		stdout2, _, code := llmap(t, cmd, "-h")
		if code != 0 || stdout2 != stdout {
			t.Errorf("%s -h differs from help %s", cmd, cmd)
		}
	}
	stdout, _, _ := llmap(t, "help", "run")
	for _, flag := range []string{"--prompt", "--steps", "--temp", "--top-p", "--top-k", "--seed", "--ctx", "--threads"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("help run does not explain %s", flag)
		}
	}
}
