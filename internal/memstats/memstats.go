// Package memstats reads the memory figures of a process from Linux's /proc
// and getrusage: resident and proportional set sizes by kind, faults, bytes
// read, and the figures of one mapped file. llmap run --stats, llmap bench
// and the tests that measure paging use it.
package memstats

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Stats are the memory figures of this process, read from Linux's /proc
// and getrusage. Each field says where it comes from, because the figures
// people quote for mapped models are easy to misread: RSS counts mapped
// weights that the kernel can drop at any time, and pages shared with other
// processes are counted in full by each of them (PSS divides them).
type Stats struct {
	// Current resident set from /proc/self/status: RSS = AnonRSS + FileRSS
	// (+ shared memory, not used by llmap). AnonRSS is the heap, the KV
	// cache and activations (and weights read with NoMmap); FileRSS is the
	// mapped model (and the program's own text).
	RSS, AnonRSS, FileRSS int64
	// PeakRSS is the kernel's high-water mark of RSS (VmHWM) since the
	// process started. The kernel keeps no peak per kind.
	PeakRSS int64
	// PeakAnonRSS and PeakFileRSS are the largest AnonRSS and FileRSS a
	// Sampler saw; sampled, so a short spike between samples is missed.
	// Zero in a single Read.
	PeakAnonRSS, PeakFileRSS int64
	// PSS is the proportional set size from /proc/self/smaps_rollup: each
	// page counted divided by the number of processes mapping it. PSSFile
	// is its file-backed part (the shared model weights).
	PSS, PSSAnon, PSSFile int64
	// MajorFaults needed a disk read; MinorFaults found the page in memory
	// (getrusage). A Sampler reports the counts during the sampled run.
	// Linux counts a fault whose readahead brought the page in, then was
	// retried, as minor at times: ReadBytes is the surer figure of disk
	// reads.
	MajorFaults, MinorFaults uint64
	// ReadBytes is what the process caused to be read from storage
	// (/proc/self/io read_bytes), including page faults and readahead of
	// the model file; page-cache hits are not counted.
	ReadBytes int64
	// FaultWait is the time threads spent waiting for block I/O (page
	// faults and reads), from the kernel's delay accounting, summed over
	// threads. FaultWaitKnown is false when delay accounting is off
	// (sysctl kernel.task_delayacct=0), the usual default.
	FaultWait      time.Duration
	FaultWaitKnown bool
}

// Read returns the current figures of this process; counters are
// totals since the process started.
func Read() (Stats, error) {
	var s Stats
	if err := procAvailable(); err != nil {
		return s, err
	}
	if err := readStatus(&s); err != nil {
		return s, err
	}
	if err := readRollup(&s); err != nil {
		return s, err
	}
	var err error
	if s.MajorFaults, s.MinorFaults, err = pageFaults(); err != nil {
		return s, err
	}
	s.ReadBytes, _ = readIOBytes() // absent without task I/O accounting: leave 0
	s.FaultWait, s.FaultWaitKnown = readBlkioDelay()
	return s, nil
}

// procFields calls fn for each "Key: value kB" line of a /proc file, with
// the value in bytes.
func procFields(path string, fn func(key string, bytes int64)) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for line := range strings.Lines(string(b)) {
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		fn(key, n)
	}
	return nil
}

func readStatus(s *Stats) error {
	return procFields("/proc/self/status", func(k string, n int64) {
		switch k {
		case "VmRSS":
			s.RSS = n
		case "RssAnon":
			s.AnonRSS = n
		case "RssFile":
			s.FileRSS = n
		case "VmHWM":
			s.PeakRSS = n
		}
	})
}

func readRollup(s *Stats) error {
	return procFields("/proc/self/smaps_rollup", func(k string, n int64) {
		switch k {
		case "Pss":
			s.PSS = n
		case "Pss_Anon":
			s.PSSAnon = n
		case "Pss_File":
			s.PSSFile = n
		}
	})
}

func readIOBytes() (int64, error) {
	var n int64 = -1
	err := procFields("/proc/self/io", func(k string, v int64) {
		if k == "read_bytes" {
			n = v
		}
	})
	if err == nil && n < 0 {
		err = errors.New("/proc/self/io has no read_bytes")
	}
	return max(n, 0), err
}

// clockTicks is USER_HZ, the unit of the delay fields of /proc/*/stat; it is
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// readBlkioDelay sums delayacct_blkio_ticks (field 42 of /proc/PID/task/TID/stat)
// over the threads of this process. Threads that exited are not counted.
func readBlkioDelay() (time.Duration, bool) {
	if b, err := os.ReadFile("/proc/sys/kernel/task_delayacct"); err != nil || strings.TrimSpace(string(b)) != "1" {
		return 0, false
	}
	stats, err := filepath.Glob("/proc/self/task/*/stat")
	if err != nil || len(stats) == 0 {
		return 0, false
	}
	var ticks int64
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread exited
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
		if len(f) < 40 {
			return 0, false
		}
		n, err := strconv.ParseInt(f[39], 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, true
}

// Sampler follows the memory figures of this process during a run: it
// samples RSS by kind every interval (PSS every tenth sample, since
// smaps_rollup walks the page tables) to find the peaks, and counts faults,
// bytes read and I/O wait from Start to Stop.
type Sampler struct {
	start    Stats
	interval time.Duration
	stop     chan struct{}
	done     chan struct{}

	mu   sync.Mutex
	peak Stats // PeakAnonRSS, PeakFileRSS, PSS maxima
	err  error
}

// Start takes the starting figures and starts sampling every
// interval (<= 0 means 50ms). Call Stop to end it.
func Start(interval time.Duration) (*Sampler, error) {
	if interval <= 0 {
		interval = 50 * time.Millisecond
	}
	st, err := Read()
	if err != nil {
		return nil, err
	}
	s := &Sampler{start: st, interval: interval, stop: make(chan struct{}), done: make(chan struct{})}
	s.observe(st, true)
	go s.loop()
	return s, nil
}

func (s *Sampler) loop() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for i := 1; ; i++ {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		var st Stats
		err := readStatus(&st)
		withPSS := i%10 == 0
		if err == nil && withPSS {
			err = readRollup(&st)
		}
		if err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			return
		}
		s.observe(st, withPSS)
	}
}

