package runtime

import (
	"context"
	goruntime "runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"

	"github.com/llmap/llmap/quant"
)

// minParallelBytes is the matrix size below which a matrix-vector product
// runs on the calling goroutine: waking workers costs more than it saves.
const minParallelBytes = 256 << 10

// rowAlign keeps each worker's share of rows a multiple of this, so shares
// start on cache-line boundaries for every tensor type.
const rowAlign = 16

// task is work that splits into independent index ranges, such as the
// heads of attention. Implementations are long-lived values, so handing one
// to the pool allocates nothing.
type task interface {
	run(lo, hi int)
}

// job is one worker's share: rows [lo, hi) of a matrix-vector product, or
// indices [lo, hi) of a task.
type job struct {
	out []float32 // product output for rows [lo, hi)
	m   quant.Matrix
	v   *quant.Vec
	t   task // if set, run t instead of a product

	outs [][]float32  // if set, a matrix-matrix product: outs[b] = m @ vs[b]
	vs   []*quant.Vec // for rows [lo, hi)

	// If group is set, rows [lo, hi) of the matrices of group stacked
	// on top of each other, all multiplied with v.
	group *matGroup

	lo, hi int

	label context.Context // profiler labels: phase and kernel
}

// tileBytes is the size of the block of weight rows a matrix-matrix product
// multiplies with every vector of the batch while it is in the L2 cache.
const tileBytes = 64 << 10

func (j *job) do() {
	switch {
	case j.t != nil:
		j.t.run(j.lo, j.hi)
	case j.group != nil:
		base := 0
		for i, m := range j.group.ms[:j.group.n] {
			lo, hi := max(j.lo-base, 0), min(j.hi-base, m.Rows)
			if lo < hi {
				quant.MatVec(j.group.outs[i][lo:hi], m, j.v, lo, hi)
			}
			base += m.Rows
		}
	case j.outs != nil:
		tile := max(1, tileBytes/j.m.RowBytes())
		for lo := j.lo; lo < j.hi; lo += tile {
			hi := min(lo+tile, j.hi)
			for b, v := range j.vs {
				quant.MatVec(j.outs[b][lo:hi], j.m, v, lo, hi)
			}
		}
	default:
		quant.MatVec(j.out, j.m, j.v, j.lo, j.hi)
	}
}

// Pool splits matrix-vector products (by rows) and tasks (by index) over
// long-lived worker goroutines. Calls do not start goroutines or allocate.
// A Pool is used by one goroutine at a time.
//
// A token makes about ten products per layer, each a few tens of
// microseconds on a small model, so the hand-off must cost far less than
// that: waking a parked goroutine (a futex) costs several microseconds. The
// workers therefore spin on an atomic sequence number for a while after each
// job and park only when none comes; the caller spins on a counter for the
// workers to finish.
type Pool struct {
	threads int
	workers []*worker // index 0 is unused: the caller does share 0
	pending atomic.Int32
	panics  []any // a worker's recovered panic (a fault on the mapping), re-raised by the caller
	closed  bool
	phase   phase // Generate's phase, for the profiler labels of jobs
}

// worker is the hand-off slot of one worker goroutine.
type worker struct {
	job      job           // written by the caller before seq is advanced
	seq      atomic.Uint64 // advanced by the caller to publish a job
	sleeping atomic.Bool   // the worker is parked on wake
	wake     chan struct{} // buffered; a token for a parked worker
	quit     atomic.Bool
	_        [64]byte // keep workers' hot fields on separate cache lines
}

// spinRounds is how many times a worker or the caller polls before
// parking or yielding: on the order of 50 microseconds.
const spinRounds = 20000

// NewPool starts threads-1 workers (the calling goroutine does a share too).
// threads < 1 is treated as 1.
func NewPool(threads int) *Pool {
	threads = max(threads, 1)
	p := &Pool{threads: threads, workers: make([]*worker, threads), panics: make([]any, threads)}
	for i := 1; i < threads; i++ {
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers[i] = w
		go p.work(i, w)
	}
	return p
}

// work is the loop of worker goroutine i.
func (p *Pool) work(i int, w *worker) {
	// Weights are read from a file mapping: a fault there (the file was
	// truncated) must become a panic that run recovers, not a crash.
	debug.SetPanicOnFault(true)
	var label context.Context
	var seen uint64
	for {
		for spins := 0; w.seq.Load() == seen; spins++ {
			if w.quit.Load() {
				return
			}
			if spins < spinRounds {
				continue
			}
			w.sleeping.Store(true)
			if w.seq.Load() == seen && !w.quit.Load() {
				<-w.wake
			}
			w.sleeping.Store(false)
			spins = 0
		}
		seen = w.seq.Load()
		if w.job.label != label {
			label = w.job.label
			pprof.SetGoroutineLabels(label)
		}
		p.run(i, w.job)
	}
}

// publish hands j to worker i and wakes it if it is parked.
func (p *Pool) publish(i int, j job) {
	w := p.workers[i]
	w.job = j
	w.seq.Add(1)
	if w.sleeping.Load() {
		select {
		case w.wake <- struct{}{}:
		default: // a token is already there
		}
	}
}

