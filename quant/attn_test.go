package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// kvCase is a KV cache of nk rows of rowLen elements of type typ (each row
// encoded with EncodeKV, stride bytes apart, at byte offset off of a
// buffer between guard bytes) and the rows as float32, decoded.
type kvCase struct {
	data    []byte
	stride  int
	decoded [][]float32
	check   func()
}

func newKVCase(t *testing.T, rng *rand.Rand, typ Type, nk, rowLen, pad, off int) kvCase {
	t.Helper()
	rb := KVRowBytes(typ, rowLen)
	stride := rb + pad
	buf := make([]byte, nk*stride)
	for i := range buf {
		buf[i] = 0x7e // padding between rows: never read
	}
	c := kvCase{stride: stride}
	for r := range nk {
		x := randFloats(rng, rowLen, "normal")
		EncodeKV(typ, buf[r*stride:r*stride+rb], x)
		row := make([]float32, rowLen)
		for j := range row {
			row[j] = kvAt(typ, buf[r*stride:], j)
		}
		c.decoded = append(c.decoded, row)
	}
	c.data, c.check = placed(t, buf, off, 0xa5)
	return c
}

// kvShapes are the (head size, offset of the head in the row, row length)
// of the tier tests: odd sizes around every step of the kernels, and heads
// inside and across Q8_0 blocks.
func kvShapes(typ Type) [][3]int {
	if typ == Q8_0 {
		return [][3]int{{8, 0, 32}, {8, 24, 32}, {16, 16, 64}, {32, 0, 32}, {32, 32, 96}, {64, 0, 64}, {64, 64, 128},
			{96, 0, 96}, {96, 96, 192}, {128, 0, 256}, {160, 32, 192}, {256, 0, 256}, {288, 0, 288}}
	}
	var s [][3]int
	for _, hs := range []int{1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 48, 64, 80, 96, 128, 130, 256, 300} {
		s = append(s, [3]int{hs, 0, hs}, [3]int{hs, 3, hs + 5})
	}
	return s
}

// TestAttnTiers runs the attention kernels of every tier this machine has
// against the reference tier: odd head sizes, query and key counts around
// every tile edge, unaligned cache rows with padding between them, guard
// bytes around the cache, and strided outputs whose gaps must stay as they
// were.
func TestAttnTiers(t *testing.T) {
	forEachTier(t, func(t *testing.T, tier string) {
		for _, typ := range KVTypes {
			rng := rand.New(rand.NewPCG(uint64(typ), 11))
			for i, sh := range kvShapes(typ) {
				hs, hoff, rowLen := sh[0], sh[1], sh[2]
				for _, nqk := range [][2]int{{1, 1}, {1, 7}, {2, 5}, {3, 4}, {4, 9}, {5, 3}, {8, 33}, {9, 64}} {
					name := fmt.Sprintf("%s hs %d at %d, %d queries, %d keys", typ, hs, hoff, nqk[0], nqk[1])
					attnCase(t, rng, tier, typ, hs, hoff, rowLen, nqk[0], nqk[1], i%4, name)
				}
			}
		}
	})
}

func attnCase(t *testing.T, rng *rand.Rand, tier string, typ Type, hs, hoff, rowLen, nq, nk, off int, name string) {
	t.Helper()
	kc := newKVCase(t, rng, typ, nk, rowLen, off, off)
	vc := newKVCase(t, rng, typ, nk, rowLen, 2*off, off)
	ldq, lds, ldo := hs+1, nk+2, hs+3
	q := randFloats(rng, (nq-1)*ldq+hs, "normal")
	p := make([]float32, (nq-1)*lds+nk+2)
	for i := range p {
		p[i] = rng.Float32()
	}
	o0 := randFloats(rng, (nq-1)*ldo+hs+3, "normal")
	const guard = -12345

	run := func(tier string) (s, o []float32) {
		restore := UseGEMMTier(tier)
		defer restore()
		s = make([]float32, (nq-1)*lds+nk+2)
		for i := range s {
			s[i] = guard
		}
		AttnScores(s, lds, q, ldq, nq, typ, kc.data, kc.stride, hoff, nk, hs)
		o = append([]float32(nil), o0...)
		AttnValues(o, ldo, p, lds, nq, typ, vc.data, vc.stride, hoff, nk, hs)
		kc.check()
		vc.check()
		return s, o
	}
	wantS, wantO := run("ref")
	gotS, gotO := run(tier)
	for g := range nq {
		for r := 0; r < lds; r++ {
			i := g*lds + r
			if i >= len(gotS) {
				break
			}
			if r >= nk {
				if gotS[i] != guard {
					t.Fatalf("%s: score gap [%d][%d] written: %g", name, g, r, gotS[i])
				}
				continue
			}
			_, mag := dot64(q[g*ldq:g*ldq+hs], kc.decoded[r][hoff:hoff+hs])
			if d := math.Abs(float64(gotS[i] - wantS[i])); d > 4e-6*mag+1e-30 {
				t.Fatalf("%s: score [%d][%d] = %g, ref %g", name, g, r, gotS[i], wantS[i])
			}
		}
		for j := 0; j < ldo; j++ {
			i := g*ldo + j
			if i >= len(gotO) {
				break
			}
			if j >= hs {
				if gotO[i] != o0[i] {
					t.Fatalf("%s: output gap [%d][%d] written: %g", name, g, j, gotO[i])
				}
				continue
			}
			mag := math.Abs(float64(o0[i]))
			for r := range nk {
				mag += math.Abs(float64(p[g*lds+r]) * float64(vc.decoded[r][hoff+j]))
			}
			if d := math.Abs(float64(gotO[i] - wantO[i])); d > 4e-6*mag+1e-30 {
				t.Fatalf("%s: output [%d][%d] = %g, ref %g", name, g, j, gotO[i], wantO[i])
			}
		}
	}
}

