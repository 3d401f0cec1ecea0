package runtime

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/quant"
)

// TestForwardBatchSequences: three sequences prefilled together in one
// ForwardBatch (more rows than MaxBatch, the sequences interleaved) and
// then decoded together, one row each per pass, give at every step the
// logits and hidden states that running each sequence alone gives, to
// within float32 rounding: a batch's products are register tiles, a
// single row's the one-vector kernels, which sum in another order.
func TestForwardBatchSequences(t *testing.T) {
	// Chunks of MaxBatch rows, so that the test's short batches span several.
	defer func(prev int) { chunkRows = prev }(chunkRows)
	chunkRows = MaxBatch
	gpt2, err := convert.Synth("batch", arch.Config{Arch: "gpt2", Dim: 64, HiddenDim: 128, NLayers: 2, NHeads: 4,
		VocabSize: 512, ContextLength: 96}, 5)
	if err != nil {
		t.Fatal(err)
	}
	gpt2Path := filepath.Join(t.TempDir(), "gpt2.llmap")
	if err := convert.Write(gpt2Path, gpt2, convert.Options{Matrices: quant.Q8_0}); err != nil {
		t.Fatal(err)
	}
	prompts := [][]int{
		{1, 403, 261, 9, 77, 300, 42, 12, 5, 8, 480, 33, 17, 200, 101, 90, 3, 7},
		{1, 20},
		{1, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85},
	}
	const steps = 12
	for _, path := range []string{convertStories(t), gpt2Path} {
		for _, threads := range []int{1, 2} {
			m, err := Open(path, Options{Threads: threads, KVType: KVF32})
			if err != nil {
				t.Fatal(err)
			}
			vocab := m.Config.VocabSize
			// Alone: each sequence by Prefill, then Forward of its greedy tokens.
			want := make([][][]float32, len(prompts)) // (sequence, step, vocab)
			wantHidden := make([][]float32, len(prompts))
			for i, p := range prompts {
				s, _ := m.NewState(64)
				logits, err := m.Prefill(s, p, 0)
				if err != nil {
					t.Fatal(err)
				}
				for step := range steps {
					want[i] = append(want[i], slices.Clone(logits))
					if step == steps-1 {
						break
					}
					if logits, err = m.Forward(s, argmax(logits), len(p)+step); err != nil {
						t.Fatal(err)
					}
				}
				wantHidden[i] = slices.Clone(s.Hidden())
			}

			// Together: the prompts' rows interleaved in one batch, then one row per sequence per pass.
			states := make([]*State, len(prompts))
			logits := make([][]float32, len(prompts))
			for i := range states {
				states[i], _ = m.NewState(64)
				logits[i] = make([]float32, vocab)
			}
			b := m.NewBatch()
			for pos := 0; ; pos++ {
				added := false
				for i, p := range prompts {
					if pos < len(p) {
						var out []float32
						if pos == len(p)-1 {
							out = logits[i]
						}
						b.Add(states[i], p[pos], pos, out)
						added = true
					}
				}
				if !added {
					break
				}
			}
			if b.Len() <= MaxBatch {
				t.Fatalf("%d prompt rows do not span two chunks", b.Len())
			}
			for step := range steps {
				if err := m.ForwardBatch(b); err != nil {
					t.Fatal(err)
				}
				b.Reset()
				for i, p := range prompts {
					if d := maxDiff(logits[i], want[i][step]); d > 3e-5 {
						t.Fatalf("%s, %d threads: sequence %d step %d: logits differ by %g", m.Config.Arch, threads, i, step, d)
					}
					b.Add(states[i], argmax(logits[i]), len(p)+step, logits[i])
				}
			}
			for i := range prompts {
				if d := maxDiff(states[i].Hidden(), wantHidden[i]); d > 3e-5 {
					t.Errorf("%s: sequence %d: hidden state differs by %g", m.Config.Arch, i, d)
				}
			}
			m.Close()
		}
	}
}

func TestForwardBatchRejectsBadRows(t *testing.T) {
	path := convertStories(t)
	m, err := Open(path, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	other, err := Open(path, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	s, _ := m.NewState(8)
	foreign, _ := other.NewState(8)
	for name, fill := range map[string]func(b *Batch){
		"empty":         func(b *Batch) {},
		"token":         func(b *Batch) { b.Add(s, 512, 0, nil) },
		"position":      func(b *Batch) { b.Add(s, 1, 8, nil) },
		"foreign state": func(b *Batch) { b.Add(foreign, 1, 0, nil) },
		"short logits":  func(b *Batch) { b.Add(s, 1, 0, make([]float32, 10)) },
	} {
		b := m.NewBatch()
		fill(b)
		if err := m.ForwardBatch(b); err == nil {
			t.Errorf("%s: ForwardBatch succeeded", name)
		}
	}
	b := other.NewBatch()
	b.Add(s, 1, 0, nil)
	if err := m.ForwardBatch(b); err == nil {
		t.Error("a batch of another model ran")
	}
}
