package runtime

import (
	"math"

	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/quant"
	"github.com/viterin/vek/vek32"
)

// Attention is split into units, each the queries of one KV head for a
// few consecutive positions of one sequence (all the query heads that
// share that KV head, so its keys and values are read once for all of
// them) over a range of key positions. The units are shared by the pool's
// threads. A unit's scores are a small matrix product (quant.AttnScores:
// queries x keys, read in the cache's type), then a softmax per query,
// then another (quant.AttnValues: weights x values). When a long context
// leaves fewer units than threads can share, each is split over its
// positions into segments whose partial softmax sums are combined at the
// end.

// minParallelAttention is the attention work (queries x positions x head
// size) above which it is split over the pool's workers.
const minParallelAttention = 1 << 15

// attnQueries is the number of queries a unit gathers when the KV head is
// shared by fewer query heads: several positions of a prompt then share
// each read of the keys and values.
const attnQueries = 8

// minSegment is the fewest positions a segment of a split unit covers.
const minSegment = 256

// attnChunksPerThread is about how many runs of units each thread claims.
const attnChunksPerThread = 8

// attend computes b.o (rows, qDim): for each row, causal multi-head
// attention of its query b.q over positions 0..pos of its state's layer-l
// cache. Every attention computation of the forward pass goes through
// here, so a faster kernel replaces this one function.
func (m *Model) attend(b *Batch, rows []batchRow, l int) {
	a := &b.attn
	a.rows, a.layer = rows, l
	threads := m.pool.Threads()
	work := a.plan(threads)
	// Runs of units per chunk, so that a thread knows its next unit and
	// prefetches it (run); about attnChunksPerThread chunks per thread
	// keep the threads level.
	chunk := max(len(a.units)/(attnChunksPerThread*threads), 1)
	m.pool.Run(len(a.units), chunk, a, kernelAttention, work >= minParallelAttention)
	if a.parts > 0 {
		a.combine()
	}
}

// attention is the attention of a batch's rows as a task over units.
type attention struct {
	b     *Batch
	rows  []batchRow
	layer int

	units, base []attnUnit    // this layer's units; the units before splitting
	scratch     []attnScratch // per thread

	// Partial results of split units, maxQueries per slot: each query's
	// largest score, sum of exponentials, and (headSize,) weighted values.
	parts          int
	pm, pl, po     []float32
	maxQueries     int // queries per unit at most
	maxUnits, slot int // capacity of units; of partial slots
}

// attnUnit is one unit: the queries of KV head kvh at rows [row,
// row+tokens) of the chunk (consecutive positions of one state) over the
// keys at positions [t0, t1).
type attnUnit struct {
	row, tokens int
	kvh         int
	t0, t1      int
	part        int // partial slot, or -1 when the unit has every key of its queries
}

// attnScratch is one thread's scratch: the gathered queries (maxQueries,
// headSize), their scores (maxQueries, ctx), and the weighted values
// (maxQueries, headSize) with each query's max and sum.
type attnScratch struct {
	q, s, o, mx, sum []float32
}

// attentionShape is the number of query heads per KV head and of queries
// per unit at most.
func attentionShape(c *arch.Config) (group, maxQueries int) {
	group = c.NHeads / c.NKVHeads
	return group, max(attnQueries/group, 1) * group
}

// maxSplitUnits bounds the units of a split attention on threads threads.
func maxSplitUnits(threads int) int { return 8 * threads }

// attentionScratchBytes is the size of the attention scratch of rows rows
// at ctx positions on threads threads.
func attentionScratchBytes(c *arch.Config, rows, ctx, threads int) int64 {
	_, nq := attentionShape(c)
	perThread := int64(nq) * int64(2*c.HeadSize+ctx+2)
	slots := int64(maxSplitUnits(threads)) * int64(nq) * int64(c.HeadSize+2)
	return 4 * (int64(threads)*perThread + slots)
}

