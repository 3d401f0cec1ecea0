package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/internal/memstats"
	"github.com/llmap/llmap/quant"
)

// synthPaging writes a random-weight LLaMA model of shape s into a temporary
// directory.
func synthPaging(t testing.TB, s arch.Config, typ quant.Type) string {
	t.Helper()
	m, err := convert.Synth("test", s, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "synth.llmap")
	if err := convert.Write(path, m, convert.Options{Matrices: typ}); err != nil {
		t.Fatal(err)
	}
	return path
}

var smallShape = arch.Config{Dim: 256, HiddenDim: 768, NLayers: 8, NHeads: 8, NKVHeads: 4, VocabSize: 4096, ContextLength: 64}

// TestStagesCoverTheModel checks the grouping of tensors into stages: every
// tensor the forward pass reads per token lies in exactly one stage, layers
// hold their own blocks, stages follow file order, and a shared classifier
// puts the embedding into the output stage.
func TestStagesCoverTheModel(t *testing.T) {
	for _, c := range []struct {
		name string
		path string
		tied bool
	}{
		{"separate classifier", synthPaging(t, smallShape, quant.Q8_0), false},
		{"shared classifier", convertStories(t), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := format.Open(c.path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			n32, err := f.Meta.U32(format.KeyNLayers)
			if err != nil {
				t.Fatal(err)
			}
			nl := int(n32)
			stages, embed := stagesOf(f, nl)
			if len(stages) != nl+1 {
				t.Fatalf("%d stages, want %d", len(stages), nl+1)
			}
			inStage := func(t *format.TensorInfo) int {
				found := -1
				for i, st := range stages {
					for _, sp := range st.spans {
						if t.Offset >= sp.off && t.Offset+t.Size <= sp.off+sp.n {
							if found >= 0 && found != i {
								return -2
							}
							found = i
						}
					}
				}
				return found
			}
			for i := range f.Tensors {
				tt := &f.Tensors[i]
				got := inStage(tt)
				want := nl
				switch {
				case strings.HasPrefix(tt.Name, "blk."):
					want = int(tt.Name[4] - '0') // single-digit layers in these models
				case tt.Name == format.TensorTokenEmbd && !c.tied:
					want = -1
					if embed.off != tt.Offset || embed.n != tt.Size {
						t.Errorf("embedding span %+v, want [%d, +%d)", embed, tt.Offset, tt.Size)
					}
				}
				if got != want {
					t.Errorf("tensor %s is in stage %d, want %d", tt.Name, got, want)
				}
			}
			if c.tied && embed.n != 0 {
				t.Errorf("shared classifier: embedding span %+v, want none", embed)
			}
			for i := 1; i < nl; i++ {
				if stages[i].spans[0].off < stages[i-1].spans[0].off+stages[i-1].spans[0].n {
					t.Errorf("stage %d starts before stage %d ends", i, i-1)
				}
			}
		})
	}
}

// TestBudgetPolicy drives a pager with a fake madvise over ten equal
// stages and a budget of three and a half: the mapped estimate never passes
// the budget, the current stage is always mapped, and in the steady state
// each token faults n-C+1 stages back in (C = 3 stages that fit), the
// optimum for a cyclic pattern; releasing the least recently used stage
// instead would fault all n.
func TestBudgetPolicy(t *testing.T) {
	const n, size = 10, 1 << 20
	p := &pager{budget: 3*size + size/2}
	for i := range n {
		p.stages = append(p.stages, stage{spans: []span{{int64(i) * size, size}}, bytes: size})
	}
	p.resident = make([]int64, n)
	p.mapped = make([]bool, n)
	var released []int64
	p.dontNeed = func(off, _ int64) error { released = append(released, off/size); return nil }
	p.willNeed = func(off, n int64) error { return nil }
	mapped := make([]bool, n) // what the fake kernel has mapped
	for tok := range 6 {
		faults := 0
		for s := range n {
			released = released[:0]
			p.enter(s)
			for _, r := range released {
				mapped[r] = false
			}
			if !mapped[s] {
				faults++
				mapped[s] = true
			}
			var total int64
			for _, r := range p.resident {
				total += r
			}
			if total > p.budget || p.resident[s] != size || slices.Contains(released, int64(s)) {
				t.Fatalf("token %d stage %d: estimate %d (budget %d), released %v", tok, s, total, p.budget, released)
			}
			if c := slices.Index(mapped, true); c < 0 {
				t.Fatal("nothing mapped")
			}
		}
		if tok >= 3 && faults != n-3+1 {
			t.Errorf("token %d: %d stages faulted in, want %d", tok, faults, n-3+1)
		}
	}
	if st := p.stats(); st.Releases == 0 || st.ReleasedBytes != st.Releases*size {
		t.Errorf("stats %+v", st)
	}
}