func (s *Sampler) observe(st Stats, withPSS bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak.PeakAnonRSS = max(s.peak.PeakAnonRSS, st.AnonRSS)
	s.peak.PeakFileRSS = max(s.peak.PeakFileRSS, st.FileRSS)
	if withPSS {
		s.peak.PSS = max(s.peak.PSS, st.PSS)
		s.peak.PSSAnon = max(s.peak.PSSAnon, st.PSSAnon)
		s.peak.PSSFile = max(s.peak.PSSFile, st.PSSFile)
	}
}

// Stop ends sampling and returns the figures of the run: current RSS and
// PeakRSS (VmHWM, since process start) as read now; PeakAnonRSS and
// PeakFileRSS sampled; PSS, PSSAnon and PSSFile the largest sampled (so a
// model released before Stop still shows); faults, bytes read and I/O
// wait counted from Start.
func (s *Sampler) Stop() (Stats, error) {
	close(s.stop)
	<-s.done
	end, err := Read()
	if err != nil {
		return end, err
	}
	s.observe(end, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return end, s.err
	}
	r := end
	r.PeakAnonRSS, r.PeakFileRSS = s.peak.PeakAnonRSS, s.peak.PeakFileRSS
	r.PSS, r.PSSAnon, r.PSSFile = s.peak.PSS, s.peak.PSSAnon, s.peak.PSSFile
	r.MajorFaults -= s.start.MajorFaults
	r.MinorFaults -= s.start.MinorFaults
	r.ReadBytes -= s.start.ReadBytes
	r.FaultWait -= s.start.FaultWait
	return r, nil
}

// Mapping is the figures of one mapped file in one process, from
// /proc/PID/smaps, summed over the file's mappings.
type Mapping struct {
	Size int64 // bytes mapped
	RSS  int64 // bytes of the mapping resident in this process's page tables
	PSS  int64 // RSS with each page divided by the number of processes mapping it
	PMD  int64 // of RSS, bytes mapped by 2 MiB entries (FilePmdMapped): 2 MiB folios of the page cache
}

// ReadMapping returns the smaps figures of the file at path as mapped
// by process pid (0 = this process). A process that does not map the file
// gets zeros.
func ReadMapping(pid int, path string) (Mapping, error) {
	var ms Mapping
	abs, err := filepath.Abs(path)
	if err != nil {
		return ms, err
	}
	proc := "self"
	if pid > 0 {
		proc = strconv.Itoa(pid)
	}
	b, err := os.ReadFile("/proc/" + proc + "/smaps")
	if err != nil {
		return ms, err
	}
	in := false
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if isMapsHeader(f[0]) {
			in = len(f) >= 6 && strings.Join(f[5:], " ") == abs
			continue
		}
		if !in || len(f) < 2 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "Size:":
			ms.Size += n * 1024
		case "Rss:":
			ms.RSS += n * 1024
		case "Pss:":
			ms.PSS += n * 1024
		case "FilePmdMapped:":
			ms.PMD += n * 1024
		}
	}
	return ms, nil
}

// isMapsHeader reports whether s is the address range that starts a
// mapping's entry in /proc/PID/maps or smaps ("7f12a000-7f12b000").
func isMapsHeader(s string) bool {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	_, e1 := strconv.ParseUint(lo, 16, 64)
	_, e2 := strconv.ParseUint(hi, 16, 64)
	return e1 == nil && e2 == nil
}

// MappedBytes returns how many bytes of [off, off+n) of the file at path
// are mapped in this process's page tables (present bit of
// /proc/self/pagemap), as opposed to merely cached by the kernel. It looks
// at the first mapping of the file that starts at file offset 0.
func MappedBytes(path string, off, n int64) (int64, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, err
	}
	maps, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer maps.Close()
	var base uint64
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || strings.Join(f[5:], " ") != abs || f[2] != "00000000" {
			continue
		}
		lo, _, _ := strings.Cut(f[0], "-")
		if base, err = strconv.ParseUint(lo, 16, 64); err != nil {
			return 0, err
		}
		break
	}
	if base == 0 {
		return 0, fmt.Errorf("%s is not mapped at offset 0 in this process", abs)
	}
	pm, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return 0, err
	}
	defer pm.Close()
	ps := int64(os.Getpagesize())
	first, last := off/ps, (off+n+ps-1)/ps
	buf := make([]byte, 8*(last-first))
	if _, err := pm.ReadAt(buf, int64(base/uint64(ps)+uint64(first))*8); err != nil && err != io.EOF {
		return 0, fmt.Errorf("/proc/self/pagemap: %w", err)
	}
	var present int64
	for i := 0; i < len(buf); i += 8 {
		if binary.LittleEndian.Uint64(buf[i:])>>63 == 1 {
			present++
		}
	}
	return present * ps, nil
}
