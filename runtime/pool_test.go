package runtime

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmap/llmap/quant"
)

// poolMatrix returns a rows x cols Q8_0 matrix of random weights.
func poolMatrix(t *testing.T, rng *rand.Rand, typ quant.Type, rows, cols int) quant.Matrix {
	t.Helper()
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	rb, _ := typ.RowBytes(int64(cols))
	data := make([]byte, int64(rows)*rb)
	if err := quant.QuantizeRef(typ, data, x); err != nil {
		t.Fatal(err)
	}
	m, err := quant.NewMatrix(typ, rows, cols, data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPoolProducts checks that the pool's chunked products give exactly
// what one quant.MatVec over all rows gives, for thread counts above and
// below the number of chunks and row counts that are not multiples of a
// chunk, over many consecutive jobs (so a worker that wakes late, or
// spins into the next job, is exercised; run with -race).
func TestPoolProducts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const cols = 256
	for _, threads := range []int{1, 2, 3, 5} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			p := NewPool(threads)
			defer p.Close()
			for _, rows := range []int{1, 15, 17, 1000, 2049, 4099} {
				m := poolMatrix(t, rng, quant.Q8_0, rows, cols)
				x := make([]float32, cols)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				v := quant.NewVec(cols)
				v.Set(x, quant.Q8_0)
				want := make([]float32, rows)
				quant.MatVec(want, m, v, 0, rows)
				for rep := range 50 {
					got := make([]float32, rows)
					p.MatVec(got, m, v)
					for r := range got {
						if got[r] != want[r] {
							t.Fatalf("%d rows, rep %d: out[%d] = %g, want %g", rows, rep, r, got[r], want[r])
						}
					}
				}
				// and through Run, as a task over chunks of rows
				// multiplying a batch of three with the tiled kernels
				batch := quant.NewBatch(3, cols)
				batch.Set([][]float32{x, x, x}, quant.Q8_0)
				one := quant.NewBatch(1, cols)
				one.Set([][]float32{x}, quant.Q8_0)
				ref := [][]float32{make([]float32, rows)}
				quant.MatMul(ref, m, 0, rows, one)
				mt := &matMulTask{m: m, b: batch, outs: [][]float32{make([]float32, rows), make([]float32, rows), make([]float32, rows)}}
				p.Run(rows, p.rowChunk(rows, m.RowBytes()), mt, int(quant.Q8_0), true)
				for b := range mt.outs {
					for r := range rows {
						if d := mt.outs[b][r] - ref[0][r]; d > 1e-4 || d < -1e-4 {
							t.Fatalf("%d rows, MatMul vector %d: out[%d] = %g, want %g", rows, b, r, mt.outs[b][r], ref[0][r])
						}
					}
				}
				// and Pool.MatMul with one vector: the kernels decoding runs
				got := [][]float32{make([]float32, rows)}
				p.MatMul(got, m, one)
				for r := range rows {
					if got[0][r] != ref[0][r] {
						t.Fatalf("%d rows, Pool.MatMul: out[%d] = %g, want %g", rows, r, got[0][r], ref[0][r])
					}
				}
			}
		})
	}
}

// countTask counts how often each index is run.
type countTask struct{ seen []atomic.Int32 }

func (c *countTask) run(lo, hi, _ int) {
	for i := lo; i < hi; i++ {
		c.seen[i].Add(1)
	}
}

// TestPoolRun checks that every index of a task runs exactly once.
func TestPoolRun(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	for _, n := range []int{1, 2, 3, 7, 32, 100, 70000} {
		for rep := range 20 {
			c := &countTask{seen: make([]atomic.Int32, n)}
			p.Run(n, max(1, n/16), c, kernelAttention, true)
			for i := range c.seen {
				if k := c.seen[i].Load(); k != 1 {
					t.Fatalf("n=%d rep %d: index %d ran %d times", n, rep, i, k)
				}
			}
		}
	}
}

