package runtime

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/quant"
)

// DefaultContext is the number of positions a State holds unless asked
// otherwise; it is capped at the model's own context length.
const DefaultContext = 2048

// Options control how a model is opened.
type Options struct {
	// Threads is the number of goroutines that share each matrix-vector
	// product; <= 0 means runtime.GOMAXPROCS(0).
	Threads int

	// MemBudget, if > 0, keeps the bytes of the model file this process
	// has mapped under about this many: layers already used in a token
	// are released (MADV_DONTNEED) when the next would pass it. It does
	// not count the run state (see Model.StateBytes); a budget below
	// Model.BudgetFloor cannot be kept. 0 leaves residency to the kernel.
	MemBudget int64
	// NoPrefetch turns off reading the next layer ahead (MADV_WILLNEED)
	// while one computes. Prefetch is on by default.
	NoPrefetch bool
	// Mlock pins the whole model in memory at open (mlock); it fails,
	// with the RLIMIT_MEMLOCK limit in the error, if the kernel refuses.
	Mlock bool
	// NoRefold leaves the page cache as it finds it. By default, after the
	// first token, the parts of a mapped model that the page cache holds
	// in small folios (a file just written, read page by page, or partly
	// evicted and read back), which can only be mapped with 4 KiB pages,
	// are read again into 2 MiB pages in the background, if every weight
	// is in memory (see format.File.Refold). Not under MemBudget or Mlock.
	NoRefold bool
	// NoMmap reads the weights into anonymous memory instead of mapping
	// the file (see format.OpenInMemory). Paging options then do nothing.
	NoMmap bool
	// KVType is the type the States' KV caches are stored in; the zero
	// value is KVF16.
	KVType KVType
}

// MaxThreads is the largest Options.Threads: more goroutines than this
// share no product usefully on any machine this runs on.
const MaxThreads = 1024

// Model is an opened model: hyperparameters, weights mapped from the file,
// a tokenizer and a worker pool. A Model is safe for concurrent use: many
// Sessions (or States) share it, and its forward passes take turns, each
// using all of the pool's threads. Sessions generating at the same time
// are decoded together, one pass over the weights per step (see Session).
type Model struct {
	Config    arch.Config
	Weights   Weights
	Tokenizer Tokenizer

	family    *arch.Family // the pieces of the forward pass
	ropeFreq  []float32    // (headSize/2,) angle per position of each RoPE pair; nil without RoPE
	ropeScale float64      // multiplies RoPE's cos and sin: Config.RopeAttnFactor, or 1
	kvType    KVType       // the States' KV cache type
	file      *format.File
	pool      *Pool
	paging    *pager // nil when there is no paging policy to apply
	fusedFFN  bool   // keep gate and up in one job on several threads too (see splitFFN); for tests

	// fwd serialises forward passes: the pool and the pager serve one
	// caller at a time.
	fwd sync.Mutex

	schedOnce sync.Once
	sched     *scheduler // decodes the sessions of this model; started by the first Generate
}

