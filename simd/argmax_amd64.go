//go:build amd64 && !noasm

package simd

import "golang.org/x/sys/cpu"

// Argmax has an AVX2 tier on amd64 (argmax_amd64.s): the generic loop is
// scalar and ran 45-75 us over a 32000-token vocabulary, serially on the
// batch scheduler's goroutine once per sequence and step.
func init() {
	if cpu.X86.HasAVX2 {
		argmaxImpl = argmaxAVX2
	}
}

// argmaxMaxAVX2 returns the largest non-NaN element of p[:n], or -Inf if
// there is none. n must be a positive multiple of 32.
//
//go:noescape
func argmaxMaxAVX2(p *float32, n int) float32

// argmaxFindAVX2 returns the first i < n with p[i] == v, or -1. n must be a
// positive multiple of 32.
//
//go:noescape
func argmaxFindAVX2(p *float32, n int, v float32) int

// argmaxAVX2 has argmaxGeneric's result in two passes: the maximum over the
// non-NaN elements, then the first element equal to it (NaN equals
// nothing; -0 equals +0, and the first of them wins as in the loop).
func argmaxAVX2(x []float32) int {
	n := len(x) &^ 31
	if n == 0 {
		return argmaxGeneric(x)
	}
	m := argmaxMaxAVX2(&x[0], n)
	for _, v := range x[n:] {
		if v > m {
			m = v
		}
	}
	if i := argmaxFindAVX2(&x[0], n, m); i >= 0 {
		return i
	}
	for i, v := range x[n:] {
		if v == m {
			return n + i
		}
	}
	return 0 // every element is NaN
}
