package quant

import (
	"math/rand/v2"
	"testing"
)

// TestDotAllocatesNothing: the single-row dot products are called per row
// and per token; none of them may allocate, on any tier (the arm64 tier
// once moved its one-element result to the heap).
func TestDotAllocatesNothing(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(41, 42))
		const n = 1027 // a tail after the vector loops
		x := randFloats(rng, n, "normal")
		f32, f16, bf16 := encode(t, F32, x), encode(t, F16, x), encode(t, BF16, x)
		xb := randFloats(rng, 1024, "normal")
		w8, w4, xq := encode(t, Q8_0, xb), encode(t, Q4_0, xb), encode(t, Q8_0, xb)
		var sink float32
		for name, f := range map[string]func(){
			"F32":  func() { sink += DotF32(f32, x) },
			"F16":  func() { sink += DotF16(f16, x) },
			"BF16": func() { sink += DotBF16(bf16, x) },
			"Q8_0": func() { sink += DotQ8_0(w8, xq) },
			"Q4_0": func() { sink += DotQ4_0(w4, xq) },
		} {
			if a := testing.AllocsPerRun(20, f); a != 0 {
				t.Errorf("Dot%s allocated %v times per call", name, a)
			}
		}
		_ = sink
	})
}
