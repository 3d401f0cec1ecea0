//go:build !linux

package format

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// notAvailable is the error of a paging helper on a system that lacks the
// call it needs (they are Linux-only, mlock Unix-only). It wraps
// errors.ErrUnsupported, so callers can tell it from a failed call.
func notAvailable(what string) error {
	return fmt.Errorf("%s is not available on this system (%s): %w", what, runtime.GOOS, errors.ErrUnsupported)
}

// PagingAvailable reports whether the paging helpers (WillNeed, Populate,
// DontNeed, Resident, DropCache, EvictPageCache) work on this system: nil on
// Linux, an error wrapping errors.ErrUnsupported elsewhere.
func PagingAvailable() error { return notAvailable("paging control (madvise, mincore, fadvise)") }

// HugePages is MADV_HUGEPAGE on Linux; elsewhere it does nothing (advice).
func (f *File) HugePages() error { return nil }

// NoHugePages is MADV_NOHUGEPAGE on Linux; elsewhere it does nothing.
func (f *File) NoHugePages() error { return nil }

// Refold re-reads small-folio parts of the mapping into 2 MiB pages on
// Linux; here it reports that it is not available.
func (f *File) Refold(off, n int64, stop func() bool) (RefoldStats, error) {
	return RefoldStats{}, f.unavailable("PAGEMAP_SCAN")
}

// adviseHuge is MADV_HUGEPAGE on Linux; elsewhere it does nothing.
func adviseHuge([]byte) error { return nil }

// WillNeed is MADV_WILLNEED on Linux; here it reports that it is not available.
func (f *File) WillNeed(off, n int64) error { return f.unavailable("MADV_WILLNEED") }

// Populate is MADV_POPULATE_READ on Linux; here it reports that it is not available.
func (f *File) Populate(off, n int64) error { return f.unavailable("MADV_POPULATE_READ") }

// DontNeed is MADV_DONTNEED on Linux; here it reports that it is not available.
func (f *File) DontNeed(off, n int64) error { return f.unavailable("MADV_DONTNEED") }

// Resident is mincore on Linux; here it reports that it is not available.
func (f *File) Resident(off, n int64) (int64, error) { return 0, f.unavailable("mincore") }

func (f *File) unavailable(what string) error {
	if !f.Mapped() {
		return ErrNotMapped
	}
	return notAvailable(what)
}

// DropCache is POSIX_FADV_DONTNEED on Linux; here it reports that it is not
// available.
func DropCache(fd *os.File, off, n int64) error { return notAvailable("fadvise(DONTNEED)") }

// EvictPageCache is fsync plus POSIX_FADV_DONTNEED on Linux; here it reports
// that it is not available.
func EvictPageCache(path string) error { return notAvailable("fadvise(DONTNEED)") }