// TestAttnDefinition checks the reference tier against float64 sums of
// the decoded cache, and EncodeKV against the reference quantisers: a
// cache row holds exactly what QuantizeRef gives for F16 and Q8_0.
func TestAttnDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, typ := range KVTypes {
		const nq, nk, hs, rowLen = 3, 10, 32, 64
		kc := newKVCase(t, rng, typ, nk, rowLen, 0, 0)
		q := randFloats(rng, nq*hs, "normal")
		p := randFloats(rng, nq*nk, "normal")
		s := make([]float32, nq*nk)
		o := make([]float32, nq*hs)
		restore := UseGEMMTier("ref")
		AttnScores(s, nk, q, hs, nq, typ, kc.data, kc.stride, 32, nk, hs)
		AttnValues(o, hs, p, nk, nq, typ, kc.data, kc.stride, 32, nk, hs)
		restore()
		for g := range nq {
			for r := range nk {
				want, mag := dot64(q[g*hs:(g+1)*hs], kc.decoded[r][32:])
				if d := math.Abs(float64(s[g*nk+r]) - want); d > 4e-6*mag+1e-30 {
					t.Fatalf("%s: score [%d][%d] = %g, float64 %g", typ, g, r, s[g*nk+r], want)
				}
			}
			for j := range hs {
				var want, mag float64
				for r := range nk {
					v := float64(p[g*nk+r]) * float64(kc.decoded[r][32+j])
					want, mag = want+v, mag+math.Abs(v)
				}
				if d := math.Abs(float64(o[g*hs+j]) - want); d > 4e-6*mag+1e-30 {
					t.Fatalf("%s: output [%d][%d] = %g, float64 %g", typ, g, j, o[g*hs+j], want)
				}
			}
		}
		if typ == F32 {
			continue
		}
		lens := []int{rowLen}
		if typ == F16 {
			lens = []int{1, 7, 9, 67, rowLen}
		}
		for i, kind := range []string{"mixed", "tiny", "large", "mixed", "normal"} {
			rowLen := lens[i%len(lens)]
			x := randFloats(rng, rowLen+32, kind)[3 : 3+rowLen] // unaligned
			got := make([]byte, KVRowBytes(typ, rowLen))
			EncodeKV(typ, got, x)
			if want := encode(t, typ, x); string(got) != string(want) {
				t.Errorf("%s: EncodeKV differs from QuantizeRef on %s values", typ, kind)
			}
		}
	}
}

// TestAttnMisusePanics: rows or outputs that do not fit panic with a
// message instead of reading or writing past a slice.
func TestAttnMisusePanics(t *testing.T) {
	k := make([]byte, 4*KVRowBytes(F16, 64))
	s := make([]float32, 16)
	q := make([]float32, 64)
	for name, f := range map[string]func(){
		"too many keys":    func() { AttnScores(s, 5, q, 64, 1, F16, k, 128, 0, 5, 64) },
		"head past row":    func() { AttnScores(s, 4, q, 64, 1, F16, k, 128, 1, 4, 64) },
		"scores too short": func() { AttnScores(s, 8, q, 64, 3, F16, k, 128, 0, 4, 64) },
		"query too short":  func() { AttnScores(s, 4, q, 64, 2, F16, k, 128, 0, 4, 64) },
		"values too short": func() { AttnValues(q, 64, s, 4, 1, F16, k, 128, 0, 4, 65) },
		"not a cache type": func() { EncodeKV(Q4_0, k, q) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkAttention times one decode step's attention of a TinyLlama-1.1B
// head group (8 query heads of 64 sharing a KV head) over 2048 positions,
// per cache type and tier: scores, then weighted values.
func BenchmarkAttention(b *testing.B) {
	const nq, hs, nk, rowLen = 8, 64, 2048, 256
	rng := rand.New(rand.NewPCG(1, 1))
	for _, typ := range KVTypes {
		rb := KVRowBytes(typ, rowLen)
		kv := make([]byte, nk*rb)
		for r := range nk {
			EncodeKV(typ, kv[r*rb:(r+1)*rb], randFloats(rng, rowLen, "normal"))
		}
		q := randFloats(rng, nq*hs, "normal")
		s := make([]float32, nq*nk)
		o := make([]float32, nq*hs)
		for _, tier := range GEMMTiers() {
			if tier == "ref" {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", typ, tier), func(b *testing.B) {
				restore := UseGEMMTier(tier)
				defer restore()
				for b.Loop() {
					AttnScores(s, nk, q, hs, nq, typ, kv, rb, 64, nk, hs)
					AttnValues(o, hs, s, nk, nq, typ, kv, rb, 64, nk, hs)
				}
				b.ReportMetric(float64(4*nq*nk*hs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
