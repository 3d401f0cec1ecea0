package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// withTiers runs f with the dispatched helpers (NEON on arm64) and with the
// generic tier forced by DisableAsm.
func withTiers(t *testing.T, f func(t *testing.T)) {
	t.Run("dispatch", f)
	t.Run("generic", func(t *testing.T) {
		restore := DisableAsm()
		defer restore()
		f(t)
	})
}

// guarded copies x into a buffer at element offset off (so the slice starts
// unaligned for off%4 != 0), surrounded by guard values g, and returns the
// copy and a check that fails if a guard changed. A reduction that read a
// guard would return it (NaN, or +Inf for Max).
func guarded(t *testing.T, x []float32, off int, g float32) ([]float32, func()) {
	const guard = 16
	buf := make([]float32, guard+off+len(x)+guard)
	for i := range buf {
		buf[i] = g
	}
	s := buf[guard+off : guard+off+len(x) : guard+off+len(x)]
	copy(s, x)
	return s, func() {
		t.Helper()
		same := func(v float32) bool { return v == g || (g != g && v != v) }
		for i := 0; i < guard+off; i++ {
			if !same(buf[i]) {
				t.Fatalf("guard %d before the slice changed to %v", i, buf[i])
			}
		}
		for i := guard + off + len(x); i < len(buf); i++ {
			if !same(buf[i]) {
				t.Fatalf("guard %d after the slice changed to %v", i-guard-off-len(x), buf[i])
			}
		}
	}
}

var (
	nan     = float32(math.NaN())
	tierLen = append(append([]int{}, lengths...), 4, 12, 20, 64, 100, 4099)
)

func TestTiersReductions(t *testing.T) {
	withTiers(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, n := range tierLen {
			for off := 0; off < 4; off++ {
				name := fmt.Sprintf("n=%d off=%d", n, off)
				a, checkA := guarded(t, randVec(rng, n, 1), off, nan)
				b, checkB := guarded(t, randVec(rng, n, 100), 3-off, nan)
				var dot, mag, sum, sumMag float64
				for i := range a {
					dot += float64(a[i]) * float64(b[i])
					mag += math.Abs(float64(a[i]) * float64(b[i]))
					sum += float64(a[i])
					sumMag += math.Abs(float64(a[i]))
				}
				if got := Dot(a, b); math.Abs(float64(got)-dot) > dotTol*float64(n+8)*mag {
					t.Errorf("%s: Dot = %v, want %v", name, got, dot)
				}
				if got := SumSquares(a); got < 0 || math.IsNaN(float64(got)) {
					t.Errorf("%s: SumSquares = %v", name, got)
				}
				if got := Sum(a); math.Abs(float64(got)-sum) > dotTol*float64(n+8)*sumMag {
					t.Errorf("%s: Sum = %v, want %v", name, got, sum)
				}
				checkA()
				checkB()
				if n == 0 {
					continue
				}
				c, checkC := guarded(t, a, off, float32(math.Inf(1)))
				want := c[0]
				for _, v := range c {
					want = max(want, v)
				}
				if got := Max(c); got != want {
					t.Errorf("%s: Max = %v, want %v", name, got, want)
				}
				checkC()
			}
		}
	})
}

func TestTiersElementwise(t *testing.T) {
	withTiers(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, n := range tierLen {
			for off := 0; off < 4; off++ {
				name := fmt.Sprintf("n=%d off=%d", n, off)
				a0, b0 := randVec(rng, n, 1), randVec(rng, n, 10)
				a, checkA := guarded(t, a0, off, 7)
				b, checkB := guarded(t, b0, (off+1)%4, nan)
				Add(a, b)
				for i := range a {
					if a[i] != a0[i]+b0[i] {
						t.Fatalf("%s: Add [%d] = %v, want %v", name, i, a[i], a0[i]+b0[i])
					}
				}
				Scale(a, -1.5)
				for i := range a {
					if want := (a0[i] + b0[i]) * -1.5; a[i] != want {
						t.Fatalf("%s: Scale [%d] = %v, want %v", name, i, a[i], want)
					}
				}
				checkA()
				checkB()
			}
		}
	})
}

// TestTiersRMSNorm checks RMSNorm against float64 and the scaling step of
// each tier against the Go loop bit for bit (both round twice, unfused).
func TestTiersRMSNorm(t *testing.T) {
	withTiers(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, n := range tierLen[1:] {
			for off := 0; off < 4; off++ {
				name := fmt.Sprintf("n=%d off=%d", n, off)
				x0, w0 := randVec(rng, n, 3), randVec(rng, n, 1)
				const eps = 1e-5
				var ss float64
				for _, v := range x0 {
					ss += float64(v) * float64(v)
				}
				inv := 1 / math.Sqrt(ss/float64(n)+eps)
				x, checkX := guarded(t, x0, off, nan)
				w, checkW := guarded(t, w0, 3-off, nan)
				o, checkO := guarded(t, make([]float32, n), (off+2)%4, 7)
				RMSNorm(o, x, w, eps)
				for i := range o {
					want := float64(w0[i]) * float64(x0[i]) * inv
					if math.Abs(float64(o[i])-want) > 1e-6*math.Abs(want)+1e-30 {
						t.Fatalf("%s: RMSNorm [%d] = %v, want %v", name, i, o[i], want)
					}
				}
				RMSNorm(x, x, w, eps) // in place
				for i := range x {
					if x[i] != o[i] {
						t.Fatalf("%s: in-place RMSNorm [%d] = %v, want %v", name, i, x[i], o[i])
					}
				}
				scaleMulImpl(o, x0, w0, 0.37)
				for i := range o {
					if want := w0[i] * (0.37 * x0[i]); o[i] != want {
						t.Fatalf("%s: scaling [%d] = %v, want %v exactly", name, i, o[i], want)
					}
				}
				checkX()
				checkW()
				checkO()
			}
		}
	})
}

