package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/llmap/llmap/internal/memstats"
	"github.com/llmap/llmap/runtime"
	"github.com/spf13/pflag"
)

// memoryFlags are run's options for paging the model and reporting memory.
type memoryFlags struct {
	budget     string // --mem-budget SIZE, parsed by check
	budgetN    int64
	mlock      bool
	noMmap     bool
	noPrefetch bool
	noRefold   bool
	stats      bool
}

func (f *memoryFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.budget, "mem-budget", "", "keep the model's mapped pages under SIZE (512M, 2G, 1.5GiB) by releasing layers already used")
	fl.BoolVar(&f.mlock, "mlock", false, "pin the whole model in memory (needs RLIMIT_MEMLOCK at least the model size)")
	fl.BoolVar(&f.noMmap, "no-mmap", false, "read the weights into memory instead of mapping the file")
	fl.BoolVar(&f.noPrefetch, "no-prefetch", false, "do not read the next layer ahead while one computes")
	fl.BoolVar(&f.noRefold, "no-refold", false, "leave the page cache as it is: do not read weights cached in small pages again into 2 MiB pages after the first token (docs/memory.md)")
	fl.BoolVar(&f.stats, "stats", false, "print memory figures (peak RSS by kind, PSS, page faults, bytes read) at the end")
}

func (f *memoryFlags) check() error {
	if f.budget != "" {
		n, err := parseSize(f.budget)
		if err != nil {
			return usagef("--mem-budget: %v", err)
		}
		f.budgetN = n
	}
	switch {
	case f.mlock && f.budgetN > 0:
		return usagef("--mlock pins the whole model; it cannot be combined with --mem-budget")
	case f.noMmap && f.budgetN > 0:
		return usagef("--no-mmap reads the whole model into memory; it cannot be combined with --mem-budget")
	}
	return nil
}

func (f *memoryFlags) options(o *runtime.Options) {
	o.MemBudget, o.Mlock, o.NoMmap, o.NoPrefetch, o.NoRefold = f.budgetN, f.mlock, f.noMmap, f.noPrefetch, f.noRefold
}

// parseSize parses a byte count: a number (fractions allowed) with an
// optional unit K, M, G, T, with or without B or iB, in any case. Units are
// binary (M = MiB = 2^20), as memory sizes are.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToUpper(strings.TrimSpace(t[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("%q is not a size (examples: 512M, 2G, 1.5GiB)", s)
	}
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "B"), "I")
	shift, ok := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[unit]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit (use K, M, G or T)", s)
	}
	v *= float64(uint64(1) << shift)
	if v < 1 || v >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is out of range: want 1 byte up to 8 EiB, e.g. 512M or 2G (leave the flag out for no limit)", s)
	}
	return int64(v), nil
}

// printMemStats writes the figures of a run to w, one per line.
func printMemStats(w io.Writer, ms memstats.Stats, ps runtime.PagingStats) {
	fmt.Fprintf(w, "llmap: memory: peak anonymous RSS %s (heap, KV cache, activations), peak file RSS %s (mapped weights), PSS %s (file %s), peak total RSS %s (VmHWM)\n",
		humanBytes(ms.PeakAnonRSS), humanBytes(ms.PeakFileRSS), humanBytes(ms.PSS), humanBytes(ms.PSSFile), humanBytes(ms.PeakRSS))
	wait := "not measured (kernel.task_delayacct=0)"
	if ms.FaultWaitKnown {
		wait = ms.FaultWait.Round(time.Millisecond).String()
	}
	fmt.Fprintf(w, "llmap: memory: %d major and %d minor page faults, %s read from disk, I/O wait %s\n",
		ms.MajorFaults, ms.MinorFaults, humanBytes(ms.ReadBytes), wait)
	if ps != (runtime.PagingStats{}) {
		fmt.Fprintf(w, "llmap: paging: %d layers prefetched (%v in madvise), %d released (%s) to keep the budget\n",
			ps.Prefetches, ps.PrefetchTime.Round(time.Millisecond), ps.Releases, humanBytes(ps.ReleasedBytes))
	}
	if ps.RefoldTime > 0 {
		fmt.Fprintf(w, "llmap: paging: %s of the weights were cached in small pages, %s of them read again into 2 MiB pages (%v)\n",
			humanBytes(ps.SmallBytes), humanBytes(ps.RefoldBytes), ps.RefoldTime.Round(time.Millisecond))
	}
}
