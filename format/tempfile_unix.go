//go:build unix

package format

import (
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// lockTemp takes an exclusive lock on f without waiting (flock(2)); the
// kernel drops it when the process ends, however it ends.
func lockTemp(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) }

// freeSpace returns the bytes this user may still write on the file system
// holding dir; ok is false when it cannot tell (no blocks: /proc, some FUSE
// mounts) or the figure does not fit in an int64.
func freeSpace(dir string) (free int64, ok bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Blocks == 0 {
		return 0, false
	}
	bsize, avail := int64(st.Bsize), uint64(st.Bavail)
	if bsize <= 0 || avail > uint64(math.MaxInt64/bsize) {
		return 0, false // no block size, or more room than anything can ask for
	}
	return int64(avail) * bsize, true
}
