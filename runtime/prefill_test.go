package runtime

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/quant"
)

// TestPrefillMatchesForward: the batched prompt pass gives the logits that
// feeding the tokens one at a time gives, for batches longer than MaxBatch,
// every family, every tensor type, every KV cache type and 1 or 2 threads.
// With a float32 cache and float weights only the summation order of the
// products differs; with int8 weights an activation quantised from a sum
// in another order may round to the next step, and with an fp16 or q8_0
// cache so may a stored key or value: those get looser tolerances.
func TestPrefillMatchesForward(t *testing.T) {
	// Chunks of MaxBatch rows, so that the test's short batches span several.
	defer func(prev int) { chunkRows = prev }(chunkRows)
	chunkRows = MaxBatch
	for _, fam := range arch.Families() {
		src, err := convert.Synth("prefill", arch.Config{Arch: fam.Name, Dim: 64, HiddenDim: 96, NLayers: 2, NHeads: 4, NKVHeads: 2, VocabSize: 300, ContextLength: 128}, 3)
		if err != nil {
			t.Fatal(err)
		}
		tokens := make([]int, MaxBatch*2+5)
		for i := range tokens {
			tokens[i] = (i*37 + 11) % 300
		}
		for _, typ := range quant.Types() {
			path := filepath.Join(t.TempDir(), typ.String()+".llmap")
			if err := convert.Write(path, src, convert.Options{Matrices: typ}); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				threads int
				kv      KVType
				tol     float64
			}{{1, KVF32, 1e-4}, {2, KVF32, 1e-4}, {2, KVF16, 5e-3}, {2, KVQ8_0, 2e-2}} {
				threads := c.threads
				m, err := Open(path, Options{Threads: threads, KVType: c.kv})
				if err != nil {
					t.Fatal(err)
				}
				s1, _ := m.NewState(0)
				var want []float32
				for pos, tok := range tokens {
					if want, err = m.Forward(s1, tok, pos); err != nil {
						t.Fatal(err)
					}
				}
				want = append([]float32(nil), want...)
				s2, _ := m.NewState(0)
				// Two calls, the second continuing at a later position.
				if _, err := m.Prefill(s2, tokens[:7], 0); err != nil {
					t.Fatal(err)
				}
				got, err := m.Prefill(s2, tokens[7:], 7)
				if err != nil {
					t.Fatal(err)
				}
				tol := c.tol
				if typ.Quantized() {
					tol = max(tol, 5e-3)
				}
				if d := maxDiff(got, want); !(d <= tol) {
					t.Errorf("%s %s, %s cache, %d threads: prefill logits differ from Forward by %g", fam.Name, typ, c.kv, threads, d)
				}
				// The next position continues from the prefilled cache.
				a, _ := m.Forward(s1, 5, len(tokens))
				a = append([]float32(nil), a...)
				b, _ := m.Forward(s2, 5, len(tokens))
				if d := maxDiff(a, b); !(d <= tol) {
					t.Fatalf("%s %s, %s cache: the position after prefill differs by %g", fam.Name, typ, c.kv, d)
				}
				m.Close()
			}
		}
	}
}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func TestPrefillRejectsBadArguments(t *testing.T) {
	m, err := Open(convertStories(t), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewState(16)
	for _, c := range []struct {
		tokens []int
		pos0   int
	}{{nil, 0}, {[]int{1, 2}, 15}, {[]int{1, 600}, 0}, {[]int{1}, -1}} {
		if _, err := m.Prefill(s, c.tokens, c.pos0); err == nil {
			t.Errorf("Prefill(%v, %d) succeeded", c.tokens, c.pos0)
		}
	}
}

// TestAttentionSegments: on two threads a long context with few KV heads
// splits each head's attention over segments of its positions, combined
// by their softmax sums; the logits must be those of one thread, which
// never splits. (1000 positions, 2 KV heads: three segments per head.)
func TestAttentionSegments(t *testing.T) {
	src, err := convert.Synth("segments", arch.Config{Arch: "llama", Dim: 64, HiddenDim: 96, NLayers: 2, NHeads: 4, NKVHeads: 2, VocabSize: 300, ContextLength: 1100}, 9)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.llmap")
	if err := convert.Write(path, src, convert.Options{Matrices: quant.F32}); err != nil {
		t.Fatal(err)
	}
	tokens := make([]int, 1000)
	for i := range tokens {
		tokens[i] = (i*53 + 7) % 300
	}
	run := func(threads int) (out [][]float32, split bool) {
		m, err := Open(path, Options{Threads: threads, KVType: KVF32})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		s, _ := m.NewState(0)
		if _, err := m.Prefill(s, tokens, 0); err != nil {
			t.Fatal(err)
		}
		for pos := len(tokens); pos < len(tokens)+4; pos++ {
			l, err := m.Forward(s, pos%300, pos)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, slices.Clone(l))
			split = split || s.batch.attn.parts > 0
		}
		return out, split
	}
	want, split1 := run(1)
	got, split2 := run(2)
	if split1 || !split2 {
		t.Fatalf("segments used: %v on one thread, %v on two; want false, true", split1, split2)
	}
	for i := range want {
		if d := maxDiff(got[i], want[i]); d > 1e-5 { // 1e-7 seen; unweighted segments give 1e-4
			t.Errorf("position %d: logits with segments differ by %g", len(tokens)+i, d)
		}
	}
}
