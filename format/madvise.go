package format

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
)

// ErrNotMapped is returned by the paging helpers for a File whose bytes are
// not a file mapping (NewFile, OpenInMemory, or after Close): advising the
// kernel about anonymous memory would be wrong (MADV_DONTNEED zeroes it).
var ErrNotMapped = errors.New("format: the file's data is not a file mapping")

// notAvailable is the error of a paging helper on a system that lacks the
// call it needs (they are Linux-only, mlock Unix-only). It wraps
// errors.ErrUnsupported, so callers can tell it from a failed call.
func notAvailable(what string) error {
	return fmt.Errorf("%s is not available on this system (%s): %w", what, runtime.GOOS, errors.ErrUnsupported)
}

// Mapped reports whether the File's data is a read-only file mapping made by
// Open, the only case where the paging helpers below apply.
func (f *File) Mapped() bool { return f.mapping != nil && f.data != nil }

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

// MlockError is returned by Mlock when the kernel refuses to lock the
// pages; it carries the limit that usually explains why.
type MlockError struct {
	Path  string
	Bytes int64
	Limit uint64 // RLIMIT_MEMLOCK soft limit in bytes; math.MaxUint64 if unlimited or unknown
	Err   error
}

func (e *MlockError) Error() string {
	limit := "unlimited"
	if e.Limit != math.MaxUint64 {
		limit = fmt.Sprintf("%d bytes", e.Limit)
	}
	return fmt.Sprintf("mlock %s (%d bytes): %v (RLIMIT_MEMLOCK is %s; raise it with 'ulimit -l' or run without --mlock)",
		e.Path, e.Bytes, e.Err, limit)
}

func (e *MlockError) Unwrap() error { return e.Err }