// reserve makes room for rows rows at up to ctx positions.
func (a *attention) reserve(rows, ctx int) {
	c := &a.b.m.Config
	threads := a.b.m.pool.Threads()
	_, nq := attentionShape(c)
	hs := c.HeadSize
	a.maxQueries = nq
	a.maxUnits = max(rows*c.NKVHeads, maxSplitUnits(threads))
	a.units = make([]attnUnit, 0, a.maxUnits)
	a.base = make([]attnUnit, 0, a.maxUnits)
	a.scratch = make([]attnScratch, threads)
	for i := range a.scratch {
		a.scratch[i] = attnScratch{
			q: make([]float32, nq*hs), s: make([]float32, nq*ctx), o: make([]float32, nq*hs),
			mx: make([]float32, nq), sum: make([]float32, nq),
		}
	}
	a.slot = maxSplitUnits(threads)
	a.pm = make([]float32, a.slot*nq)
	a.pl = make([]float32, a.slot*nq)
	a.po = make([]float32, a.slot*nq*hs)
}

// plan cuts the attention of a.rows into units and returns its work
// (queries x positions x head size).
func (a *attention) plan(threads int) (work int) {
	c := &a.b.m.Config
	group, nq := attentionShape(c)
	perUnit := nq / group // positions per unit
	rows := a.rows
	a.base = a.base[:0]
	for r := 0; r < len(rows); {
		// a run: consecutive rows of one state at consecutive positions
		e := r + 1
		for e < len(rows) && rows[e].s == rows[r].s && rows[e].pos == rows[e-1].pos+1 {
			e++
		}
		for t := r; t < e; t += perUnit {
			n := min(perUnit, e-t)
			t0, t1 := firstPosition(c, rows[t].pos), rows[t+n-1].pos+1
			for kvh := range c.NKVHeads {
				a.base = append(a.base, attnUnit{row: t, tokens: n, kvh: kvh, t0: t0, t1: t1, part: -1})
			}
			work += n * c.NHeads * (t1 - t0) * c.HeadSize
		}
		r = e
	}
	a.units, a.parts = a.units[:0], 0
	want := 4 * threads
	if threads == 1 || len(a.base) >= want || work < minParallelAttention {
		a.units = append(a.units, a.base...)
		return work
	}
	// Few units for the threads: split the long ones into segments of
	// their positions.
	segs := (want + len(a.base) - 1) / len(a.base)
	for _, u := range a.base {
		n := min(segs, (u.t1-u.t0)/minSegment, a.slot-a.parts)
		if n < 2 {
			a.units = append(a.units, u)
			continue
		}
		step := (u.t1 - u.t0 + n - 1) / n
		for t := u.t0; t < u.t1; t += step {
			s := u
			s.t0, s.t1, s.part = t, min(t+step, u.t1), a.parts
			a.parts++
			a.units = append(a.units, s)
		}
	}
	return work
}

// run computes units [lo, hi) on thread th, each while the caches of the
// next are on their way: in a decoding step they come from memory (the
// weights have evicted them since the last step).
func (a *attention) run(lo, hi, th int) {
	a.prefetch(lo)
	for i := lo; i < hi; i++ {
		if i+1 < hi {
			a.prefetch(i + 1)
		}
		a.unit(&a.units[i], &a.scratch[th])
	}
}

// prefetch asks for the keys and values unit i reads, when they are one
// contiguous run (a head-major cache).
func (a *attention) prefetch(i int) {
	u := &a.units[i]
	s := a.rows[u.row].s
	if s.headBytes == 0 {
		return
	}
	n := (u.t1 - u.t0) * s.headBytes
	keys, _, _ := s.kvHead(s.keys(a.layer), u.kvh, u.t0)
	values, _, _ := s.kvHead(s.values(a.layer), u.kvh, u.t0)
	quant.Prefetch(keys[:n])
	quant.Prefetch(values[:n])
}

