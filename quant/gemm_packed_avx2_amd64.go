//go:build amd64 && !noasm

package quant

import (
	"encoding/binary"
	"math"
)

// The packed float32 GEMM of the AVX2 tier, for batches of at least
// packedMinTokens vectors (prompt processing) of the types F32, F16 and
// BF16 (and Q8_0 and Q4_0 where packedQ8_0Int and packedQ4_0Int are off:
// they take the integer panel kernels below, which are about twice as
// fast for Q4_0).
//
// Without VNNI an exact int8 product costs five vector operations per
// (row, vector, block of 32) on the two ports that multiply (sign fix-up,
// two multiply-adds, convert, FMA: gemmQ8_0Tile), and the F16 tile
// converts every weight for every vector it meets. Here a panel of weight
// rows is converted to float32 once (cvt*F32: Q8_0 and Q4_0 as q*d, exact
// in float32) and then meets every vector of the batch, whose Q8_0-style
// quants Batch has already dequantised (xq*dx, also exact) and packed in
// groups of 16 vectors, column-major (Batch.xp). The register tile is 6
// rows x 16 vectors (gemmPacked6x16): 32 multiply-adds of a block cost four
// FMAs and nothing else. The products are those of the int8 path, exact
// in each term; only float32 rounding of the sums differs, as between any
// two summation orders (the int8 kernels round once per block, this one
// once per product).
//
// Blocking: pmRows weight rows x pkCols columns of float32 (48 KiB) are
// converted at a time, and meet the vectors of a token block (pnTok) 16 at
// a time; 16 vectors x pkCols columns of activations (16 KiB) stay in the
// L1 cache while they meet the pmRows/6 panels. The tile's output, rows x
// vectors, accumulates over the column blocks in ct and is scattered to
// outs once.
const (
	pmRows = 48
	pkCols = 256
	pnTok  = 256
)

//go:noescape
func gemmPacked6x16(w *float32, wstride int, x *float32, c *float32, cstride int, k, panels int, first bool)

//go:noescape
func packQ8F32(dst *float32, q *byte, d *float32, n int)

//go:noescape
func packF32(dst, src *float32, n int)

func init() {
	for i, t := range gemmTiers {
		if t.name == "avx2" && t.usable {
			packQ8Impl, packF32Impl = packQ8AVX2, packF32AVX2
			packedQ4_0Int, packedQ8_0Int, packedKInt = true, true, true
			widenQ8Impl = widenQ8AVX2
			gemmTiers[i].ktiles = kTilesAVX2
		}
	}
}

// packQ8AVX2 is packQ8Generic (the same floats: one exact product each).
func packQ8AVX2(xp []float32, q []byte, d []float32) {
	n := len(q) / 32
	if n == 0 {
		return
	}
	_, _ = xp[16*(32*n-1)], d[n-1]
	packQ8F32(&xp[0], &q[0], &d[0], n)
}

// packF32AVX2 is packF32Generic.
func packF32AVX2(xp []float32, x []float32) {
	n8 := len(x) &^ 7
	if n8 > 0 {
		_ = xp[16*(n8-1)]
		packF32(&xp[0], &x[0], n8/8)
	}
	if n8 < len(x) {
		packF32Generic(xp[16*n8:], x[n8:])
	}
}

//go:noescape
func cvtQ8_0F32(dst *float32, src *byte, n int)

//go:noescape
func cvtQ4_0F32(dst *float32, src *byte, n int)

//go:noescape
func cvtF16F32(dst *float32, src *byte, n int)

//go:noescape
func cvtBF16F32(dst *float32, src *byte, n int)

