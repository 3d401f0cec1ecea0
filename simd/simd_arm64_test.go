//go:build arm64 && !noasm

package simd

import (
	"math"
	"testing"
)

// TestExpAccuracy sweeps the NEON exp over its whole input range [-87, 88]
// against float64 math.Exp: every value within 1 float32 ulp; and over the
// softmax range [-87, 0] the sum expSumNEON returns within the rounding of
// float32 additions (n/4 per lane) of the exact sum of the values it wrote.
func TestExpAccuracy(t *testing.T) {
	const n = 1 << 20
	x := make([]float32, n)
	for i := range x {
		x[i] = -87 + 175*float32(i)/n
	}
	y := append([]float32{}, x...)
	expSumNEON(&y[0], n, 0)
	var worst float64
	for i := range x {
		want := math.Exp(float64(x[i]))
		w32 := float32(want)
		ulp := float64(math.Nextafter32(w32, float32(math.Inf(1)))) - float64(w32)
		if e := math.Abs(float64(y[i])-want) / ulp; e > worst {
			worst = e
		}
	}
	t.Logf("largest error %.3f ulp", worst)
	if worst > 1 {
		t.Errorf("exp error up to %.3f ulp, want at most 1", worst)
	}
	neg := n * 87 / 175 // x[:neg] <= 0
	y = append(y[:0], x[:neg]...)
	s := expSumNEON(&y[0], neg, 0)
	var sum float64
	for _, v := range y {
		sum += float64(v)
	}
	if math.Abs(float64(s)-sum) > float64(neg/4+8)*0x1p-24*sum {
		t.Errorf("sum %v, want %v", s, sum)
	}
}