// swiGLUTol bounds the relative error of SwiGLU against float64: the NEON
// tier's float32 exp is within a few ulps, the generic one rounds a float64
// sigmoid; both then round two products.
const swiGLUTol = 8 * 0x1p-24

func TestTiersSwiGLU(t *testing.T) {
	withTiers(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(17, 18))
		special := []float32{0, float32(math.Copysign(0, -1)), 1e-40, -1e-40, 1, -1, 20, -20, 87, -87, 88, -88, 90, -90, 1e4, -1e4}
		for _, n := range tierLen {
			for _, scale := range []float64{1, 8, 60} {
				for off := 0; off < 4; off++ {
					name := fmt.Sprintf("n=%d scale=%v off=%d", n, scale, off)
					h0, g0 := randVec(rng, n, scale), randVec(rng, n, 2)
					for i := 0; i < n && i < len(special) && scale == 1; i++ {
						h0[i] = special[i]
					}
					h, checkH := guarded(t, h0, off, 7)
					g, checkG := guarded(t, g0, 3-off, nan)
					SwiGLU(h, g)
					for i := range h {
						v := float64(h0[i])
						want := v / (1 + math.Exp(-v)) * float64(g0[i])
						// Below -87 the NEON exp saturates: silu(v) is then
						// below 1e-35 either way.
						if d := math.Abs(float64(h[i]) - want); d > swiGLUTol*math.Abs(want)+1e-35 || math.IsNaN(float64(h[i])) {
							t.Fatalf("%s: SwiGLU [%d] of %v = %v, want %v", name, i, h0[i], h[i], want)
						}
					}
					checkH()
					checkG()
				}
			}
		}
		h, g := []float32{nan, 1}, []float32{1, nan}
		SwiGLU(h, g)
		if h[0] == h[0] || h[1] == h[1] {
			t.Errorf("SwiGLU with NaN: %v, want NaN, NaN", h)
		}
	})
}

func TestTiersSoftmax(t *testing.T) {
	withTiers(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(19, 20))
		for _, n := range append(tierLen[1:], 32000, 50257) {
			for _, scale := range []float64{1, 30, 1000} {
				off := n % 4
				x0 := randVec(rng, n, scale)
				want := softmax64(x0, 1)
				x, check := guarded(t, x0, off, 7)
				Softmax(x)
				check()
				for i := range x {
					if d := math.Abs(float64(x[i]) - want[i]); d > softmaxRelTol*want[i]+softmaxAbsTol || math.IsNaN(float64(x[i])) {
						t.Fatalf("n=%d scale=%v: p[%d] = %v, want %v", n, scale, i, x[i], want[i])
					}
				}
			}
		}
		x := []float32{1, nan, 2, 3, 4}
		Softmax(x)
		if x[2] == x[2] {
			t.Errorf("Softmax with a NaN logit: %v, want NaN", x)
		}
	})
}

func TestAsmSelected(t *testing.T) {
	t.Logf("simd asm=%v", AsmEnabled())
	restore := DisableAsm()
	if AsmEnabled() {
		t.Error("AsmEnabled after DisableAsm")
	}
	restore()
}

// TestTiersArgmax checks Argmax's selected tier against the generic loop on
// lengths around the 32-element steps of the AVX2 tier, with ties, NaN,
// ±Inf and signed zeros placed in the vector part and in the tail.
func TestTiersArgmax(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	specials := []float32{nan, inf, -inf, 0, negZero, 1, -1}
	rng := rand.New(rand.NewPCG(21, 22))
	check := func(name string, x []float32) {
		t.Helper()
		if got, want := Argmax(x), argmaxGeneric(x); got != want {
			t.Fatalf("%s n=%d: Argmax = %d, generic %d (x=%v)", name, len(x), got, want, x)
		}
	}
	for _, n := range []int{1, 2, 7, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129, 255, 1000, 4099, 32000} {
		x := randVec(rng, n, 1)
		check("random", x)
		for i := range x { // coarse values: many ties
			x[i] = float32(math.Round(float64(x[i]) * 2))
		}
		check("ties", x)
		for k := 0; k < 20; k++ {
			y := randVec(rng, n, 1)
			for j := 0; j < 1+rng.IntN(4); j++ {
				y[rng.IntN(n)] = specials[rng.IntN(len(specials))]
			}
			check("specials", y)
			for i := range y { // mostly special values
				if rng.IntN(4) != 0 {
					y[i] = specials[rng.IntN(len(specials))]
				}
			}
			check("mostly specials", y)
		}
		for _, fill := range []float32{nan, -inf, inf, 0, negZero} {
			y := make([]float32, n)
			for i := range y {
				y[i] = fill
			}
			check("constant", y)
			y[n-1] = 2
			check("last", y)
			y[n-1] = -inf
			y[n/2] = -inf
			check("-Inf among", y)
		}
	}
}
