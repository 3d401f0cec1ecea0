package runtime

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
)

// The paging policy. The forward pass reads the weights in file order, one
// stage at a time: the rows of the embedding it needs, each layer's block,
// then the final norm and classifier, and again from layer 0 for the next
// token. The pager is told when each stage starts (enterLayer,
// enterOutput) and
//
//   - prefetches: a background goroutine asks the kernel to read the next
//     stage (MADV_WILLNEED) while this one computes, so that from a cold
//     page cache the disk reads overlap the compute;
//   - keeps a budget: with Options.MemBudget set, it estimates the bytes of
//     the model this process has mapped per stage, and before a stage runs
//     it releases the stages whose next use is furthest away until the
//     estimate fits: MADV_DONTNEED unmaps them from this process, and
//     POSIX_FADV_DONTNEED drops their pages from the page cache unless
//     another process maps them. Dropping the cache matters under a
//     memory cgroup: otherwise the kernel has to reclaim those pages
//     itself while the next layer faults in, which halves the read speed
//     (measured in docs/memory.md). For a cyclic access pattern that is the
//     stage just used (Belady's rule), so the steady state keeps the first
//     layers mapped and streams the rest. The embedding rows, touched
//     sparsely, are released first.
//
//   - refolds: once, after the first token, if every weight is in the page
//     cache, a background goroutine finds the 2 MiB chunks of the mapping
//     that are mapped with 4 KiB pages because the page cache holds them
//     in small folios, and reads them again in 2 MiB folios
//     (format.File.Refold). Not under a budget (whose releases are
//     smaller than a huge page) nor with mlock; Options.NoRefold turns it
//     off. A model that does not fit in memory is never fully cached, so
//     it is left alone.
//
// The pager never uses MADV_RANDOM: it disables the kernel's readahead,
// which makes a cold start many times slower.

// span is a byte range of the model file.
type span struct{ off, n int64 }

// stage is the weights one step of the forward pass reads.
type stage struct {
	name  string
	spans []span
	bytes int64 // sum of the spans' lengths
}

// PagingStats count what the pager did since the model was opened.
type PagingStats struct {
	Prefetches    int64         // stages prefetched
	PrefetchBytes int64         // bytes of those stages
	PrefetchTime  time.Duration // time the prefetcher spent in madvise(MADV_WILLNEED)
	Releases      int64         // stages released to keep the budget
	ReleasedBytes int64         // bytes of those stages
	SmallBytes    int64         // bytes of the mapping found mapped with 4 KiB pages after the first token (whole 2 MiB chunks, wholly cached)
	RefoldBytes   int64         // of those, bytes mapped with 2 MiB pages after format.File.Refold
	RefoldTime    time.Duration // time the refold took (0: not run)
}

// pager applies the paging policy to a mapped model. A nil *pager does
// nothing, so the forward pass calls its hooks unconditionally.
type pager struct {
	f        *format.File
	stages   []stage // layers 0..n-1, then the output stage
	embed    span    // the token embedding, when not also the classifier
	rowBytes int64   // bytes a token's embedding row maps: the row, widened to pages, plus fault-around
	budget   int64   // 0 = no budget

	// Estimated bytes mapped by this process, per stage and for the embedding.
	resident      []int64
	mapped        []bool // stages used (or prefetched) and not released since
	embedResident int64

	willNeed func(off, n int64) error // the file's WillNeed; replaced in tests
	dontNeed func(off, n int64) error // the file's DontNeed, then fadvise; replaced in tests
	fd       *os.File                 // the model file, for fadvise; nil without a budget

	requests chan int // stages to prefetch
	wg       sync.WaitGroup
	closed   bool

	refold     bool          // refold after the first token
	stream     []span        // the ranges read every token (streamed), for the refold
	passes     int           // times the forward pass entered the output stage
	stopRefold atomic.Bool   // set by close
	refolded   chan struct{} // closed when the refold goroutine ends; nil before it starts

	inflight                                 atomic.Int64 // the stage requested and not yet populated, or -1
	prefetches, prefetchBytes, prefetchNanos atomic.Int64
	releases, releasedBytes                  int64 // written by the forward pass only
	smallBytes, refoldBytes, refoldNanos     atomic.Int64
}

