package runtime

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"testing"

	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/format/llama2c"
	"github.com/llmap/llmap/internal/testmodels"
)

// convertStories writes stories260K as a .llmap file in a temporary directory.
func convertStories(t testing.TB) string {
	t.Helper()
	ck, err := llama2c.Open(testmodels.Path(t, "stories260K/stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	data, err := os.ReadFile(testmodels.Path(t, "stories260K/tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := llama2c.ReadTokenizer(data, ck.Config.VocabSize)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stories260K.llmap")
	if err := convert.Write(path, convert.FromLlama2c(ck, tok, "stories260K"), convert.Options{Keep: true}); err != nil {
		t.Fatal(err)
	}
	return path
}

func greedy(t testing.TB, m *Model, s *State, steps int) []int {
	t.Helper()
	tok := m.Tokenizer.BOS()
	var out []int
	for pos := 0; pos < steps; pos++ {
		logits, err := m.Forward(s, tok, pos)
		if err != nil {
			t.Fatal(err)
		}
		tok = NewSampler(len(logits), 0, 0, 0, nil).Sample(logits)
		out = append(out, tok)
	}
	return out
}

// TestThreadsAgree: splitting products over workers gives the same tokens.
func TestThreadsAgree(t *testing.T) {
	path := convertStories(t)
	var runs [][]int
	for _, threads := range []int{1, 2, 3} {
		m, err := Open(path, Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := m.NewState(0)
		runs = append(runs, greedy(t, m, s, 64))
		m.Close()
	}
	for i := 1; i < len(runs); i++ {
		for j := range runs[0] {
			if runs[i][j] != runs[0][j] {
				t.Fatalf("threads run %d differs at position %d", i, j)
			}
		}
	}
}

func TestForwardAllocatesNothing(t *testing.T) {
	m, err := Open(convertStories(t), Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewState(0)
	pos := 0
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := m.Forward(s, 1, pos); err != nil {
			t.Fatal(err)
		}
		pos++
	})
	if allocs != 0 {
		t.Errorf("Forward allocates %v times per token", allocs)
	}
}

func TestForwardRejectsBadArguments(t *testing.T) {
	m, err := Open(convertStories(t), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewState(8)
	if s.Context() != 8 {
		t.Fatalf("context %d, want 8", s.Context())
	}
	for _, c := range []struct{ token, pos int }{{-1, 0}, {512, 0}, {1, -1}, {1, 8}} {
		if _, err := m.Forward(s, c.token, c.pos); err == nil {
			t.Errorf("Forward(token %d, pos %d) succeeded", c.token, c.pos)
		}
	}
	big, _ := m.NewState(1 << 20)
	if big.Context() != 512 {
		t.Errorf("context not capped at the model's 512: %d", big.Context())
	}
}

// TestOpenRejectsBadOptions: an enormous thread count (a library caller's
// mistake; the CLI caps --threads at the CPUs) and an unknown KV cache type
// are errors, not a panic or an allocation of that size; NewPool caps.
func TestOpenRejectsBadOptions(t *testing.T) {
	path := convertStories(t)
	for _, o := range []Options{{Threads: 1 << 40}, {Threads: MaxThreads + 1}, {KVType: KVType(200)}} {
		if m, err := Open(path, o); err == nil {
			m.Close()
			t.Errorf("Open with %+v succeeded", o)
		}
	}
	m, err := Open(path, Options{Threads: MaxThreads})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if p := NewPool(1 << 40); p.Threads() != MaxThreads {
		t.Errorf("NewPool(1<<40) has %d threads, want %d", p.Threads(), MaxThreads)
	} else {
		p.Close()
	}
}

// TestTruncatedFileIsAnError truncates the model file while it is mapped:
// the next read of a missing page raises SIGBUS, which must come back as
// ErrFault naming the file rather than crash the process.
func TestTruncatedFileIsAnError(t *testing.T) {
	path := convertStories(t)
	for _, threads := range []int{1, 2} {
		m, err := Open(path, Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := m.NewState(0)
		if _, err := m.Forward(s, 1, 0); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, 4096); err != nil {
			t.Fatal(err)
		}
		_, err = m.Forward(s, 1, 1)
		if !errors.Is(err, ErrFault) {
			t.Errorf("threads %d: Forward on a truncated file: %v, want ErrFault", threads, err)
		}
		m.Close()
		path = convertStories(t)
	}
}

func TestRNGMatchesXorshift(t *testing.T) {
	// xorshift64* from FORMATS.md, computed step by step for seed 42.
	r := NewRNG(42)
	s := uint64(42)
	for i := 0; i < 1000; i++ {
		s ^= s >> 12
		s ^= s << 25
		s ^= s >> 27
		want := uint32((s * 0x2545F4914F6CDD1D) >> 32)
		if got := r.Uint32(); got != want {
			t.Fatalf("step %d: %d, want %d", i, got, want)
		}
	}
	if f := NewRNG(7).Float32(); f < 0 || f >= 1 {
		t.Errorf("Float32 %v outside [0,1)", f)
	}
}

func TestSamplerTopKAndTopP(t *testing.T) {
	logits := func() []float32 { return []float32{1, 3, 2, 0, 2.5} }
	// top-k 1 is greedy whatever the coin.
	for seed := uint64(1); seed < 50; seed++ {
		if got := NewSampler(5, 1, 0, 1, NewRNG(seed)).Sample(logits()); got != 1 {
			t.Fatalf("top-k 1 sampled %d, want 1", got)
		}
	}
	// top-p small enough keeps only the most likely token.
	for seed := uint64(1); seed < 50; seed++ {
		if got := NewSampler(5, 1, 0.05, 0, NewRNG(seed)).Sample(logits()); got != 1 {
			t.Fatalf("top-p 0.05 sampled %d, want 1", got)
		}
	}
	// Plain sampling visits every token with the right frequencies.
	counts := make([]int, 5)
	s := NewSampler(5, 1, 0, 0, NewRNG(99))
	const n = 20000
	for i := 0; i < n; i++ {
		counts[s.Sample(logits())]++
	}
	if !(counts[1] > counts[4] && counts[4] > counts[2] && counts[2] > counts[0] && counts[0] > counts[3] && counts[3] > 0) {
		t.Errorf("sample counts %v not ordered like the logits", counts)
	}
}

func TestSortDescendingIsStable(t *testing.T) {
	c := []probIndex{{0.1, 0}, {0.3, 1}, {0.1, 2}, {0.3, 3}, {0.5, 4}, {0.1, 5}, {0, 6}, {1e-30, 7}}
	sortDescending(c, make([]probIndex, len(c)))
	want := []int{4, 1, 3, 0, 2, 5, 7, 6}
	for i, p := range c {
		if p.index != want[i] {
			t.Fatalf("order %v, want indices %v", c, want)
		}
	}
	// Against a stable comparison sort on random probabilities with ties.
	rng := NewRNG(5)
	for n := 1; n < 3000; n = n*3 + 1 {
		c := make([]probIndex, n)
		for i := range c {
			c[i] = probIndex{float32(rng.Uint32()%50) / 49 * rng.Float32(), i}
		}
		want := slices.Clone(c)
		slices.SortStableFunc(want, func(a, b probIndex) int { return cmp.Compare(b.prob, a.prob) })
		sortDescending(c, make([]probIndex, n))
		if !slices.Equal(c, want) {
			t.Fatalf("n %d: radix order differs from a stable sort", n)
		}
	}
}

// TestFirstForwardAllocatesNothing: a new State's first token allocates
// nothing either: NewState allocates the run state up front.
func TestFirstForwardAllocatesNothing(t *testing.T) {
	m, err := Open(convertStories(t), Options{Threads: 1, NoPrefetch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// The malloc count is process-wide, so a goroutine of the runtime or
	// of an earlier test can add one now and then; an allocation of
	// Forward's own would show on every new State.
	var counts []uint64
	for range 5 {
		s, err := m.NewState(16)
		if err != nil {
			t.Fatal(err)
		}
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		if _, err := m.Forward(s, 1, 0); err != nil {
			t.Fatal(err)
		}
		goruntime.ReadMemStats(&after)
		n := after.Mallocs - before.Mallocs
		if n == 0 {
			return
		}
		counts = append(counts, n)
	}
	t.Errorf("the first Forward of each of 5 new States allocated %v times", counts)
}
