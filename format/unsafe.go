package format

import (
	"fmt"
	"unsafe"
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
	if a := addrOf(b); a%unsafe.Alignof(float32(0)) != 0 {
		return nil, fmt.Errorf("data at address %#x is not 4-byte aligned", a)
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4), nil
}

// addrOf returns the address of b's first element, for alignment checks.
func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