// gemmPackedAVX2 computes outs[t][off+r] for r < rows and t < b.n from
// rows weight rows of rb bytes at w, with b packed (b.packed).
func gemmPackedAVX2(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) {
	var wf [pmRows * pkCols]float32
	var ct [pmRows * pnTok]float32
	kp, ntp := b.kp, (b.n+15)&^15
	for r0 := 0; r0 < rows; r0 += pmRows {
		nr := min(pmRows, rows-r0)
		panels := (nr + 5) / 6
		for t0 := 0; t0 < ntp; t0 += pnTok {
			nt := min(pnTok, ntp-t0)
			for k0 := 0; k0 < kp; k0 += pkCols {
				kc := min(pkCols, kp-k0)
				for r := range panels * 6 {
					dst := wf[r*kc : (r+1)*kc]
					if r < nr {
						convertRow(dst, t, w[(r0+r)*rb:(r0+r+1)*rb], k0, b.cols)
					} else {
						clear(dst)
					}
				}
				if next := r0 + pmRows; k0+pkCols >= kp && t0+pnTok >= ntp && next < rows {
					// The next row block's first columns, which its
					// conversion would otherwise wait for.
					nn := min(pmRows, rows-next)
					prefetchRows(&w[next*rb], rb, nn, min(rb, pkCols/t.BlockSize()*t.BlockBytes()))
				}
				for g := 0; g < nt; g += 16 {
					gemmPacked6x16(&wf[0], 4*kc, &b.xp[(t0+g)*kp+16*k0], &ct[g], 4*nt, kc, panels, k0 == 0)
				}
			}
			scatterTile(outs[t0:t0+min(nt, b.n-t0)], off+r0, ct[:], nt, nr)
		}
	}
}

// scatterTile writes the output tile c (nr rows of nv floats, one per
// vector) to outs[v][col+r], 8x8 blocks transposed by scatter8x8 (MatMul
// has checked that every output is long enough), the edges one by one.
func scatterTile(outs [][]float32, col int, c []float32, nv, nr int) {
	n := len(outs)
	n8, r8 := n&^7, nr&^7
	for v := 0; v < n8; v += 8 {
		for r := 0; r < r8; r += 8 {
			scatter8x8(&c[r*nv+v], 4*nv, &outs[v], col+r)
		}
	}
	for v := range n {
		o := outs[v][col:][:nr]
		from := r8
		if v >= n8 {
			from = 0
		}
		for r := from; r < nr; r++ {
			o[r] = c[r*nv+v]
		}
	}
}

//go:noescape
func prefetchRows(p *byte, stride, rows, bytes int)

//go:noescape
func scatter8x8(c *float32, cstride int, outs *[]float32, col int)

// convertRow writes columns [k0, k0+len(dst)) of a weight row of type t
// (cols columns) to dst as float32, zeros past cols. For Q8_0 and Q4_0, k0
// and len(dst) are multiples of 32 and cols is.
func convertRow(dst []float32, t Type, row []byte, k0, cols int) {
	n := min(len(dst), cols-k0)
	switch t {
	case Q8_0:
		cvtQ8_0F32(&dst[0], &row[k0/32*34], n/32)
		return
	case Q4_0:
		cvtQ4_0F32(&dst[0], &row[k0/32*18], n/32)
		return
	}
	n8 := n &^ 7
	if n8 > 0 {
		switch t {
		case F16:
			cvtF16F32(&dst[0], &row[2*k0], n8/8)
		case BF16:
			cvtBF16F32(&dst[0], &row[2*k0], n8/8)
		default:
			if v, ok := bytesAsFloat32(row[4*k0 : 4*(k0+n8)]); ok {
				copy(dst, v)
			} else {
				for i := range n8 {
					dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*(k0+i):]))
				}
			}
		}
	}
	for i := n8; i < n; i++ {
		dst[i] = floatAt(t, row, k0+i)
	}
	clear(dst[n:])
}

// The integer kernels of the packed tier for Q4_0 and Q8_0 batches (see
// gemm_packed_avx2_amd64.s): each panel of 8 weight rows is expanded,
// pkBlocks blocks at a time, to one byte per weight (Q4_0, cvtQ4_0I8) or
// two (Q8_0, cvtQ8_0I16, panels of 16 rows), and meets every vector of the
// batch, 6 at a time (gemmQ4_0I8x6, gemmQ8_0I16x16). The integer sums of each block are
// exactly those of the int8 path, and are scaled as it scales them (Q4_0:
// (sum*dx - xc)*dw, as gemvQ4_0AVX2 does; Q8_0: sum*(dw*dx)); only the
// float32 summation order differs. A panel's outputs for one vector are 8
// (16) consecutive floats, stored straight to outs; a panel of fewer than 8
// (16) rows (the last of a range) and the padding vectors of the last
// group go to part first.
const (
	pkBlocks = 32
	pkTok    = 252 // vectors per pass over a panel (a multiple of 6)
	pkQ4     = 288 // bytes of a Q4_0 panel block
	pkQ8     = 544 // bytes of a Q8_0 panel block
)

