package runtime

import (
	"context"
	goruntime "runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/llmap/llmap/quant"
)

// minParallelBytes is the matrix size below which a matrix-vector product
// runs on the calling goroutine: waking workers costs more than it saves.
const minParallelBytes = 256 << 10

// rowAlign keeps every chunk of rows a multiple of this, so chunks of
// float32 outputs start on cache-line boundaries (no two threads write one
// line) and chunks of weights on whole blocks.
const rowAlign = 16

// Chunking: a product is cut into chunks that the caller and the workers
// claim one at a time from a shared counter, so a thread that starts late
// (a parked worker takes microseconds to wake; on a shared host the OS may
// not run it at once) or runs slowly simply does fewer chunks instead of
// holding the others up. chunksPerThread chunks per thread keep the last
// chunk short; minChunkBytes keeps each chunk long enough that claiming it
// (one atomic compare-and-swap) costs little.
const (
	chunksPerThread = 8
	minChunkBytes   = 32 << 10
)

// task is work that splits into independent index ranges, such as the
// heads of attention or the rows of a product. Implementations are
// long-lived values, so handing one to the pool allocates nothing. thread
// (0 for the caller, 1..Threads()-1 for the workers) lets a task use
// scratch of its own per thread.
type task interface {
	run(lo, hi, thread int)
}

// job is one parallel task or matrix-vector product: chunks [lo,
// lo+chunk) of [0, n), claimed by the caller and the workers.
type job struct {
	t task // if set, run t instead of a product

	m   quant.Matrix // matrix-vector product: out (Rows,) = m @ v
	v   *quant.Vec
	out []float32

	n, chunk int // indices (rows) in all, and per chunk
	// Guided chunks: the first nbig chunks have chunk indices, the rest
	// small (0: all chunk), so that the threads' last chunks are short and
	// they finish a product together.
	nbig, small int

	label context.Context // profiler labels: phase and kernel
}

// bounds returns the indices [lo, hi) of chunk k.
func (j *job) bounds(k int) (lo, hi int) {
	if k < j.nbig || j.small == 0 {
		lo = k * j.chunk
		return lo, min(lo+j.chunk, j.n)
	}
	lo = j.nbig*j.chunk + (k-j.nbig)*j.small
	return lo, min(lo+j.small, j.n)
}

// chunks returns the number of chunks of j.
func (j *job) chunks() int {
	if j.small == 0 {
		return (j.n + j.chunk - 1) / j.chunk
	}
	return j.nbig + (j.n-j.nbig*j.chunk+j.small-1)/j.small
}

// guide makes j's chunks guided: with unit the smallest chunk (a multiple
// of the alignment, about a sixteenth of a thread's share), the first
// chunks are guideBig units and the last guideTail units per thread are
// one unit each, so a thread that takes the last chunk runs alone for at
// most one unit.
func (j *job) guide(unit, threads int) {
	j.chunk = unit
	tail := threads * guideTail * unit
	if j.n <= tail+guideBig*unit {
		return
	}
	j.chunk, j.small = guideBig*unit, unit
	j.nbig = (j.n - tail) / j.chunk
}

const (
	guideBig  = 4
	guideTail = 4
)

// do runs indices (rows) [lo, hi) of the job on thread.
func (j *job) do(lo, hi, thread int) {
	if j.t != nil {
		j.t.run(lo, hi, thread)
		return
	}
	quant.MatVec(j.out[lo:hi], j.m, j.v, lo, hi)
}

// Pool splits tasks (by index: the forward pass's jobs over rows of
// matrices, attention over its units) and matrix-vector products (by rows)
// over long-lived worker goroutines. Calls do not start goroutines or
// allocate. A Pool is used by one goroutine at a time.
//
// A token makes about five hand-offs per layer, each a few tens of
// microseconds of work on a small model, so a hand-off must cost far less
// than that: waking a parked goroutine costs several microseconds (a futex,
// then the scheduler), more when the host is busy. The workers therefore
// spin on the control word for a while after each job and park only when
// none comes, and the work is claimed in chunks (see chunksPerThread), so
// the caller never waits for a worker that has not started yet: it only
// waits for chunks already claimed to finish.
type Pool struct {
	threads int
	workers []*worker // index 0 is unused: the caller is thread 0

	job job // the current job, written by the caller before ctl announces it

	// ctl announces a job and hands out its chunks: the job's sequence
	// number (high 32 bits), its number of chunks (next 16) and the next
	// chunk to claim (low 16). A thread claims chunk c by a
	// compare-and-swap from ...c to ...c+1, and only after a successful
	// claim does it read job, which the caller cannot change until every
	// claimed chunk is done. A worker that wakes after the last claim sees
	// no chunk left (or a newer sequence number) and touches nothing.
	_    [64]byte
	ctl  atomic.Uint64
	_    [56]byte
	done atomic.Int64 // chunks of the current job finished
	_    [56]byte

	seq    uint32 // sequence number of the current job
	panics []any  // a thread's recovered panic (a fault on the mapping), re-raised by the caller
	closed bool
	phase  phase // Generate's phase, for the profiler labels of jobs
}