// panicTask panics on one index, or on every chunk with at < 0 (as every
// thread does when the model file is truncated under it).
type panicTask struct{ at int }

func (pt panicTask) run(lo, hi, _ int) {
	if pt.at < 0 || pt.at >= lo && pt.at < hi {
		panic("fault at " + fmt.Sprint(lo))
	}
}

// TestPoolPanic checks that a panic on any thread reaches the caller, and
// that the pool works afterwards.
func TestPoolPanic(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	for _, at := range []int{0, 31, 63, -1} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), "fault at") {
					t.Errorf("panic at %d: recovered %v", at, r)
				}
			}()
			p.Run(64, 4, panicTask{at}, kernelAttention, true)
		}()
		c := &countTask{seen: make([]atomic.Int32, 64)}
		p.Run(64, 4, c, kernelAttention, true)
		for i := range c.seen {
			if c.seen[i].Load() != 1 {
				t.Fatalf("after a panic: index %d ran %d times", i, c.seen[i].Load())
			}
		}
	}
}

func TestRowChunk(t *testing.T) {
	p := &Pool{threads: 2}
	for _, tc := range []struct{ rows, rowBytes int }{{2048, 2176}, {768, 816}, {32000, 816}, {5632, 1152}, {64, 4}, {1 << 22, 34}} {
		c := p.rowChunk(tc.rows, tc.rowBytes)
		chunks := (tc.rows + c - 1) / c
		if c%rowAlign != 0 || chunks > maxChunks || (c*tc.rowBytes < minChunkBytes && chunks > 1) {
			t.Errorf("%d rows of %d bytes: chunks of %d rows (%d chunks)", tc.rows, tc.rowBytes, c, chunks)
		}
	}
	// A coarse alignment (K-quant super-blocks of the down projection's
	// input) still gives each thread several chunks: 5632 rows in 256s.
	if c := p.alignedChunk(5632, 2304, 256); c != 256 {
		t.Errorf("5632 rows aligned to 256: chunks of %d rows, want 256 (22 chunks)", c)
	}
}

// nopTask does nothing: BenchmarkPoolHandOff times the hand-off alone.
type nopTask struct{}

func (nopTask) run(lo, hi, _ int) {}

// BenchmarkPoolHandOff is the cost of one parallel job with no work in it
// (publish, every thread claims, the caller waits): what each of a token's
// four or five products per layer pays on top of its arithmetic. Workers
// are still spinning from the previous job, as inside a token.
func BenchmarkPoolHandOff(b *testing.B) {
	for _, threads := range []int{2, 4} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			for b.Loop() {
				p.Run(64, 4, nopTask{}, kernelAttention, true)
			}
		})
	}
}

