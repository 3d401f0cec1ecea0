//go:build !unix

package format

import "os"

// allocPages returns n bytes of page-aligned memory for OpenInMemory. Without
// mmap it is a heap allocation trimmed to start on a page boundary; the
// garbage collector frees it once Close drops the reference.
func allocPages(n int) ([]byte, error) {
	ps := os.Getpagesize()
	b := make([]byte, n+ps)
	off := 0
	if r := int(addrOf(b) % uintptr(ps)); r != 0 {
		off = ps - r
	}
	return b[off : off+n : off+n], nil
}

// freePages releases memory from allocPages: nothing to do but drop it.
func freePages([]byte) error { return nil }