// newPager returns the pager for a model opened from f, or nil when there is
// nothing to do: prefetch and refold off and no budget, or data that is not
// a file mapping (NoMmap).
func newPager(f *format.File, c *arch.Config, prefetch bool, budget int64, refold bool) *pager {
	refold = refold && budget <= 0
	if !f.Mapped() || (!prefetch && budget <= 0 && !refold) || format.PagingAvailable() != nil {
		return nil
	}
	p := &pager{f: f, budget: max(budget, 0), willNeed: f.Populate, dontNeed: f.DontNeed, refold: refold}
	if budget > 0 {
		if fd, err := os.Open(f.Path()); err == nil {
			p.fd = fd
			p.dontNeed = p.release
		}
	}
	p.stages, p.embed = stagesOf(f, c.NLayers)
	if p.refold {
		// Computed here, so that a model with nothing to refold (no whole
		// 2 MiB chunk in its streamed ranges) starts no goroutine and
		// allocates nothing while it generates.
		p.stream = p.streamed()
		p.refold = slices.ContainsFunc(p.stream, func(sp span) bool {
			return (sp.off+hugePage-1)/hugePage*hugePage+hugePage <= sp.off+sp.n
		})
	}
	p.rowBytes = pageRound(p.embed.n/int64(max(c.VocabSize, 1))) + faultAround
	if p.embed.n == 0 {
		p.rowBytes = 0
	}
	p.resident = make([]int64, len(p.stages))
	p.mapped = make([]bool, len(p.stages))
	p.inflight.Store(-1)
	if prefetch {
		p.requests = make(chan int, 1)
		p.wg.Add(1)
		go p.prefetcher()
	}
	return p
}

const pageSize = format.PageSize

// hugePage is the size of a PMD-mapped transparent huge page, the unit
// format.File.Refold works in.
const hugePage = 2 << 20

// faultAround is how much a fault on one page may map around it: the
// kernel maps up to 64 KiB of neighbouring cached pages, and with large
// folios (Linux 6.x) a whole folio, measured here at about 170 KiB around
// an embedding row.
const faultAround = 256 << 10

func pageRound(n int64) int64 { return (n + pageSize - 1) / pageSize * pageSize }

// stagesOf groups the tensors of f into the stages of the forward pass:
// "blk.L.*" into layer L, everything else but the per-token embeddings into
// the output stage. The token embedding goes into the output stage too when
// there is no separate classifier (output.weight), since the classifier
// then reads all of it; otherwise it is returned as embed.
func stagesOf(f *format.File, nLayers int) (stages []stage, embed span) {
	stages = make([]stage, nLayers+1)
	for l := range nLayers {
		stages[l].name = "layer " + strconv.Itoa(l)
	}
	out := &stages[nLayers]
	out.name = "output"
	_, tied := f.Tensor(format.TensorOutput)
	tied = !tied
	for i := range f.Tensors {
		t := &f.Tensors[i]
		sp := span{t.Offset, t.Size}
		st := out
		switch {
		case t.Name == format.TensorTokenEmbd && !tied:
			embed = sp
			continue
		case t.Name == "position_embd.weight":
			continue // one row per position, like the token embedding
		case strings.HasPrefix(t.Name, "blk."):
			rest := t.Name[len("blk."):]
			num, _, _ := strings.Cut(rest, ".")
			l, err := strconv.Atoi(num)
			if err != nil || l < 0 || l >= nLayers {
				continue
			}
			st = &stages[l]
		}
		// Tensors are in file order: merge with the previous span when adjacent.
		if k := len(st.spans) - 1; k >= 0 && st.spans[k].off+st.spans[k].n >= sp.off-pageSize {
			st.spans[k].n = sp.off + sp.n - st.spans[k].off
		} else {
			st.spans = append(st.spans, sp)
		}
	}
	for i := range stages {
		for _, sp := range stages[i].spans {
			stages[i].bytes += sp.n
		}
	}
	return stages, embed
}

