package bench

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/llmap/llmap/simd"
)

// DefaultReadBytes is the smallest buffer ReadBandwidth reads by default:
// eight times the 32 MiB last-level cache of the EPYC machines here.
// ReadBytes makes it twice the last-level cache where that is larger (the
// Xeon VMs report 480 MiB), so that the figure is DRAM's.
const DefaultReadBytes = 256 << 20

// ReadBytes is the buffer the bandwidth of a run is measured on:
// DefaultReadBytes, or twice the CPU's last-level cache if that is more.
func ReadBytes() int64 {
	return max(DefaultReadBytes, 2*lastLevelCache())
}

// lastLevelCache is the size of the CPU's largest cache as Linux reports
// it (/sys/devices/system/cpu/cpu0/cache/index*/size), or 0.
func lastLevelCache() int64 {
	var largest int64
	for i := range 8 {
		b, err := os.ReadFile("/sys/devices/system/cpu/cpu0/cache/index" + strconv.Itoa(i) + "/size")
		if err != nil {
			break
		}
		s := strings.TrimSpace(string(b))
		unit := int64(1)
		switch {
		case strings.HasSuffix(s, "K"):
			unit, s = 1<<10, strings.TrimSuffix(s, "K")
		case strings.HasSuffix(s, "M"):
			unit, s = 1<<20, strings.TrimSuffix(s, "M")
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n < 1<<30 {
			largest = max(largest, n*unit)
		}
	}
	return largest
}

// ReadBandwidth measures how fast the given numbers of goroutines together
// read a buffer of size bytes, in bytes per second: for each entry of
// threads, the best pass of those repeated for at least minTime. This is the
// ceiling for generation, which reads every weight once per token.
//
// The buffer is written first so that its pages are real memory, not the
// shared zero page, and on Linux it asks for 2 MiB pages as the model's
// mapping does (readBuffer); it is released when ReadBandwidth returns.
func ReadBandwidth(size int64, threads []int, minTime time.Duration) []float64 {
	n := max(int(size/4), 1024) &^ 63
	buf, release := readBuffer(n)
	defer release()
	for i := range buf {
		buf[i] = float32(i & 1023)
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
				best = max(best, float64(n*4)/s)
			}
		}
		out[k] = best
	}
	return out
}

// readSink keeps the sums alive so the reads cannot be optimised away.
//
//lint:ignore U1000 written, never read, on purpose
var readSink float32

// readParallel reads buf once, split into threads contiguous parts.
func readParallel(buf []float32, threads int) {
	if threads == 1 {
		readSink += readSum(buf)
		return
	}
	share := (len(buf)/threads + 15) &^ 15
	sums := make([]float32, threads)
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

// readSum adds up buf with simd.Sum (vek's AVX2 loop on amd64): a scalar
// integer loop read 30% slower on the Xeon VMs (10 against 14 GB/s on one
// core), below what the matrix kernels read, so it was no ceiling for them.
func readSum(buf []float32) float32 {
	return simd.Sum(buf)
}
