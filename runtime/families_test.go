package runtime

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/llmap/llmap/format/arch"
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

// TestSharedFamilyLogits converts the F16 GGUF files of LLaMA 3 (RoPE θ
// 500000, rope_freqs.weight, tied output, BOS) and Qwen 2 (q/k/v biases,
// NeoX RoPE, no BOS), tokenises each prompt's text with the converted
// model's tokenizer (the ids must be expected.json's, BOS included) and
// runs them: the last position's logits must be within tolSharedExact of
// the exact ones, through Forward one position at a time and through
// Prefill. The distance to llama.cpp's logits is logged.
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
			ids := m.Tokenizer.Encode(p.Text, true)
			if !slices.Equal(ids, p.IDs) {
				t.Fatalf("%s: %q tokenises to %v, want %v", sp.Model, p.Text, ids, p.IDs)
			}
			s, err := m.NewState(0)
			if err != nil {
				t.Fatal(err)
			}
			var logits []float32
			for pos, id := range ids {
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

// TestFamilyReference converts each family's tiny random checkpoint twice,
// from its Hugging Face directory and from its GGUF twin (the same numbers,
// laid out as llama.cpp lays out the family), and checks both against
// PyTorch's logits at every position (reference_logits.py, Hugging Face
// semantics). The two conversions must also agree with each other.
func TestFamilyReference(t *testing.T) {
	for _, c := range []struct {
		name       string
		ggufGolden string // when GGUF runs the model differently (Mistral: no window)
		bos        bool   // prompts start with BOS
		check      func(hf, gg *arch.Config) bool
	}{
		{name: "llama3", bos: true, check: func(hf, gg *arch.Config) bool { return hf.SharedClassifier && gg.RopeBase == 500000 }},
		{name: "qwen2", check: func(hf, gg *arch.Config) bool { return hf.Arch == "qwen2" && hf.SharedClassifier }},
		{name: "qwen3", check: func(hf, gg *arch.Config) bool { return hf.HeadSize == 16 && gg.HeadSize == 16 && hf.QDim() == 64 }},
		{name: "mistral", bos: true, ggufGolden: "mistral_gguf_tiny.json",
			check: func(hf, gg *arch.Config) bool {
				return hf.SlidingWindow == 8 && gg.SlidingWindow == 0 && hf.HeadSize == 12
			}},
		{name: "phi3", bos: true, check: func(hf, gg *arch.Config) bool {
			return hf.SlidingWindow == 8 && gg.SlidingWindow == 8 && hf.VocabSize == 66
		}},
		{name: "phi35", bos: true, check: func(hf, gg *arch.Config) bool {
			return hf.ContextLength == 32 && gg.ContextLength == 32 && hf.RopeAttnFactor > 1.2 && hf.RopeAttnFactor == gg.RopeAttnFactor
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			golden := c.name + "_tiny.json"
			hfPath := convertHF(t, filepath.Join(referenceDir, "hf-"+c.name+"-tiny"), nil)
			d := compareReference(t, hfPath, golden, tolExact, true)
			ggGolden := golden
			if c.ggufGolden != "" {
				ggGolden = c.ggufGolden
			}
			ggPath := convertGGUF(t, filepath.Join(referenceDir, c.name+"_tiny.gguf"))
			dg := compareReference(t, ggPath, ggGolden, tolExact, true)

			hf, err := Open(hfPath, Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer hf.Close()
			gg, err := Open(ggPath, Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer gg.Close()
			if !c.check(&hf.Config, &gg.Config) {
				t.Errorf("hyperparameters: Hugging Face %+v, GGUF %+v", hf.Config, gg.Config)
			}
			// Each carries its tokenizer: tokenizer.json and the GGUF
			// vocabulary encode a prompt alike (BOS by the family's rule).
			for _, text := range []string{"the cat sat on the mat", "Then, in 2025: it went\nwest."} {
				a, b := hf.Tokenizer.Encode(text, true), gg.Tokenizer.Encode(text, true)
				if !slices.Equal(a, b) || len(a) < 5 || (a[0] == hf.Tokenizer.BOS()) != c.bos {
					t.Errorf("%q: Hugging Face ids %v, GGUF %v (BOS %d, want BOS: %v)", text, a, b, hf.Tokenizer.BOS(), c.bos)
				}
			}
			// The same ids through both: equal logits wherever both run the
			// model the same way (Mistral's GGUF has no window).
			same := 0.0
			for _, cs := range readGolden(t, golden).Cases {
				s1, _ := hf.NewState(0)
				s2, _ := gg.NewState(0)
				for pos, tok := range cs.Tokens {
					a, err := hf.Forward(s1, tok, pos)
					if err != nil {
						t.Fatal(err)
					}
					b, err := gg.Forward(s2, tok, pos)
					if err != nil {
						t.Fatal(err)
					}
					if w := hf.Config.SlidingWindow; w > 0 && pos >= w && gg.Config.SlidingWindow != w {
						continue
					}
					same = max(same, maxDiff(a, b))
				}
			}
			t.Logf("%s: max |logit - torch| = %.2g (Hugging Face), %.2g (GGUF); Hugging Face vs GGUF %.2g", c.name, d, dg, same)
			if same > 1e-5 {
				t.Errorf("the Hugging Face and GGUF conversions of the same weights differ by %g", same)
			}
		})
	}
}
