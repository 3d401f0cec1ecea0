//go:build linux

package format

// The Linux half of unsafe.go: the system calls that need raw pointers.

import (
	"fmt"
	"os"
	"runtime"
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

// pagemapScan is the PAGEMAP_SCAN ioctl of /proc/self/pagemap (Linux 6.7):
// _IOWR('f', 16, struct pm_scan_arg), whose size is 96 bytes.
const pagemapScan = 0xc0606610

// Page categories of PAGEMAP_SCAN (include/uapi/linux/fs.h).
const (
	pageIsPresent = 1 << 3
	pageIsHuge    = 1 << 6 // mapped by a PMD entry (or hugetlb)
)

// pmScanArg is struct pm_scan_arg; pageRegion is struct page_region.
type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages       uint64
	categoryInverted, categoryMask, categoryAnyofMask, returnMask uint64
}

type pageRegion struct{ start, end, categories uint64 }

// scanPresent calls fn with the ranges of b, as offsets into b, that this
// process maps, and whether each is mapped by 2 MiB entries, in address
// order. pagemap is an open /proc/self/pagemap.
func scanPresent(pagemap *os.File, b []byte, fn func(lo, hi int64, huge bool)) error {
	if len(b) == 0 {
		return nil
	}
	base := uint64(addrOf(b))
	start, end := base, base+uint64(len(b))
	var vec [64]pageRegion
	for start < end {
		arg := pmScanArg{
			size:         uint64(unsafe.Sizeof(pmScanArg{})),
			start:        start,
			end:          end,
			vec:          uint64(uintptr(unsafe.Pointer(&vec[0]))),
			vecLen:       uint64(len(vec)),
			categoryMask: pageIsPresent,
			returnMask:   pageIsPresent | pageIsHuge,
		}
		n, _, e := unix.Syscall(unix.SYS_IOCTL, pagemap.Fd(), pagemapScan, uintptr(unsafe.Pointer(&arg)))
		runtime.KeepAlive(&vec)
		if e != 0 {
			return e
		}
		for _, r := range vec[:n] {
			fn(int64(r.start-base), int64(r.end-base), r.categories&pageIsHuge != 0)
		}
		if arg.walkEnd <= start {
			return fmt.Errorf("PAGEMAP_SCAN made no progress at %#x", start)
		}
		start = arg.walkEnd
	}
	return nil
}
