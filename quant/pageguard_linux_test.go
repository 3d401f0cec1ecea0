//go:build linux

package quant

import (
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
)

// endOfPage returns a slice of n bytes holding b that ends exactly where an
// inaccessible page begins, so a kernel reading one byte too far faults.
func endOfPage(t *testing.T, b []byte) []byte {
	t.Helper()
	page := syscall.Getpagesize()
	size := (len(b)+page-1)/page*page + page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[size-page:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	s := mem[size-page-len(b) : size-page : size-page]
	copy(s, b)
	return s
}

// TestKernelsStayInBounds runs every kernel on rows and vectors that end at
// a guard page.
func TestKernelsStayInBounds(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(31, 32))
		for _, n := range []int{1, 7, 8, 9, 33, 1023} {
			w := randFloats(rng, n, "normal")
			xb := encode(t, F32, randFloats(rng, n, "normal"))
			x := make([]float32, n)
			dequantize(F32, x, endOfPage(t, xb))
			DotF32(endOfPage(t, encode(t, F32, w)), x)
			DotF16(endOfPage(t, encode(t, F16, w)), x)
			DotBF16(endOfPage(t, encode(t, BF16, w)), x)
		}
		for _, n := range []int{32, 64, 96, 128, 160, 4096} {
			w := randFloats(rng, n, "normal")
			xq := endOfPage(t, encode(t, Q8_0, randFloats(rng, n, "normal")))
			DotQ8_0(endOfPage(t, encode(t, Q8_0, w)), xq)
			DotQ4_0(endOfPage(t, encode(t, Q4_0, w)), xq)
			for _, typ := range []Type{Q8_0, Q4_0, F16} {
				m, err := NewMatrix(typ, 1, n, endOfPage(t, encode(t, typ, w)))
				if err != nil {
					t.Fatal(err)
				}
				v := NewVec(n)
				v.Set(w, typ)
				MatVec(make([]float32, 1), m, v, 0, 1)
			}
		}
		// K-quants: three rows ending at a guard page, activations too.
		for _, n := range []int{256, 512, 4096} {
			x := randFloats(rng, n, "normal")
			xq := endOfPage(t, encodeAct(t, Q4_K, x))
			for _, typ := range kTypes {
				var rows []byte
				for range 3 {
					rows = append(rows, encode(t, typ, randFloats(rng, n, "normal"))...)
				}
				w := endOfPage(t, rows)
				out := make([]float32, 3)
				kernels.rows[typ](out, w, len(w)/3, activations{q: xq})
				for r := range out {
					want, _ := kDot64(typ, w[r*len(w)/3:][:len(w)/3], xq)
					if math.Abs(float64(out[r])-want) > 1e-3*math.Abs(want)+1e-3 {
						t.Errorf("%s n=%d row %d: %v, want %v", typ, n, r, out[r], want)
					}
				}
			}
		}
	})
}
