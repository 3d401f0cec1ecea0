//go:build !linux

package memstats

import (
	"errors"
	"fmt"
	"runtime"
)

// procAvailable reports whether Read can work here: it reads
// Linux's /proc, so elsewhere it reports that the figures are not available.
func procAvailable() error {
	return fmt.Errorf("memory statistics (/proc) are not available on this system (%s): %w", runtime.GOOS, errors.ErrUnsupported)
}

// pageFaults is not reached without /proc (Read stops at
// procAvailable).
func pageFaults() (major, minor uint64, err error) { return 0, 0, procAvailable() }
