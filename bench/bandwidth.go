package bench

import (
	"sync"
	"time"
)

// DefaultReadBytes is the buffer ReadBandwidth reads: eight times this
// machine class's 32 MiB last-level cache, so that the figure is DRAM's.
const DefaultReadBytes = 256 << 20

// ReadBandwidth measures how fast the given numbers of goroutines together
// read a buffer of size bytes, in bytes per second: for each entry of
// threads, the best pass of those repeated for at least minTime. This is the
// ceiling for generation, which reads every weight once per token.
//
// The buffer is written first so that its pages are real memory, not the
// shared zero page; it is garbage when ReadBandwidth returns.
func ReadBandwidth(size int64, threads []int, minTime time.Duration) []float64 {
	n := max(int(size/8), 1024) &^ 63
	buf := make([]uint64, n)
	for i := range buf {
		buf[i] = uint64(i)
	}
	out := make([]float64, len(threads))
	for k, t := range threads {
		t = max(t, 1)
		best := 0.0
		start := time.Now()
		for pass := 0; pass < 3 || time.Since(start) < minTime; pass++ {
			t0 := time.Now()
			readParallel(buf, t)
			if s := time.Since(t0).Seconds(); s > 0 {
				best = max(best, float64(n*8)/s)
			}
		}
		out[k] = best
	}
	return out
}

// readSink keeps the sums alive so the reads cannot be optimised away.
//
//lint:ignore U1000 written, never read, on purpose
var readSink uint64

// readParallel reads buf once, split into threads contiguous parts.
func readParallel(buf []uint64, threads int) {
	if threads == 1 {
		readSink += readSum(buf)
		return
	}
	share := (len(buf)/threads + 7) &^ 7
	sums := make([]uint64, threads)
	var wg sync.WaitGroup
	for i := range threads {
		lo := min(i*share, len(buf))
		hi := min(lo+share, len(buf))
		wg.Go(func() { sums[i] = readSum(buf[lo:hi]) })
	}
	wg.Wait()
	for _, s := range sums {
		readSink += s
	}
}

// readSum adds up buf with four independent accumulators, eight words per
// step: an integer loop the CPU finishes faster than memory delivers data.
func readSum(buf []uint64) uint64 {
	var s0, s1, s2, s3 uint64
	i := 0
	for ; i+8 <= len(buf); i += 8 {
		c := buf[i : i+8 : i+8]
		s0 += c[0] + c[4]
		s1 += c[1] + c[5]
		s2 += c[2] + c[6]
		s3 += c[3] + c[7]
	}
	for ; i < len(buf); i++ {
		s0 += buf[i]
	}
	return s0 + s1 + s2 + s3
}
