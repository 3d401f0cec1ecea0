package runtime

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/quant"
)

// splitShape is a small LLaMA shape whose gate and up (Q4_0: 2 × 1024 rows
// of 144 bytes) are large enough for the pool to share out, with a hidden
// size of whole K-quant super-blocks.
var splitShape = arch.Config{Dim: 256, HiddenDim: 1024, NLayers: 2, NHeads: 4, NKVHeads: 2, VocabSize: 512, ContextLength: 32}

// TestSplitFFNExact runs the same tokens through a model on two threads
// with the feed-forward job split by matrix (each thread streams gate or
// up, then the activation is a second job) and with gate and up in one job:
// the residual stream and the logits must be the same bits after each
// token decoded (Forward; a prompt run as a batch first fills the caches,
// and batches keep the one job), for each kernel family, and with a bias on
// up (which the split adds in its second job).
func TestSplitFFNExact(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q4_0, quant.Q8_0, quant.F16, quant.Q4_K, quant.Q6_K} {
		path := synthPaging(t, splitShape, typ)
		for _, bias := range []bool{false, true} {
			name := typ.String()
			if bias {
				name += "/up bias"
			}
			t.Run(name, func(t *testing.T) {
				var hidden, logits [2][][]float32
				for k, fused := range []bool{false, true} {
					m, err := Open(path, Options{Threads: 2})
					if err != nil {
						t.Fatal(err)
					}
					defer m.Close()
					m.fusedFFN = fused
					rng := rand.New(rand.NewPCG(1, 2))
					for l := range m.Weights.Layers {
						lw := &m.Weights.Layers[l]
						if !fused && !m.splitFFN(lw, 1) {
							t.Fatalf("layer %d: the feed-forward job is not split on 2 threads", l)
						}
						if fused && m.splitFFN(lw, 1) {
							t.Fatalf("layer %d: split with fusedFFN set", l)
						}
						if bias {
							lw.Bup = make([]float32, lw.Wup.Rows)
							for i := range lw.Bup {
								lw.Bup[i] = float32(rng.NormFloat64())
							}
						}
					}
					s, err := m.NewState(splitShape.ContextLength)
					if err != nil {
						t.Fatal(err)
					}
					keep := func(v []float32) {
						hidden[k] = append(hidden[k], append([]float32(nil), s.Hidden()...))
						logits[k] = append(logits[k], append([]float32(nil), v...))
					}
					v, err := m.Prefill(s, []int{1, 300, 17, 42, 99, 5, 260}, 0)
					if err != nil {
						t.Fatal(err)
					}
					keep(v)
					for pos := 7; pos < 12; pos++ {
						v, err := m.Forward(s, (pos*37)%splitShape.VocabSize, pos)
						if err != nil {
							t.Fatal(err)
						}
						keep(v)
					}
				}
				for i := range hidden[0] {
					if d := firstDiff(hidden[0][i], hidden[1][i]); d >= 0 {
						t.Fatalf("step %d: hidden[%d] split %v, fused %v", i, d, hidden[0][i][d], hidden[1][i][d])
					}
					if d := firstDiff(logits[0][i], logits[1][i]); d >= 0 {
						t.Fatalf("step %d: logits[%d] split %v, fused %v", i, d, logits[0][i][d], logits[1][i][d])
					}
				}
			})
		}
	}
}

// firstDiff is the first index where a and b differ in their bits, or -1.
func firstDiff(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestFFNAheadSplit checks what each thread brings in ahead of the
// feed-forward job: with the job split by matrix, thread 0 the head of
// gate and thread 1 the head of up (its home range); with one job, each
// thread the head of its half of both.
func TestFFNAheadSplit(t *testing.T) {
	m, err := Open(synthPaging(t, splitShape, quant.Q8_0), Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	lw := &m.Weights.Layers[0]
	gate, up := lw.Wgate.Data, lw.Wup.Data
	half := len(up) / 2
	for _, c := range []struct {
		fused bool
		want  [2][3][]byte // per thread, the start of each part's range
	}{
		{false, [2][3][]byte{{gate, nil, nil}, {nil, up, nil}}},
		{true, [2][3][]byte{{up, gate, nil}, {up[half:], gate[half:], nil}}},
	} {
		m.fusedFFN = c.fused
		a := m.ffnAhead(lw, 1)
		for i := range 2 {
			var h [3][]byte
			a.heads(i, 2, &h)
			for k := range h {
				w := c.want[i][k]
				switch {
				case w == nil && h[k] != nil, w != nil && len(h[k]) == 0:
					t.Fatalf("fused %v, thread %d, part %d: %d bytes, want them iff %v", c.fused, i, k, len(h[k]), w != nil)
				case w != nil && &h[k][0] != &w[0]:
					t.Fatalf("fused %v, thread %d, part %d: starts at the wrong row", c.fused, i, k)
				case w != nil && len(h[k]) > aheadBytes:
					t.Fatalf("fused %v, thread %d, part %d: %d bytes, more than %d", c.fused, i, k, len(h[k]), aheadBytes)
				}
			}
		}
	}
}
