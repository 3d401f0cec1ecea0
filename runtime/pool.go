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

// Chunking: a product is cut into chunks, and each thread has a home
// range of them: a contiguous share of the rows, whose chunks it claims in
// ascending order, so that its reads form one stream through the matrix
// (the hardware prefetcher and the kernels' software prefetch, which runs
// a few KiB ahead, carry on from one chunk into the next). A thread whose
// home range is done takes the remaining chunks of the others' ranges from
// their ends, so a thread that starts late (a parked worker takes
// microseconds to wake; on a shared host the OS may not run it at once) or
// runs slowly simply does fewer chunks instead of holding the others up,
// and its owner's stream stays unbroken. chunksPerThread chunks per thread
// keep the last chunk short; minChunkBytes keeps each chunk long enough
// that claiming it (one atomic compare-and-swap) costs little.
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

// job is one parallel task or matrix-vector product over indices [0, n),
// cut into the chunks of the pool's cuts table.
type job struct {
	t task // if set, run t instead of a product

	m   quant.Matrix // matrix-vector product: out (Rows,) = m @ v
	v   *quant.Vec
	out []float32

	n int // indices (rows) in all

	ahead ahead // the next job's weights, for threads with nothing left to claim

	label context.Context // profiler labels: phase and kernel
}

// ahead names the weights of the job after the current one (as far as the
// forward pass knows it), so that a thread that has nothing left to claim
// of the current job, while it waits for the others or for the caller's
// serial work between products, brings the head of its home range of the
// next job into the caches instead of leaving its share of the memory
// bandwidth idle. The next job's home ranges are cut as cutGuided cuts
// them: rows rows in shares that are multiples of align.
type ahead struct {
	rows, align int // rows 0: nothing ahead
	parts       [3]aheadPart
}

// aheadPart is one matrix the next job reads: its rows [r-from, ...) for
// the job's rows [r, ...). Matrices stacked in one job (Wq, Wk, Wv) have
// increasing from; matrices read side by side (gate and up) the same.
type aheadPart struct {
	data     []byte // the matrix's rows, rowBytes each
	rowBytes int
	from     int
}

// aheadBytes is how many bytes of weights each thread brings in ahead.
// On the 1.1B shape with two threads (tg2t's notes), 256 KiB gained 1-2%
// over none; 16-64 KiB gave nothing, 1 MiB no more than 256 KiB. Between
// pieces of aheadPiece bytes a thread looks for its next job, so a large
// figure only costs what the gap leaves time for.
var aheadBytes = 256 << 10

// heads sets h to the ranges of weights thread i of threads brings in
// ahead: the first aheadBytes of its home range of the next job, shared
// among the matrices that start there.
func (a *ahead) heads(i, threads int, h *[3][]byte) {
	*h = [3][]byte{}
	if a.rows == 0 {
		return
	}
	r, end := shareStart(a.rows, a.align, i, threads), shareStart(a.rows, a.align, i+1, threads)
	n := 0
	for k := range a.parts {
		pt := &a.parts[k]
		if pt.rowBytes > 0 && r >= pt.from && (r-pt.from)*pt.rowBytes < len(pt.data) {
			n++
		}
	}
	for k := range a.parts {
		pt := &a.parts[k]
		if pt.rowBytes > 0 && r >= pt.from && (r-pt.from)*pt.rowBytes < len(pt.data) {
			lo := (r - pt.from) * pt.rowBytes
			hi := min(len(pt.data), (end-pt.from)*pt.rowBytes, lo+aheadBytes/n)
			h[k] = pt.data[lo:hi]
		}
	}
}

// prefetchPiece brings the next piece (a few KiB) of h into the caches
// and reports whether there was one.
func prefetchPiece(h *[3][]byte) bool {
	for k := range h {
		if len(h[k]) > 0 {
			n := min(len(h[k]), aheadPiece)
			quant.Prefetch(h[k][:n])
			h[k] = h[k][n:]
			return true
		}
	}
	return false
}

// aheadPiece is how much prefetchPiece asks for at a time: between pieces
// a waiting thread looks for its next job.
const aheadPiece = 4 << 10

// shareStart is the first row of thread i's home range of rows rows cut
// in multiples of align over threads threads (rows for i = threads).
func shareStart(rows, align, i, threads int) int {
	if i >= threads {
		return rows
	}
	return min((rows*i/threads+align/2)/align*align, rows)
}

// Guided chunks: each home range is cut into chunks of guideBig units
// first and its last guideTail units one unit each, so that the threads'
// last chunks are short and they finish a product together.
const (
	guideBig  = 4
	guideTail = 4
)

