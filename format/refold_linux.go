//go:build linux

package format

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// hugeSize is the size of a PMD-mapped transparent huge page.
const hugeSize = 2 << 20

// refoldRun caps the bytes Refold drops from the page cache at a time, so
// that the forward pass, if it reaches them first, waits for little.
const refoldRun = 32 << 20

// Refold makes the parts of bytes [off, off+n) of the mapping that this
// process maps with 4 KiB page-table entries mappable with 2 MiB entries,
// where that is possible. The page cache keeps a file's pages in folios of
// the sizes they were read or written in; a mapping can use a 2 MiB entry
// only for a 2 MiB folio (at a 2 MiB aligned address), and a file that was
// just written, read page by page, or partly evicted and read back is
// cached in small folios that stay small while cached. Streaming weights
// through 4 KiB entries costs a page walk per 4 KiB.
//
// Refold looks at whole 2 MiB chunks this process has mapped
// (PAGEMAP_SCAN, Linux 6.7) that are mapped by small entries and wholly in
// the page cache. It first asks the kernel to collapse them in memory
// (MADV_COLLAPSE; file mappings need CONFIG_READ_ONLY_THP_FOR_FS), and
// where it cannot, reads them again: MADV_DONTNEED, POSIX_FADV_DONTNEED,
// then MADV_POPULATE_READ through this mapping, which reads them back in
// 2 MiB folios when the mapping is advised with HugePages and the file
// system has large folios (ext4, xfs). A chunk never needs more memory
// than it held: it is dropped before it is read. Pages another process
// maps cannot be dropped and stay as they are. stop, if not nil, is
// checked between runs of chunks and ends the work early.
//
// It blocks while it reads (32 MiB at a time); call it from a goroutine
// that can wait. An error wrapping errors.ErrUnsupported means the kernel
// cannot report how pages are mapped (before 6.7).
func (f *File) Refold(off, n int64, stop func() bool) (RefoldStats, error) {
	var st RefoldStats
	if !f.Mapped() {
		return st, ErrNotMapped
	}
	if addrOf(f.data)%hugeSize != 0 {
		return st, nil // not aligned: no chunk can be mapped by 2 MiB entries
	}
	size := int64(len(f.data))
	lo := (max(off, 0) + hugeSize - 1) / hugeSize * hugeSize
	hi := min(off+max(n, 0), size) / hugeSize * hugeSize
	if hi <= lo {
		return st, nil
	}
	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return st, fmt.Errorf("refold: %w (%w)", err, errors.ErrUnsupported)
	}
	defer pagemap.Close()

	// Chunks mapped by small entries: any mapped range that is not huge.
	small := make([]bool, (hi-lo)/hugeSize)
	err = scanPresent(pagemap, f.data[lo:hi], func(a, b int64, huge bool) {
		if huge {
			st.Huge += b - a
			return
		}
		for c := a / hugeSize; c*hugeSize < b; c++ {
			small[c] = true
		}
	})
	if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) {
		return st, fmt.Errorf("refold: PAGEMAP_SCAN: %w (%w)", err, errors.ErrUnsupported)
	}
	if err != nil {
		return st, fmt.Errorf("refold: PAGEMAP_SCAN on %s: %w", f.path, err)
	}
	// Of those, the ones wholly in the page cache, merged into runs.
	vec := make([]byte, hugeSize/pageSizeOS())
	var runs []span
	for c, s := range small {
		if !s {
			continue
		}
		at := lo + int64(c)*hugeSize
		if mincore(f.data[at:at+hugeSize], vec) != nil || !allResident(vec) {
			continue
		}
		st.Small += hugeSize
		if k := len(runs) - 1; k >= 0 && runs[k].off+runs[k].n == at && runs[k].n < refoldRun {
			runs[k].n += hugeSize
		} else {
			runs = append(runs, span{at, hugeSize})
		}
	}
	if len(runs) == 0 {
		return st, nil
	}

	fd, err := os.Open(f.path)
	if err != nil {
		return st, fmt.Errorf("refold: %w", err)
	}
	defer fd.Close()
	// Dirty pages (a file just written) cannot be dropped: write them back.
	_ = unix.Fdatasync(int(fd.Fd()))
	collapse := true
	failed := 0 // chunks read back in small folios, or never dropped
	const tries = 8
	for _, r := range runs {
		if stop != nil && stop() {
			break
		}
		b := f.data[r.off : r.off+r.n]
		if collapse {
			err := unix.Madvise(b, unix.MADV_COLLAPSE)
			if err == nil {
				st.Collapsed = true
				st.Refolded += hugeMapped(pagemap, b)
				continue
			}
			// EINVAL: not for file mappings on this kernel (or before
			// 6.1). Other errors (EAGAIN, ENOMEM) are this run's.
			collapse = !errors.Is(err, unix.EINVAL)
		}
		// One chunk at a time: a reader of the mapping (the forward pass)
		// that faults a page in between MADV_DONTNEED and the fadvise
		// maps its small folio again, and the fadvise cannot drop it (nor
		// can a 2 MiB folio be read around it); so the window is short,
		// and a chunk that was not wholly dropped is tried again. A chunk
		// that was dropped and read back still small (the reader faulted
		// in between, or no 2 MiB folio could be allocated just then) is
		// tried once more. If the first two chunks come back small, or
		// cannot be dropped at all (tmpfs, another process's mapping),
		// Refold stops there.
		for c := r.off; c < r.off+r.n; c += hugeSize {
			chunk := f.data[c : c+hugeSize]
			readBack := 0
			for try := range tries {
				if err := unix.Madvise(chunk, unix.MADV_DONTNEED); err != nil {
					return st, fmt.Errorf("refold: madvise(MADV_DONTNEED) on %s: %w", f.path, err)
				}
				_ = unix.Fadvise(int(fd.Fd()), c, hugeSize, unix.FADV_DONTNEED)
				dropped := mincore(chunk, vec) == nil && noneResident(vec)
				if err := unix.Madvise(chunk, unix.MADV_POPULATE_READ); err != nil {
					return st, fmt.Errorf("refold: madvise(MADV_POPULATE_READ) on %s: %w", f.path, err)
				}
				if n := hugeMapped(pagemap, chunk); n > 0 {
					st.Refolded += n
					break
				}
				if dropped {
					if readBack++; readBack == 2 {
						failed++
						break
					}
					continue
				}
				if try == tries-1 {
					failed++ // never dropped: another process maps it, or the cache cannot drop (tmpfs)
				}
			}
			if failed >= 2 && st.Refolded == 0 {
				return st, nil
			}
		}
	}
	return st, nil
}

// hugeMapped returns how many bytes of b this process maps by 2 MiB entries.
func hugeMapped(pagemap *os.File, b []byte) int64 {
	var n int64
	_ = scanPresent(pagemap, b, func(lo, hi int64, huge bool) {
		if huge {
			n += hi - lo
		}
	})
	return n
}

// span is a byte range of the file.
type span struct{ off, n int64 }

func noneResident(vec []byte) bool {
	for _, v := range vec {
		if v&1 != 0 {
			return false
		}
	}
	return true
}

func allResident(vec []byte) bool {
	for _, v := range vec {
		if v&1 == 0 {
			return false
		}
	}
	return true
}

func pageSizeOS() int { return os.Getpagesize() }
