//go:build unix

package format

import "golang.org/x/sys/unix"

// allocPages returns n bytes of page-aligned anonymous memory for
// OpenInMemory. An anonymous private mapping is returned to the kernel by
// freePages (on Close), not left to the garbage collector.
func allocPages(n int) ([]byte, error) {
	return unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
}

// freePages releases memory from allocPages.
func freePages(b []byte) error { return unix.Munmap(b) }