// worker is the parking slot of one worker goroutine.
type worker struct {
	sleeping atomic.Bool   // the worker is parked on wake
	wake     chan struct{} // buffered; a token for a parked worker
	quit     atomic.Bool
	_        [64]byte // keep workers' fields on separate cache lines
}

// spinRounds is how many times the caller polls for the last chunks to
// finish before it yields its thread between polls.
const spinRounds = 20000

// workerSpin is how long an idle worker polls for the next job before it
// parks. The serial stretches of a token (norms, SwiGLU, sampling) last
// tens of microseconds on a large model; a worker that parks in one pays a
// futex wake and the scheduler's hand-over (several microseconds, far more
// on a busy host) at the next product, so it should outlast them.
const workerSpin = 200 * time.Microsecond

// maxChunks is the largest number of chunks ctl can count.
const maxChunks = 1<<16 - 1

// NewPool starts threads-1 workers (the calling goroutine does a share too).
// threads < 1 is treated as 1, more than MaxThreads as MaxThreads.
func NewPool(threads int) *Pool {
	threads = min(max(threads, 1), MaxThreads)
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
	// truncated) must become a panic that drain recovers, not a crash.
	debug.SetPanicOnFault(true)
	var label context.Context
	seen := uint32(0)
	for {
		var seq uint32
		var idleSince time.Time
		for spins := 0; ; spins++ {
			if seq = uint32(p.ctl.Load() >> 32); seq != seen {
				break
			}
			if w.quit.Load() {
				return
			}
			if spins%1024 != 0 {
				continue
			}
			if spins == 0 {
				idleSince = time.Now()
				continue
			}
			if time.Since(idleSince) < workerSpin {
				continue
			}
			w.sleeping.Store(true)
			if uint32(p.ctl.Load()>>32) == seen && !w.quit.Load() {
				<-w.wake
			}
			w.sleeping.Store(false)
			spins = -1
		}
		seen = seq
		p.drain(i, seq, &label)
	}
}

// drain claims and runs chunks of job seq until none is left, then adds
// the number it claimed to done. A panic in a chunk is kept for the caller
// to re-raise; the thread then goes on claiming the remaining chunks
// without running them, so that every chunk is counted even when every
// thread faults (a truncated file) and the caller does not hang.
func (p *Pool) drain(i int, seq uint32, label *context.Context) {
	ran := 0
	defer func() { p.done.Add(int64(ran)) }()
	failed := false
	for {
		c := p.ctl.Load()
		next, chunks := int(c&0xffff), int(c>>16&0xffff)
		if uint32(c>>32) != seq || next >= chunks {
			return
		}
		if !p.ctl.CompareAndSwap(c, c+1) {
			continue
		}
		ran++
		if failed {
			continue
		}
		j := &p.job
		if i != 0 && j.label != *label {
			*label = j.label
			pprof.SetGoroutineLabels(j.label)
		}
		lo, hi := j.bounds(next)
		if r := runChunk(j, lo, hi, i); r != nil {
			p.panics[i], failed = r, true
		}
	}
}

// runChunk runs indices [lo, hi) of j on thread i and returns what it
// panicked with.
func runChunk(j *job, lo, hi, i int) (r any) {
	defer func() { r = recover() }()
	j.do(lo, hi, i)
	return nil
}