// Open maps the .llmap file at path and prepares the model for running.
// Nothing is copied or dequantised: weights are views into the mapping.
func Open(path string, opts Options) (*Model, error) {
	open := format.Open
	if opts.NoMmap {
		open = format.OpenInMemory
	}
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	if opts.MemBudget <= 0 {
		// 2 MiB pages for the weights (advice): decoding streams them all
		// per token. format.Open advises a mapping already; this is for
		// the memory of NoMmap.
		_ = f.HugePages()
	} else {
		// Not under a memory budget, whose pager releases ranges smaller
		// than a huge page.
		_ = f.NoHugePages()
	}
	if opts.Mlock {
		if err := f.Mlock(); err != nil {
			f.Close()
			return nil, err
		}
	}
	m, err := New(f, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// New prepares a model from an opened file. The model owns f: Close closes it.
func New(f *format.File, opts Options) (*Model, error) {
	c, err := arch.FromMetadata(&f.Meta)
	if err != nil {
		return nil, err
	}
	fam, _ := c.Family() // FromMetadata checked it
	w, err := loadWeights(f, fam, &c)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizerFrom(&f.Meta, c.VocabSize)
	if err != nil {
		return nil, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if threads > MaxThreads {
		return nil, fmt.Errorf("%d threads is more than the %d a model can use", threads, MaxThreads)
	}
	if opts.MemBudget < 0 {
		return nil, fmt.Errorf("memory budget %d is negative", opts.MemBudget)
	}
	if opts.MemBudget > 0 && f.Mapped() {
		if err := format.PagingAvailable(); err != nil {
			return nil, fmt.Errorf("memory budget: %w", err)
		}
	}
	if err := opts.KVType.check(&c); err != nil {
		return nil, err
	}
	refold := !opts.NoRefold && !opts.Mlock && opts.MemBudget <= 0
	paging := newPager(f, &c, !opts.NoPrefetch, opts.MemBudget, refold)
	m := &Model{Config: c, Weights: w, Tokenizer: tok, family: fam, kvType: opts.KVType, file: f, pool: NewPool(threads), paging: paging, ropeScale: 1}
	if fam.Position.RoPE() {
		m.ropeFreq = ropeFrequencies(c.HeadSize, c.RopeBase, w.RopeFreqs)
	}
	if c.RopeAttnFactor != 0 {
		m.ropeScale = float64(c.RopeAttnFactor)
	}
	return m, nil
}

// matrixTypes lists the types of the model's matrices, one of each
// activation format (quant.Type.SharesActivations).
func (m *Model) matrixTypes() []quant.Type {
	var ts []quant.Type
	add := func(w quant.Matrix) {
		if w.Data != nil && !slices.ContainsFunc(ts, func(t quant.Type) bool { return t.SharesActivations(w.Type) }) {
			ts = append(ts, w.Type)
		}
	}
	for i := range m.Weights.Layers {
		lw := &m.Weights.Layers[i]
		for _, w := range []quant.Matrix{lw.Wq, lw.Wk, lw.Wv, lw.Wo, lw.Wgate, lw.Wup, lw.Wdown} {
			add(w)
		}
	}
	add(m.Weights.Classifier)
	return ts
}

// BudgetFloor is the smallest Options.MemBudget the model can keep: its
// largest layer plus one embedding row. It is 0 when the model was opened
// without a budget or without a mapping.
func (m *Model) BudgetFloor() int64 {
	if m.paging == nil || m.paging.budget <= 0 {
		return 0
	}
	return m.paging.budgetFloor()
}

// PagingStats reports what the paging policy has done since Open.
func (m *Model) PagingStats() PagingStats {
	m.fwd.Lock()
	defer m.fwd.Unlock()
	return m.paging.stats()
}

// WaitRefold waits until the background refold (see Options.NoRefold),
// which starts on the second forward pass, has ended, or ctx is done. It
// returns at once if none has started: refold off, nothing cached in small
// pages, or fewer than two forward passes so far. Benchmarks call it so
// that every timed run finds the page cache in the same state.
func (m *Model) WaitRefold(ctx context.Context) error {
	m.fwd.Lock()
	var done chan struct{}
	if m.paging != nil {
		done = m.paging.refolded
	}
	m.fwd.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// File returns the model's file.
func (m *Model) File() *format.File { return m.file }

// Threads is the number of goroutines that share each product.
func (m *Model) Threads() int { return m.pool.Threads() }

// Close stops the workers and unmaps the file. Generations still running
// end with ErrClosed; the weights must not be used afterwards.
func (m *Model) Close() error {
	m.schedOnce.Do(func() {}) // no scheduler starts after this
	if m.sched != nil {
		m.sched.close()
	}
	m.fwd.Lock()
	defer m.fwd.Unlock()
	m.pool.Close()
	m.paging.close()
	return m.file.Close()
}

// Guard runs f, which reads the model's mapped weights (through Weights),
// and turns a memory fault on the mapping (the file was truncated while in
// use) into an error wrapping ErrFault, instead of a crash.
func (m *Model) Guard(f func()) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer m.recoverFault(&err)
	f()
	return nil
}

// recoverFault turns a memory fault on the mapping (SIGBUS after the file
// was truncated) into ErrFault. Other panics are not ours to hide.
func (m *Model) recoverFault(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if e, ok := r.(runtime.Error); ok && isFault(e) {
		*err = fmt.Errorf("%s: %w", m.file.Path(), ErrFault)
		return
	}
	panic(r)
}

// isFault reports whether e is the panic SetPanicOnFault produces.
func isFault(e runtime.Error) bool {
	_, ok := e.(interface{ Addr() uintptr })
	return ok
}

// MatVec computes out = w @ v on the model's worker pool, taking turns with
// the forward passes: for tools that multiply with the weights outside a
// forward pass (explore's embedding scans). v is prepared for w.Type.
func (m *Model) MatVec(out []float32, w quant.Matrix, v *quant.Vec) {
	m.fwd.Lock()
	defer m.fwd.Unlock()
	m.pool.MatVec(out, w, v)
}
