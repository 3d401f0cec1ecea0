package runtime

import (
	"runtime/debug"
	"sync"

	"github.com/llmap/llmap/quant"
)

// minParallelBytes is the matrix size below which a matrix-vector product
// runs on the calling goroutine: waking workers costs more than it saves.
const minParallelBytes = 256 << 10

// rowAlign keeps each worker's share of rows a multiple of this, so shares
// start on cache-line boundaries for every tensor type.
const rowAlign = 16

// matVecJob is one worker's share of a matrix-vector product.
type matVecJob struct {
	out    []float32
	m      quant.Matrix
	v      *quant.Vec
	lo, hi int
}

// Pool runs matrix-vector products split by rows over long-lived worker
// goroutines. Calls do not start goroutines or allocate. A Pool is used by
// one goroutine at a time.
type Pool struct {
	threads int
	jobs    []chan matVecJob // one per worker; the caller is worker 0
	wg      sync.WaitGroup
	panics  []any // a worker's recovered panic (a fault on the mapping), re-raised by the caller
	closed  bool
}

// NewPool starts threads-1 workers (the calling goroutine does a share too).
// threads < 1 is treated as 1.
func NewPool(threads int) *Pool {
	if threads < 1 {
		threads = 1
	}
	p := &Pool{threads: threads, jobs: make([]chan matVecJob, threads), panics: make([]any, threads)}
	for i := 1; i < threads; i++ {
		ch := make(chan matVecJob, 1)
		p.jobs[i] = ch
		go func() {
			debug.SetPanicOnFault(true)
			for j := range ch {
				p.run(i, j)
			}
		}()
	}
	return p
}

// run does one job on worker i, keeping a panic for the caller to re-raise.
func (p *Pool) run(i int, j matVecJob) {
	defer func() {
		if r := recover(); r != nil {
			p.panics[i] = r
		}
		p.wg.Done()
	}()
	quant.MatVec(j.out, j.m, j.v, j.lo, j.hi)
}

// Threads is the number of goroutines that share each product.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers.
func (p *Pool) Close() {
	if p.closed {
		return
	}
	p.closed = true
	for _, ch := range p.jobs[1:] {
		close(ch)
	}
}

// MatVec computes out = m @ v, where v has been prepared for m.Type:
// W (rows, cols) @ x (cols,) -> out (rows,).
func (p *Pool) MatVec(out []float32, m quant.Matrix, v *quant.Vec) {
	n := p.threads
	if n == 1 || len(m.Data) < minParallelBytes || m.Rows < n*rowAlign {
		quant.MatVec(out, m, v, 0, m.Rows)
		return
	}
	share := (m.Rows + n - 1) / n
	share = (share + rowAlign - 1) / rowAlign * rowAlign
	lo := share // worker 0 (this goroutine) takes [0, share)
	for i := 1; i < n && lo < m.Rows; i++ {
		hi := min(lo+share, m.Rows)
		p.wg.Add(1)
		p.jobs[i] <- matVecJob{out: out[lo:hi], m: m, v: v, lo: lo, hi: hi}
		lo = hi
	}
	p.wg.Add(1)
	p.run(0, matVecJob{out: out[:min(share, m.Rows)], m: m, v: v, lo: 0, hi: min(share, m.Rows)})
	p.wg.Wait()
	for i, r := range p.panics {
		if r != nil {
			p.panics[i] = nil
			panic(r)
		}
	}
}
