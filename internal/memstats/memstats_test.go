//go:build linux

package memstats

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/llmap/llmap/format"
	"golang.org/x/sys/unix"
)

// TestMemSamplerSeesAnonymousPeak allocates and touches 64 MiB during a
// sampled interval: the sampled peak of anonymous RSS must include it.
func TestMemSamplerSeesAnonymousPeak(t *testing.T) {
	s, err := Start(5 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 64<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	time.Sleep(50 * time.Millisecond)
	st, err := s.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if st.PeakAnonRSS < s.start.AnonRSS+48<<20 || st.PeakRSS < st.PeakAnonRSS || st.PSS <= 0 || st.RSS <= 0 {
		t.Errorf("after touching 64 MiB: %+v (anonymous RSS at start %d)", st, s.start.AnonRSS)
	}
	if b[len(b)-4096] != 1 {
		t.Fatal("lost the buffer")
	}
}

// TestMappedFileFigures maps a file evicted from the page cache and reads
// every page: the bytes read from disk, the mapping's RSS in
// smaps and the present pages in pagemap must all show it, and
// MADV_DONTNEED must clear the last two.
func TestMappedFileFigures(t *testing.T) {
	const size = 8 << 20
	path := filepath.Join(t.TempDir(), "data")
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := format.EvictPageCache(path); err != nil {
		t.Fatal(err)
	}
	fd, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	m, err := unix.Mmap(int(fd.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)

	before, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	var sum int
	for i := 0; i < size; i += 4096 {
		sum += int(m[i])
	}
	t.Logf("sum %d", sum)
	after, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	// Major faults are not asserted: when the fault's readahead brings the
	// page in and the fault is retried, Linux 6.18 often counts it minor.
	t.Logf("faults: %d major, %d minor", after.MajorFaults-before.MajorFaults, after.MinorFaults-before.MinorFaults)
	if _, ioErr := os.Stat("/proc/self/io"); ioErr == nil && after.ReadBytes-before.ReadBytes < size/2 {
		t.Errorf("read %d bytes from disk, want about %d", after.ReadBytes-before.ReadBytes, size)
	}
	ms, err := ReadMapping(0, path)
	if err != nil {
		t.Fatal(err)
	}
	mapped, err := MappedBytes(path, 0, size)
	if err != nil {
		t.Fatal(err)
	}
	if ms.Size != size || ms.RSS != size || ms.PSS != size || mapped != size {
		t.Errorf("after reading every page: smaps %+v, pagemap %d bytes; want %d", ms, mapped, size)
	}
	if err := unix.Madvise(m, unix.MADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	ms, _ = ReadMapping(0, path)
	mapped, _ = MappedBytes(path, 0, size)
	if ms.RSS != 0 || mapped != 0 {
		t.Errorf("after MADV_DONTNEED: smaps %+v, pagemap %d bytes; want none", ms, mapped)
	}
}
