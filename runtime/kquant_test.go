package runtime

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
)

// tolKQuantLogits is the bound on llmap's logits of the
// kquant-random files against the exact float64 ones. The distance comes
// from quantising the activations to Q8_K (8 bits per value, one scale per
// 256) for every K-quant product, as llama.cpp does; llama.cpp's own logits
// are within 0.1 of the exact ones.
const tolKQuantLogits = 0.15

// TestKQuantReferenceLogits converts the llama.cpp-quantised K-quant GGUF
// files (Q2_K..Q6_K tensors copied as they are) and runs them: on every
// prompt of expected.json the top token must be the exact forward pass's,
// and every logit within tolKQuantLogits of it, on one and two threads,
// with Forward and Prefill. It runs the selected kernels (the noasm build
// runs it on the Go tier; quant's tests hold every tier to the reference).
func TestKQuantReferenceLogits(t *testing.T) {
	dir := testmodels.Path(t, "kquant-random")
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Models map[string][]struct {
			Text     string    `json:"text"`
			IDs      []int     `json:"ids"`
			Exact    []float64 `json:"exact"`
			LlamaCpp []float64 `json:"llama_cpp"`
		} `json:"models"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Models) != 5 {
		t.Fatalf("%d models in expected.json, want 5", len(exp.Models))
	}
	for name, prompts := range exp.Models {
		src := filepath.Join(dir, name)
		f, err := gguf.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		m, err := convert.FromGGUF(f, src)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), name+".llmap")
		err = convert.Write(path, m, convert.Options{Keep: true})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			model, err := Open(path, Options{Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range prompts {
				s, err := model.NewState(0)
				if err != nil {
					t.Fatal(err)
				}
				var logits []float32
				for pos, id := range p.IDs {
					if logits, err = model.Forward(s, id, pos); err != nil {
						t.Fatal(err)
					}
				}
				var worst, llama float64
				for i, want := range p.Exact {
					worst = math.Max(worst, math.Abs(float64(logits[i])-want))
					llama = math.Max(llama, math.Abs(p.LlamaCpp[i]-want))
				}
				if threads == 1 {
					t.Logf("%s (%s kernels), %d ids: max |logit - exact| = %.3f (llama.cpp %.3f)", name, quant.KernelTier(quant.Q4_K), len(p.IDs), worst, llama)
				}
				if got, want := argmax(logits), argmax64(p.Exact); got != want {
					t.Errorf("%s %d threads %q: top token %d, exact %d", name, threads, p.Text, got, want)
				}
				if worst > tolKQuantLogits {
					t.Errorf("%s %d threads %q: logits differ from the exact ones by up to %.3f", name, threads, p.Text, worst)
				}
				if threads > 1 {
					continue
				}
				// Batched prefill: the same bound against the exact logits.
				// Its products are the same integer sums, but the AVX2
				// tier's panel kernel for batches of 16 or more adds them
				// in another float order, and an activation requantised
				// from a sum that rounds differently may land on the next
				// Q8_K step (31 ids of k2-Q4_K_M: 0.04 from Forward, 0.119
				// from exact where Forward is at 0.107).
				s2, _ := model.NewState(0)
				batched, err := model.Prefill(s2, p.IDs, 0)
				if err != nil {
					t.Fatal(err)
				}
				var bworst float64
				for i, want := range p.Exact {
					bworst = math.Max(bworst, math.Abs(float64(batched[i])-want))
				}
				if bworst > tolKQuantLogits {
					t.Errorf("%s %q: prefill logits differ from the exact ones by up to %.3f", name, p.Text, bworst)
				}
				if got, want := argmax(batched), argmax64(p.Exact); got != want {
					t.Errorf("%s %q: prefill top token %d, exact %d", name, p.Text, got, want)
				}
			}
			model.Close()
		}
	}
}

func argmax64(x []float64) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
