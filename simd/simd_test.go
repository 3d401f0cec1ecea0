package simd

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Tolerances against float64 references.
const (
	// dotTol is relative to sum |a[i]*b[i]|, per element.
	dotTol = 2 * 0x1p-24
	// softmaxTol bounds |p - p64| relative to p64 plus an absolute floor;
	// vek's vectorised exp is accurate to a few float32 ulps.
	softmaxRelTol = 1e-5
	softmaxAbsTol = 1e-9
)

var lengths = []int{0, 1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 1023}

func randVec(rng *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * scale)
	}
	return x
}

func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range lengths {
		for off := 0; off < 4; off++ {
			a := randVec(rng, n+off, 1)[off:]
			b := randVec(rng, n, 100)
			var want, mag float64
			for i := range a {
				want += float64(a[i]) * float64(b[i])
				mag += math.Abs(float64(a[i]) * float64(b[i]))
			}
			got := Dot(a, b)
			if math.Abs(float64(got)-want) > dotTol*float64(n+8)*mag {
				t.Errorf("n=%d off=%d: Dot = %v, want %v", n, off, got, want)
			}
		}
	}
}

func softmax64(x []float32, temp float64) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v)/temp)
	}
	p := make([]float64, len(x))
	var s float64
	for i, v := range x {
		p[i] = math.Exp(float64(v)/temp - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

func TestSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, temp := range []float32{0.5, 1, 2} {
		for _, n := range append(lengths, 512, 32000, 50257) {
			for _, scale := range []float64{1, 10, 1000} {
				x := randVec(rng, n, scale)
				if n > 4 {
					x[3] = 1e30 / float32(scale) // a dominant logit must not overflow
				}
				want := softmax64(x, float64(temp))
				guard := append(append([]float32{}, x...), 7)
				y := guard[:n]
				if temp == 1 {
					Softmax(y)
				} else {
					SoftmaxTemp(y, temp)
				}
				if guard[n] != 7 {
					t.Fatal("Softmax wrote past the slice")
				}
				var sum float64
				for i := range y {
					if d := math.Abs(float64(y[i]) - want[i]); d > softmaxRelTol*want[i]+softmaxAbsTol || math.IsNaN(float64(y[i])) {
						t.Fatalf("temp=%v n=%d scale=%v: p[%d] = %v, want %v", temp, n, scale, i, y[i], want[i])
					}
					sum += float64(y[i])
				}
				if n > 0 && math.Abs(sum-1) > 1e-5 {
					t.Errorf("temp=%v n=%d: probabilities sum to %v", temp, n, sum)
				}
			}
		}
	}
}

// TestSoftmaxTempBadTemperature: a temperature a user can type (NaN, ±Inf,
// 0, negative) is an error, not a panic, and leaves x alone.
func TestSoftmaxTempBadTemperature(t *testing.T) {
	for _, temp := range []float32{0, -1, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		x := []float32{1, 2}
		if err := SoftmaxTemp(x, temp); !errors.Is(err, ErrTemperature) {
			t.Errorf("SoftmaxTemp(%v) = %v, want ErrTemperature", temp, err)
		}
		if x[0] != 1 || x[1] != 2 {
			t.Errorf("SoftmaxTemp(%v) changed x to %v", temp, x)
		}
	}
}

// TestSoftmaxTempTiny: temperatures so small that 1/temp or logit/temp
// overflows float32 give the limit distribution (all mass on the maximum,
// shared among ties), never NaN.
func TestSoftmaxTempTiny(t *testing.T) {
	for _, temp := range []float32{1e-30, 1e-38, 1e-45, math.SmallestNonzeroFloat32} {
		x := []float32{-3, 50, 0, 49.9, -1e30}
		if err := SoftmaxTemp(x, temp); err != nil {
			t.Fatal(err)
		}
		want := []float32{0, 1, 0, 0, 0}
		for i := range x {
			if math.Abs(float64(x[i]-want[i])) > 1e-6 || x[i] != x[i] {
				t.Errorf("temp %g: p = %v, want %v", temp, x, want)
				break
			}
		}
		ties := []float32{2, 7, 7, 1}
		SoftmaxTemp(ties, temp)
		if math.Abs(float64(ties[1]-0.5)) > 1e-6 || math.Abs(float64(ties[2]-0.5)) > 1e-6 {
			t.Errorf("temp %g: ties give %v, want half each", temp, ties)
		}
	}
	// A huge temperature is a uniform distribution.
	x := []float32{-3, 50, 0}
	SoftmaxTemp(x, math.MaxFloat32)
	for _, p := range x {
		if math.Abs(float64(p)-1.0/3) > 1e-6 {
			t.Errorf("temp MaxFloat32: %v, want uniform", x)
		}
	}
}

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		x    []float32
		want int
	}{
		{nil, -1},
		{[]float32{3}, 0},
		{[]float32{1, 3, 3, 2}, 1},
		{[]float32{5, 5, 5}, 0},
		{[]float32{-2, -1, -1}, 1},
		{[]float32{nan, 1, 2, 2}, 2},
		{[]float32{1, nan, 0}, 0},
		{[]float32{float32(math.Inf(-1)), float32(math.Inf(-1))}, 0},
	}
	for _, c := range cases {
		if got := Argmax(c.x); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.x, got, c.want)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range lengths[1:] {
		x := randVec(rng, n, 1)
		for i := range x { // coarse values so ties are frequent
			x[i] = float32(math.Round(float64(x[i]) * 2))
		}
		want := 0
		for i := range x {
			if x[i] > x[want] {
				want = i
			}
		}
		if got := Argmax(x); got != want {
			t.Errorf("n=%d: Argmax = %d, want first maximum %d", n, got, want)
		}
	}
}

func TestElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range lengths {
		a, b := randVec(rng, n, 1), randVec(rng, n, 1)
		for _, op := range []struct {
			name string
			f    func(y, x []float32)
			ref  func(y, x float32) float32
		}{
			{"Add", Add, func(y, x float32) float32 { return y + x }},
			{"Mul", Mul, func(y, x float32) float32 { return y * x }},
			{"Scale", func(y, _ []float32) { Scale(y, 1.5) }, func(y, _ float32) float32 { return y * 1.5 }},
			{"Axpy", func(y, x []float32) { Axpy(y, -0.25, x) }, func(y, x float32) float32 { return y + -0.25*x }},
		} {
			y := append([]float32{}, a...)
			op.f(y, b)
			for i := range y {
				want := op.ref(a[i], b[i])
				if math.Abs(float64(y[i]-want)) > 1e-6*math.Abs(float64(want))+1e-30 {
					t.Fatalf("%s n=%d [%d]: got %v, want %v", op.name, n, i, y[i], want)
				}
			}
		}
		var s64 float64
		for _, v := range a {
			s64 += float64(v)
		}
		if got := Sum(a); math.Abs(float64(got)-s64) > 1e-6*float64(n+1)*4 {
			t.Errorf("Sum n=%d = %v, want %v", n, got, s64)
		}
	}
}

func TestNoAlloc(t *testing.T) {
	x := randVec(rand.New(rand.NewPCG(9, 10)), 4096, 3)
	y := append([]float32{}, x...)
	if n := testing.AllocsPerRun(10, func() {
		copy(y, x)
		SoftmaxTemp(y, 0.7)
		_ = Argmax(y)
		_ = Dot(x, y)
		Axpy(y, 2, x)
	}); n != 0 {
		t.Errorf("allocated %v times", n)
	}
}

func BenchmarkDot(b *testing.B) {
	for _, n := range []int{4096, 12288} {
		rng := rand.New(rand.NewPCG(11, 12))
		x, y := randVec(rng, n, 1), randVec(rng, n, 1)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var s float32
			for b.Loop() {
				s += Dot(x, y)
			}
			sink += s
			b.SetBytes(int64(8 * n))
			b.ReportMetric(2*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkSoftmax(b *testing.B) {
	rng := rand.New(rand.NewPCG(13, 14))
	x := randVec(rng, 50257, 5)
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		copy(y, x)
		Softmax(y)
	}
}

func BenchmarkArgmax(b *testing.B) {
	x := randVec(rand.New(rand.NewPCG(15, 16)), 50257, 5)
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		sink += float32(Argmax(x))
	}
}

// BenchmarkMemRead sums a 1 GiB buffer with vek's vectorised Sum: the
// single-core memory read bandwidth to compare kernels with.
func BenchmarkMemRead(b *testing.B) {
	x := make([]float32, 1<<30/4)
	for i := range x {
		x[i] = 1
	}
	b.SetBytes(int64(4 * len(x)))
	b.ResetTimer()
	var s float32
	for b.Loop() {
		s += Sum(x)
	}
	sink += s
}

// sink keeps benchmark results alive so the compiler cannot drop the loops.
var sink float32
