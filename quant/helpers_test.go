package quant

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// withPaths runs f once for every tier this machine can run (portable Go,
// then each assembly tier), with the kernels of that tier selected for
// every type that has one and the next lower tier for the others; once
// with each further selection in archPaths; and once more after
// DisableAsm, which must give the Go tier.
func withPaths(t *testing.T, f func(t *testing.T)) {
	for tr := tierGeneric; tr < numTiers; tr++ {
		if !tierUsable[tr] {
			continue
		}
		t.Run(tr.String(), func(t *testing.T) {
			old := kernels
			kernels = selectKernels(tr)
			defer func() { kernels = old }()
			f(t)
		})
	}
	for _, p := range archPaths {
		t.Run(p.name, func(t *testing.T) {
			restore := p.use()
			defer restore()
			f(t)
		})
	}
	t.Run("DisableAsm", func(t *testing.T) {
		restore := DisableAsm()
		defer restore()
		for typ, tr := range kernels.tier {
			if tr != tierGeneric {
				t.Fatalf("%s: tier %s after DisableAsm", Type(typ), tr)
			}
		}
		f(t)
	})
}

// archPaths are kernel selections besides the dispatched one that an
// architecture's test file adds (dot_arm64_test.go: NEON without SDOT).
var archPaths []kernelPath

type kernelPath struct {
	name string
	use  func() (restore func())
}

// kTypes lists the K-quant types.
var kTypes = []Type{Q2_K, Q3_K, Q4_K, Q5_K, Q6_K}

// isK reports whether typ's kernels read Q8_K activations (the K-quants;
// Q8_0 and Q4_0 read Q8_0 blocks).
func isK(typ Type) bool { return types[typ].act == actQ8_K }

// encodeAct quantises activations x for kernels of typ.
func encodeAct(t testing.TB, typ Type, x []float32) []byte {
	t.Helper()
	if isK(typ) {
		b := make([]byte, len(x)/superLen*sizeQ8_K)
		quantizeQ8_K(b, x)
		return b
	}
	return encode(t, Q8_0, x)
}

// decodeAct is the float value of activations encoded by encodeAct.
func decodeAct(t testing.TB, typ Type, q []byte, n int) []float32 {
	t.Helper()
	if !isK(typ) {
		return decode(t, Q8_0, q, n)
	}
	x := make([]float32, n)
	for b := 0; b < n/superLen; b++ {
		blk := q[sizeQ8_K*b:][:sizeQ8_K]
		d := math.Float32frombits(binary.LittleEndian.Uint32(blk))
		for i := range superLen {
			x[superLen*b+i] = d * float32(int8(blk[q8kQuants+i]))
		}
	}
	return x
}

// randFloats returns n values drawn from a mix of distributions: mostly
// normal, with some zeros, large magnitudes and tiny values.
func randFloats(rng *rand.Rand, n int, kind string) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch kind {
		case "normal":
			x[i] = float32(rng.NormFloat64())
		case "zeros":
			x[i] = 0
		case "large": // near the fp16 maximum
			x[i] = float32((rng.Float64()*2 - 1) * 65504)
		case "tiny": // fp16 subnormal range
			x[i] = float32((rng.Float64()*2 - 1) * 6e-5)
		case "mixed":
			switch rng.IntN(6) {
			case 0:
				x[i] = 0
			case 1:
				x[i] = float32(rng.NormFloat64() * 1000)
			case 2:
				x[i] = float32(rng.NormFloat64() * 1e-3)
			default:
				x[i] = float32(rng.NormFloat64())
			}
		}
	}
	return x
}

// encode quantises x with QuantizeRef and fails the test on error.
func encode(t testing.TB, typ Type, x []float32) []byte {
	t.Helper()
	rb, err := typ.RowBytes(int64(len(x)))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, rb)
	if err := QuantizeRef(typ, b, x); err != nil {
		t.Fatal(err)
	}
	return b
}

// decode dequantises with DequantizeRef.
func decode(t testing.TB, typ Type, b []byte, n int) []float32 {
	t.Helper()
	x := make([]float32, n)
	if err := DequantizeRef(typ, x, b); err != nil {
		t.Fatal(err)
	}
	return x
}

// dot64 returns the float64 dot product and the sum of |products|.
func dot64(a, b []float32) (dot, mag float64) {
	for i := range a {
		p := float64(a[i]) * float64(b[i])
		dot += p
		mag += math.Abs(p)
	}
	return dot, mag
}

// placed copies b into a fresh buffer at byte offset off, surrounded by
// guard bytes g, and returns the copy (with capacity ending at its length)
// and a check function that fails if a guard byte changed.
func placed(t *testing.T, b []byte, off int, g byte) ([]byte, func()) {
	const guard = 64
	buf := make([]byte, off+len(b)+guard+guard)
	for i := range buf {
		buf[i] = g
	}
	s := buf[guard+off : guard+off+len(b) : guard+off+len(b)]
	copy(s, b)
	return s, func() {
		t.Helper()
		for i := 0; i < guard+off; i++ {
			if buf[i] != g {
				t.Fatalf("guard byte %d before the slice changed", i)
			}
		}
		for i := guard + off + len(b); i < len(buf); i++ {
			if buf[i] != g {
				t.Fatalf("guard byte %d after the slice changed", i)
			}
		}
	}
}
