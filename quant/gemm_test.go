package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// gemmTypes are the types MatMul multiplies.
var gemmTypes = []Type{F32, F16, BF16, Q8_0, Q4_0}

// gemmCase makes a rows x cols matrix of type typ (its data at byte offset
// off inside guard bytes) and n activation vectors.
func gemmCase(t *testing.T, rng *rand.Rand, typ Type, rows, cols, n, off int) (Matrix, [][]float32, func()) {
	t.Helper()
	var data []byte
	for range rows {
		data = append(data, encode(t, typ, randFloats(rng, cols, "normal"))...)
	}
	w, check := placed(t, data, off, 0xa5)
	m, err := NewMatrix(typ, rows, cols, w)
	if err != nil {
		t.Fatal(err)
	}
	xs := make([][]float32, n)
	for i := range xs {
		xs[i] = randFloats(rng, cols, "mixed")
	}
	return m, xs, check
}

// gemmShapes are the (rows, cols, tokens) of the tier tests: odd sizes
// around every tile edge (block counts around the groups of four and eight
// of the small-batch layouts: 9, 10, 11, 12, 17), and one shape of a real
// layer's width.
func gemmShapes(typ Type) [][3]int {
	colsList := []int{32, 64, 96, 160, 288, 320, 352, 384, 416, 544, 1024}
	if !typ.Quantized() {
		colsList = []int{1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 64, 1023}
	}
	var s [][3]int
	for _, c := range colsList {
		for _, rt := range [][2]int{{1, 1}, {5, 1}, {33, 1}, {3, 2}, {4, 3}, {5, 4}, {6, 5}, {7, 6}, {9, 8}, {10, 9}, {3, 11}, {8, 12}, {9, 13}, {17, 7}, {33, 25}, {5, 19}, {3, 30}, {4, 45}} {
			s = append(s, [3]int{rt[0], c, rt[1]})
		}
	}
	s = append(s, [3]int{64, 2048, 32}, [3]int{64, 2048, 1}, [3]int{9, 768, 128}, [3]int{3, 288, 129})
	if typ.Quantized() {
		// one vector on rows as wide as a model's down projection (5632
		// columns: the one-vector kernels' vector fills a quarter of the L1
		// cache), and with blocks after the last group of eight
		s = append(s, [3]int{11, 5632, 1}, [3]int{21, 4352, 1}, [3]int{7, 5664, 1})
	}
	return s
}

// forEachTier runs f for every tier of the batched kernels but the
// reference one that this CPU can run (forced by UseGEMMTier), and skips,
// with what they need, the tiers of this build the CPU cannot run: a Zen 3
// machine runs generic and avx2 and says it skipped avx512.
func forEachTier(t *testing.T, f func(t *testing.T, tier string)) {
	t.Logf("tiers here: %v (dispatch uses %s); missing: %v", GEMMTiers(), GEMMTier(), MissingGEMMTiers())
	for _, tier := range GEMMTiers() {
		if tier != "ref" {
			t.Run(tier, func(t *testing.T) { f(t, tier) })
		}
	}
	for _, m := range MissingGEMMTiers() {
		name, needs, _ := strings.Cut(m, ": ")
		t.Run(name, func(t *testing.T) { t.Skipf("this CPU lacks %s", needs) })
	}
}

