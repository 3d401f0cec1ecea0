package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestConvertFamilies converts the tiny checkpoint of every family, from
// its Hugging Face directory and its GGUF twin (testdata/reference), tells
// the user what the conversion means for the model (a sliding window, a
// capped context, tensors left out), and runs the result.
func TestConvertFamilies(t *testing.T) {
	ref := "../../testdata/reference"
	dir := t.TempDir()
	for _, c := range []struct {
		input string
		notes []string // each on a line of stderr
	}{
		{"hf-llama3-tiny", nil},
		{"llama3_tiny.gguf", nil},
		{"hf-qwen2-tiny", nil},
		{"qwen2_tiny.gguf", nil},
		{"hf-qwen3-tiny", nil},
		{"qwen3_tiny.gguf", nil},
		{"hf-mistral-tiny", []string{"config.json: sliding_window 8: each position attends to itself and the 7 before it"}},
		{"mistral_tiny.gguf", nil},
		{"hf-phi3-tiny", []string{"config.json: sliding_window 8"}},
		{"phi3_tiny.gguf", []string{"phi3.attention.sliding_window 8"}},
		{"hf-phi35-tiny", []string{"rope_scaling longrope", "capped", "sliding_window 256 is no shorter than the model's context of 32 positions"}},
		{"phi35_tiny.gguf", []string{"tensor rope_factors_long.weight: not used by llmap", "LongRoPE: llmap runs the short factors (rope_factors_short.weight)"}},
	} {
		t.Run(c.input, func(t *testing.T) {
			out := filepath.Join(dir, c.input+".llmap")
			_, stderr, code := llmap(t, "convert", "-o", out, filepath.Join(ref, c.input))
			if code != 0 {
				t.Fatalf("convert: %s", stderr)
			}
			lines := strings.Split(stderr, "\n")
			for _, n := range c.notes {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "llmap convert: ") && strings.Contains(l, n) }) {
					t.Errorf("no note %q in stderr %q", n, stderr)
				}
			}
			if len(c.notes) == 0 && strings.Contains(stderr, "llmap convert: ") {
				t.Errorf("unexpected note: %q", stderr)
			}
			stdout, stderr, code := llmap(t, "run", out, "-t", "0", "-n", "8", "-p", "the cat")
			if code != 0 || stdout == "" {
				t.Fatalf("run: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
		})
	}
}

// TestConvertUnknownFamily: a GGUF file or a Hugging Face directory of an
// architecture llmap does not run gets one line naming the file, the
// architecture and the families llmap runs, and nothing is written.
func TestConvertUnknownFamily(t *testing.T) {
	dir := t.TempDir()
	kvs, ts := tinyGGUF()
	var inputs []string
	for _, a := range []string{"gemma", "mamba", "gemma2", "phi2"} {
		k := slices.Clone(kvs)
		k[0].val = a
		for i := range k {
			k[i].key = strings.Replace(k[i].key, "llama.", a+".", 1)
		}
		p := filepath.Join(dir, a+".gguf")
		if err := os.WriteFile(p, buildGGUF(k, ts), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, p)
	}
	for _, a := range []string{"GemmaForCausalLM", "MambaForCausalLM", "Phi3SmallForCausalLM"} {
		d := filepath.Join(dir, a)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		cfg := `{"architectures": ["` + a + `"], "model_type": "x", "hidden_size": 32}`
		if err := os.WriteFile(filepath.Join(d, "config.json"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, d)
	}
	out := filepath.Join(dir, "out.llmap")
	for _, in := range inputs {
		arch := strings.TrimSuffix(filepath.Base(in), ".gguf")
		supported := "gpt2, llama, phi3, qwen2, qwen3"
		if !strings.HasSuffix(in, ".gguf") {
			supported = "LlamaForCausalLM, MistralForCausalLM, Phi3ForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM"
		}
		stderr := expectUserError(t, []string{"convert", "-o", out, in}, filepath.Base(in), arch, "unknown architecture", supported)
		t.Log(strings.TrimSpace(stderr))
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: a failed conversion left a file at the output path", in)
		}
	}
}
