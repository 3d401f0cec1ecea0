package quant

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// packedTiers returns the tiers this CPU can run whose MatMul takes the
// packed float32 path for large batches (the AVX2 tier).
func packedTiers() []string {
	var names []string
	for _, t := range gemmTiers {
		if t.usable && t.packed {
			names = append(names, t.name)
		}
	}
	return names
}

// withPackedMin sets the smallest batch that is packed for the rest of the test.
func withPackedMin(t *testing.T, n int) {
	prev := packedMinTokens
	packedMinTokens = n
	t.Cleanup(func() { packedMinTokens = prev })
}

// TestMatMulPacked runs the packed path of every tier that has one against
// the reference tier: shapes around every edge of its blocking (6-row
// panels, 48-row blocks, 16-vector groups, 256-column and 256-vector
// blocks, float rows not a multiple of 8), weights at unaligned offsets
// between guard bytes, outputs strided with guard values, row ranges cut
// as the pool cuts them (bit-identical to the whole), and batches set part
// by part (as the feed-forward job sets the down projection's input).
func TestMatMulPacked(t *testing.T) {
	tiers := packedTiers()
	if len(tiers) == 0 {
		t.Skipf("no tier with the packed path here (tiers %v; missing %v)", GEMMTiers(), MissingGEMMTiers())
	}
	withPackedMin(t, 2)
	defer func(q4, q8 bool) { packedQ4_0Int, packedQ8_0Int = q4, q8 }(packedQ4_0Int, packedQ8_0Int)
	for _, mode := range []string{"int", "float"} {
		// "float": Q8_0 and Q4_0 through the float32 path too (the
		// integer kernels switched off), which the benchmark compares.
		packedQ4_0Int, packedQ8_0Int = mode == "int", mode == "int"
		for _, tier := range tiers {
			t.Run(tier+"/"+mode, func(t *testing.T) {
				restoreTier := UseGEMMTier(tier)
				defer restoreTier()
				for _, typ := range gemmTypes {
					if mode == "float" && typ != Q8_0 && typ != Q4_0 {
						continue
					}
					rng := rand.New(rand.NewPCG(uint64(typ), 21))
					shapes := [][3]int{{1, 64, 2}, {5, 96, 3}, {6, 32, 16}, {7, 288, 17}, {13, 64, 33}, {47, 320, 15},
						{48, 256, 16}, {49, 512, 31}, {97, 544, 40}, {50, 64, 300}, {20, 2048, 24}}
					if !typ.Quantized() {
						shapes = append(shapes, [3]int{9, 1, 2}, [3]int{11, 7, 5}, [3]int{50, 263, 18}, [3]int{6, 513, 17}, [3]int{8, 1023, 2})
					}
					for i, sh := range shapes {
						rows, cols, n := sh[0], sh[1], sh[2]
						m, xs, check := gemmCase(t, rng, typ, rows, cols, n, i%5)
						b := NewBatch(n, cols)
						if i%2 == 0 {
							b.Set(xs, typ)
						} else {
							// Part by part, in whole blocks, the later parts first.
							b.Prepare(typ, n, cols)
							for j := range n {
								for c := cols; c > 0; {
									c0 := max(0, c-64)
									b.SetPart(j, c0, xs[j][c0:c])
									c = c0
								}
							}
						}
						if !b.packed {
							t.Fatalf("%s %dx%d, %d vectors: batch not packed", typ, rows, cols, n)
						}
						want := make([]float32, n*rows)
						restore := UseGEMMTier("ref")
						MatMul(strided(want, rows, rows, n), m, 0, rows, b)
						restore()

						ldo := rows + 3
						got := make([]float32, n*ldo+5)
						sentinel := float32(math.Inf(-1))
						for j := range got {
							got[j] = sentinel
						}
						outs := strided(got, ldo, rows, n)
						MatMul(outs, m, 0, rows, b)
						check()
						for tok := range n {
							for r := range rows {
								g, w := got[tok*ldo+r], want[tok*rows+r]
								if tol := gemmTol(t, typ, m, r, b, tok); !(math.Abs(float64(g-w)) <= tol) {
									t.Fatalf("%s %dx%d, %d vectors: out[%d][%d] = %g, reference %g (tolerance %g)", typ, rows, cols, n, tok, r, g, w, tol)
								}
							}
							for j := rows; j < ldo && tok*ldo+j < len(got); j++ {
								if got[tok*ldo+j] != sentinel {
									t.Fatalf("%s %dx%d, %d vectors: guard out[%d][%d] written", typ, rows, cols, n, tok, j)
								}
							}
						}
						for j := (n-1)*ldo + rows; j < len(got); j++ {
							if got[j] != sentinel {
								t.Fatalf("%s %dx%d, %d vectors: guard %d after the output written", typ, rows, cols, n, j)
							}
						}
						checkByParts(t, fmt.Sprintf("%s %dx%d, %d vectors", typ, rows, cols, n), m, b, got, n, rows, ldo, 16)
					}
				}
			})
		}
	}
}

