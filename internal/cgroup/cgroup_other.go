//go:build !linux

package cgroup

import (
	"errors"
	"fmt"
	"runtime"
)

// supported reports whether this system has memory cgroups at all: they are
// a Linux feature.
func supported() error {
	return fmt.Errorf("memory cgroups are not available on this system (%s): %w", runtime.GOOS, errors.ErrUnsupported)
}

// writable is not reached: Available stops at supported.
func writable(string) error { return supported() }
