//go:build unix

package memstats

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time this process has used, user plus system
// (getrusage): a measure of work that the other processes of a busy
// machine skew less than they skew wall time.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
