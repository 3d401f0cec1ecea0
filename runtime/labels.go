package runtime

import (
	"context"
	"runtime/pprof"

	"github.com/llmap/llmap/quant"
)

// Profiler labels. Every goroutine that does the work of a token carries
// phase=tokenize|prefill|decode|sample (the phase Generate is in) and, while
// it runs a kernel, kernel=f32|f16|bf16|q8_0|q4_0 (the weight type of the
// product) or kernel=attention. go tool pprof -tagfocus phase=decode or
// -tagfocus kernel=q8_0 then keeps that part of a CPU profile. The label
// sets are made once, so switching between them allocates nothing.

// phase is a step of Generate.
type phase uint8

const (
	phaseNone phase = iota
	phaseTokenize
	phasePrefill
	phaseDecode
	phaseSample
	numPhases
)

var phaseNames = [numPhases]string{"", "tokenize", "prefill", "decode", "sample"}

// kernelNames names the kernels of labels: each tensor type (indexed by
// its quant.Type), then attention.
var kernelNames = func() (names []string) {
	for _, t := range quant.Types() {
		names = append(names, t.String())
	}
	return append(names, "attention")
}()

// kernelAttention follows the tensor types in the kernel index of labels.
var kernelAttention = len(kernelNames) - 1

// labels[p][0] labels phase p alone; labels[p][k+1] adds kernel k.
var labels = func() (l [numPhases][]context.Context) {
	for p := range l {
		l[p] = make([]context.Context, len(kernelNames)+1)
		var base []string
		if p != int(phaseNone) {
			base = []string{"phase", phaseNames[p]}
		}
		l[p][0] = pprof.WithLabels(context.Background(), pprof.Labels(base...))
		for k, name := range kernelNames {
			l[p][k+1] = pprof.WithLabels(context.Background(), pprof.Labels(append(base, "kernel", name)...))
		}
	}
	return l
}()

// kernelLabel is the label set of kernel k (a quant.Type or
// kernelAttention) in phase p.
func kernelLabel(p phase, k int) context.Context {
	if k < 0 || k >= len(kernelNames) {
		return labels[p][0]
	}
	return labels[p][k+1]
}

// setPhase labels the calling goroutine with phase p and tells the pool,
// which labels its kernels with it. The pool's phase is shared by the
// model's callers: it is written between forward passes, so concurrent
// generations may label each other's kernels, never race.
func (m *Model) setPhase(p phase) {
	m.fwd.Lock()
	m.pool.phase = p
	m.fwd.Unlock()
	pprof.SetGoroutineLabels(labels[p][0])
}
