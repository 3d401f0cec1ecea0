//go:build windows

package memstats

import (
	"time"

	"golang.org/x/sys/windows"
)

// CPUTime returns the CPU time this process has used, user plus system
// (GetProcessTimes): a measure of work that the other processes of a busy
// machine skew less than they skew wall time.
func CPUTime() time.Duration {
	var creation, exit, kernel, user windows.Filetime
	if windows.GetProcessTimes(windows.CurrentProcess(), &creation, &exit, &kernel, &user) != nil {
		return 0
	}
	// Filetime counts 100 ns intervals; as a duration it is the sum of the
	// two 64-bit counts times 100 ns.
	ticks := func(f windows.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration(ticks(kernel)+ticks(user)) * 100
}
