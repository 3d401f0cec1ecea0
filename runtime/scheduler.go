package runtime

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmap/llmap/simd"
)

// The scheduler: continuous batching of the sessions of one model.
//
// One goroutine per model runs steps. A step is one ForwardBatch over the
// next token of every decoding sequence and a share of the prompts still
// to run, then a sample for every sequence whose logits it computed. Jobs
// join between steps (their prompt rides along with the decoding rows) and
// leave when they finish, so a new request never waits for the others to
// end, and the weights are read once per step for all of them.
//
// Sampling happens on the scheduler's goroutine, so a step never waits for
// a consumer: each job has a buffer of outTokens tokens, and a job whose
// consumer has not taken them sits out the steps until it does.

// stepRows is the number of rows a step runs: the decoding rows, then
// prompt rows up to this total (at least minPrefillRows of them, so a
// prompt always advances). Longer prompts take several steps, during which
// the other sequences go on decoding.
const (
	stepRows       = 2 * MaxBatch
	minPrefillRows = MaxBatch / 4
)

// outTokens is how many tokens a job may have sampled that its consumer
// has not taken yet.
const outTokens = 16

// seqJob is one Generate call being served.
type seqJob struct {
	s     *Session
	ctx   context.Context
	req   Request
	max   int        // tokens to sample at most
	text  replyText  // the reply's text, stop texts and split characters held back
	out   chan Token // to the consumer; closed when the job ends
	err   error      // why the job ended early; read after out is closed
	start time.Time

	next      int // the last token sampled, to run at position s.fed
	decoding  bool
	rows      int // rows of this job in the current step
	cancelled atomic.Bool
	stopCtx   func() bool // unregisters the context callback
}

// stop ends the job if it is still running and waits until the scheduler
// has let go of the session.
func (j *seqJob) stop(sc *scheduler) {
	j.cancelled.Store(true)
	sc.poke()
	for range j.out {
	}
}

// scheduler runs the steps of one model's jobs on its own goroutine.
type scheduler struct {
	m    *Model
	mu   sync.Mutex
	new  []*seqJob // submitted, not yet taken by the loop
	shut bool

	wake chan struct{} // a job was submitted, cancelled, or its consumer made room
	quit chan struct{}
	done chan struct{}
}