// cutUniform fills p.cuts and p.homes for n indices in chunks of chunk
// (the last may be shorter), the chunks shared out to the threads as
// evenly as they divide.
func (p *Pool) cutUniform(n, chunk int) {
	chunks := (n + chunk - 1) / chunk
	p.cuts = p.cuts[:0]
	for k := range chunks {
		p.cuts = append(p.cuts, k*chunk)
	}
	p.cuts = append(p.cuts, n)
	for i := range p.threads + 1 {
		p.homes[i] = i * chunks / p.threads
	}
}

// cutGuided fills p.cuts and p.homes for rows rows: each thread's home
// range is a share of the rows that is a multiple of align (the last ends
// at rows), cut into guided chunks of unit rows (a multiple of align):
// guideBig units each, then the last guideTail units one unit each.
func (p *Pool) cutGuided(rows, unit, align int) {
	p.cuts = p.cuts[:0]
	lo := 0
	for i := range p.threads {
		p.homes[i] = len(p.cuts)
		hi := max(shareStart(rows, align, i+1, p.threads), lo)
		r := hi - lo
		big := 0
		if r > (guideTail+guideBig)*unit {
			big = (r - guideTail*unit) / (guideBig * unit)
		}
		for range big {
			p.cuts = append(p.cuts, lo)
			lo += guideBig * unit
		}
		for ; lo < hi; lo += unit {
			p.cuts = append(p.cuts, lo)
		}
		lo = hi
	}
	p.cuts = append(p.cuts, rows)
	p.homes[p.threads] = len(p.cuts) - 1
}

// chunks returns the number of chunks in p.cuts.
func (p *Pool) chunks() int { return len(p.cuts) - 1 }

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
// spin on their control word for a while after each job and park only
// when none comes, and the work is claimed in chunks (see
// chunksPerThread), so the caller never waits for a worker that has not
// started yet: it only waits for chunks already claimed to finish.
type Pool struct {
	threads int
	workers []*worker // index 0 is unused: the caller is thread 0

	job   job   // the current job, written by the caller before the slots announce it
	cuts  []int // the current job's chunk k is indices [cuts[k], cuts[k+1])
	homes []int // thread i's home range is chunks [homes[i], homes[i+1])

	// slots[i].ctl announces a job to thread i and hands out the chunks of
	// its home range: the job's sequence number (high 32 bits), the end of
	// the range not yet claimed (next 16) and its start (low 16). The owner
	// claims chunk lo by a compare-and-swap to lo+1, another thread chunk
	// hi-1 by one to hi-1; only after a successful claim does a thread read
	// job and cuts, which the caller cannot change until every claimed
	// chunk is done. A worker that wakes after the last claim sees no chunk
	// left (or a newer sequence number) and touches nothing.
	slots []slot
	_     [56]byte
	done  atomic.Int64 // chunks of the current job finished
	_     [56]byte

	next  ahead     // set by the forward pass before a job: the weights of the job after it
	heads [3][]byte // what the caller brings in ahead of the next job

	seq    uint32 // sequence number of the current job
	panics []any  // a thread's recovered panic (a fault on the mapping), re-raised by the caller
	closed bool
	phase  phase // Generate's phase, for the profiler labels of jobs
}

// slot is one thread's control word, alone on its cache line.
type slot struct {
	ctl atomic.Uint64
	_   [56]byte
}

// worker is the parking slot of one worker goroutine.
type worker struct {
	sleeping atomic.Bool   // the worker is parked on wake
	wake     chan struct{} // buffered; a token for a parked worker
	quit     atomic.Bool
	heads    [3][]byte // what the worker brings in ahead of the next job
	_        [64]byte  // keep workers' fields on separate cache lines
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

// maxChunks is the largest number of chunks a slot can count.
const maxChunks = 1<<16 - 1

// NewPool starts threads-1 workers (the calling goroutine does a share too).
// threads < 1 is treated as 1, more than MaxThreads as MaxThreads.
func NewPool(threads int) *Pool {
	threads = min(max(threads, 1), MaxThreads)
	p := &Pool{threads: threads, workers: make([]*worker, threads), panics: make([]any, threads),
		slots: make([]slot, threads), homes: make([]int, threads+1), cuts: make([]int, 0, 4*chunksPerThread*threads+1)}
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
		idleSince := time.Now()
		for spins := 1; ; spins++ {
			if seq = uint32(p.slots[i].ctl.Load() >> 32); seq != seen {
				break
			}
			if w.quit.Load() {
				return
			}
			if prefetchPiece(&w.heads) {
				continue
			}
			if spins%1024 != 0 || time.Since(idleSince) < workerSpin {
				continue
			}
			w.sleeping.Store(true)
			if uint32(p.slots[i].ctl.Load()>>32) == seen && !w.quit.Load() {
				<-w.wake
			}
			w.sleeping.Store(false)
			idleSince, spins = time.Now(), 0
		}
		seen = seq
		p.drain(i, seq, &label, &w.heads)
	}
}

