package runtime

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/internal/testmodels"
)

// tolSharedExact is the bound on llmap's logits of the F16 LLaMA 3
// and Qwen 2 GGUF files against their exact float64 forward pass. The
// weights are the same numbers; only float32 rounding differs.
const tolSharedExact = 0.01

// sharedPrompts is an expected.json of llama3-random/ or qwen2-random/:
// each prompt's text, its ids as Hugging Face's tokenizer gives them, and
// the last position's logits (little-endian float32 files).
type sharedPrompts struct {
	Model   string `json:"model"`
	Prompts []struct {
		Text     string `json:"text"`
		IDs      []int  `json:"ids"`
		Exact    string `json:"exact"`
		LlamaCpp string `json:"llama_cpp"`
	} `json:"prompts"`
}

func readF32s(t *testing.T, path string) []float32 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v
}

// convertGGUF converts the GGUF file src to a temporary .llmap file,
// copying its tensors as they are.
func convertGGUF(t *testing.T, src string) string {
	t.Helper()
	f, err := gguf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := convert.FromGGUF(f, src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(src)+".llmap")
	if err := convert.Write(path, m, convert.Options{Keep: true}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSharedFamilyLogits converts the F16 GGUF files of LLaMA 3 (RoPE θ
// 500000, rope_freqs.weight, tied output) and Qwen 2 (q/k/v biases, NeoX
// RoPE) and runs the ids of expected.json: the last position's logits must
// be within tolSharedExact of the exact ones, through Forward one position
// at a time and through Prefill. The distance to llama.cpp's logits is
// logged.
func TestSharedFamilyLogits(t *testing.T) {
	for _, dir := range []string{"llama3-random", "qwen2-random"} {
		exp := testmodels.Path(t, dir+"/expected.json")
		raw, err := os.ReadFile(exp)
		if err != nil {
			t.Fatal(err)
		}
		var sp sharedPrompts
		if err := json.Unmarshal(raw, &sp); err != nil || len(sp.Prompts) == 0 {
			t.Fatalf("%s: %v (%d prompts)", exp, err, len(sp.Prompts))
		}
		path := convertGGUF(t, filepath.Join(filepath.Dir(exp), sp.Model))
		m, err := Open(path, Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range sp.Prompts {
			exact := readF32s(t, filepath.Join(filepath.Dir(exp), p.Exact))
			llamaCpp := readF32s(t, filepath.Join(filepath.Dir(exp), p.LlamaCpp))
			if len(exact) != m.Config.VocabSize || len(llamaCpp) != m.Config.VocabSize {
				t.Fatalf("%s: %d and %d reference logits for a vocabulary of %d", dir, len(exact), len(llamaCpp), m.Config.VocabSize)
			}
			s, err := m.NewState(0)
			if err != nil {
				t.Fatal(err)
			}
			var logits []float32
			for pos, id := range p.IDs {
				if logits, err = m.Forward(s, id, pos); err != nil {
					t.Fatal(err)
				}
			}
			logits = append([]float32(nil), logits...)
			s2, _ := m.NewState(0)
			batched, err := m.Prefill(s2, p.IDs, 0)
			if err != nil {
				t.Fatal(err)
			}
			dExact, dLlama, dRef := maxDiff(logits, exact), maxDiff(logits, llamaCpp), maxDiff(llamaCpp, exact)
			t.Logf("%s %q (%d ids): max |logit - exact| = %.2g, |logit - llama.cpp| = %.2g (llama.cpp vs exact %.2g); prefill vs forward %.2g",
				sp.Model, p.Text, len(p.IDs), dExact, dLlama, dRef, maxDiff(batched, logits))
			if dExact > tolSharedExact || maxDiff(batched, exact) > tolSharedExact {
				t.Errorf("%s %q: logits differ from the exact ones by %.3g (forward), %.3g (prefill)", sp.Model, p.Text, dExact, maxDiff(batched, exact))
			}
			if argmax(logits) != argmax(exact) {
				t.Errorf("%s %q: top token %d, exact %d", sp.Model, p.Text, argmax(logits), argmax(exact))
			}
		}
		m.Close()
	}
}
