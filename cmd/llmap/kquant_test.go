package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
)

// TestConvertKQuant: --quant takes llama.cpp's K-quant mixes, says which
// matrices fall back and why, and the result runs; a GGUF file of K-quant
// tensors converts with every tensor's type kept; an unknown --quant names
// the types and the mixes.
func TestConvertKQuant(t *testing.T) {
	dir := t.TempDir()
	bin := testmodels.Path(t, "stories260K/stories260K.bin")
	tok := testmodels.Path(t, "stories260K/tok512.bin")
	out := filepath.Join(dir, "q4_k_m.llmap")
	_, stderr, code := llmap(t, "convert", "--quant", "Q4_K_M", "-z", tok, "-o", out, bin)
	if code != 0 {
		t.Fatalf("convert --quant q4_k_m: exit %d: %s", code, stderr)
	}
	// stories260K's rows (64, 172) are no whole super-blocks: every matrix
	// falls back, and says so.
	for _, want := range []string{
		"tensor token_embd.weight: row length 64 is not a multiple of 256: q6_k falls back to q8_0",
		"tensor blk.0.attn_q.weight: row length 64 is not a multiple of 256: q4_k falls back to q4_0",
		"tensor blk.2.attn_v.weight: row length 64 is not a multiple of 256: q6_k falls back to q8_0",
		"tensor blk.4.ffn_down.weight: row length 172 is not a multiple of 256: q6_k falls back to f16",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if stdout, stderr, code := llmap(t, "run", out, "-t", "0", "-n", "16", "-p", "Once"); code != 0 || stdout == "" {
		t.Fatalf("run: exit %d, %q, %s", code, stdout, stderr)
	}

	src := testmodels.Path(t, "kquant-random/k2-Q3_K_M.gguf")
	out = filepath.Join(dir, "k2.llmap")
	if _, stderr, code := llmap(t, "convert", "-o", out, src); code != 0 {
		t.Fatalf("convert %s: exit %d: %s", src, code, stderr)
	}
	f, err := format.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[quant.Type]int{}
	for _, ti := range f.Tensors {
		counts[ti.Type]++
	}
	f.Close()
	// SOURCES.md: Q3_K x17, Q4_K x10, Q5_K x2, Q6_K x1, norms F32.
	if counts[quant.Q3_K] != 17 || counts[quant.Q4_K] != 10 || counts[quant.Q5_K] != 2 || counts[quant.Q6_K] != 1 {
		t.Errorf("k2-Q3_K_M converted to %v", counts)
	}

	expectUserError(t, []string{"convert", "--quant", "q4_k_l", "-z", tok, "-o", filepath.Join(dir, "x.llmap"), bin},
		"--quant", `"q4_k_l"`, "q6_k", "q4_k_m")
}
