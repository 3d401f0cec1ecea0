package quant

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// randMatrix returns a rows x cols matrix of type typ at byte offset off
// of its buffer, and its dequantised rows.
func randMatrix(t testing.TB, rng *rand.Rand, typ Type, rows, cols, off int) (Matrix, [][]float32) {
	t.Helper()
	var data []byte
	deq := make([][]float32, rows)
	for r := range rows {
		enc := encode(t, typ, randFloats(rng, cols, "mixed"))
		data = append(data, enc...)
		deq[r] = decode(t, typ, enc, cols)
	}
	buf := make([]byte, off+len(data))
	copy(buf[off:], data)
	m, err := NewMatrix(typ, rows, cols, buf[off:])
	if err != nil {
		t.Fatal(err)
	}
	return m, deq
}

// vecRef returns the vector the kernels multiply with for matrices of typ:
// x itself, or x quantised to Q8_0 (Q8_K for the K-quants) and dequantised
// for the block types.
func vecRef(t testing.TB, typ Type, x []float32) []float32 {
	if !typ.Quantized() {
		return x
	}
	return decodeAct(t, typ, encodeAct(t, typ, x), len(x))
}

func TestMatVec(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(17, 18))
		for _, typ := range Types() {
			colsList := []int{32, 64, 96, 288, 1024}
			if !typ.Quantized() {
				colsList = append(colsList, 1, 7, 9, 33, 172) // tails after the 8-wide loop
			}
			if isK(typ) {
				colsList = []int{256, 512, 768, 2048}
			}
			for _, cols := range colsList {
				for _, off := range []int{0, 1, 4} {
					rows := 1 + rng.IntN(40)
					m, deq := randMatrix(t, rng, typ, rows, cols, off)
					x := randFloats(rng, cols, "normal")
					xr := vecRef(t, typ, x)
					v := NewVec(cols + rng.IntN(64))
					v.Set(x, typ)
					lo, hi := rng.IntN(rows), rows
					out := make([]float32, hi-lo+1)
					out[hi-lo] = 42 // guard
					MatVec(out, m, v, lo, hi)
					if out[hi-lo] != 42 {
						t.Fatalf("MatVec wrote past hi-lo")
					}
					for r := lo; r < hi; r++ {
						want, mag := dot64(deq[r], xr)
						if isK(typ) {
							_, mag = kDot64(typ, m.RowData(r), v.q)
						}
						tol := dotTolerance[typ]*float64(cols+8)*mag + 1e-30
						if !(math.Abs(float64(out[r-lo])-want) <= tol) {
							t.Errorf("%s %dx%d off=%d row %d: got %v, want %v (tol %g)", typ, rows, cols, off, r, out[r-lo], want, tol)
						}
					}
				}
			}
		}
	})
}

// TestMatVecConcurrent runs disjoint row ranges of one product from several
// goroutines with a shared Vec (run it with -race).
func TestMatVecConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, typ := range Types() {
		const rows, cols, workers = 103, 256, 4
		m, _ := randMatrix(t, rng, typ, rows, cols, 0)
		x := randFloats(rng, cols, "normal")
		v := NewVec(cols)
		v.Set(x, typ)
		want := make([]float32, rows)
		MatVec(want, m, v, 0, rows)
		got := make([]float32, rows)
		var wg sync.WaitGroup
		for w := range workers {
			lo, hi := w*rows/workers, (w+1)*rows/workers
			wg.Go(func() { MatVec(got[lo:hi], m, v, lo, hi) })
		}
		wg.Wait()
		for r := range rows {
			if got[r] != want[r] {
				t.Fatalf("%s row %d: concurrent %v, serial %v", typ, r, got[r], want[r])
			}
		}
	}
}

func TestMatVecNoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, typ := range Types() {
		m, _ := randMatrix(t, rng, typ, 16, 256, 0)
		x := randFloats(rng, 256, "normal")
		v := NewVec(256)
		out := make([]float32, 16)
		if n := testing.AllocsPerRun(10, func() {
			v.Set(x, typ)
			MatVec(out, m, v, 0, 16)
		}); n != 0 {
			t.Errorf("%s: Set+MatVec allocated %v times", typ, n)
		}
	}
}

func TestVecSetMatchesQuantizeRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	x := randFloats(rng, 256, "mixed")
	v := NewVec(512)
	v.Set(x, Q4_0)
	want := encode(t, Q8_0, x)
	if string(v.q) != string(want) {
		t.Fatal("Vec.Set Q8_0 encoding differs from QuantizeRef")
	}
}

func TestMatrixRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, typ := range Types() {
		for _, off := range []int{0, 1, 2} {
			m, deq := randMatrix(t, rng, typ, 7, 256, off)
			dst := make([]float32, 256)
			for r := range 7 {
				m.Row(r, dst)
				for i := range dst {
					if math.Float32bits(dst[i]) != math.Float32bits(deq[r][i]) {
						t.Fatalf("%s off=%d Row(%d)[%d] = %v, want %v", typ, off, r, i, dst[i], deq[r][i])
					}
				}
			}
		}
	}
}

