//go:build unix

package format

import (
	"math"

	"golang.org/x/sys/unix"
)

// Mlock pins the whole file in memory: every page is read now and stays
// resident until Munlock or Close. It works for a mapping and for data read
// into memory by OpenInMemory.
func (f *File) Mlock() error {
	if len(f.data) == 0 {
		return nil
	}
	if err := unix.Mlock(f.data); err != nil {
		var lim unix.Rlimit
		limit := uint64(math.MaxUint64)
		if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim) == nil && lim.Cur != unix.RLIM_INFINITY {
			limit = uint64(lim.Cur) // int64 on FreeBSD
		}
		return &MlockError{Path: f.path, Bytes: int64(len(f.data)), Limit: limit, Err: err}
	}
	return nil
}

// Munlock undoes Mlock.
func (f *File) Munlock() error {
	if len(f.data) == 0 {
		return nil
	}
	return unix.Munlock(f.data)
}
