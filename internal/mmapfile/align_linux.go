//go:build linux

package mmapfile

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// HugePageSize is the size of a transparent huge page (a PMD entry) on the
// architectures llmap runs on: 2 MiB on amd64 and on arm64 with 4 KiB pages.
const HugePageSize = 2 << 20

// mapAligned maps the file read-only at an address that is a multiple of
// HugePageSize. A file page in a 2 MiB folio of the page cache can be
// mapped with one page-table entry (PMD) only where the address and the
// file offset agree modulo 2 MiB; the kernel chooses such an address by
// itself for some file systems (ext4 and xfs on Linux 6.x) but not for
// all. mapAligned reserves the size plus 2 MiB of address space (no
// memory), maps the file over the aligned part (MAP_FIXED) and returns the
// rest of the reservation. A nil slice means: use an ordinary mapping.
func mapAligned(f *os.File, size int64) ([]byte, error) {
	if size < HugePageSize || uint64(size) > uint64(^uintptr(0)>>2) {
		return nil, nil // nothing to gain, or too large to reserve more
	}
	n := uintptr(size)
	span := pageRound(n) + HugePageSize
	resv, err := unix.MmapPtr(-1, 0, nil, span, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, err
	}
	pad := -uintptr(resv) & (HugePageSize - 1)
	addr := unsafe.Add(resv, pad)
	p, err := unix.MmapPtr(int(f.Fd()), 0, addr, n, unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED)
	if err != nil {
		_ = unix.MunmapPtr(resv, span)
		return nil, err
	}
	// Give back the reservation on both sides of the file's pages.
	if pad > 0 {
		_ = unix.MunmapPtr(resv, pad)
	}
	if rest := span - pad - pageRound(n); rest > 0 {
		_ = unix.MunmapPtr(unsafe.Add(p, pageRound(n)), rest)
	}
	return unsafe.Slice((*byte)(p), n), nil
}

func pageRound(n uintptr) uintptr {
	ps := uintptr(os.Getpagesize())
	return (n + ps - 1) &^ (ps - 1)
}

// unmapAligned releases a mapping made by mapAligned.
func unmapAligned(b []byte) error {
	return unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b)), pageRound(uintptr(len(b))))
}