// TestPackTiers: the packers this build uses (assembly on amd64) write
// what the generic ones write, bit for bit, and nothing between the
// columns they write.
func TestPackTiers(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	for _, n := range []int{1, 7, 8, 9, 31, 32, 33, 64, 100, 1024} {
		x := randFloats(rng, n, "mixed")
		want := make([]float32, 16*n)
		got := make([]float32, 16*n)
		for i := range got {
			want[i], got[i] = -1, -1
		}
		packF32Generic(want, x)
		packF32Impl(got, x)
		if !slices.Equal(got, want) {
			t.Fatalf("packF32 of %d floats differs from the generic packer", n)
		}
		if n%32 != 0 {
			continue
		}
		q := make([]byte, n)
		for i := range q {
			q[i] = byte(rng.IntN(255) - 127)
		}
		d := randFloats(rng, n/32, "mixed")
		packQ8Generic(want, q, d)
		packQ8Impl(got, q, d)
		if !slices.Equal(got, want) {
			t.Fatalf("packQ8 of %d quants differs from the generic packer", n)
		}
	}
}

// TestMatMulPackedMatchesMatVec: a batch large enough to take the packed
// path (the default threshold) gives, vector by vector, what MatVec gives
// within float32 rounding of the sums: the same int8 products for Q8_0 and
// Q4_0 (the activations are the quantised ones MatVec uses), the same
// float products for the float types.
func TestMatMulPackedMatchesMatVec(t *testing.T) {
	tiers := packedTiers()
	if len(tiers) == 0 {
		t.Skipf("no tier with the packed path here (tiers %v)", GEMMTiers())
	}
	for _, tier := range tiers {
		restore := UseGEMMTier(tier)
		for _, typ := range gemmTypes {
			rng := rand.New(rand.NewPCG(uint64(typ), 22))
			rows, cols, n := 40, 1024, packedMinTokens+3
			m, xs, _ := gemmCase(t, rng, typ, rows, cols, n, 1)
			b := NewBatch(n, cols)
			b.Set(xs, typ)
			if !b.packed {
				t.Fatalf("%s %s: a batch of %d vectors is not packed", tier, typ, n)
			}
			got := make([]float32, n*rows)
			MatMul(strided(got, rows, rows, n), m, 0, rows, b)
			v := NewVec(cols)
			mv := make([]float32, rows)
			for tok := range n {
				v.Set(xs[tok], typ)
				MatVec(mv, m, v, 0, rows)
				for r := range rows {
					if tol := gemmTol(t, typ, m, r, b, tok); !(math.Abs(float64(got[tok*rows+r]-mv[r])) <= tol) {
						t.Fatalf("%s %s: MatMul[%d][%d] = %g, MatVec %g (tolerance %g)", tier, typ, tok, r, got[tok*rows+r], mv[r], tol)
					}
				}
			}
		}
		restore()
	}
}

