package bench

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeBytes returns n bytes of anonymous memory advised into 2 MiB pages
// (MADV_HUGEPAGE), and a function that unmaps them. format.Open advises a
// model's mapping the same way, so the weights a decoding step reads sit on
// 2 MiB pages where the page cache allows (and the runtime refolds the
// parts it holds in small folios: docs/memory.md). The read-bandwidth ceiling and
// the matrices of the MatVec suite use such memory too: on 4 KiB pages (a
// Go slice: the Go runtime does not ask for huge pages) the ceiling would
// be lower than what the weights can be read at. Where mmap fails it falls
// back to a Go slice.
//
// format's allocPages and adviseHuge do the same for OpenInMemory; bench
// keeps its own copy of these few lines because make bench-compare copies
// this file (with suite_test.go) over older refs, whose format lacks them.
func hugeBytes(n int) ([]byte, func()) {
	b, err := unix.Mmap(-1, 0, max(n, 1), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n), func() {}
	}
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE) // advice: no THP is not an error
	return b[:n], func() { _ = unix.Munmap(b) }
}

// readBuffer is hugeBytes as n float32s.
func readBuffer(n int) ([]float32, func()) {
	b, release := hugeBytes(4 * n)
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n), release
}
