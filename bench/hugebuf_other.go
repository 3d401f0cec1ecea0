//go:build !linux

package bench

// hugeBytes returns n bytes and a function that releases them: a Go slice,
// as huge-page advice is Linux's (see hugebuf_linux.go).
func hugeBytes(n int) ([]byte, func()) { return make([]byte, n), func() {} }

// readBuffer is hugeBytes as n float32s.
func readBuffer(n int) ([]float32, func()) { return make([]float32, n), func() {} }
