package format

import (
	"errors"
	"fmt"
	"math"
)

// ErrNotMapped is returned by the paging helpers for a File whose bytes are
// not a file mapping (NewFile, OpenInMemory, or after Close): advising the
// kernel about anonymous memory would be wrong (MADV_DONTNEED zeroes it).
var ErrNotMapped = errors.New("format: the file's data is not a file mapping")

// Mapped reports whether the File's data is a read-only file mapping made by
// Open, the only case where the paging helpers below apply.
func (f *File) Mapped() bool { return f.mapping != nil && f.data != nil }

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

// RefoldStats reports what File.Refold found and did, in bytes of whole
// 2 MiB chunks of the mapping.
type RefoldStats struct {
	Huge      int64 // mapped by 2 MiB entries already
	Small     int64 // mapped by small pages, and wholly in the page cache
	Refolded  int64 // of Small, mapped by 2 MiB entries afterwards
	Collapsed bool  // MADV_COLLAPSE did the work in memory, without re-reading
}