// TestBudgetKeepsMappedBytes runs a model under a budget of three layers
// and reads this process's page tables (/proc/self/smaps) after every
// token: the mapped bytes of the file stay under the budget, and the
// tokens are those of the run without a budget.
func TestBudgetKeepsMappedBytes(t *testing.T) {
	path := synthPaging(t, smallShape, quant.Q8_0)
	const steps = 8
	// NoRefold: keep the page cache as the writer left it. Refolded, it
	// holds 2 MiB folios, larger than these layers, and a fault maps the
	// whole folio around it: the mapped bytes then pass this small budget
	// by up to a folio (see docs/memory.md).
	ref, err := Open(path, Options{Threads: 2, NoRefold: true})
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := ref.NewState(0)
	want := greedy(t, ref, rs, steps)
	ref.Close()

	probe, err := Open(path, Options{MemBudget: 1})
	if err != nil {
		t.Fatal(err)
	}
	layer := probe.paging.stages[0].bytes
	floor := probe.BudgetFloor()
	probe.Close()
	if floor < layer {
		t.Fatalf("budget floor %d is below a layer of %d bytes", floor, layer)
	}

	budget := 3 * layer
	m, err := Open(path, Options{Threads: 2, MemBudget: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewState(0)
	tok := m.Tokenizer.BOS()
	var got []int
	// Fault-around maps up to 64 KiB around a faulting page, which can
	// reach into a neighbouring stage.
	const slack = 256 << 10
	for pos := range steps {
		logits, err := m.Forward(s, tok, pos)
		if err != nil {
			t.Fatal(err)
		}
		tok = NewSampler(len(logits), 0, 0, 0, nil).Sample(logits)
		got = append(got, tok)
		ms, err := memstats.ReadMapping(0, path)
		if err != nil {
			t.Fatal(err)
		}
		if ms.RSS > budget+slack {
			t.Fatalf("after position %d: %d bytes of the model mapped, budget %d", pos, ms.RSS, budget)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("tokens under a budget %v, without %v", got, want)
	}
	if st := m.PagingStats(); st.Releases == 0 || st.Prefetches == 0 {
		t.Errorf("paging stats %+v: want releases and prefetches", st)
	}
}

// TestEmbeddingRowsOnly runs a few tokens of a model with a 37 MB embedding
// and looks at this process's page tables (/proc/self/pagemap): only the
// pages around the rows of those tokens are mapped, not the matrix.
func TestEmbeddingRowsOnly(t *testing.T) {
	shape := arch.Config{Dim: 288, HiddenDim: 64, NLayers: 1, NHeads: 6, NKVHeads: 6, VocabSize: 32000, ContextLength: 16}
	path := synthPaging(t, shape, quant.F32)
	m, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	emb, _ := m.File().Tensor(format.TensorTokenEmbd)
	s, _ := m.NewState(0)
	const steps = 4
	for pos, tok := range []int{5, 31000, 17000, 9000}[:steps] {
		if _, err := m.Forward(s, tok, pos); err != nil {
			t.Fatal(err)
		}
	}
	mapped, err := memstats.MappedBytes(path, emb.Offset, emb.Size)
	if err != nil {
		t.Fatal(err)
	}
	rowBytes := int64(shape.Dim * 4)
	// A fault maps the pages around the row too: the fault-around window
	// (64 KiB by default), or the whole large folio the page cache read
	// the row into (measured here: about 170 KiB per row on Linux 6.18).
	limit := min(steps*(rowBytes+256<<10), emb.Size/20)
	t.Logf("embedding %d bytes; %d bytes mapped after %d tokens", emb.Size, mapped, steps)
	if mapped == 0 || mapped > limit {
		t.Errorf("%d bytes of the embedding mapped after %d tokens, want 1 to %d", mapped, steps, limit)
	}
}

// TestNoMmapAndMlock: reading the weights into memory and pinning the
// mapping give the same tokens; with NoMmap the file can go away.
func TestNoMmapAndMlock(t *testing.T) {
	path := synthPaging(t, smallShape, quant.Q8_0)
	ref, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := ref.NewState(0)
	want := greedy(t, ref, rs, 6)
	ref.Close()

	locked, err := Open(path, Options{Mlock: true})
	if err != nil {
		var me *format.MlockError
		if os.Geteuid() != 0 && errors.As(err, &me) {
			t.Logf("mlock refused as expected without privileges: %v", err)
		} else {
			t.Fatal(err)
		}
	} else {
		ls, _ := locked.NewState(0)
		if got := greedy(t, locked, ls, 6); !slices.Equal(got, want) {
			t.Errorf("mlock: %v, want %v", got, want)
		}
		locked.Close()
	}

	m, err := Open(path, Options{NoMmap: true, MemBudget: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.File().Mapped() || m.paging != nil {
		t.Fatal("NoMmap model is mapped or paged")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	s, _ := m.NewState(0)
	if got := greedy(t, m, s, 6); !slices.Equal(got, want) {
		t.Errorf("no-mmap: %v, want %v", got, want)
	}
}