// TestMatMulTiers runs every MatMul tier this machine has on odd shapes,
// unaligned weights and a strided output with guard values, against the
// scalar reference tier.
func TestMatMulTiers(t *testing.T) {
	body := func(t *testing.T, tier string) {
		{
			for _, typ := range gemmTypes {
				t.Run(typ.String(), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(typ), 7))
					for i, sh := range gemmShapes(typ) {
						rows, cols, n := sh[0], sh[1], sh[2]
						m, xs, check := gemmCase(t, rng, typ, rows, cols, n, i%5)
						b := NewBatch(n, cols)
						b.Set(xs, typ)
						want := make([]float32, n*rows)
						restore := UseGEMMTier("ref")
						MatMul(strided(want, rows, rows, n), m, 0, rows, b)
						restore()

						ldo := rows + 3 // guard columns between the tokens' outputs
						got := make([]float32, n*ldo+5)
						sentinel := float32(math.Inf(-1))
						for j := range got {
							got[j] = sentinel
						}
						restore = UseGEMMTier(tier)
						MatMul(strided(got, ldo, rows, n), m, 0, rows, b)
						restore()
						check()
						for tok := range n {
							for r := range rows {
								g, w := got[tok*ldo+r], want[tok*rows+r]
								if tol := gemmTol(t, typ, m, r, b, tok); !(math.Abs(float64(g-w)) <= tol) { // (a NaN fails)
									t.Fatalf("%dx%d, %d tokens: out[%d][%d] = %g, reference %g (tolerance %g)", rows, cols, n, tok, r, g, w, tol)
								}
							}
							for j := rows; j < ldo && tok*ldo+j < len(got); j++ {
								if got[tok*ldo+j] != sentinel {
									t.Fatalf("%dx%d, %d tokens: guard out[%d][%d] written", rows, cols, n, tok, j)
								}
							}
						}
						for j := (n-1)*ldo + rows; j < len(got); j++ {
							if got[j] != sentinel {
								t.Fatalf("%dx%d, %d tokens: guard %d after the output written", rows, cols, n, j)
							}
						}
					}
				})
			}
		}
	}
	forEachTier(t, body)
	// A CPU with AMX multiplies groups of eight Q8_0 vectors with tiles;
	// the 2x8 tile on the x8 layout that AVX-512 CPUs without AMX use is
	// tested here too.
	if amxLayout && slices.Contains(GEMMTiers(), "avx512") {
		t.Run("avx512-without-amx", func(t *testing.T) {
			amxLayout = false
			defer func() { amxLayout = true }()
			body(t, "avx512")
		})
	}
	// A CPU with VBMI runs one Q4_0 vector in the x4 layout; the kernel
	// that AVX-512 CPUs without VBMI use is tested here too.
	if x4Q4_0 && slices.Contains(GEMMTiers(), "avx512") {
		t.Run("avx512-without-vbmi", func(t *testing.T) {
			x4Q4_0 = false
			defer func() { x4Q4_0 = true }()
			body(t, "avx512")
		})
	}
}

// TestMatMulQ4_0AMX runs Q4_0 batches through the AMX tiles (gemmQ4_0AMX:
// panels of 16 rows converted to Q8_0 blocks, amxQ4Blocks at a time)
// against the reference tier: row counts around the panels (rows%16 != 0,
// one row), widths of one to three conversion chunks (the last one
// partial), groups of eight vectors with a partial last group (nv < 8),
// weights at unaligned offsets, outputs with guard values between the
// vectors, and row ranges cut at odd rows (the pool's) giving the whole
// product's bits.
func TestMatMulQ4_0AMX(t *testing.T) {
	if !amxLayout || !slices.Contains(GEMMTiers(), "avx512") {
		t.Skipf("needs AMX and the avx512 tier (tiers %v, AMX %v)", GEMMTiers(), amxLayout)
	}
	defer UseGEMMTier("avx512")()
	rng := rand.New(rand.NewPCG(31, 7))
	for i, sh := range [][3]int{{1, 128, 8}, {15, 384, 9}, {16, 2048, 13}, {17, 4224, 16}, {33, 5632, 31},
		{40, 2048, 128}, {5, 4096, 8}, {31, 128, 127}, {3, 8192, 24}, {9, 1024, amxQ4_0MinTokens}} {
		rows, cols, n := sh[0], sh[1], sh[2]
		m, xs, check := gemmCase(t, rng, Q4_0, rows, cols, n, 1+i%7)
		b := NewBatch(n, cols)
		b.Set(xs, Q4_0)
		if !b.useAMX || !b.amxVec(n-1) {
			t.Fatalf("%dx%d, %d vectors: not in the AMX layout", rows, cols, n)
		}
		want := make([]float32, n*rows)
		restore := UseGEMMTier("ref")
		MatMul(strided(want, rows, rows, n), m, 0, rows, b)
		restore()
		ldo := rows + 2
		got := make([]float32, n*ldo)
		sentinel := float32(math.Inf(1))
		for j := range got {
			got[j] = sentinel
		}
		MatMul(strided(got, ldo, rows, n), m, 0, rows, b)
		check()
		for tok := range n {
			for r := range rows {
				g, w := got[tok*ldo+r], want[tok*rows+r]
				if tol := gemmTol(t, Q4_0, m, r, b, tok); !(math.Abs(float64(g-w)) <= tol) {
					t.Fatalf("%dx%d, %d vectors: out[%d][%d] = %g, reference %g (tolerance %g)", rows, cols, n, tok, r, g, w, tol)
				}
			}
			for j := rows; j < ldo; j++ {
				if got[tok*ldo+j] != sentinel {
					t.Fatalf("%dx%d, %d vectors: guard out[%d][%d] written", rows, cols, n, tok, j)
				}
			}
		}
		checkByParts(t, fmt.Sprintf("%dx%d, %d vectors, parts of 7 rows", rows, cols, n), m, b, got, n, rows, ldo, 7)
	}
}

