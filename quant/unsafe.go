package quant

import (
	"unsafe"

	"github.com/llmap/llmap/simd"
)

// This is the package's only use of unsafe: viewing encoded float32 rows
// (little-endian, as every supported platform is) as []float32 so that the
// vectorised simd.Dot can read them in place.

// littleEndian reports whether the host stores float32 values the way the
// files do.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// bytesAsFloat32 returns b viewed as float32 values when b is 4-byte
// aligned and a whole number of values long; ok is false otherwise (the
// caller then decodes with encoding/binary).
func bytesAsFloat32(b []byte) (v []float32, ok bool) {
	if len(b)%4 != 0 || !littleEndian {
		return nil, false
	}
	if len(b) == 0 {
		return nil, true
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	if uintptr(p)%unsafe.Alignof(float32(0)) != 0 {
		return nil, false
	}
	return unsafe.Slice((*float32)(p), len(b)/4), true
}

// dotFloat32 is simd.Dot; it lives here to keep the simd import in one place.
func dotFloat32(a, b []float32) float32 { return simd.Dot(a, b) }

// float32AsBytes views x as its little-endian bytes.
func float32AsBytes(x []float32) []byte {
	if len(x) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), 4*len(x))
}
