//go:build !linux

package main

import "os"

// isTerminal reports whether f is a character device, the portable
// approximation of a terminal (it is also true for /dev/null, where a
// progress bar costs nothing).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