// unit computes the attention of one unit: its queries' outputs, or
// their partial sums when the unit is a segment.
func (a *attention) unit(u *attnUnit, sc *attnScratch) {
	b := a.b
	c := &b.m.Config
	hs := c.HeadSize
	group, _ := attentionShape(c)
	s := a.rows[u.row].s
	nq, nk := u.tokens*group, u.t1-u.t0

	// q (nq, hs): the queries of the unit's heads at each of its
	// positions, scaled by 1/sqrt(headSize) so that the scores come out
	// scaled
	scale := float32(1 / math.Sqrt(float64(hs)))
	for i := range u.tokens {
		src := b.q[u.row+i][u.kvh*group*hs:][:group*hs]
		vek32.MulNumber_Into(sc.q[i*group*hs:][:group*hs], src, scale)
	}

	// scores (nq, nk) = q @ K[t0:t1]^T, then each query's weights
	// exp(score - max) over the positions it sees, 0 after them
	scores := sc.s[:nq*nk]
	keys, stride, off := s.kvHead(s.keys(a.layer), u.kvh, u.t0)
	quant.AttnScores(scores, nk, sc.q, hs, nq, s.kvType, keys, stride, off, nk, hs)
	for i := range u.tokens {
		// the positions this query sees: first..pos
		pos := a.rows[u.row+i].pos
		from, to := max(firstPosition(c, pos)-u.t0, 0), min(nk, pos+1-u.t0)
		for g := range group {
			qi := i*group + g
			sc.mx[qi], sc.sum[qi] = expScores(scores[qi*nk:(qi+1)*nk], from, to)
		}
	}

	// o (nq, hs) = weights @ V[t0:t1]
	o := sc.o[:nq*hs]
	clear(o)
	values, stride, off := s.kvHead(s.values(a.layer), u.kvh, u.t0)
	quant.AttnValues(o, hs, scores, nk, nq, s.kvType, values, stride, off, nk, hs)

	if u.part >= 0 {
		p := u.part * a.maxQueries
		copy(a.pm[p:p+nq], sc.mx[:nq])
		copy(a.pl[p:p+nq], sc.sum[:nq])
		copy(a.po[p*hs:(p+nq)*hs], o)
		return
	}
	for i := range u.tokens {
		for g := range group {
			qi := i*group + g
			out := b.o[u.row+i][(u.kvh*group+g)*hs:][:hs]
			vek32.MulNumber_Into(out, o[qi*hs:(qi+1)*hs], 1/sc.sum[qi])
		}
	}
}

// firstPosition is the first position a query at pos attends to: 0, or
// the start of the model's sliding window.
func firstPosition(c *arch.Config, pos int) int {
	if w := c.SlidingWindow; w > 0 && pos >= w {
		return pos - w + 1
	}
	return 0
}

// expScores replaces the scores [from, to) by exp(score - max) and the
// others by 0, and returns the max and the sum of the exponentials (-Inf
// and 0 when the range is empty).
func expScores(s []float32, from, to int) (mx, sum float32) {
	from, to = max(from, 0), max(to, from, 0)
	clear(s[:from])
	clear(s[to:])
	if from == to {
		return float32(math.Inf(-1)), 0
	}
	x := s[from:to]
	mx = vek32.Max(x)
	vek32.AddNumber_Inplace(x, -mx)
	// vek32.Exp is not defined below about -88: exp(-87) is 1.6e-38,
	// nothing next to the 1 of the max
	vek32.MaximumNumber_Inplace(x, -87)
	vek32.Exp_Inplace(x)
	return mx, vek32.Sum(x)
}

// combine adds up the segments of each split unit: with M the largest of
// their maxima, out = sum(exp(m-M) o) / sum(exp(m-M) l).
func (a *attention) combine() {
	b := a.b
	c := &b.m.Config
	hs := c.HeadSize
	group, _ := attentionShape(c)
	units := a.units
	for i := 0; i < len(units); {
		u := units[i]
		if u.part < 0 {
			i++
			continue
		}
		e := i + 1
		for e < len(units) && units[e].part >= 0 && units[e].row == u.row && units[e].kvh == u.kvh {
			e++
		}
		nq := u.tokens * group
		for qi := range nq {
			mx := float32(math.Inf(-1))
			for _, s := range units[i:e] {
				mx = max(mx, a.pm[s.part*a.maxQueries+qi])
			}
			out := b.o[u.row+qi/group][(u.kvh*group+qi%group)*hs:][:hs]
			clear(out)
			var sum float32
			for _, s := range units[i:e] {
				p := s.part*a.maxQueries + qi
				if a.pl[p] == 0 {
					continue
				}
				w := float32(math.Exp(float64(a.pm[p] - mx)))
				sum += w * a.pl[p]
				vek32.MulNumber_Inplace(a.po[p*hs:(p+1)*hs], w)
				vek32.Add_Inplace(out, a.po[p*hs:(p+1)*hs])
			}
			vek32.MulNumber_Inplace(out, 1/sum)
		}
		i = e
	}
}