// scheduler returns the model's scheduler, starting it on first use.
func (m *Model) scheduler() *scheduler {
	m.schedOnce.Do(func() {
		m.sched = &scheduler{m: m, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
		go m.sched.loop()
	})
	if m.sched == nil { // the model was closed first
		return closedScheduler
	}
	return m.sched
}

// closedScheduler refuses every job, for a model already closed.
var closedScheduler = &scheduler{shut: true, wake: make(chan struct{}, 1)}

// submit hands j to the loop.
func (sc *scheduler) submit(j *seqJob) {
	j.stopCtx = context.AfterFunc(j.ctx, sc.poke)
	sc.mu.Lock()
	if sc.shut {
		sc.mu.Unlock()
		j.finish(ErrClosed)
		return
	}
	sc.new = append(sc.new, j)
	sc.mu.Unlock()
	sc.poke()
}

// poke wakes the loop if it waits.
func (sc *scheduler) poke() {
	select {
	case sc.wake <- struct{}{}:
	default: // already woken
	}
}

// close stops the loop; its jobs end with ErrClosed.
func (sc *scheduler) close() {
	sc.mu.Lock()
	if sc.shut {
		sc.mu.Unlock()
		return
	}
	sc.shut = true
	sc.mu.Unlock()
	close(sc.quit)
	<-sc.done
}

func (sc *scheduler) loop() {
	defer close(sc.done)
	b := sc.m.NewBatch()
	var jobs []*seqJob
	for {
		select {
		case <-sc.quit:
			sc.mu.Lock()
			jobs = append(jobs, sc.new...)
			sc.new = nil
			sc.mu.Unlock()
			for _, j := range jobs {
				j.finish(ErrClosed)
			}
			return
		default:
		}
		sc.mu.Lock()
		jobs = append(jobs, sc.new...)
		clear(sc.new)
		sc.new = sc.new[:0]
		sc.mu.Unlock()

		jobs = sweep(jobs, func(j *seqJob) bool {
			if err := j.ctx.Err(); err != nil {
				j.finish(err)
				return false
			}
			if j.cancelled.Load() {
				j.finish(context.Canceled)
				return false
			}
			return true
		})
		if !sc.plan(b, jobs) {
			select {
			case <-sc.wake:
			case <-sc.quit:
			}
			continue
		}
		err := sc.forward(b)
		b.Reset()
		jobs = sweep(jobs, func(j *seqJob) bool {
			if j.rows == 0 {
				return true
			}
			if err != nil {
				j.finish(err)
				return false
			}
			return j.advance()
		})
	}
}

// sweep keeps the jobs for which keep is true, in order.
func sweep(jobs []*seqJob, keep func(*seqJob) bool) []*seqJob {
	kept := jobs[:0]
	for _, j := range jobs {
		if keep(j) {
			kept = append(kept, j)
		}
	}
	clear(jobs[len(kept):])
	return kept
}

// plan fills b with the rows of the next step and reports whether there
// are any: one row per decoding job whose consumer has room, then prompt
// rows in the order the jobs came.
func (sc *scheduler) plan(b *Batch, jobs []*seqJob) bool {
	budget := stepRows
	for _, j := range jobs {
		j.rows = 0
		if j.decoding && len(j.out) < cap(j.out) {
			s := j.s
			b.Add(s.state, j.next, s.fed, s.state.logits)
			j.rows = 1
			budget--
		}
	}
	for _, j := range jobs {
		if j.decoding {
			continue
		}
		s := j.s
		pending := s.tokens[s.fed:]
		n := min(len(pending), max(budget, minPrefillRows))
		if n == 0 {
			break
		}
		for i, t := range pending[:n] {
			var logits []float32
			if i == len(pending)-1 {
				logits = s.state.logits
			}
			b.Add(s.state, t, s.fed+i, logits)
		}
		j.rows = n
		budget -= n
	}
	return b.Len() > 0
}

// forward runs a step's batch, its kernels labelled as decoding.
func (sc *scheduler) forward(b *Batch) error {
	m := sc.m
	m.fwd.Lock()
	prev := m.pool.phase
	m.pool.phase = phaseDecode
	m.fwd.Unlock()
	err := m.ForwardBatch(b)
	m.fwd.Lock()
	m.pool.phase = prev
	m.fwd.Unlock()
	return err
}

// advance records the rows a step ran for j and, if the step computed its
// next-token logits, samples. It reports whether the job goes on.
func (j *seqJob) advance() bool {
	s := j.s
	s.fed += j.rows
	if s.fed < len(s.tokens) {
		return true // more of the prompt to run
	}
	j.decoding = true
	var id int
	if j.req.Sampler != nil {
		id = j.req.Sampler.Sample(s.state.logits)
	} else {
		id = simd.Argmax(s.state.logits)
	}
	st := &s.stats
	st.Sampled++
	if st.Sampled == 1 {
		st.FirstToken = time.Since(j.start)
	}
	if j.isStop(id) {
		j.out <- Token{ID: id, Text: j.text.flush(), Finish: FinishStop}
		st.Finish = FinishStop
		j.finish(nil)
		return false
	}
	prev := s.tokens[len(s.tokens)-1]
	s.tokens = append(s.tokens, id)
	text, stopped := j.text.add(s.m.Tokenizer.Piece(prev, id))
	finish := FinishNone
	switch {
	case stopped:
		finish = FinishStop
	case st.Sampled >= j.max:
		finish = FinishLength
	case s.fed >= s.state.ctx: // no position left to run id at
		finish = FinishContext
	}
	if finish != FinishNone && !stopped {
		text += j.text.flush()
	}
	j.out <- Token{ID: id, Text: text, Finish: finish} // never blocks: plan checked the room
	if finish != FinishNone {
		st.Finish = finish
		j.finish(nil)
		return false
	}
	j.next = id
	return true
}

// isStop reports whether id ends the text: the tokenizer's end of text
// (BOS starts another, EOS and end-of-generation tokens end this one) or
// one of the request's stop tokens.
func (j *seqJob) isStop(id int) bool {
	tok := j.s.m.Tokenizer
	if id == tok.BOS() || tok.IsEOG(id) {
		return true
	}
	for _, t := range j.req.StopTokens {
		if id == t {
			return true
		}
	}
	return false
}

// finish ends the job: err nil is a normal end (the last Token carried
// Finish), otherwise the error the consumer gets.
func (j *seqJob) finish(err error) {
	if j.stopCtx != nil {
		j.stopCtx()
	}
	j.s.stats.Duration = time.Since(j.start)
	j.err = err
	close(j.out)
}