//go:noescape
func gemmQ4_0I8x6(w *byte, x *byte, xstride int, d, xc *float32, dstride int, n int, out *[6]*float32, acc bool)

//go:noescape
func cvtQ4_0I8(dst *byte, rows *[8]*byte, k0, n int)

//go:noescape
func gemmQ8_0I16x16(w *byte, x *int16, xstride int, d *float32, dstride int, n int, out *[6]*float32, acc bool)

//go:noescape
func cvtQ8_0I16(dst *byte, rows *[8]*byte, k0, n, stride int)

//go:noescape
func widenQ8(dst *int16, src *byte, n int)

// widenQ8AVX2 is widenQ8Generic.
func widenQ8AVX2(q16 []int16, q []byte) {
	n := len(q) / 32
	if n == 0 {
		return
	}
	_ = q16[32*n-1]
	widenQ8(&q16[0], &q[0], n)
}

// gemmPanelIntAVX2 computes outs[t][off+r] for r < rows and t < b.n from
// rows Q4_0 or Q8_0 weight rows of rb bytes at w.
func gemmPanelIntAVX2(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) {
	var wp [pkBlocks * 2 * pkQ8]byte
	var part [pkTok * 16]float32
	nb, nv := b.nb, (b.n+5)/6*6
	_, _ = b.d[nv*nb-1], b.xc[nv*nb-1]
	ph := 8 // panel rows
	if t == Q8_0 {
		_ = b.q16[nv*nb*32-1]
		ph = 16
	} else {
		_ = b.q[nv*nb*32-1]
	}
	bb := t.BlockBytes()
	for r0 := 0; r0 < rows; r0 += ph {
		nr := min(ph, rows-r0)
		var rp [16]*byte
		for i := range ph {
			rp[i] = &w[(r0+min(i, nr-1))*rb]
		}
		for t0 := 0; t0 < nv; t0 += pkTok {
			nt := min(pkTok, nv-t0)
			for k0 := 0; k0 < nb; k0 += pkBlocks {
				nk := min(pkBlocks, nb-k0)
				if t == Q4_0 {
					cvtQ4_0I8(&wp[0], (*[8]*byte)(rp[:8]), k0, nk)
				} else {
					cvtQ8_0I16(&wp[0], (*[8]*byte)(rp[:8]), k0, nk, 2*pkQ8)
					cvtQ8_0I16(&wp[pkQ8], (*[8]*byte)(rp[8:]), k0, nk, 2*pkQ8)
				}
				if next := r0 + ph; k0+pkBlocks >= nb && t0+pkTok >= nv && next < rows {
					// The next panel's first blocks, which its conversion
					// would otherwise wait for.
					prefetchRows(&w[next*rb], rb, min(ph, rows-next), min(rb, pkBlocks*bb))
				}
				for g := 0; g < nt; g += 6 {
					var po [6]*float32
					for j := range po {
						if v := t0 + g + j; v < b.n && nr == ph {
							po[j] = &outs[v][off+r0]
						} else {
							po[j] = &part[(g+j)*16]
						}
					}
					i := (t0+g)*nb + k0
					if t == Q4_0 {
						gemmQ4_0I8x6(&wp[0], &b.q[i*32], nb*32, &b.d[i], &b.xc[i], 4*nb, nk, &po, k0 > 0)
					} else {
						gemmQ8_0I16x16(&wp[0], &b.q16[i*32], nb*64, &b.d[i], 4*nb, nk, &po, k0 > 0)
					}
				}
			}
			if nr < ph {
				for v := t0; v < min(t0+nt, b.n); v++ {
					copy(outs[v][off+r0:off+r0+nr], part[(v-t0)*16:])
				}
			}
		}
	}
}

// The K-quant integer panel kernels (see gemm_packed_avx2_amd64.s): panels
// of 8 rows, pkSupers super-blocks at a time (kPanelSB: the levels by
// cvtQ*_KI8, the scales and factors by kPanelScales*), meet the batch's
// Q8_K vectors 6 at a time (gemmQ4_KI8x6, gemmQ6_KI8x6, gemmKMinI8x6 for
// Q5_K and Q2_K, gemmKOffI8x6 for Q3_K).
const pkSupers = 8

