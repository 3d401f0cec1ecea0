package quant

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// halfRef returns the value of binary16 bit pattern h computed in float64
// from the IEEE definition (NaN for NaN patterns).
func halfRef(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e := int(h>>10) & 0x1f
	m := float64(h & 0x3ff)
	switch e {
	case 0x1f:
		if m != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	case 0:
		return sign * math.Ldexp(m, -24)
	}
	return sign * math.Ldexp(1+m/1024, e-15)
}

// bf16Ref returns the value of bfloat16 bit pattern h computed in float64.
func bf16Ref(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e := int(h>>7) & 0xff
	m := float64(h & 0x7f)
	switch e {
	case 0xff:
		if m != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	case 0:
		return sign * math.Ldexp(m, -133)
	}
	return sign * math.Ldexp(1+m/128, e-127)
}

func TestFP16Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		want := halfRef(h)
		got := FP16ToFP32(h)
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("FP16ToFP32(%#04x) = %v, want NaN", h, got)
			}
			if back := FP32ToFP16(got); back&0x7c00 != 0x7c00 || back&0x3ff == 0 || back&0x8000 != h&0x8000 {
				t.Fatalf("FP32ToFP16(NaN from %#04x) = %#04x, not a NaN of the same sign", h, back)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
			t.Fatalf("FP16ToFP32(%#04x) = %v, want %v", h, got, want)
		}
		if back := FP32ToFP16(got); back != h {
			t.Fatalf("FP32ToFP16(FP16ToFP32(%#04x)) = %#04x", h, back)
		}
	}
}

func TestBF16Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		want := bf16Ref(h)
		got := BF16ToFP32(h)
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) || !math.IsNaN(float64(BF16ToFP32(FP32ToBF16(got)))) {
				t.Fatalf("BF16 NaN %#04x not preserved", h)
			}
			continue
		}
		if float64(got) != want {
			t.Fatalf("BF16ToFP32(%#04x) = %v, want %v", h, got, want)
		}
		if back := FP32ToBF16(got); back != h {
			t.Fatalf("FP32ToBF16(BF16ToFP32(%#04x)) = %#04x", h, back)
		}
	}
}

// nearestRef rounds v to the nearest of the sorted finite non-negative
// values vals (with their bit patterns), ties to the even pattern; above
// the largest value by at least half an ulp (ulpTop) it gives inf.
func nearestRef(v float64, vals []float64, bits []uint16, ulpTop float64, inf uint16) uint16 {
	a := math.Abs(v)
	var sign uint16
	if math.Signbit(v) {
		sign = 0x8000
	}
	top := vals[len(vals)-1]
	if a >= top+ulpTop/2 {
		return sign | inf
	}
	i := sort.SearchFloat64s(vals, a) // vals[i] >= a
	if i == len(vals) {
		return sign | bits[len(bits)-1]
	}
	if vals[i] == a || i == 0 {
		return sign | bits[i]
	}
	lo, hi := vals[i-1], vals[i]
	switch {
	case a-lo < hi-a:
		return sign | bits[i-1]
	case a-lo > hi-a:
		return sign | bits[i]
	case bits[i-1]&1 == 0:
		return sign | bits[i-1]
	}
	return sign | bits[i]
}

func TestFP32ToHalfRounding(t *testing.T) {
	// All finite non-negative values of each format, ascending.
	var hv, bv []float64
	var hb, bb []uint16
	for i := 0; i < 0x7c00; i++ {
		hv, hb = append(hv, halfRef(uint16(i))), append(hb, uint16(i))
	}
	for i := 0; i < 0x7f80; i++ {
		bv, bb = append(bv, bf16Ref(uint16(i))), append(bb, uint16(i))
	}
	check := func(f float32) {
		if math.IsNaN(float64(f)) {
			return
		}
		if got, want := FP32ToFP16(f), nearestRef(float64(f), hv, hb, 32, 0x7c00); got != want {
			t.Fatalf("FP32ToFP16(%v = %#08x) = %#04x, want %#04x", f, math.Float32bits(f), got, want)
		}
		if got, want := FP32ToBF16(f), nearestRef(float64(f), bv, bb, math.Ldexp(1, 120), 0x7f80); got != want {
			t.Fatalf("FP32ToBF16(%v = %#08x) = %#04x, want %#04x", f, math.Float32bits(f), got, want)
		}
	}
	// Midpoints between neighbours (ties) and their float32 neighbours.
	for i := 1; i < len(hv); i++ {
		m := float32((hv[i-1] + hv[i]) / 2)
		for _, f := range []float32{m, math.Nextafter32(m, 0), math.Nextafter32(m, 1e9)} {
			check(f)
			check(-f)
		}
	}
	for i := 1; i < len(bv); i++ {
		m := float32((bv[i-1] + bv[i]) / 2)
		for _, f := range []float32{m, math.Nextafter32(m, 0), math.Nextafter32(m, float32(math.Inf(1)))} {
			check(f)
		}
	}
	for _, f := range []float32{0, 65504, 65519, 65520, 65536, 1e-8, 2.9802322e-08, 2.9802326e-08, 5.9604645e-08,
		float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, math.SmallestNonzeroFloat32} {
		check(f)
		check(-f)
	}
	rng := rand.New(rand.NewPCG(13, 14))
	for range 200000 {
		check(math.Float32frombits(rng.Uint32()))
	}
}