// strided returns n output rows of length rows, ldo apart in buf.
func strided(buf []float32, ldo, rows, n int) [][]float32 {
	outs := make([][]float32, n)
	for i := range outs {
		outs[i] = buf[i*ldo : i*ldo+rows : i*ldo+rows]
	}
	return outs
}

// gemmTol is the allowed difference between two summation orders of one
// output: a few float32 roundings of the sum of |products|.
func gemmTol(t testing.TB, typ Type, m Matrix, r int, b *Batch, tok int) float64 {
	w := decode(t, typ, m.RowData(r), m.Cols)
	var x []float32
	switch {
	case typ.Quantized():
		x = make([]float32, m.Cols)
		for i := range x {
			x[i] = float32(int8(b.q[tok*b.nb*32+i])) * b.d[tok*b.nb+i/32]
		}
	default:
		x = b.x[tok*b.cols : (tok+1)*b.cols]
	}
	_, mag := dot64(w, x)
	return 4e-6*mag + 1e-30
}

// TestMatMulDefinition checks the reference tier against float64 products
// of the dequantised weights and activations, and the dispatched MatMul
// against MatVec, token by token: a batched product must give what the
// single-vector path gives (exactly the same integer dot products for the
// int8 types; only the float summation order differs).
func TestMatMulDefinition(t *testing.T) {
	for _, typ := range gemmTypes {
		t.Run(typ.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(typ), 9))
			const rows, cols, n = 37, 256, 19
			m, xs, _ := gemmCase(t, rng, typ, rows, cols, n, 0)
			b := NewBatch(n, cols)
			b.Set(xs, typ)
			ref := make([]float32, n*rows)
			restore := UseGEMMTier("ref")
			MatMul(strided(ref, rows, rows, n), m, 0, rows, b)
			restore()
			got := make([]float32, n*rows)
			MatMul(strided(got, rows, rows, n), m, 0, rows, b)
			v := NewVec(cols)
			mv := make([]float32, rows)
			for tok := range n {
				v.Set(xs[tok], typ)
				MatVec(mv, m, v, 0, rows)
				for r := range rows {
					tol := gemmTol(t, typ, m, r, b, tok)
					w := decode(t, typ, m.RowData(r), cols)
					var x []float32
					switch {
					case typ.Quantized():
						x = decode(t, Q8_0, v.q, cols)
					default:
						x = xs[tok]
					}
					exact, _ := dot64(w, x)
					if d := math.Abs(float64(ref[tok*rows+r]) - exact); !(d <= tol) {
						t.Fatalf("ref[%d][%d] = %g, float64 %g", tok, r, ref[tok*rows+r], exact)
					}
					if d := math.Abs(float64(got[tok*rows+r] - mv[r])); !(d <= tol) {
						t.Fatalf("MatMul[%d][%d] = %g, MatVec %g (tolerance %g)", tok, r, got[tok*rows+r], mv[r], tol)
					}
				}
			}
		})
	}
}

// TestMatMulRowRanges splits a product by rows, as the pool does, at
// offsets that are not multiples of any tile.
func TestMatMulRowRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, typ := range gemmTypes {
		const rows, cols, n = 29, 128, 7
		m, xs, _ := gemmCase(t, rng, typ, rows, cols, n, 0)
		b := NewBatch(n, cols)
		b.Set(xs, typ)
		whole := make([]float32, n*rows)
		MatMul(strided(whole, rows, rows, n), m, 0, rows, b)
		parts := make([]float32, n*rows)
		for _, cut := range [][2]int{{0, 5}, {5, 6}, {6, 19}, {19, 19}, {19, 29}} {
			MatMul(strided(parts, rows, rows, n), m, cut[0], cut[1], b)
		}
		for i := range whole {
			if whole[i] != parts[i] {
				t.Fatalf("%s: element %d: whole %g, by parts %g", typ, i, whole[i], parts[i])
			}
		}
	}
}

func TestMatMulNoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, tier := range GEMMTiers() {
		for _, typ := range gemmTypes {
			m, xs, _ := gemmCase(t, rng, typ, 16, 64, 13, 0)
			b := NewBatch(13, 64)
			b.Set(xs, typ)
			outs := strided(make([]float32, 13*16), 16, 16, 13)
			restore := UseGEMMTier(tier)
			if tier != "ref" {
				if a := testing.AllocsPerRun(10, func() { MatMul(outs, m, 0, 16, b) }); a != 0 {
					t.Errorf("%s %s: MatMul allocates %v times", tier, typ, a)
				}
			}
			restore()
			if a := testing.AllocsPerRun(10, func() { b.Set(xs, typ) }); a != 0 {
				t.Errorf("%s: Batch.Set allocates %v times after the first", typ, a)
			}
		}
	}
}

func TestMatMulMisusePanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	m, xs, _ := gemmCase(t, rng, Q8_0, 8, 64, 3, 0)
	b := NewBatch(3, 64)
	b.Set(xs, Q8_0)
	f16 := NewBatch(3, 64)
	f16.Set(xs, F16)
	outs := strided(make([]float32, 3*8), 8, 8, 3)
	for name, f := range map[string]func(){
		"rows out of range": func() { MatMul(outs, m, 0, 9, b) },
		"lo > hi":           func() { MatMul(outs, m, 5, 4, b) },
		"short output":      func() { MatMul([][]float32{outs[0], outs[1], outs[2][:7]}, m, 0, 8, b) },
		"too few outputs":   func() { MatMul(outs[:2], m, 0, 8, b) },
		"wrong type":        func() { MatMul(outs, m, 0, 8, f16) },
		"too many vectors":  func() { b.Set(append(xs, xs[0]), Q8_0) },
		"too long":          func() { b.Set([][]float32{make([]float32, 96)}, Q8_0) },
		"not whole blocks":  func() { b.Set([][]float32{make([]float32, 33)}, Q8_0) },
		"ragged":            func() { b.Set([][]float32{make([]float32, 32), make([]float32, 64)}, F32) },
		"unknown tier":      func() { UseGEMMTier("none") },
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

func BenchmarkMatMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, typ := range gemmTypes {
		for _, tier := range GEMMTiers() {
			if tier == "ref" {
				continue
			}
			const rows, cols, n = 256, 2048, 32
			t := &testing.T{}
			m, xs, _ := gemmCase(t, rng, typ, rows, cols, n, 0)
			batch := NewBatch(n, cols)
			batch.Set(xs, typ)
			outs := strided(make([]float32, n*rows), rows, rows, n)
			b.Run(fmt.Sprintf("%s/%s/%dx%dx%d", typ, tier, rows, cols, n), func(b *testing.B) {
				restore := UseGEMMTier(tier)
				defer restore()
				for b.Loop() {
					MatMul(outs, m, 0, rows, batch)
				}
				b.ReportMetric(2*float64(rows*cols*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkMatMulPrompt measures a prompt chunk (128 vectors, BatchRows)
// of every type on every assembly tier, one thread, on 256 rows (a chunk
// of rows as the pool hands them out) of 2048 and 5632 columns (the 1.1B
// shape's widths): what pp512 spends its time in.
//
//	go test ./quant -run '^$' -bench MatMulPrompt -cpu 1
func BenchmarkMatMulPrompt(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 7))
	for _, typ := range append(gemmTypes[1:len(gemmTypes):len(gemmTypes)], kTypes...) {
		for _, cols := range []int{2048, 5632} {
			const rows, n = 256, 128
			m, xs, _ := gemmCase(&testing.T{}, rng, typ, rows, cols, n, 0)
			outs := strided(make([]float32, n*rows), rows, rows, n)
			for _, tier := range GEMMTiers() {
				if tier == "ref" || tier == "generic" {
					continue
				}
				b.Run(fmt.Sprintf("%s/%s/%dx%d", typ, tier, rows, cols), func(b *testing.B) {
					defer UseGEMMTier(tier)()
					batch := NewBatch(n, cols)
					batch.Set(xs, typ)
					for b.Loop() {
						MatMul(outs, m, 0, rows, batch)
					}
					b.ReportMetric(2*float64(rows*cols*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// TestQuantizeBatchTiers: every tier's activation quantiser gives
// quantizeBatchGeneric's bytes (which TestMatMulDefinition ties to
// Vec.Set's), for mixed, tiny, huge and zero blocks and values that land
// exactly halfway between two quants.
func TestQuantizeBatchTiers(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	var x []float32
	for _, kind := range []string{"normal", "mixed", "tiny", "large", "zeros"} {
		x = append(x, randFloats(rng, 32*7, kind)...)
	}
	// blocks whose amax is 127 so that x*id = x: halves round away from zero
	for b := range 4 {
		blk := make([]float32, 32)
		blk[0] = 127
		for i := 1; i < 32; i++ {
			blk[i] = float32(rng.IntN(253)-126) + 0.5*float32(b%2)
		}
		x = append(x, blk...)
	}
	n := len(x) / 32
	type out struct {
		q, q34      []byte
		d, xc       []float32
		bias, bias4 []int32
	}
	run := func(f func(q []byte, d []float32, bias, bias4 []int32, xc []float32, q34 []byte, x []float32), with34 bool) out {
		o := out{q: make([]byte, 32*n), d: make([]float32, n), xc: make([]float32, n), bias: make([]int32, 8*n), bias4: make([]int32, 8*n)}
		if with34 {
			o.q34 = make([]byte, 34*n)
		}
		f(o.q, o.d, o.bias, o.bias4, o.xc, o.q34, x)
		return o
	}
	for _, with34 := range []bool{true, false} {
		want := run(quantizeBatchGeneric, with34)
		for _, tier := range gemmTiers {
			if !tier.usable {
				t.Logf("%s: skipped, this CPU lacks %s", tier.name, tier.needs)
				continue
			}
			got := run(tier.quant, with34)
			if string(got.q) != string(want.q) || string(got.q34) != string(want.q34) || !slices.Equal(got.d, want.d) ||
				!slices.Equal(got.xc, want.xc) || !slices.Equal(got.bias, want.bias) || !slices.Equal(got.bias4, want.bias4) {
				for k := range n {
					if string(got.q[32*k:32*k+32]) != string(want.q[32*k:32*k+32]) || got.d[k] != want.d[k] || got.xc[k] != want.xc[k] {
						t.Fatalf("%s: block %d: d %g (want %g), xc %g (want %g), quants %v, want %v", tier.name, k, got.d[k], want.d[k],
							got.xc[k], want.xc[k], got.q[32*k:32*k+32], want.q[32*k:32*k+32])
					}
				}
				t.Fatalf("%s: differs from quantizeBatchGeneric (q34 %v)", tier.name, with34)
			}
		}
	}
}

// BenchmarkMatMulDecode measures the batched Q8_0 product at the batch
// sizes continuous batching runs (1-8 vectors, one per decoding sequence,
// and 16-27: a step in which new requests' prompts join eight decoding
// rows)
// on stories110M's shapes: 2304 x 768 (Wq, Wk and Wv stacked: 1.8 MiB, in
// the L2/L3 caches), 768 x 2048 (the down projection, whose 8 vectors fill
// 32 KiB of the L1 cache) and 32000 x 768 (the classifier: 25 MiB,
// streamed from L3 or memory), on one thread. ns/block-vector is the time per
// weight block (32 weights) per vector, the figure to compare across
// batch sizes: a tile that shares its weight loads and unpacking over
// more vectors costs less per vector.
//
//	go test ./quant -run '^$' -bench MatMulDecode
func BenchmarkMatMulDecode(b *testing.B) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, sh := range [][2]int{{2304, 768}, {768, 2048}, {32000, 768}} {
		rows, cols := sh[0], sh[1]
		t := &testing.T{}
		m, xs, _ := gemmCase(t, rng, Q8_0, rows, cols, 128, 0)
		outs := strided(make([]float32, 128*rows), rows, rows, 128)
		for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 16, 24, 27, 64, 128} {
			batch := NewBatch(n, cols)
			batch.Set(xs[:n], Q8_0)
			b.Run(fmt.Sprintf("%dx%d/n=%d", rows, cols, n), func(b *testing.B) {
				for b.Loop() {
					MatMul(outs, m, 0, rows, batch)
				}
				blocks := float64(rows*cols/32*n) * float64(b.N)
				b.ReportMetric(b.Elapsed().Seconds()*1e9/blocks, "ns/block-vector")
			})
		}
	}
}

// TestBatchPaddingReused reuses one Batch for batches of several sizes,
// widths and types, as the forward pass does (a prompt chunk, then one
// vector per step, then another chunk), and checks that the padding
// vectors the tiles read are zero after each Set, and that MatMul gives
// the bits a fresh Batch gives. Prepare clears only what earlier batches
// may have written there.
func TestBatchPaddingReused(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	b := NewBatch(30, 5632)
	for _, c := range []struct {
		typ     Type
		n, cols int
	}{
		{Q8_0, 20, 2048}, {Q8_0, 1, 2048}, {Q8_0, 13, 2048}, {Q8_0, 1, 2048}, {Q8_0, 1, 5632},
		{Q4_0, 12, 5632}, {Q4_0, 1, 2048}, {Q4_0, 3, 2048}, {Q4_0, 25, 1024}, {Q4_0, 2, 5632},
		{F16, 13, 1024}, {F16, 1, 4096}, {F16, 5, 4096}, {F32, 30, 64}, {F32, 2, 64},
	} {
		m, xs, _ := gemmCase(t, rng, c.typ, 16, c.cols, c.n, 0)
		for _, x := range xs {
			for k := range x {
				x[k] += 1 // no zero vectors: the padding must not look set
			}
		}
		b.Set(xs, c.typ)
		np := padTokens(c.n)
		zero := func(name string, s []float32) {
			if i := slices.IndexFunc(s, func(v float32) bool { return v != 0 }); i >= 0 {
				t.Errorf("%v n=%d cols=%d: %s padding element %d is %v", c.typ, c.n, c.cols, name, i, s[i])
			}
		}
		if c.typ.Quantized() {
			nb := c.cols / 32
			if i := slices.IndexFunc(b.q[c.n*nb*32:np*nb*32], func(v byte) bool { return v != 0 }); i >= 0 {
				t.Errorf("%v n=%d cols=%d: quant padding byte %d is %d", c.typ, c.n, c.cols, i, b.q[c.n*nb*32+i])
			}
			zero("scale", b.d[c.n*nb:np*nb])
			zero("sum", b.xc[c.n*nb:np*nb])
			for _, bias := range [][]int32{b.bias, b.bias4} {
				if i := slices.IndexFunc(bias[c.n*nb*8:np*nb*8], func(v int32) bool { return v != 0 }); i >= 0 {
					t.Errorf("%v n=%d cols=%d: bias padding element %d is %d", c.typ, c.n, c.cols, i, bias[c.n*nb*8+i])
				}
			}
		} else {
			zero("float", b.x[c.n*c.cols:np*c.cols])
		}
		fresh := NewBatch(c.n, c.cols)
		fresh.Set(xs, c.typ)
		got, want := strided(make([]float32, c.n*16), 16, 16, c.n), strided(make([]float32, c.n*16), 16, 16, c.n)
		MatMul(got, m, 0, 16, b)
		MatMul(want, m, 0, 16, fresh)
		for i := range got {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("%v n=%d cols=%d: vector %d differs from a fresh batch's", c.typ, c.n, c.cols, i)
			}
		}
	}
}

// TestBatchPageAligned checks that a batch's activation buffers start on a
// 4 KiB page however the allocator's earlier history placed other objects
// (the one-vector kernels lose 3.5-5% when a vector they read once per
// weight row straddles two pages), and that short buffers and other
// element types come out right.
func TestBatchPageAligned(t *testing.T) {
	page := func(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) % alignPage }
	var keep [][]byte
	for i := range 24 {
		// Small objects of the batch buffers' size classes in between,
		// so that a plain make would land at varying offsets.
		keep = append(keep, make([]byte, 2336+i*97), make([]byte, 6424))
		b := NewBatch(1, 2048+256*(i%3))
		b.Prepare(Q4_K, 1, 2048+256*(i%3))
		if off := page(b.q8k); off != 0 {
			t.Fatalf("round %d: Q8_K activations start %d bytes into a page", i, off)
		}
		b.Prepare(Q8_0, 1, 2048)
		if off := page(b.q34); off != 0 {
			t.Fatalf("round %d: Q8_0 blocks start %d bytes into a page", i, off)
		}
		if off := page(b.q); off != 0 {
			t.Fatalf("round %d: quants start %d bytes into a page", i, off)
		}
	}
	_ = keep
	f := pageAligned[float32](1000)
	if len(f) != 1000 || uintptr(unsafe.Pointer(unsafe.SliceData(f)))%alignPage != 0 {
		t.Fatalf("pageAligned[float32](1000): len %d, page offset %d", len(f), uintptr(unsafe.Pointer(unsafe.SliceData(f)))%alignPage)
	}
	for _, v := range f {
		if v != 0 {
			t.Fatal("pageAligned: storage not zeroed")
		}
	}
	if s := pageAligned[int16](10); len(s) != 10 || cap(s) != 10 {
		t.Fatalf("pageAligned[int16](10): len %d cap %d, want a plain make", len(s), cap(s))
	}
}