// drain claims and runs chunks of job seq until none is left: first its
// own home range from the start, then the others' from their ends. Then it
// adds the number it claimed to done. A panic in a chunk is kept for the
// caller to re-raise; the thread then goes on claiming the remaining
// chunks without running them, so that every chunk is counted even when
// every thread faults (a truncated file) and the caller does not hang.
// If it claimed any, it sets heads to what it should bring in ahead of the
// next job (see ahead).
func (p *Pool) drain(i int, seq uint32, label *context.Context, heads *[3][]byte) {
	ran := 0
	var next ahead
	defer func() {
		p.done.Add(int64(ran))
		next.heads(i, p.threads, heads)
	}()
	failed := false
	for v := range p.threads {
		s := &p.slots[(i+v)%p.threads].ctl
		for {
			c := s.Load()
			lo, hi := int(c&0xffff), int(c>>16&0xffff)
			if uint32(c>>32) != seq || lo >= hi {
				break
			}
			k, claimed := lo, c+1
			if v != 0 {
				k, claimed = hi-1, c-1<<16
			}
			if !s.CompareAndSwap(c, claimed) {
				continue
			}
			if ran++; ran == 1 {
				next = p.job.ahead
			}
			if failed {
				continue
			}
			j := &p.job
			if i != 0 && j.label != *label {
				*label = j.label
				pprof.SetGoroutineLabels(j.label)
			}
			if r := runChunk(j, p.cuts[k], p.cuts[k+1], i); r != nil {
				p.panics[i], failed = r, true
			}
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
	j := job{out: out, m: m, v: v, n: m.Rows, ahead: p.takeNext(), label: kernelLabel(p.phase, int(m.Type))}
	if p.threads == 1 || len(m.Data) < minParallelBytes || m.Rows < p.threads*rowAlign {
		p.labelled(j.label, func() { j.do(0, m.Rows, 0) })
		return
	}
	p.cutGuided(m.Rows, p.chunkOf(m.Rows, m.RowBytes(), rowAlign, guideBig*chunksPerThread/2), rowAlign)
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
	j := job{t: t, n: n, ahead: p.takeNext(), label: kernelLabel(p.phase, kernel)}
	chunk = max(chunk, 1, (n+maxChunks-1)/maxChunks)
	if p.threads == 1 || !parallel || chunk >= n {
		p.labelled(j.label, func() { t.run(0, n, 0) })
		return
	}
	p.cutUniform(n, chunk)
	p.split(j)
}

// RunRows runs t over rows [0, rows) of rowBytes bytes of weights each in
// guided chunks (see cutGuided) that are multiples of align (itself a
// multiple of rowAlign); with parallel false, or one thread, on the
// calling goroutine.
func (p *Pool) RunRows(rows, rowBytes, align int, t task, kernel int, parallel bool) {
	j := job{t: t, n: rows, ahead: p.takeNext(), label: kernelLabel(p.phase, kernel)}
	unit := p.chunkOf(rows, rowBytes, align, guideBig*chunksPerThread/2)
	if p.threads == 1 || !parallel || unit >= rows {
		p.labelled(j.label, func() { t.run(0, rows, 0) })
		return
	}
	p.cutGuided(rows, unit, align)
	p.split(j)
}

// rowChunk is the number of rows per chunk of a product over rows rows of
// rowBytes bytes each: about chunksPerThread chunks per thread, at least
// minChunkBytes, a multiple of rowAlign, and few enough for a slot to
// count.
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
	// Cutting the home ranges adds up to a chunk per thread: leave room.
	most := maxChunks - MaxThreads
	least := max((minChunkBytes+rowBytes-1)/max(rowBytes, 1), (rows+most-1)/most)
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

// takeNext returns what the caller set as next (see ahead) and clears it:
// it holds for one job.
func (p *Pool) takeNext() ahead {
	a := p.next
	p.next = ahead{}
	return a
}

// split publishes j with the chunks in p.cuts and p.homes, claims chunks
// on the calling goroutine too, waits for every chunk to finish, and
// re-raises a worker's panic on the caller.
func (p *Pool) split(j job) {
	chunks := p.chunks()
	p.job = j
	p.done.Store(0)
	p.seq++
	seq := p.seq
	for i := p.threads - 1; i >= 0; i-- {
		p.slots[i].ctl.Store(uint64(seq)<<32 | uint64(p.homes[i+1])<<16 | uint64(p.homes[i]))
	}
	p.wakeWorkers()
	p.labelled(j.label, func() { p.drain(0, seq, nil, &p.heads) })
	for spins := 0; p.done.Load() != int64(chunks); spins++ {
		if prefetchPiece(&p.heads) {
			continue
		}
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
