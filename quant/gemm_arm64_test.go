//go:build arm64 && !noasm

package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMatMulNEONExact checks that the NEON int8 tiles (both paths) give the
// generic tier's results bit for bit: the integer sums are exact and the
// float operations are the generic tier's, in its order, unfused.
func TestMatMulNEONExact(t *testing.T) {
	for _, tier := range GEMMTiers() {
		if tier != "neon" && tier != "neon-no-sdot" {
			continue
		}
		for _, typ := range []Type{Q8_0, Q4_0} {
			t.Run(tier+"/"+typ.String(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(typ), 11))
				for i, sh := range [][3]int{{1, 32, 2}, {7, 96, 5}, {13, 320, 12}, {37, 1024, 19}} {
					rows, cols, n := sh[0], sh[1], sh[2]
					m, xs, check := gemmCase(t, rng, typ, rows, cols, n, i%4)
					b := NewBatch(n, cols)
					b.Set(xs, typ)
					want, got := make([]float32, n*rows), make([]float32, n*rows)
					restore := UseGEMMTier("generic")
					MatMul(strided(want, rows, rows, n), m, 0, rows, b)
					restore()
					restore = UseGEMMTier(tier)
					MatMul(strided(got, rows, rows, n), m, 0, rows, b)
					restore()
					check()
					for j := range got {
						if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
							t.Fatalf("%dx%d, %d vectors: out[%d][%d] = %g, generic %g", rows, cols, n, j/rows, j%rows, got[j], want[j])
						}
					}
				}
			})
		}
	}
}

// TestAttnValuesNEONExact checks that the NEON attention values (FMLA)
// equal the generic tier's bit for bit, which the Go compiler builds with
// fused multiply-adds on arm64.
func TestAttnValuesNEONExact(t *testing.T) {
	for _, typ := range KVTypes {
		rng := rand.New(rand.NewPCG(uint64(typ), 13))
		for _, hs := range []int{3, 4, 17, 64, 100, 128} {
			const nq, nk = 5, 9
			vc := newKVCase(t, rng, typ, nk, 128, 1, 1) // rows of 128 elements, the first hs used
			p := randFloats(rng, nq*nk, "normal")
			o0 := randFloats(rng, nq*hs, "normal")
			run := func(tier string) []float32 {
				restore := UseGEMMTier(tier)
				defer restore()
				o := append([]float32(nil), o0...)
				AttnValues(o, hs, p, nk, nq, typ, vc.data, vc.stride, 0, nk, hs)
				vc.check()
				return o
			}
			want, got := run("generic"), run("neon")
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s hs %d: o[%d] = %g, generic %g", typ, hs, i, got[i], want[i])
				}
			}
		}
	}
}
