package quant

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// benchBuf is one shared buffer of encoded weights for the large MatVec
// benchmarks (allocated once, > 256 MiB), filled by repeating a block of
// real quantised rows so that every type sees representative values.
var (
	benchBufOnce sync.Once
	benchBuf     []byte
)

const benchBufBytes = 300 << 20

// benchMatrix returns a rows x cols matrix of type typ whose data is a
// prefix of the shared buffer, encoded from normal random values.
func benchMatrix(b *testing.B, typ Type, rows, cols int) Matrix {
	rb, _ := typ.RowBytes(int64(cols))
	size := int(rb) * rows
	if size > benchBufBytes {
		b.Fatalf("matrix of %d bytes exceeds the benchmark buffer", size)
	}
	benchBufOnce.Do(func() { benchBuf = make([]byte, benchBufBytes) })
	rng := rand.New(rand.NewPCG(7, 8))
	const seedRows = 16
	seed := make([]byte, 0, seedRows*int(rb))
	for range seedRows {
		seed = append(seed, encode(b, typ, randFloats(rng, cols, "normal"))...)
	}
	data := benchBuf[:size]
	for off := 0; off < size; off += copy(data[off:], seed) {
	}
	m, err := NewMatrix(typ, rows, cols, data)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func reportRate(b *testing.B, weightBytes int64, flops float64) {
	b.SetBytes(weightBytes)
	s := b.Elapsed().Seconds()
	if s > 0 {
		b.ReportMetric(flops*float64(b.N)/s/1e9, "GFLOP/s")
	}
}

// BenchmarkDot times the active kernel of each type on one row (4096 and
// 12288 elements, in L1/L2), through the kernel table as MatVec calls it.
func BenchmarkDot(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, typ := range Types() {
		for _, n := range []int{4096, 12288} {
			w := encode(b, typ, randFloats(rng, n, "normal"))
			x := randFloats(rng, n, "normal")
			v := NewVec(n)
			v.Set(x, typ)
			a := activations{f: v.x, q: v.q}
			b.Run(fmt.Sprintf("%s/%d", typ, n), func(b *testing.B) {
				var s float32
				for b.Loop() {
					s += dot1(typ, w, a)
				}
				reportRate(b, int64(len(w)), 2*float64(n))
				sinkF32 += s
			})
		}
	}
}

func BenchmarkMatVec(b *testing.B) {
	shapes := [][2]int{{4096, 4096}, {11008, 4096}, {50257, 768}}
	for _, typ := range Types() {
		big := [2]int{benchBufBytes / int(must(typ.RowBytes(4096))), 4096} // > 256 MiB
		for _, sh := range append(shapes, big) {
			rows, cols := sh[0], sh[1]
			rb := must(typ.RowBytes(int64(cols)))
			if int(rb)*rows > benchBufBytes {
				continue
			}
			b.Run(fmt.Sprintf("%s/%dx%d", typ, rows, cols), func(b *testing.B) {
				m := benchMatrix(b, typ, rows, cols)
				rng := rand.New(rand.NewPCG(11, 12))
				x := randFloats(rng, cols, "normal")
				v := NewVec(cols)
				out := make([]float32, rows)
				b.ResetTimer()
				for b.Loop() {
					v.Set(x, typ)
					MatVec(out, m, v, 0, rows)
				}
				reportRate(b, int64(len(m.Data)), 2*float64(rows)*float64(cols))
			})
		}
	}
}

func must(n int64, err error) int64 {
	if err != nil {
		panic(err)
	}
	return n
}

// BenchmarkMemRead reads a 1 GiB buffer with an unrolled integer loop: the
// single-core memory read bandwidth the MatVec figures are compared with.
func BenchmarkMemRead(b *testing.B) {
	buf := make([]uint64, 1<<30/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	b.SetBytes(int64(len(buf) * 8))
	b.ResetTimer()
	var s uint64
	for b.Loop() {
		var s0, s1, s2, s3 uint64
		for i := 0; i+8 <= len(buf); i += 8 {
			c := buf[i : i+8 : i+8]
			s0 += c[0] + c[4]
			s1 += c[1] + c[5]
			s2 += c[2] + c[6]
			s3 += c[3] + c[7]
		}
		s += s0 + s1 + s2 + s3
	}
	sinkU64 += s
}

// Sinks keep benchmark results alive so the compiler cannot drop the loops.
var (
	sinkF32 float32
	sinkU64 uint64
)