// budgetFloor is the smallest budget the pager can keep: the largest stage
// (two, when the next is prefetched while one computes) and one embedding
// row.
func (p *pager) budgetFloor() int64 {
	var big int64
	for _, st := range p.stages {
		big = max(big, pageRound(st.bytes))
	}
	if p.requests != nil {
		big *= 2
	}
	return big + p.rowBytes
}

// enterLayer is called by the forward pass before layer l reads its weights.
func (p *pager) enterLayer(l int) {
	if p == nil {
		return
	}
	if l == 0 {
		// The embedding row of this token has just been read.
		p.embedResident = min(p.embedResident+p.rowBytes, pageRound(p.embed.n))
		if p.refold && p.passes == 1 && !p.closed {
			// Every stage has been read once: refold what is cached small.
			p.wg.Add(1)
			p.refolded = make(chan struct{})
			go p.refoldOnce()
		}
	}
	p.enter(l)
}

// enterOutput is called before the final norm and the classifier.
func (p *pager) enterOutput() {
	if p == nil {
		return
	}
	p.passes++
	p.enter(len(p.stages) - 1)
}

// refoldOnce runs format.File.Refold over the whole mapping, once, in its
// own goroutine, if every stage's weights are in the page cache: a model
// that is not (it does not fit, or is being evicted) is left alone, so
// refolding never re-reads more than memory holds.
func (p *pager) refoldOnce() {
	defer p.wg.Done()
	defer close(p.refolded)
	for _, st := range p.stages {
		for _, sp := range st.spans {
			lo := sp.off / pageSize * pageSize
			want := min(pageRound(sp.off+sp.n), p.f.Size()) - lo
			if got, err := p.f.Resident(sp.off, sp.n); err != nil || got < want {
				return
			}
		}
	}
	t0 := time.Now()
	var small, refolded int64
	for _, sp := range p.stream {
		// Advice: an error leaves the pages as they are.
		st, err := p.f.Refold(sp.off, sp.n, p.stopRefold.Load)
		small += st.Small
		refolded += st.Refolded
		if err != nil {
			break
		}
	}
	p.refoldNanos.Store(int64(time.Since(t0)))
	p.smallBytes.Store(small)
	p.refoldBytes.Store(refolded)
}

// streamed returns the byte ranges the stages read every token, in file
// order, adjacent spans merged: the token embedding, read a row at a time,
// is not among them unless it is also the classifier.
func (p *pager) streamed() []span {
	var all []span
	for _, st := range p.stages {
		all = append(all, st.spans...)
	}
	slices.SortFunc(all, func(a, b span) int { return cmp.Compare(a.off, b.off) })
	var out []span
	for _, sp := range all {
		if k := len(out) - 1; k >= 0 && out[k].off+out[k].n >= sp.off-pageSize {
			out[k].n = max(out[k].n, sp.off+sp.n-out[k].off)
		} else {
			out = append(out, sp)
		}
	}
	return out
}

