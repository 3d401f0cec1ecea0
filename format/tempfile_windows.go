//go:build windows

package format

import (
	"math"
	"os"

	"golang.org/x/sys/windows"
)

// lockTemp takes an exclusive lock on the first byte of f without waiting
// (LockFileEx); Windows drops it when the process ends, however it ends.
func lockTemp(f *os.File) error {
	var ol windows.Overlapped
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
}

// freeSpace returns the bytes this user may still write on the volume
// holding dir (GetDiskFreeSpaceEx); ok is false when it cannot tell.
func freeSpace(dir string) (free int64, ok bool) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, false
	}
	var avail, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &totalFree); err != nil || total == 0 || avail > math.MaxInt64 {
		return 0, false
	}
	return int64(avail), true
}
