//go:build linux

package format

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// PagingAvailable reports whether the paging helpers (WillNeed, Populate,
// DontNeed, Resident, DropCache, EvictPageCache) work on this system: nil on
// Linux, an error wrapping errors.ErrUnsupported elsewhere.
func PagingAvailable() error { return nil }

// pageSpan returns data[off:off+n] widened to whole pages of the mapping
// (which starts on a page boundary), clipped to the data. It returns nil for
// an empty or out-of-range span.
func (f *File) pageSpan(off, n int64) []byte {
	size := int64(len(f.data))
	if n <= 0 || off < 0 || off >= size {
		return nil
	}
	end := min(off+n, size)
	if end < off { // overflow
		end = size
	}
	ps := int64(os.Getpagesize())
	lo := off / ps * ps
	hi := min((end+ps-1)/ps*ps, size)
	return f.data[lo:hi:hi]
}

// advise applies madvise(advice) to the pages holding [off, off+n).
func (f *File) advise(off, n int64, advice int, name string) error {
	if !f.Mapped() {
		return ErrNotMapped
	}
	b := f.pageSpan(off, n)
	if b == nil {
		return nil
	}
	if err := unix.Madvise(b, advice); err != nil {
		return fmt.Errorf("madvise(%s) on [%d, +%d) of %s: %w", name, off, n, f.path, err)
	}
	return nil
}

// HugePages asks the kernel to back the mapping with huge pages where it
// can (MADV_HUGEPAGE). With transparent huge pages in "madvise" mode (the
// common default) and a file system with large folios (ext4, xfs, btrfs on
// Linux 6.x), pages read in from then on come in 2 MiB folios, and the
// mapping maps them with one page-table entry each: decoding streams every
// weight once per token, and 4 KiB pages cost it a TLB walk and a new
// hardware-prefetch stream every 4 KiB (a third of the read bandwidth on
// the 1.1B shape). Pages already in the page cache keep their size. For
// anonymous memory (OpenInMemory) it applies to the memory itself. An
// unmapped File or a kernel without transparent huge pages is not an error:
// it is advice.
func (f *File) HugePages() error {
	b := f.data
	if (f.heap == nil && !f.Mapped()) || len(b) == 0 {
		return nil
	}
	return adviseHuge(b)
}

// NoHugePages withdraws the advice of HugePages (MADV_NOHUGEPAGE) for a
// mapped file: with transparent huge pages in "madvise" mode, pages read
// from then on come in the sizes the kernel picks by itself. A memory
// budget wants this, since it releases ranges smaller than 2 MiB.
func (f *File) NoHugePages() error {
	if !f.Mapped() || len(f.data) == 0 {
		return nil
	}
	if err := unix.Madvise(f.data, unix.MADV_NOHUGEPAGE); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("madvise(MADV_NOHUGEPAGE): %w", err)
	}
	return nil
}

// adviseHuge applies MADV_HUGEPAGE to b (page aligned); EINVAL (no
// transparent huge pages in this kernel) is not an error.
func adviseHuge(b []byte) error {
	if err := unix.Madvise(b, unix.MADV_HUGEPAGE); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("madvise(MADV_HUGEPAGE): %w", err)
	}
	return nil
}

// WillNeed asks the kernel to read the pages holding bytes [off, off+n) of
// the file into the page cache now (MADV_WILLNEED), so that later accesses
// do not wait on the disk. It starts the reads and may block while it
// queues them; call it from a goroutine that can wait.
func (f *File) WillNeed(off, n int64) error {
	return f.advise(off, n, unix.MADV_WILLNEED, "MADV_WILLNEED")
}

// Populate reads the pages holding bytes [off, off+n) into the page cache
// and maps them into this process (MADV_POPULATE_READ, Linux 5.14), so
// that the forward pass then reads them without page faults. It blocks
// until the pages are in; call it from a goroutine that can wait. On older
// kernels it falls back to WillNeed.
func (f *File) Populate(off, n int64) error {
	err := f.advise(off, n, unix.MADV_POPULATE_READ, "MADV_POPULATE_READ")
	if errors.Is(err, unix.EINVAL) {
		return f.WillNeed(off, n)
	}
	return err
}

// DontNeed drops the pages holding bytes [off, off+n) from this process's
// mapping (MADV_DONTNEED). The mapping is read-only and its pages are clean,
// so nothing is lost: a later access faults the page in again, from the page
// cache if it is still there. Other processes mapping the file keep theirs.
func (f *File) DontNeed(off, n int64) error {
	return f.advise(off, n, unix.MADV_DONTNEED, "MADV_DONTNEED")
}

// Resident returns how many bytes of the pages holding [off, off+n) are in
// the page cache (mincore). For a file mapping this is page-cache
// residency, which includes pages this process has not mapped (or has
// released with DontNeed) but that are cached for any reader of the file.
func (f *File) Resident(off, n int64) (int64, error) {
	if !f.Mapped() {
		return 0, ErrNotMapped
	}
	b := f.pageSpan(off, n)
	if b == nil {
		return 0, nil
	}
	ps := os.Getpagesize()
	vec := make([]byte, (len(b)+ps-1)/ps)
	if err := mincore(b, vec); err != nil {
		return 0, fmt.Errorf("mincore on [%d, +%d) of %s: %w", off, n, f.path, err)
	}
	var pages int64
	for _, v := range vec {
		pages += int64(v & 1)
	}
	return pages * int64(ps), nil
}

// DropCache asks the kernel to drop the cached pages of bytes [off, off+n)
// of the open file fd (POSIX_FADV_DONTNEED). Pages that a process still
// maps stay. It is advice: the error is worth ignoring.
func DropCache(fd *os.File, off, n int64) error {
	return unix.Fadvise(int(fd.Fd()), off, n, unix.FADV_DONTNEED)
}

// EvictPageCache asks the kernel to drop the cached pages of the file at path
// (fsync, then POSIX_FADV_DONTNEED). Pages still mapped by a process stay.
// Benchmarks and tests use it to start from a cold cache for one file
// without dropping every cache on the machine.
func EvictPageCache(path string) error {
	fd, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fd.Close()
	if err := fd.Sync(); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	if err := unix.Fadvise(int(fd.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("fadvise(DONTNEED) %s: %w", path, err)
	}
	return nil
}