// enter prefetches the stage after s and keeps the budget with s mapped.
//
// Prefetching populates the next stage's page tables from a background
// goroutine (MADV_POPULATE_READ): the disk reads and the page faults then
// happen on another core while this stage computes. A stage the pager
// knows to be mapped already (used, and not released since) is skipped:
// walking its page tables again would only take a core from the compute.
func (p *pager) enter(s int) {
	n := len(p.stages)
	next := (s + 1) % n
	prefetching := false
	// At most one prefetch is outstanding: if the prefetcher is still busy
	// with an earlier stage, this one is skipped.
	if p.requests != nil && !p.mapped[next] && p.inflight.CompareAndSwap(-1, int64(next)) {
		p.requests <- next // never blocks: the buffer holds the one request
		prefetching = true
		p.mapped[next] = true
	}
	p.mapped[s] = true
	if p.budget <= 0 {
		return
	}
	p.resident[s] = p.stages[s].bytes
	if prefetching {
		p.resident[next] = p.stages[next].bytes
	}
	total := p.embedResident
	for _, r := range p.resident {
		total += r
	}
	if total > p.budget && p.embedResident > 0 {
		if p.dontNeed(p.embed.off, p.embed.n) == nil {
			p.count(p.embedResident)
			total -= p.embedResident
			p.embedResident = 0
		}
	}
	// Release the stage needed furthest in the future: s-1, s-2, ...,
	// but never s, nor the stage being prefetched.
	last := 1
	if prefetching {
		last = 2
	}
	for d := n - 1; d >= last && total > p.budget; d-- {
		v := (s + d) % n
		if p.resident[v] == 0 || int64(v) == p.inflight.Load() {
			continue // not mapped, or being populated right now
		}
		var err error
		for _, sp := range p.stages[v].spans {
			if e := p.dontNeed(sp.off, sp.n); err == nil {
				err = e
			}
		}
		if err != nil {
			continue // the file is gone; the forward pass reports the fault
		}
		p.count(p.resident[v])
		total -= p.resident[v]
		p.resident[v] = 0
		p.mapped[v] = false
	}
}

func (p *pager) count(n int64) {
	p.releases++
	p.releasedBytes += n
}

// release unmaps [off, off+n) from this process and drops its pages from
// the page cache where no other process maps them.
func (p *pager) release(off, n int64) error {
	if err := p.f.DontNeed(off, n); err != nil {
		return err
	}
	// Advice only: an error here changes nothing the forward pass needs.
	_ = format.DropCache(p.fd, off, n)
	return nil
}

// prefetcher runs in its own goroutine: madvise(MADV_WILLNEED) can block
// while it queues the reads of a large stage.
func (p *pager) prefetcher() {
	defer p.wg.Done()
	for s := range p.requests {
		t0 := time.Now()
		for _, sp := range p.stages[s].spans {
			// An error means the file changed; the forward pass will
			// fault and report it, so there is nothing to do here.
			_ = p.willNeed(sp.off, sp.n)
		}
		p.inflight.Store(-1)
		p.prefetchNanos.Add(int64(time.Since(t0)))
		p.prefetches.Add(1)
		p.prefetchBytes.Add(p.stages[s].bytes)
	}
}

// close stops the prefetcher and waits for it, so that the mapping can be
// released safely afterwards.
func (p *pager) close() {
	if p == nil || p.closed {
		return
	}
	p.closed = true
	p.stopRefold.Store(true)
	if p.requests != nil {
		close(p.requests)
	}
	p.wg.Wait()
	if p.fd != nil {
		p.fd.Close()
	}
}

func (p *pager) stats() PagingStats {
	if p == nil {
		return PagingStats{}
	}
	return PagingStats{
		Prefetches:    p.prefetches.Load(),
		PrefetchBytes: p.prefetchBytes.Load(),
		PrefetchTime:  time.Duration(p.prefetchNanos.Load()),
		Releases:      p.releases,
		ReleasedBytes: p.releasedBytes,
		SmallBytes:    p.smallBytes.Load(),
		RefoldBytes:   p.refoldBytes.Load(),
		RefoldTime:    time.Duration(p.refoldNanos.Load()),
	}
}

// String summarises the statistics for stderr.
func (s PagingStats) String() string {
	str := fmt.Sprintf("prefetched %d stages (%d bytes, %v in madvise), released %d stages (%d bytes) to keep the budget",
		s.Prefetches, s.PrefetchBytes, s.PrefetchTime.Round(time.Millisecond), s.Releases, s.ReleasedBytes)
	if s.RefoldTime > 0 {
		str += fmt.Sprintf(", refolded %d of %d bytes cached in small pages into 2 MiB pages (%v)",
			s.RefoldBytes, s.SmallBytes, s.RefoldTime.Round(time.Millisecond))
	}
	return str
}