// BenchmarkMatMulPacked compares, on one thread, the packed path of each
// tier that has one ("packed": the integer panel kernels for Q8_0 and
// Q4_0, float32 for the rest; "float": the float32 path for Q8_0 and Q4_0
// too) with the same tier's register tiles ("tiles": packing switched off;
// for the K-quants the rows kernel, one vector at a time)
// at prompt-processing batch sizes, on a 256 x 2048 matrix (a chunk of
// rows as the pool hands them out).
//
//	GODEBUG=cpu.avx512f=off go test ./quant -run '^$' -bench MatMulPacked
func BenchmarkMatMulPacked(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, tier := range packedTiers() {
		for _, typ := range append(gemmTypes[:len(gemmTypes):len(gemmTypes)], kTypes...) {
			for _, n := range []int{32, 128, 512} {
				const rows, cols = 256, 2048
				m, xs, _ := gemmCase(&testing.T{}, rng, typ, rows, cols, n, 0)
				outs := strided(make([]float32, n*rows), rows, rows, n)
				modes := []string{"tiles", "packed"}
				if typ == Q8_0 || typ == Q4_0 {
					modes = append(modes, "float")
				}
				for _, mode := range modes {
					b.Run(typ.String()+"/"+tier+"/"+mode+"/n="+strconv.Itoa(n), func(b *testing.B) {
						restore := UseGEMMTier(tier)
						defer restore()
						prev, q4, q8 := packedMinTokens, packedQ4_0Int, packedQ8_0Int
						defer func() { packedMinTokens, packedQ4_0Int, packedQ8_0Int = prev, q4, q8 }()
						switch mode {
						case "tiles":
							packedMinTokens = math.MaxInt
						case "float":
							packedQ4_0Int, packedQ8_0Int = false, false
						}
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
}

// kTol is gemmTol for K-quant rows: a few float32 roundings of the sum of
// the magnitudes of every term the kernels may sum separately: the scaled
// level, the min, and the level offset where the type has one (the rows
// kernels move Q6_K's -32 and Q3_K's -4 to the Q8_K sums, where they cancel
// in float: counted twice over).
// checkKAgainstMatVec checks that got, vector tok's results at
// got[tok*ldo:], are MatVec's for each of xs within kTol.
func checkKAgainstMatVec(t testing.TB, label string, m Matrix, typ Type, xs [][]float32, got []float32, ldo int, b *Batch) {
	t.Helper()
	v := NewVec(m.Cols)
	want := make([]float32, m.Rows)
	for tok, x := range xs {
		v.Set(x, typ)
		MatVec(want, m, v, 0, m.Rows)
		for r := range m.Rows {
			g := got[tok*ldo+r]
			if tol := kTol(t, typ, m, r, b, tok); !(math.Abs(float64(g-want[r])) <= tol) {
				t.Fatalf("%s out[%d][%d] = %g, MatVec %g (tolerance %g)", label, tok, r, g, want[r], tol)
			}
		}
	}
}

func kTol(t testing.TB, typ Type, m Matrix, r int, b *Batch, tok int) float64 {
	t.Helper()
	row := m.RowData(r)
	size := kSize(typ)
	offset := map[Type]float64{Q6_K: 64, Q3_K: 8}[typ]
	var k kBlock
	var mag float64
	for sb := 0; sb < m.Cols/superLen; sb++ {
		decodeK(typ, row[sb*size:][:size], &k)
		xb := b.q8k[(tok*b.nb+sb)*sizeQ8_K:][:sizeQ8_K]
		dx := math.Abs(float64(math.Float32frombits(binary.LittleEndian.Uint32(xb))))
		for e := range superLen {
			x := math.Abs(float64(int8(xb[q8kQuants+e]))) * dx
			w := math.Abs(float64(k.d)*float64(k.scale[e/k.sub]))*(math.Abs(float64(k.q[e]))+offset) + math.Abs(float64(k.dmin)*float64(k.min[e/k.sub]))
			mag += w * x
		}
	}
	return 4e-6*mag + 1e-30
}

// kTileTiers returns the tiers this CPU can run whose MatMul multiplies
// K-quant batches several vectors at a time: the packed tier (every K type
// through the panel kernels) and the tiers with their own K tiles (the
// AVX-512 tier: VNNI tiles for Q4_K and Q6_K, the AVX2 panel kernels for
// the others).
func kTileTiers() []string {
	var names []string
	for _, t := range gemmTiers {
		if t.usable && (t.packed || t.ktiles != nil) {
			names = append(names, t.name)
		}
	}
	return names
}

// TestMatMulKPacked runs MatMul on K-quant matrices with batches that take
// the K tiles of every tier that has them (on the packed tier the panel
// kernels, on the AVX-512 tier its VNNI tiles or, for the types they lack,
// the panel kernels in whole groups of 6 vectors and the rows kernel for
// the rest) against MatVec vector by vector: partial panels of 8 rows,
// several column chunks of 8 super-blocks, groups of 6 vectors and passes
// of 252, weights at unaligned offsets, outputs strided with guards, row
// ranges cut as the pool cuts them (bit-identical to the whole), batches
// set part by part.
func TestMatMulKPacked(t *testing.T) {
	tiers := kTileTiers()
	if len(tiers) == 0 {
		t.Skipf("no tier with K tiles here (tiers %v; missing %v)", GEMMTiers(), MissingGEMMTiers())
	}
	withPackedMin(t, 2)
	for _, tier := range tiers {
		for _, typ := range kTypes {
			t.Run(tier+"/"+typ.String(), func(t *testing.T) {
				restoreTier := UseGEMMTier(tier)
				defer restoreTier()
				rng := rand.New(rand.NewPCG(uint64(typ), 24))
				shapes := [][3]int{{1, 256, 2}, {7, 256, 5}, {8, 512, 6}, {13, 2304, 7}, {21, 2560, 13}, {40, 512, 17},
					{16, 256, 300}, {9, 4352, 3}, {15, 4352, 23}, {3, 768, 259}, {11, 512, 10}}
				for i, sh := range shapes {
					checkKProduct(t, rng, tier, typ, sh[0], sh[1], sh[2], i)
				}
			})
		}
	}
}

// checkKProduct multiplies a random rows x cols matrix of K-quant type typ
// (placed at offset i%5 between guard bytes) with n random vectors (set at
// once for even i, part by part otherwise) on the selected tier, and
// checks the products against MatVec and against the same product cut in
// row ranges.
func checkKProduct(t *testing.T, rng *rand.Rand, tier string, typ Type, rows, cols, n, i int) {
	t.Helper()
	var data []byte
	for range rows {
		data = append(data, encode(t, typ, randFloats(rng, cols, "mixed"))...)
	}
	w, check := placed(t, data, i%5, 0xa5)
	m, err := NewMatrix(typ, rows, cols, w)
	if err != nil {
		t.Fatal(err)
	}
	xs := make([][]float32, n)
	for j := range xs {
		xs[j] = randFloats(rng, cols, "mixed")
	}
	b := NewBatch(n, cols)
	if i%2 == 0 {
		b.Set(xs, typ)
	} else {
		b.Prepare(typ, n, cols)
		for j := n - 1; j >= 0; j-- {
			for c := cols; c > 0; c -= 256 {
				b.SetPart(j, c-256, xs[j][c-256:c])
			}
		}
	}
	ldo := rows + 3
	got := make([]float32, n*ldo)
	sentinel := float32(math.Inf(-1))
	for j := range got {
		got[j] = sentinel
	}
	MatMul(strided(got, ldo, rows, n), m, 0, rows, b)
	check()
	checkKAgainstMatVec(t, fmt.Sprintf("%s %s %dx%d, %d vectors", tier, typ, rows, cols, n), m, typ, xs, got, ldo, b)
	for tok := range n {
		for j := rows; j < ldo; j++ {
			if got[tok*ldo+j] != sentinel {
				t.Fatalf("%s %s %dx%d, %d vectors: guard out[%d][%d] written", tier, typ, rows, cols, n, tok, j)
			}
		}
	}
	checkByParts(t, fmt.Sprintf("%s %s %dx%d, %d vectors", tier, typ, rows, cols, n), m, b, got, n, rows, ldo, 16)
}

// TestMatMulKExtremes runs the K tiles on raw super-blocks at the edges of
// the kernels' integer ranges, against MatVec: every level, scale and min
// at its maximum (all bits set) and random bits, times vectors of constant
// +1 and -1 (every quant +-127, the int16 sums of a chunk at their largest)
// and random ones.
func TestMatMulKExtremes(t *testing.T) {
	tiers := kTileTiers()
	if len(tiers) == 0 {
		t.Skipf("no tier with K tiles here (tiers %v; missing %v)", GEMMTiers(), MissingGEMMTiers())
	}
	withPackedMin(t, 2)
	// Offsets of the fp16 factors d (and dmin) in a super-block.
	factors := map[Type][]int{Q2_K: {80, 82}, Q3_K: {108}, Q4_K: {0, 2}, Q5_K: {0, 2}, Q6_K: {208}}
	const rows, cols, n = 10, 2304, 13
	for _, tier := range tiers {
		for _, typ := range kTypes {
			t.Run(tier+"/"+typ.String(), func(t *testing.T) {
				defer UseGEMMTier(tier)()
				rng := rand.New(rand.NewPCG(uint64(typ), 26))
				size := kSize(typ)
				data := make([]byte, rows*cols/superLen*size)
				for i := range data {
					if i/(cols/superLen*size)%2 == 0 {
						data[i] = 0xff
					} else {
						data[i] = byte(rng.Uint32())
					}
				}
				for sb := 0; sb < len(data); sb += size {
					for _, o := range factors[typ] {
						binary.LittleEndian.PutUint16(data[sb+o:], 0x1400) // 2^-10
					}
				}
				m, err := NewMatrix(typ, rows, cols, data)
				if err != nil {
					t.Fatal(err)
				}
				xs := make([][]float32, n)
				for j := range xs {
					switch j % 3 {
					case 0:
						xs[j] = slices.Repeat([]float32{1}, cols)
					case 1:
						xs[j] = slices.Repeat([]float32{-1}, cols)
					default:
						xs[j] = randFloats(rng, cols, "mixed")
					}
				}
				b := NewBatch(n, cols)
				b.Set(xs, typ)
				got := make([]float32, n*rows)
				MatMul(strided(got, rows, rows, n), m, 0, rows, b)
				checkKAgainstMatVec(t, "", m, typ, xs, got, rows, b)
			})
		}
	}
}

// TestKTilesAVX512Panels checks that the AVX-512 tier multiplies batches
// of at least packedMinTokens vectors of every K type with the AVX2 panel
// kernels (kTiles512): every vector, the last n%6 too (the batch is padded
// to whole groups of 6), gives the AVX2 tier's bits (the same integer sums
// and float operations), not those of the rows kernel or of the VNNI
// 4-vector tiles, which sum in other orders.
func TestKTilesAVX512Panels(t *testing.T) {
	tiers := GEMMTiers()
	if !slices.Contains(tiers, "avx512") || !slices.Contains(tiers, "avx2") {
		t.Skipf("needs the avx512 and avx2 tiers (have %v)", tiers)
	}
	const rows, cols, n = 19, 2304, 20
	for _, typ := range kTypes {
		rng := rand.New(rand.NewPCG(uint64(typ), 25))
		var data []byte
		for range rows {
			data = append(data, encode(t, typ, randFloats(rng, cols, "mixed"))...)
		}
		m, err := NewMatrix(typ, rows, cols, data)
		if err != nil {
			t.Fatal(err)
		}
		xs := make([][]float32, n)
		for j := range xs {
			xs[j] = randFloats(rng, cols, "mixed")
		}
		product := func(tier string, xs [][]float32) ([]float32, *Batch) {
			defer UseGEMMTier(tier)()
			b := NewBatch(len(xs), cols)
			b.Set(xs, typ)
			out := make([]float32, len(xs)*rows)
			MatMul(strided(out, rows, rows, len(xs)), m, 0, rows, b)
			return out, b
		}
		want, b := product("avx2", xs)
		if !b.packedInt() {
			t.Fatalf("%s: the avx2 tier's batch of %d does not take the panel kernels", typ, n)
		}
		got, b := product("avx512", xs)
		checkKAgainstMatVec(t, typ.String()+" avx512", m, typ, xs, got, rows, b)
		// What batches too small for the panels give (the VNNI tiles or
		// the rows kernel), 4 vectors at a time.
		var other []float32
		for t0 := 0; t0 < n; t0 += 4 {
			o, _ := product("avx512", xs[t0:t0+4])
			other = append(other, o...)
		}
		diff := 0
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: avx512 out[%d][%d] = %g, avx2's panel kernel %g", typ, i/rows, i%rows, got[i], want[i])
			}
			if got[i] != other[i] {
				diff++
			}
		}
		if diff == 0 {
			t.Errorf("%s: the small batches' kernels gave the panel kernel's bits too: the test cannot tell them apart", typ)
		}
	}
}

// checkByParts checks that MatMul over row ranges of step rows (the
// pool's cuts) gives the same bits as got, the whole product of b's n
// vectors stored ldo apart.
func checkByParts(t *testing.T, label string, m Matrix, b *Batch, got []float32, n, rows, ldo, step int) {
	t.Helper()
	parts := make([]float32, n*rows)
	for lo := 0; lo < rows; lo += step {
		MatMul(strided(parts, rows, rows, n), m, lo, min(lo+step, rows), b)
	}
	for tok := range n {
		for r := range rows {
			if parts[tok*rows+r] != got[tok*ldo+r] {
				t.Fatalf("%s: out[%d][%d] by parts %g, whole %g", label, tok, r, parts[tok*rows+r], got[tok*ldo+r])
			}
		}
	}
}