func TestNewMatrixErrors(t *testing.T) {
	cases := []struct {
		typ        Type
		rows, cols int
		n          int
	}{
		{F32, 2, 3, 23},
		{F32, 2, 3, 25},
		{Q8_0, 2, 33, 2 * 34},
		{Q4_0, 2, 32, 2 * 34},
		{F16, -1, 2, 0},
		{F16, 2, -2, 0},
		{Type(99), 1, 1, 4},
		{F32, 1 << 40, 1 << 40, 16},
		{Q8_0, math.MaxInt / 2, 32, 34},
	}
	for _, c := range cases {
		if _, err := NewMatrix(c.typ, c.rows, c.cols, make([]byte, c.n)); !errors.Is(err, ErrSize) {
			t.Errorf("NewMatrix(%v, %d, %d, %d bytes) = %v, want ErrSize", c.typ, c.rows, c.cols, c.n, err)
		}
	}
	if _, err := NewMatrix(Q4_0, 3, 64, make([]byte, 3*36)); err != nil {
		t.Errorf("valid Q4_0 matrix: %v", err)
	}
	if _, err := NewMatrix(F32, 0, 0, nil); err != nil {
		t.Errorf("empty matrix: %v", err)
	}
}

func TestMatVecMisusePanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	m, _ := randMatrix(t, rng, Q8_0, 4, 64, 0)
	m256, _ := randMatrix(t, rng, Q8_0, 4, 256, 0) // Q8_0 activations, not Q8_K
	v := NewVec(64)
	v.Set(make([]float32, 64), F32) // prepared for the wrong type
	for name, f := range map[string]func(){
		"type":  func() { MatVec(make([]float32, 4), m, v, 0, 4) },
		"range": func() { v.Set(make([]float32, 64), Q8_0); MatVec(make([]float32, 5), m, v, 0, 5) },
		"out":   func() { v.Set(make([]float32, 64), Q8_0); MatVec(make([]float32, 3), m, v, 0, 4) },
		"cap":   func() { v.Set(make([]float32, 512), Q8_0) },
		"capK":  func() { v.Set(make([]float32, 512), Q4_K) },
		"lenK":  func() { NewVec(512).Set(make([]float32, 288), Q6_K) },
		"kind":  func() { v.Set(make([]float32, 256), Q4_K); MatVec(make([]float32, 4), m256, v, 0, 4) },
	} {
		t.Run(fmt.Sprint(name), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

// TestQuantizedProductAccuracy measures the end-to-end error of quantised
// products (weights and activations) against the float64 product of the
// original values: the relative error of a row product should stay within
// a few multiples of the types' element bounds.
func TestQuantizedProductAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	const rows, cols = 64, 1024
	w := make([][]float32, rows)
	for r := range w {
		w[r] = randFloats(rng, cols, "normal")
	}
	x := randFloats(rng, cols, "normal")
	for _, c := range []struct {
		typ Type
		tol float64 // relative to sqrt(sum of squared products) * sqrt(cols)
	}{{F32, 1e-6}, {F16, 1e-3}, {BF16, 8e-3}, {Q8_0, 1.5e-2}, {Q4_0, 1.5e-1}} {
		var data []byte
		for r := range w {
			data = append(data, encode(t, c.typ, w[r])...)
		}
		m, err := NewMatrix(c.typ, rows, cols, data)
		if err != nil {
			t.Fatal(err)
		}
		v := NewVec(cols)
		v.Set(x, c.typ)
		out := make([]float32, rows)
		MatVec(out, m, v, 0, rows)
		for r := range rows {
			want, _ := dot64(w[r], x)
			scale := 0.0
			for i := range x {
				p := float64(w[r][i]) * float64(x[i])
				scale += p * p
			}
			scale = math.Sqrt(scale * cols)
			if e := math.Abs(float64(out[r])-want) / scale; e > c.tol {
				t.Errorf("%s row %d: got %v, exact %v, relative error %.2g > %g", c.typ, r, out[r], want, e, c.tol)
			}
		}
	}
}

func TestDotRowsF32(t *testing.T) {
	for _, asm := range []bool{true, false} {
		if !asm {
			defer DisableAsm()()
		}
		for _, n := range []int{1, 7, 8, 9, 64, 65} {
			for _, rows := range []int{1, 3, 17} {
				stride := n + 5
				w := make([]float32, (rows-1)*stride+n)
				for i := range w {
					w[i] = float32(i%13) - 6
				}
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(i%7) * 0.5
				}
				out := make([]float32, rows)
				DotRowsF32(out, w, stride, x)
				for r := range out {
					var want float64
					for i := range x {
						want += float64(w[r*stride+i]) * float64(x[i])
					}
					if math.Abs(float64(out[r])-want) > 1e-3 {
						t.Fatalf("asm %v n %d rows %d: row %d = %v, want %v", asm, n, rows, r, out[r], want)
					}
				}
			}
		}
	}
}
