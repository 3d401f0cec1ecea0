//go:build amd64 && !noasm

package quant

import "golang.org/x/sys/cpu"

func init() {
	// The x4 layout feeds the small-batch tiles below, which the avx512
	// tier uses (gemmAVX512).
	x4Layout = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI
	x8Layout = x4Layout
}

// The small-batch tiles (gemm_small_avx512_amd64.s) compute rows weight
// rows x V vectors of Q8_0 over n groups of four blocks, the vectors in
// the Batch's x4 layout (xstride bytes apart): out[t*rows + r] = dot(row
// r, vector t). Reference loop (the lanes hold the same integer sums as
// gemmQ8_0TileVNNI's, two groups of four quants each):
//
//	for t := 0; t < V; t++ {
//		for r := 0; r < rows; r++ {
//			var s float32
//			for k := 0; k < 4*n; k++ {
//				wb := w[r][34*k:]
//				var sum int32
//				for i := 0; i < 32; i++ {
//					sum += int32(int8(wb[2+i])) * int32(int8(xq(t, k, i)))
//				}
//				s += float32(sum) * (fp16(wb) * xd(t, k))
//			}
//			out[t*rows+r] = s
//		}
//	}
//
// where xq(t, k, i) and xd(t, k) are quant i and the scale of block k of
// vector t (x4At and Batch.q, Batch.d).

// gemmQ8_0X8R2V8 is the 2x8 tile over n groups of eight blocks, the
// vectors in the x8 layout (the same sums as gemmQ8_0X4R2V8's, each lane
// holding 16 products of one block).
//
//go:noescape
func gemmQ8_0X8R2V8(w0, w1 *byte, x *byte, xstride, n int, out *[16]float32)

// gemmQ8_0X8R2V8Rows runs gemmQ8_0X8R2V8 over end/8 row pairs of w (rows
// rb bytes apart) and stores the sums of pair p and vector t to
// outs[t][2p] and outs[t][2p+1] itself.
//
//go:noescape
func gemmQ8_0X8R2V8Rows(w *byte, rb, end int, x *byte, xstride, n int, outs *[8]*float32)

//go:noescape
func gemmQ8_0X4R2V8(w0, w1 *byte, x *byte, xstride, n int, out *[16]float32)

//go:noescape
func gemmQ8_0X4R2V7(w0, w1 *byte, x *byte, xstride, n int, out *[14]float32)

//go:noescape
func gemmQ8_0X4R2V6(w0, w1 *byte, x *byte, xstride, n int, out *[12]float32)

//go:noescape
func gemmQ8_0X4R2V5(w0, w1 *byte, x *byte, xstride, n int, out *[10]float32)

//go:noescape
func gemmQ8_0X4R4V4(w0, w1, w2, w3 *byte, x *byte, xstride, n int, out *[16]float32)

//go:noescape
func gemmQ8_0X4R4V3(w0, w1, w2, w3 *byte, x *byte, xstride, n int, out *[16]float32) // writes out[:12]

//go:noescape
func gemmQ8_0X4R4V2(w0, w1, w2, w3 *byte, x *byte, xstride, n int, out *[16]float32) // writes out[:8]

//go:noescape
func gemmQ8_0X4R4V1(w0, w1, w2, w3 *byte, x *byte, xstride, n int, out *[16]float32) // writes out[:4]

// gemmQ8_0X4R4 runs the 4-row tile for v vectors (1 to 4), which writes
// the first 4*v floats of out (vector by vector, 4 rows each). A switch, not
// a table of functions: a call through a function value would move out to
// the heap.
func gemmQ8_0X4R4(v int, w0, w1, w2, w3 *byte, x *byte, xstride, n int, out *[16]float32) {
	switch v {
	case 1:
		gemmQ8_0X4R4V1(w0, w1, w2, w3, x, xstride, n, out)
	case 2:
		gemmQ8_0X4R4V2(w0, w1, w2, w3, x, xstride, n, out)
	case 3:
		gemmQ8_0X4R4V3(w0, w1, w2, w3, x, xstride, n, out)
	default:
		gemmQ8_0X4R4V4(w0, w1, w2, w3, x, xstride, n, out)
	}
}