// TestGuidedChunks checks that guided chunks tile the rows exactly, in
// multiples of the alignment, that each thread's home range is a
// contiguous share of about rows/threads rows, and that within a home
// range the big chunks come first and its last chunks are at most one unit
// each; and that RunRows runs every row once.
func TestGuidedChunks(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 4} {
		p := &Pool{threads: threads, homes: make([]int, threads+1)}
		for _, tc := range []struct{ rows, rowBytes, align int }{
			{2048, 2176, 16}, {2560, 2176, 128}, {5632, 2304, 256}, {5632, 1152, 32},
			{32000, 816, 16}, {768, 816, 16}, {64, 4, 16}, {1 << 22, 34, 16}, {100, 4096, 16},
		} {
			unit := p.chunkOf(tc.rows, tc.rowBytes, tc.align, guideBig*chunksPerThread/2)
			p.cutGuided(tc.rows, unit, tc.align)
			n := p.chunks()
			if n > maxChunks || p.homes[0] != 0 || p.homes[threads] != n {
				t.Fatalf("%+v threads %d: %d chunks, homes %v", tc, threads, n, p.homes)
			}
			next := 0
			for k := range n {
				lo, hi := p.cuts[k], p.cuts[k+1]
				if lo != next || hi <= lo || hi > tc.rows || (hi != tc.rows && (hi-lo)%tc.align != 0) {
					t.Fatalf("%+v threads %d: chunk %d of %d is [%d, %d), want it to start at %d", tc, threads, k, n, lo, hi, next)
				}
				next = hi
			}
			if next != tc.rows {
				t.Fatalf("%+v threads %d: chunks end at %d", tc, threads, next)
			}
			for i := range threads {
				h0, h1 := p.homes[i], p.homes[i+1]
				if h1 < h0 {
					t.Fatalf("%+v threads %d: homes %v", tc, threads, p.homes)
				}
				if h1 == h0 {
					continue
				}
				if share := p.cuts[h1] - p.cuts[h0]; share > tc.rows/threads+tc.align || share < tc.rows/threads-tc.align {
					t.Errorf("%+v threads %d: thread %d has %d rows, want about %d", tc, threads, i, share, tc.rows/threads)
				}
				last := 1 << 62
				for k := h0; k < h1; k++ {
					size := p.cuts[k+1] - p.cuts[k]
					if size > last {
						t.Errorf("%+v threads %d: chunk %d (%d rows) longer than the one before (%d)", tc, threads, k, size, last)
					}
					if h1-h0 > guideTail && k >= h1-guideTail && size > unit {
						t.Errorf("%+v threads %d: tail chunk %d has %d rows, more than the unit %d", tc, threads, k, size, unit)
					}
					last = size
				}
			}
		}
	}
	p := NewPool(2)
	defer p.Close()
	for _, rows := range []int{16, 1000, 2048, 5632} {
		c := &countTask{seen: make([]atomic.Int32, rows)}
		p.RunRows(rows, 4096, rowAlign, c, kernelAttention, true)
		for i := range c.seen {
			if c.seen[i].Load() != 1 {
				t.Fatalf("RunRows over %d rows: row %d ran %d times", rows, i, c.seen[i].Load())
			}
		}
	}
}

// orderTask records the chunks each thread runs, in order.
type orderTask struct {
	starts [][]int // per thread
	busy   time.Duration
}

func (o *orderTask) run(lo, hi, thread int) {
	o.starts[thread] = append(o.starts[thread], lo)
	for t0 := time.Now(); time.Since(t0) < o.busy; {
	}
}

// TestPoolHomeRanges checks that each thread runs the chunks of its own
// share in ascending order from the share's start (one stream through the
// rows), and takes the others' chunks from their ends, descending.
func TestPoolHomeRanges(t *testing.T) {
	for _, threads := range []int{2, 3} {
		p := NewPool(threads)
		for rep := range 20 {
			o := &orderTask{starts: make([][]int, threads), busy: time.Duration(rep%3) * time.Microsecond}
			const rows, align = 4096, 16
			p.RunRows(rows, 4096, align, o, kernelAttention, true)
			for i, starts := range o.starts {
				own := []int{}
				stolen := map[int][]int{}
				for _, lo := range starts {
					owner := 0
					for owner+1 < threads && lo >= shareStart(rows, align, owner+1, threads) {
						owner++
					}
					if owner == i {
						own = append(own, lo)
					} else {
						stolen[owner] = append(stolen[owner], lo)
					}
				}
				if len(own) > 0 && own[0] != shareStart(rows, align, i, threads) || !slices.IsSorted(own) {
					t.Fatalf("threads %d: thread %d ran its own chunks at %v, want ascending from %d", threads, i, own, shareStart(rows, align, i, threads))
				}
				for v, s := range stolen {
					if !slices.IsSortedFunc(s, func(a, b int) int { return b - a }) {
						t.Fatalf("threads %d: thread %d took thread %d's chunks at %v, want descending", threads, i, v, s)
					}
				}
			}
		}
		p.Close()
	}
}
