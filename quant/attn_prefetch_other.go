//go:build !amd64 || noasm

package quant

// Prefetch asks the hardware to bring b into the caches without waiting
// for it: a hint that b is read soon. Without the assembly tier it does
// nothing.
func Prefetch(b []byte) {}
