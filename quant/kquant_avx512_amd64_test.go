//go:build amd64 && !noasm

package quant

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// TestKQuant512Exact: the 512-bit one-vector kernels (dotQ4_KRowsVNNI512,
// dotQ6_KRowsVNNI512) give the 256-bit VNNI kernels' results bit for bit
// (the batched kernels dotQ*_KRows4VNNI must match whichever runs, and
// TestMatMulKQuants only sees the one this CPU dispatches), on rows of 1
// to 23 super-blocks with every bit of the levels and scales random,
// activations over the whole int8 range, at unaligned offsets.
func TestKQuant512Exact(t *testing.T) {
	if !kquant512 {
		t.Skip("CPU without AVX-512 VNNI, VBMI and GFNI")
	}
	rng := rand.New(rand.NewPCG(81, 82))
	kernels := []struct {
		typ      Type
		size     int
		halfs    []int // offsets of the float16 scales in a super-block
		old, new func(w, x *byte, n, rows, stride int, out *float32)
	}{
		{Q4_K, sizeQ4_K, []int{0, 2}, dotQ4_KRowsVNNI, dotQ4_KRowsVNNI512},
		{Q6_K, sizeQ6_K, []int{208}, dotQ6_KRowsVNNI, dotQ6_KRowsVNNI512},
	}
	qs := make([]int8, 256)
	for i := range qs {
		qs[i] = int8(i - 128)
	}
	scales := []float32{1e-3, 0.02, 1, -0.5}
	for _, k := range kernels {
		for _, nb := range []int{1, 2, 3, 8, 22, 23} {
			const rows = 37
			off := 1 + rng.IntN(7)
			buf := make([]byte, off+rows*nb*k.size+64)
			w := buf[off : off+rows*nb*k.size]
			for i := range w {
				w[i] = byte(rng.Uint32())
			}
			for b := 0; b < rows*nb; b++ {
				for _, h := range k.halfs {
					f := float32(rng.NormFloat64() * 0.01)
					binary.LittleEndian.PutUint16(w[b*k.size+h:], FP32ToFP16(f))
				}
			}
			xoff := 1 + rng.IntN(7)
			xq := append(make([]byte, xoff), q8kBlocks(rng, nb, qs, scales)...)[xoff:]
			want := make([]float32, rows)
			got := make([]float32, rows)
			k.old(&w[0], &xq[0], nb, rows, nb*k.size, &want[0])
			k.new(&w[0], &xq[0], nb, rows, nb*k.size, &got[0])
			for r := range rows {
				if math.Float32bits(got[r]) != math.Float32bits(want[r]) {
					t.Fatalf("%s, %d super-blocks, row %d: 512-bit kernel %v, 256-bit %v", k.typ, nb, r, got[r], want[r])
				}
			}
			// rows at a stride wider than the row, with a sub-range of
			// them: each output is its row's
			k.new(&w[0], &xq[0], nb/2+1, rows/2, 2*nb*k.size, &got[0])
			k.old(&w[0], &xq[0], nb/2+1, rows/2, 2*nb*k.size, &want[0])
			for r := range rows / 2 {
				if math.Float32bits(got[r]) != math.Float32bits(want[r]) {
					t.Fatalf("%s, stride of two rows, row %d: 512-bit kernel %v, 256-bit %v", k.typ, r, got[r], want[r])
				}
			}
		}
	}
}

// TestKTilesVNNINoAlloc: a small batch of Q4_K or Q6_K vectors (fewer
// than the panel kernels take, so kTilesVNNI's 4-vector tiles on the
// AVX-512 tier) goes through MatMul without allocating: kTilesVNNI once
// called its kernel through a func value, which moved its 512-byte tile
// to the heap on every call.
func TestKTilesVNNINoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(83, 84))
	for _, tier := range GEMMTiers() {
		restore := UseGEMMTier(tier)
		for _, typ := range []Type{Q4_K, Q6_K} {
			m, _ := randMatrix(t, rng, typ, 37, 512, 1)
			const n = 9 // two tiles of four and one vector left over
			xs := make([][]float32, n)
			outs := make([][]float32, n)
			for i := range xs {
				xs[i] = randFloats(rng, 512, "normal")
				outs[i] = make([]float32, m.Rows)
			}
			b := NewBatch(n, 512)
			b.Set(xs, typ)
			if a := testing.AllocsPerRun(10, func() { MatMul(outs, m, 0, m.Rows, b) }); a != 0 {
				t.Errorf("%s %s: MatMul of %d vectors allocates %v times per call", tier, typ, n, a)
			}
		}
		restore()
	}
}