// Threads is the number of goroutines that share each product.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers.
func (p *Pool) Close() {
	if p.closed {
		return
	}
	p.closed = true
	for _, w := range p.workers[1:] {
		w.quit.Store(true)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// run does one job on worker i, keeping a panic for the caller to re-raise.
func (p *Pool) run(i int, j job) {
	defer func() {
		if r := recover(); r != nil {
			p.panics[i] = r
		}
		if i != 0 {
			p.pending.Add(-1)
		}
	}()
	j.do()
}

// matGroup is up to three matrices of one type and width that multiply the
// same vector (LLaMA's q, k, v projections; the gate and up projections).
type matGroup struct {
	n    int
	ms   [3]quant.Matrix
	outs [3][]float32
}

// MatVecGroup computes outs[i] = ms[i] @ v for up to three matrices of the
// same type and width as one product over their stacked rows: one hand-off
// to the workers instead of one per matrix. g is scratch owned by the
// caller (so nothing is allocated).
func (p *Pool) MatVecGroup(g *matGroup, v *quant.Vec) {
	rows, size := 0, 0
	for _, m := range g.ms[:g.n] {
		rows += m.Rows
		size += len(m.Data)
	}
	label := kernelLabel(p.phase, int(g.ms[0].Type))
	if p.threads == 1 || size < minParallelBytes || rows < p.threads*rowAlign {
		p.labelled(label, (&job{group: g, v: v, lo: 0, hi: rows}).do)
		return
	}
	share := (rows + p.threads - 1) / p.threads
	share = (share + rowAlign - 1) / rowAlign * rowAlign
	p.split(rows, share, func(lo, hi int) job {
		return job{group: g, v: v, lo: lo, hi: hi, label: label}
	})
}

// MatVec computes out = m @ v, where v has been prepared for m.Type:
// W (rows, cols) @ x (cols,) -> out (rows,).
func (p *Pool) MatVec(out []float32, m quant.Matrix, v *quant.Vec) {
	label := kernelLabel(p.phase, int(m.Type))
	if p.threads == 1 || len(m.Data) < minParallelBytes || m.Rows < p.threads*rowAlign {
		p.labelled(label, func() { quant.MatVec(out, m, v, 0, m.Rows) })
		return
	}
	share := (m.Rows + p.threads - 1) / p.threads
	share = (share + rowAlign - 1) / rowAlign * rowAlign
	p.split(m.Rows, share, func(lo, hi int) job {
		return job{out: out[lo:hi], m: m, v: v, lo: lo, hi: hi, label: label}
	})
}

// MatMat computes outs[b] = m @ vs[b] for every vector of a batch, reading
// the weights once for the whole batch: W (rows, cols) @ X^T (cols, n) ->
// (n, rows), each vector prepared for m.Type.
func (p *Pool) MatMat(outs [][]float32, m quant.Matrix, vs []*quant.Vec) {
	label := kernelLabel(p.phase, int(m.Type))
	if p.threads == 1 || len(m.Data)*len(vs) < 4*minParallelBytes || m.Rows < p.threads*rowAlign {
		p.labelled(label, (&job{m: m, outs: outs, vs: vs, lo: 0, hi: m.Rows}).do)
		return
	}
	share := (m.Rows + p.threads - 1) / p.threads
	share = (share + rowAlign - 1) / rowAlign * rowAlign
	p.split(m.Rows, share, func(lo, hi int) job {
		return job{m: m, outs: outs, vs: vs, lo: lo, hi: hi, label: label}
	})
}

// For runs t over [0, n), split into one contiguous range per thread. With
// parallel false it runs on the calling goroutine.
func (p *Pool) For(n int, t task, parallel bool) {
	label := kernelLabel(p.phase, kernelAttention)
	if p.threads == 1 || !parallel || n < 2 {
		p.labelled(label, func() { t.run(0, n) })
		return
	}
	share := (n + p.threads - 1) / p.threads
	p.split(n, share, func(lo, hi int) job { return job{t: t, lo: lo, hi: hi, label: label} })
}

// labelled runs f on the calling goroutine with the kernel label set,
// then goes back to the phase's label.
// Outside Generate (phase none) the caller's own labels are left alone, so
// a caller such as llmap bench can label its goroutine itself.
func (p *Pool) labelled(label context.Context, f func()) {
	if p.phase == phaseNone {
		f()
		return
	}
	pprof.SetGoroutineLabels(label)
	f()
	pprof.SetGoroutineLabels(labels[p.phase][0])
}

// split hands [share, n) to the workers in ranges of share, does [0, share)
// itself, waits, and re-raises a worker's panic on the caller.
func (p *Pool) split(n, share int, mk func(lo, hi int) job) {
	lo := share
	for i := 1; i < p.threads && lo < n; i++ {
		hi := min(lo+share, n)
		p.pending.Add(1)
		p.publish(i, mk(lo, hi))
		lo = hi
	}
	j := mk(0, min(share, n))
	p.labelled(j.label, func() { p.run(0, j) })
	for spins := 0; p.pending.Load() != 0; spins++ {
		if spins >= spinRounds {
			goruntime.Gosched()
		}
	}
	for i, r := range p.panics {
		if r != nil {
			p.panics[i] = nil
			panic(r)
		}
	}
}
