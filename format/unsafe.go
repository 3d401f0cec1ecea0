package format

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nativeLittleEndian reports whether the machine stores integers
// little-endian, as .llmap files do.
var nativeLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// float32s reinterprets b as []float32 without copying. It checks the three
// things that make this safe: the host is little-endian, the length is a
// multiple of 4, and the start is 4-byte aligned.
func float32s(b []byte) ([]float32, error) {
	if !nativeLittleEndian {
		return nil, fmt.Errorf("zero-copy float32 views need a little-endian host")
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of float32s", len(b))
	}
	if len(b) == 0 {
		return []float32{}, nil
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	if uintptr(p)%unsafe.Alignof(float32(0)) != 0 {
		return nil, fmt.Errorf("data at address %#x is not 4-byte aligned", uintptr(p))
	}
	return unsafe.Slice((*float32)(p), len(b)/4), nil
}

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