// kPanelSB is one super-block of a panel of 8 K-quant rows as the panel
// kernels read it (2880 bytes, the offsets the assembly uses).
type kPanelSB struct {
	levels [64][8][4]byte // step s: elements 4s..4s+3 of rows 0..7, unsigned
	scales [16][8]uint32  // chunk i of 16 elements: row r's scale as two int16
	mins   [8][8]uint32   // chunks 2p and 2p+1: row r's mins or level offsets as two int16
	d      [8]float32
	dmin   [8]float32
}

//go:noescape
func gemmQ4_KI8x6(w *byte, x *byte, xstride int, n int, out *[6]*float32, acc bool)

//go:noescape
func gemmQ6_KI8x6(w *byte, x *byte, xstride int, n int, out *[6]*float32, acc bool)

//go:noescape
func gemmKMinI8x6(w *byte, x *byte, xstride int, n int, out *[6]*float32, acc bool)

//go:noescape
func gemmKOffI8x6(w *byte, x *byte, xstride int, n int, out *[6]*float32, acc bool)

//go:noescape
func gemmQ4_KI8x2(w *byte, x *byte, xstride int, n int, out *[2]*float32, acc bool)

//go:noescape
func gemmQ6_KI8x2(w *byte, x *byte, xstride int, n int, out *[2]*float32, acc bool)

//go:noescape
func gemmKMinI8x2(w *byte, x *byte, xstride int, n int, out *[2]*float32, acc bool)

//go:noescape
func gemmKOffI8x2(w *byte, x *byte, xstride int, n int, out *[2]*float32, acc bool)

//go:noescape
func cvtQ4_KI8(dst *byte, rows *[8]*byte, k0, n int)

//go:noescape
func cvtQ6_KI8(dst *byte, rows *[8]*byte, k0, n int)

//go:noescape
func cvtQ5_KI8(dst *byte, rows *[8]*byte, k0, n int)

//go:noescape
func cvtQ3_KI8(dst *byte, rows *[8]*byte, k0, n int)

//go:noescape
func cvtQ2_KI8(dst *byte, rows *[8]*byte, k0, n int)

// kPanelCvt writes the panel super-blocks dst (n of them, from super-block
// k0 of the 8 rows of type t: rp their starts, rs the rows) with the
// converter and scale writer of t: cvtQ2_KI8 writes Q2_K's factors too.
//
// kPanelCvt and kPanelGemm call the assembly directly, not through func
// values: a call through a func value makes its pointer arguments escape,
// and gemmKIntAVX2's 23 KiB panel, its row pointers and slices then went
// to the heap on every call (Q4_K's kernel benchmark, n=128, one thread,
// AVX2: 154-160 GFLOP/s that way, 190 before the table; Q2_K +3-4% from
// the kernel calls alone).
func kPanelCvt(t Type, dst []kPanelSB, rp *[8]*byte, rs *[8][]byte, k0, n int) {
	w := &dst[0].levels[0][0][0]
	switch t {
	case Q2_K:
		cvtQ2_KI8(w, rp, k0, n)
	case Q3_K:
		cvtQ3_KI8(w, rp, k0, n)
		kPanelScales3(dst[:n], rs, k0)
	case Q4_K:
		cvtQ4_KI8(w, rp, k0, n)
		kPanelScales4(dst[:n], rs, k0)
	case Q5_K:
		cvtQ5_KI8(w, rp, k0, n)
		kPanelScales5(dst[:n], rs, k0)
	case Q6_K:
		cvtQ6_KI8(w, rp, k0, n)
		kPanelScales6(dst[:n], rs, k0)
	default:
		panic("quant: no panel kernel for " + t.String())
	}
}

