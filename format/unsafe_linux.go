//go:build linux

package format

// The Linux half of unsafe.go: the one system call that needs a raw pointer.

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mincore fills vec with one byte per page of b (which must start on a page
// boundary), bit 0 set when the page is resident. golang.org/x/sys has no
// wrapper for the system call.
func mincore(b, vec []byte) error {
	if len(b) == 0 {
		return nil
	}
	ps := unix.Getpagesize()
	if len(vec) < (len(b)+ps-1)/ps {
		return fmt.Errorf("mincore: vector of %d bytes for %d pages", len(vec), (len(b)+ps-1)/ps)
	}
	_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if e != 0 {
		return e
	}
	return nil
}
