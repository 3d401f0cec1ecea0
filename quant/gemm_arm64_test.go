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