// kPanelGemm multiplies n panel super-blocks of type t at w with 6 Q8_K
// vectors at x (xstride bytes apart) into out: gemmQ4_KI8x6,
// gemmQ6_KI8x6, gemmKMinI8x6 (Q5_K, Q2_K) or gemmKOffI8x6 (Q3_K).
func kPanelGemm(t Type, w, x *byte, xstride, n int, out *[6]*float32, acc bool) {
	switch t {
	case Q4_K:
		gemmQ4_KI8x6(w, x, xstride, n, out, acc)
	case Q6_K:
		gemmQ6_KI8x6(w, x, xstride, n, out, acc)
	case Q3_K:
		gemmKOffI8x6(w, x, xstride, n, out, acc)
	default: // Q5_K, Q2_K (kPanelCvt has refused the others)
		gemmKMinI8x6(w, x, xstride, n, out, acc)
	}
}

// kPanelGemm2 is kPanelGemm for 2 vectors (the *x2 kernels).
func kPanelGemm2(t Type, w, x *byte, xstride, n int, out *[2]*float32, acc bool) {
	switch t {
	case Q4_K:
		gemmQ4_KI8x2(w, x, xstride, n, out, acc)
	case Q6_K:
		gemmQ6_KI8x2(w, x, xstride, n, out, acc)
	case Q3_K:
		gemmKOffI8x2(w, x, xstride, n, out, acc)
	default: // Q5_K, Q2_K
		gemmKMinI8x2(w, x, xstride, n, out, acc)
	}
}

// kTilesAVX2 is the AVX2 tier's ktiles: K-quant batches of the packed path
// (prepared with their padding vectors) go through the panel kernels.
func kTilesAVX2(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) int {
	if types[t].act != actQ8_K || !b.packedInt() {
		return 0
	}
	gemmKIntAVX2(outs, off, t, w, rb, rows, b, (b.n+5)/6*6)
	return b.n
}

// pair16 is v in both int16 halves of a uint32 (VPMADDWD's multiplier for
// one row's pair of lanes).
func pair16(v int32) uint32 { return uint32(v)&0xffff | uint32(v)<<16 }

// halves16 is lo and hi as the two int16 halves of a uint32.
func halves16(lo, hi int32) uint32 { return uint32(lo)&0xffff | uint32(hi)<<16 }

// kPanelScales4 and kPanelScales5 write the factors of super-blocks k0.. of
// the 8 Q4_K or Q5_K rows to the panel super-blocks dst: each sub-block's
// scale for both of its chunks of 16, and its min.
func kPanelScales4(dst []kPanelSB, rows *[8][]byte, k0 int) { kPanelScalesK4(dst, rows, k0, sizeQ4_K) }
func kPanelScales5(dst []kPanelSB, rows *[8][]byte, k0 int) { kPanelScalesK4(dst, rows, k0, sizeQ5_K) }

// kPanelScalesK4 is kPanelScales4 or 5 for super-blocks of size bytes
// (their first 16 bytes are laid out alike: d, dmin, scales).
func kPanelScalesK4(dst []kPanelSB, rows *[8][]byte, k0, size int) {
	for k := range dst {
		p := &dst[k]
		for r, row := range rows {
			sb := row[(k0+k)*size:][:16]
			w0 := binary.LittleEndian.Uint32(sb[4:])
			w1 := binary.LittleEndian.Uint32(sb[8:])
			w2 := binary.LittleEndian.Uint32(sb[12:])
			// Byte j of sc and mn: the 6-bit scale and min of sub-block
			// j; of sc2 and mn2: of sub-block 4+j.
			sc, mn := w0&0x3f3f3f3f, w1&0x3f3f3f3f
			sc2 := w2&0x0f0f0f0f | w0>>6&0x03030303<<4
			mn2 := w2>>4&0x0f0f0f0f | w1>>6&0x03030303<<4
			for j := range 4 {
				s, s2 := pair16(int32(sc>>(8*j)&0xff)), pair16(int32(sc2>>(8*j)&0xff))
				p.scales[2*j][r], p.scales[2*j+1][r] = s, s
				p.scales[8+2*j][r], p.scales[9+2*j][r] = s2, s2
				p.mins[j][r], p.mins[4+j][r] = pair16(int32(mn>>(8*j)&0xff)), pair16(int32(mn2>>(8*j)&0xff))
			}
			p.d[r], p.dmin[r] = fp16At(sb[0:]), fp16At(sb[2:])
		}
	}
}