// wakeWorkers hands a token to every parked worker.
func (p *Pool) wakeWorkers() {
	for _, w := range p.workers[1:] {
		if w.sleeping.Load() {
			select {
			case w.wake <- struct{}{}:
			default: // a token is already there
			}
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

// MatVec computes out = m @ v, where v has been prepared for m.Type:
// W (rows, cols) @ x (cols,) -> out (rows,).
func (p *Pool) MatVec(out []float32, m quant.Matrix, v *quant.Vec) {
	j := job{out: out, m: m, v: v, n: m.Rows, label: kernelLabel(p.phase, int(m.Type))}
	if p.threads == 1 || len(m.Data) < minParallelBytes || m.Rows < p.threads*rowAlign {
		p.labelled(j.label, func() { j.do(0, m.Rows, 0) })
		return
	}
	j.guide(p.chunkOf(m.Rows, m.RowBytes(), rowAlign, guideBig*chunksPerThread/2), p.threads)
	p.split(j)
}

// MatMul computes outs[t] = m @ vector t of b (prepared for m.Type) for
// every vector of b, split by rows as the forward pass splits its products:
// for benchmarks and tools. With one vector it runs the kernels decoding
// uses (quant.MatMul's one-vector kernels where the type has them).
func (p *Pool) MatMul(outs [][]float32, m quant.Matrix, b *quant.Batch) {
	t := matMulTask{outs: outs, m: m, b: b}
	parallel := len(m.Data) >= minParallelBytes && m.Rows >= p.threads*rowAlign
	p.Run(m.Rows, p.rowChunk(m.Rows, m.RowBytes()), &t, int(m.Type), parallel)
}

// matMulTask is Pool.MatMul's job: rows [lo, hi) of every output.
type matMulTask struct {
	outs [][]float32
	m    quant.Matrix
	b    *quant.Batch
}

func (t *matMulTask) run(lo, hi, _ int) { quant.MatMul(t.outs, t.m, lo, hi, t.b) }

// Run runs t over [0, n) in chunks of chunk indices (the last may be
// shorter), claimed by the threads; with parallel false, one thread or one
// chunk it runs on the calling goroutine. kernel labels the profile
// samples (a quant.Type or kernelAttention).
func (p *Pool) Run(n, chunk int, t task, kernel int, parallel bool) {
	j := job{t: t, n: n, chunk: max(chunk, 1, (n+maxChunks-1)/maxChunks), label: kernelLabel(p.phase, kernel)}
	if p.threads == 1 || !parallel || j.chunk >= n {
		p.labelled(j.label, func() { t.run(0, n, 0) })
		return
	}
	p.split(j)
}

// RunRows runs t over rows [0, rows) of rowBytes bytes of weights each in
// guided chunks (see job.guide) that are multiples of align (itself a
// multiple of rowAlign); with parallel false, or one thread, on the
// calling goroutine.
func (p *Pool) RunRows(rows, rowBytes, align int, t task, kernel int, parallel bool) {
	j := job{t: t, n: rows, label: kernelLabel(p.phase, kernel)}
	j.guide(p.chunkOf(rows, rowBytes, align, guideBig*chunksPerThread/2), p.threads)
	if p.threads == 1 || !parallel || j.chunks() <= 1 {
		p.labelled(j.label, func() { t.run(0, rows, 0) })
		return
	}
	p.split(j)
}

// rowChunk is the number of rows per chunk of a product over rows rows of
// rowBytes bytes each: about chunksPerThread chunks per thread, at least
// minChunkBytes, a multiple of rowAlign, and few enough for ctl to count.
func (p *Pool) rowChunk(rows, rowBytes int) int {
	return p.alignedChunk(rows, rowBytes, rowAlign)
}

// alignedChunk is rowChunk with chunks a multiple of align (itself a
// multiple of rowAlign) instead of rowAlign. The share per chunk is rounded
// to the nearest multiple of align, not up: with a coarse align (the
// 256-row super-blocks of a K-quant down projection's input, 5632 rows on
// the 1.1B shape) rounding up left 11 chunks for 2 threads, so one thread
// ran alone for the last of them.
func (p *Pool) alignedChunk(rows, rowBytes, align int) int {
	return p.chunkOf(rows, rowBytes, align, chunksPerThread)
}

// chunkOf is alignedChunk with about per chunks per thread.
func (p *Pool) chunkOf(rows, rowBytes, align, per int) int {
	share := rows / (p.threads * per)
	least := max((minChunkBytes+rowBytes-1)/max(rowBytes, 1), (rows+maxChunks-1)/maxChunks)
	return max((share+align/2)/align*align, (least+align-1)/align*align, align)
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

// split publishes j, claims chunks on the calling goroutine too, waits for
// every chunk to finish, and re-raises a worker's panic on the caller.
func (p *Pool) split(j job) {
	chunks := j.chunks()
	p.job = j
	p.done.Store(0)
	p.seq++
	seq := p.seq
	p.ctl.Store(uint64(seq)<<32 | uint64(chunks)<<16)
	p.wakeWorkers()
	p.labelled(j.label, func() { p.drain(0, seq, nil) })
	for spins := 0; p.done.Load() != int64(chunks); spins++ {
		if spins >= spinRounds {
			goruntime.Gosched()
		}
	}
	// Re-raise the first panic, and forget the others: when every chunk
	// faults (a truncated file), several threads record one.
	var first any
	for i, r := range p.panics {
		if first == nil {
			first = r
		}
		p.panics[i] = nil
	}
	if first != nil {
		panic(first)
	}
}