// gemmQ8_0X4 multiplies rows Q8_0 weight rows with a batch prepared in the
// x4 layout: groups of eight vectors with AMX tiles where the batch has
// the AMX layout (gemm_amx_amd64.go; also a last group of 3-7, padded),
// else on the 2x8 tile (reading the x8 layout if the batch has it), then
// the rest (1-7)
// on 2-row tiles of 5, 6 or 7 vectors or 4-row tiles of 4, 3, 2 or 1, so
// no tile multiplies padding vectors (the 2-row tiles share each row's
// unpacking among more vectors, the 4-row ones among more rows: 4 vectors
// measured the same either way); the blocks after the last whole group of
// four are added in Go.
// Each tile call covers whole rows, so a row meets its vectors while it is
// in the L1 cache.
func gemmQ8_0X4(outs [][]float32, off int, w []byte, rb, rows int, b *Batch) {
	n4, xs := b.nb/4, b.x4Stride()
	for t0 := 0; t0 < b.n; {
		x := &b.x4[t0*xs]
		switch v := b.n - t0; {
		case b.amxVec(t0):
			// groups of eight vectors, the last one padded
			nv := min(v, 8)
			gemmQ8_0AMX(outs, off, w, rb, rows, b, t0, nv)
			t0 += nv
		case v >= 8:
			var tile [16]float32
			o := outs[t0 : t0+8]
			// The x8 layout where the batch has it (its tail is the x4
			// tail: useX8 needs nb%8 < 4).
			xt, xts, nt := x, xs, n4
			if b.useX8 {
				xt, xts, nt = &b.x8[t0*b.x8Stride()], b.x8Stride(), b.nb/8
			}
			r0 := 0
			if pairs := rows / 2; b.useX8 && pairs > 0 {
				// The row loop and the stores in the kernel: the call,
				// its set-up and the copy per pair cost 3-10% of the tile.
				var to [8]*float32
				for j, oj := range o {
					to[j] = &oj[off : off+rows][0]
				}
				gemmQ8_0X8R2V8Rows(&w[0], rb, 8*pairs, xt, xts, nt, &to)
				r0 = 2 * pairs
			}
			for ; r0+2 <= rows; r0 += 2 {
				gemmQ8_0R2V8(b.useX8, &w[r0*rb], &w[(r0+1)*rb], xt, xts, nt, &tile)
				// (element stores: copy's memmove costs more than two floats)
				for j, oj := range o {
					oj = oj[off+r0 : off+r0+2]
					oj[0], oj[1] = tile[2*j], tile[2*j+1]
				}
			}
			if r0 < rows {
				gemmQ8_0R2V8(b.useX8, &w[r0*rb], &w[r0*rb], xt, xts, nt, &tile)
				for j, oj := range o {
					oj[off+r0] = tile[2*j]
				}
			}
			t0 += 8
		case v >= 5:
			gemmQ8_0X4R2(outs[t0:t0+v], off, w, rb, rows, x, xs, n4)
			t0 += v
		default: // 1-4 vectors: 4-row tiles
			var tile [16]float32
			for r0 := 0; r0 < rows; r0 += 4 {
				w0, w1, w2, w3 := rows4(w, rb, r0, rows)
				gemmQ8_0X4R4(v, w0, w1, w2, w3, x, xs, n4, &tile)
				storeTile(outs[t0:t0+v], off+r0, tile[:4*v], min(4, rows-r0))
			}
			t0 += v
		}
	}
	if b.nb%4 == 0 {
		return
	}
	for t0 := 0; t0 < b.n; t0 += gemmTokenPad {
		nt := min(gemmTokenPad, b.n-t0)
		for r := range rows {
			var acc [gemmTokenPad]float32
			gemmBlocksGenericFrom(&acc, Q8_0, w[r*rb:(r+1)*rb], b, t0, nt, 4*n4)
			for j := range nt {
				outs[t0+j][off+r] += acc[j]
			}
		}
	}
}

// gemmQ8_0R2V8 runs the 2x8 tile on x in the x8 layout (n groups of eight
// blocks) if x8, else in the x4 layout (n groups of four).
func gemmQ8_0R2V8(x8 bool, w0, w1 *byte, x *byte, xstride, n int, out *[16]float32) {
	if x8 {
		gemmQ8_0X8R2V8(w0, w1, x, xstride, n, out)
		return
	}
	gemmQ8_0X4R2V8(w0, w1, x, xstride, n, out)
}

// gemmQ8_0X4R2 runs the 2-row tile of len(outs) (5, 6 or 7) vectors over
// rows rows.
func gemmQ8_0X4R2(outs [][]float32, off int, w []byte, rb, rows int, x *byte, xs, n4 int) {
	var tile [14]float32
	v := len(outs)
	for r0 := 0; r0 < rows; r0 += 2 {
		w0, w1 := &w[r0*rb], &w[min(r0+1, rows-1)*rb]
		switch v {
		case 7:
			gemmQ8_0X4R2V7(w0, w1, x, xs, n4, &tile)
		case 6:
			gemmQ8_0X4R2V6(w0, w1, x, xs, n4, (*[12]float32)(tile[:12]))
		default:
			gemmQ8_0X4R2V5(w0, w1, x, xs, n4, (*[10]float32)(tile[:10]))
		}
		if r0+1 < rows {
			for j, o := range outs {
				o = o[off+r0 : off+r0+2]
				o[0], o[1] = tile[2*j], tile[2*j+1]
			}
		} else {
			for j, o := range outs {
				o[off+r0] = tile[2*j]
			}
		}
	}
}

// rows4 returns the starts of rows r0..r0+3 of w, the last row repeated
// past rows.
func rows4(w []byte, rb, r0, rows int) (w0, w1, w2, w3 *byte) {
	return &w[r0*rb], &w[min(r0+1, rows-1)*rb], &w[min(r0+2, rows-1)*rb], &w[min(r0+3, rows-1)*rb]
}

// storeTile copies the first nr rows of a tile of 4 rows x len(outs)
// vectors (tile[t*4 + r]) to outs[t][off:].
func storeTile(outs [][]float32, off int, tile []float32, nr int) {
	for j, o := range outs {
		if nr == 4 {
			o, t := o[off:off+4], tile[4*j:4*j+4]
			o[0], o[1], o[2], o[3] = t[0], t[1], t[2], t[3]
			continue
		}
		copy(o[off:off+nr], tile[4*j:4*j+nr])
	}
}
