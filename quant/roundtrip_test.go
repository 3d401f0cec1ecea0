package quant

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/llmap/llmap/internal/testmodels"
)

// checkRoundTrip quantises x to typ and back and holds every element to the
// type's named bound: relative to the element for F16/BF16 (normal range,
// plus half the smallest subnormal step absolutely), relative to the
// block's largest magnitude for Q8_0/Q4_0.
func checkRoundTrip(t *testing.T, typ Type, x []float32, what string) {
	t.Helper()
	y := decode(t, typ, encode(t, typ, x), len(x))
	// blockMax[i/bs]: the largest magnitude of the block of element i
	bs := max(typ.BlockSize(), 1)
	blockMax := make([]float64, len(x)/bs)
	for i, v := range x {
		blockMax[i/bs] = math.Max(blockMax[i/bs], math.Abs(float64(v)))
	}
	worst := 0.0
	for i := range x {
		err := math.Abs(float64(x[i]) - float64(y[i]))
		var bound float64
		switch typ {
		case F32:
			bound = 0
		case F16:
			bound = MaxRelErrF16*math.Abs(float64(x[i])) + math.Ldexp(1, -25)
		case BF16:
			bound = MaxRelErrBF16*math.Abs(float64(x[i])) + math.Ldexp(1, -134)
		case Q8_0, Q4_0:
			amax := blockMax[i/bs]
			rel, qmax := MaxRelErrQ8_0, 127.0
			if typ == Q4_0 {
				rel, qmax = MaxRelErrQ4_0, 8
			}
			bound = rel*amax + math.Ldexp(1, -24)*amax + qmax*math.Ldexp(1, -25)
		default: // the K-quants: relative to the super-block's largest magnitude
			bound = maxRelErrK[typ]*blockMax[i/bs] + 64*math.Ldexp(1, -24)
		}
		if err > bound {
			t.Fatalf("%s %s: element %d: %v -> %v, error %g > bound %g", typ, what, i, x[i], y[i], err, bound)
		}
		worst = math.Max(worst, err)
	}
}

func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, typ := range Types() {
		for _, kind := range kinds {
			checkRoundTrip(t, typ, randFloats(rng, superLen*8, kind), kind)
		}
	}
}

// TestRoundTripStories260K round-trips the real weights of stories260K
// (every f32 array from byte 28 up to the obsolete freq_cis tables).
func TestRoundTripStories260K(t *testing.T) {
	x := stories260KWeights(t)
	for _, typ := range Types() {
		n := len(x) / typ.BlockSize() * typ.BlockSize()
		checkRoundTrip(t, typ, x[:n], "stories260K")
	}
}

// stories260KWeights returns every f32 array of stories260K.bin from byte
// 28 up to the obsolete freq_cis tables.
func stories260KWeights(t *testing.T) []float32 {
	path := testmodels.Path(t, "stories260K/stories260K.bin")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const start, end = 28, 1040156
	if len(raw) < end {
		t.Fatalf("%s: %d bytes, want at least %d", path, len(raw), end)
	}
	x := make([]float32, (end-start)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[start+4*i:]))
	}
	return x
}

func TestQuantizeSizeErrors(t *testing.T) {
	cases := []struct {
		typ Type
		n   int
		b   int
	}{
		{F32, 3, 11}, {F16, 3, 5}, {Q8_0, 32, 33}, {Q8_0, 31, 34}, {Q4_0, 64, 34}, {Type(99), 1, 1},
	}
	for _, c := range cases {
		if err := QuantizeRef(c.typ, make([]byte, c.b), make([]float32, c.n)); !errors.Is(err, ErrSize) {
			t.Errorf("QuantizeRef(%s, %d bytes, %d values) = %v, want ErrSize", c.typ, c.b, c.n, err)
		}
		if err := DequantizeRef(c.typ, make([]float32, c.n), make([]byte, c.b)); !errors.Is(err, ErrSize) {
			t.Errorf("DequantizeRef(%s, %d values, %d bytes) = %v, want ErrSize", c.typ, c.n, c.b, err)
		}
	}
}

// TestQuantizeKnownBlocks checks the encodings of hand-computed blocks.
func TestQuantizeKnownBlocks(t *testing.T) {
	x := make([]float32, 32)
	for i := range x {
		x[i] = float32(i - 16) // -16..15, largest magnitude -16
	}
	q8 := encode(t, Q8_0, x)
	if d := FP16ToFP32(binary.LittleEndian.Uint16(q8)); d != FP16ToFP32(FP32ToFP16(16.0/127)) {
		t.Errorf("Q8_0 scale %v, want fp16(16/127)", d)
	}
	if q := int8(q8[2]); q != -127 {
		t.Errorf("Q8_0 q[0] = %d, want -127", q)
	}
	if q := int8(q8[2+16]); q != 0 {
		t.Errorf("Q8_0 q[16] = %d, want 0", q)
	}
	q4 := encode(t, Q4_0, x)
	if d := FP16ToFP32(binary.LittleEndian.Uint16(q4)); d != 2 { // -16 / -8
		t.Errorf("Q4_0 scale %v, want 2", d)
	}
	// byte j: low nibble weight j = (j-16)/2+8, high nibble weight j+16 = j/2+8.
	for j := 0; j < 16; j++ {
		lo := byte(min(15, int(int8(float32(j-16)/2+8.5))))
		hi := byte(min(15, int(int8(float32(j)/2+8.5))))
		if q4[2+j] != lo|hi<<4 {
			t.Errorf("Q4_0 byte %d = %#02x, want %#02x", j, q4[2+j], lo|hi<<4)
		}
	}
	y := decode(t, Q4_0, q4, 32)
	if y[0] != -16 || y[16] != 0 {
		t.Errorf("Q4_0 decoded %v, %v; want -16, 0", y[0], y[16])
	}
	// A zero block encodes with scale 0 and decodes to zeros.
	z := decode(t, Q8_0, encode(t, Q8_0, make([]float32, 32)), 32)
	for _, v := range z {
		if v != 0 {
			t.Fatalf("zero block decoded to %v", v)
		}
	}
}

func ExampleQuantizeRef() {
	x := []float32{1, -2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b := make([]byte, 34)
	if err := QuantizeRef(Q8_0, b, x); err != nil {
		panic(err)
	}
	y := make([]float32, 32)
	if err := DequantizeRef(Q8_0, y, b); err != nil {
		panic(err)
	}
	fmt.Printf("%.3f %.3f %.3f %.3f\n", y[0], y[1], y[2], y[3])
	// d = fp16(4/127) = 0.0314941; q = round(x/d) = 32, -64, 95, 127.
	// Output: 1.008 -2.016 2.992 4.000
}