// kPanelScales6 writes the factors of super-blocks k0.. of the 8 Q6_K rows
// to the panel super-blocks dst: the scales, and as the level offsets 32 x
// the scales.
func kPanelScales6(dst []kPanelSB, rows *[8][]byte, k0 int) {
	for k := range dst {
		p := &dst[k]
		for r, row := range rows {
			sb := row[(k0+k)*sizeQ6_K:][:sizeQ6_K]
			for i := range 16 {
				p.scales[i][r] = pair16(int32(int8(sb[192+i])))
			}
			for q := range 8 {
				p.mins[q][r] = halves16(32*int32(int8(sb[192+2*q])), 32*int32(int8(sb[193+2*q])))
			}
			p.d[r] = fp16At(sb[208:])
		}
	}
}

// kPanelScales3 writes the factors of super-blocks k0.. of the 8 Q3_K rows
// to the panel super-blocks dst: the scales (s-32), and as the level
// offsets 4 x the scales (the panel's levels are plus 4).
func kPanelScales3(dst []kPanelSB, rows *[8][]byte, k0 int) {
	for k := range dst {
		p := &dst[k]
		for r, row := range rows {
			sb := row[(k0+k)*sizeQ3_K:][:sizeQ3_K]
			var sc [16]int32
			for i := range sc {
				sc[i] = scaleQ3_K(sb[96:], i) - 32
				p.scales[i][r] = pair16(sc[i])
			}
			for q := range 8 {
				p.mins[q][r] = halves16(4*sc[2*q], 4*sc[2*q+1])
			}
			p.d[r] = fp16At(sb[108:])
		}
	}
}

// gemmKIntAVX2 computes outs[t][off+r] for r < rows and t < min(nv, b.n)
// from rows K-quant weight rows of rb bytes at w, with the panel kernels;
// nv is a multiple of 6 (the vectors from b.n on are padding: their
// outputs are dropped). Groups of 6 vectors take the x6 kernels; the last
// 1..4 vectors the x2 kernels, in pairs (so a chunk of 128 vectors costs
// 128 vectors' work, not 132).
func gemmKIntAVX2(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch, nv int) {
	var wp [pkSupers]kPanelSB
	var part [pkTok * 8]float32
	nb := b.nb
	_ = b.q8k[nv*nb*sizeQ8_K-1]
	sbBytes := t.BlockBytes()
	for r0 := 0; r0 < rows; r0 += 8 {
		nr := min(8, rows-r0)
		var rp [8]*byte
		var rs [8][]byte
		for i := range rp {
			rs[i] = w[(r0+min(i, nr-1))*rb:][:rb]
			rp[i] = &rs[i][0]
		}
		for t0 := 0; t0 < nv; t0 += pkTok {
			nt := min(pkTok, nv-t0)
			for k0 := 0; k0 < nb; k0 += pkSupers {
				nk := min(pkSupers, nb-k0)
				kPanelCvt(t, wp[:], &rp, &rs, k0, nk)
				if next := r0 + 8; k0+pkSupers >= nb && t0+pkTok >= nv && next < rows {
					prefetchRows(&w[next*rb], rb, min(8, rows-next), min(rb, pkSupers*sbBytes))
				}
				for g := 0; g < nt && t0+g < b.n; {
					var po [6]*float32
					for j := range po {
						if v := t0 + g + j; v < b.n && nr == 8 {
							po[j] = &outs[v][off+r0]
						} else {
							po[j] = &part[(g+j)*8]
						}
					}
					x := &b.q8k[((t0+g)*nb+k0)*sizeQ8_K]
					if b.n-(t0+g) < 5 {
						// The last 1..4 vectors, two at a time.
						kPanelGemm2(t, &wp[0].levels[0][0][0], x, nb*sizeQ8_K, nk, (*[2]*float32)(po[:2]), k0 > 0)
						g += 2
					} else {
						kPanelGemm(t, &wp[0].levels[0][0][0], x, nb*sizeQ8_K, nk, &po, k0 > 0)
						g += 6
					}
				}
			}
			if nr < 8 {
				for v := t0; v < min(t0+nt, b.n); v++ {
					copy(outs[v][off+r0:off+r0+nr], part[(v-t0)*8:])
				}
			}
		}
	}
}
