//go:build amd64 && !noasm

package quant

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/cpu"
)

func init() {
	addGEMMTier(gemmTier{name: "avx2", fn: gemmAVX2, attn: attnAVX2, quant: quantizeBatchAsm(quantizeBatchAVX2), packed: true,
		usable: cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX && cpu.X86.HasOSXSAVE && cpu.X86.HasF16C,
		needs:  "AVX2, FMA and F16C"})
}

// The AVX2 tile kernels (gemm_amd64.s) compute a tile of 4 weight rows x 3
// vectors over whole rows: out[t*4+r] = dot(row r, vector t). The int8
// kernels take n blocks of quants (32 bytes per block, xstride bytes
// between vectors) and float32 block scales (dstride bytes between
// vectors); the float kernels take n steps of 8 float32 columns. Reference
// loop of gemmQ8_0Tile (gemmQ4_0Tile decodes Q4_0 blocks of 18 bytes):
//
//	for t := 0; t < 3; t++ {
//		for r, w := range [4][]byte{w0, w1, w2, w3} {
//			var s float32
//			for k := 0; k < n; k++ {
//				var sum int32
//				for i := 0; i < 32; i++ {
//					sum += int32(int8(w[34*k+2+i])) * int32(int8(x[t*xstride+32*k+i]))
//				}
//				s += float32(sum) * (fp16(w[34*k:]) * d[t*dstride/4+k])
//			}
//			out[t*4+r] = s
//		}
//	}
//
// and of gemmF32Tile (gemmF16Tile reads binary16 weights):
//
//	for t := 0; t < 3; t++ {
//		for r, w := range [4][]float32{w0, w1, w2, w3} {
//			var s float32
//			for i := 0; i < 8*n; i++ {
//				s += w[i] * x[t*xstride/4+i]
//			}
//			out[t*4+r] = s
//		}
//	}

//go:noescape
func gemmQ8_0Tile(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[12]float32)

//go:noescape
func gemmQ4_0Tile(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[12]float32)

// gemvQ4_0AVX2 is the one-vector product for Q4_0 weights: rows rows of n
// blocks, stride bytes apart. It multiplies the unsigned nibbles with the
// vector and subtracts the -8 offset once per block, as sum_k wd_k*xc[k]
// (Batch.xc), so each block costs one VPMADDUBSW instead of two. Reference
// loop:
//
//	for r := 0; r < rows; r++ {
//		var s, c float32
//		for k := 0; k < n; k++ {
//			wb := w[r*stride+18*k:]
//			var sum int32
//			for j := 0; j < 16; j++ {
//				sum += int32(wb[2+j]&15)*int32(int8(xq[32*k+j])) + int32(wb[2+j]>>4)*int32(int8(xq[32*k+16+j]))
//			}
//			s += float32(sum) * (fp16(wb) * xd[k])
//			c += fp16(wb) * xc[k]
//		}
//		out[r] = s - c
//	}
//
//go:noescape
func gemvQ4_0AVX2(w *byte, stride, rows int, xq *byte, xd, xc *float32, n int, out *float32)

//go:noescape
func gemmF32Tile(w0, w1, w2, w3 *byte, x *float32, xstride int, d *float32, dstride int, n int, out *[12]float32)

//go:noescape
func gemmF16Tile(w0, w1, w2, w3 *byte, x *float32, xstride int, d *float32, dstride int, n int, out *[12]float32)

// gemmAVX2 walks 4x3 tiles: each group of four rows (the last group
// repeats its last row when rows is not a multiple of four) meets every
// vector while it is in the L1 cache. BF16 goes to the rows kernel.
func gemmAVX2(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) {
	switch {
	case b.n == 1:
		gemvAVX2(outs[0][off:off+rows], t, w, rb, b)
		return
	case b.packedInt():
		gemmPanelIntAVX2(outs, off, t, w, rb, rows, b)
		return
	case b.packed:
		gemmPackedAVX2(outs, off, t, w, rb, rows, b)
		return
	case t == BF16:
		gemmRowsTiled(outs, off, w, rb, rows, b)
		return
	}
	var tile [12]float32
	cols := b.cols
	for r0 := 0; r0 < rows; r0 += 4 {
		var wr [4]*byte
		for i := range wr {
			wr[i] = &w[min(r0+i, rows-1)*rb]
		}
		nr := min(4, rows-r0)
		for t0 := 0; t0 < b.n; t0 += 3 {
			switch t {
			case Q8_0:
				gemmQ8_0Tile(wr[0], wr[1], wr[2], wr[3], &b.q[t0*b.nb*32], b.nb*32, &b.d[t0*b.nb], 4*b.nb, b.nb, &tile)
			case Q4_0:
				gemmQ4_0Tile(wr[0], wr[1], wr[2], wr[3], &b.q[t0*b.nb*32], b.nb*32, &b.d[t0*b.nb], 4*b.nb, b.nb, &tile)
			case F32, F16:
				x := &b.x[t0*cols]
				if t == F32 {
					gemmF32Tile(wr[0], wr[1], wr[2], wr[3], x, 4*cols, nil, 0, cols/8, &tile)
				} else {
					gemmF16Tile(wr[0], wr[1], wr[2], wr[3], x, 4*cols, nil, 0, cols/8, &tile)
				}
				if cols%8 != 0 {
					gemmFloatTail(tile[:], t, w, rb, r0, nr, b, t0, 3, 4, cols&^7)
				}
			}
			for j := range min(3, b.n-t0) {
				copy(outs[t0+j][off+r0:][:nr], tile[4*j:4*j+nr])
			}
		}
	}
}

// gemvAVX2 is the product with one vector (decode), which is bound by
// memory, not arithmetic: a register tile would multiply padding vectors.
// Q4_0 uses gemvQ4_0AVX2, the other types the rows kernels MatVec uses.
func gemvAVX2(out []float32, t Type, w []byte, rb int, b *Batch) {
	switch t {
	case Q4_0:
		gemvQ4_0AVX2(&w[0], rb, len(out), &b.q[0], &b.d[0], &b.xc[0], b.nb, &out[0])
	case Q8_0:
		kernels.rows[Q8_0](out, w, rb, activations{q: b.q34})
	case F32:
		kernels.rows[F32](out, w, rb, activations{f: b.x[:b.cols]})
	case F16:
		kernels.rows[F16](out, w, rb, activations{f: b.x[:b.cols]})
	case BF16:
		kernels.rows[BF16](out, w, rb, activations{f: b.x[:b.cols]})
	}
}

// gemmRowsTiled multiplies BF16 weights with the rows kernel, one vector
// at a time, over tiles of rows that stay in the L2 cache while they meet
// every vector (as prefill did before MatMul).
func gemmRowsTiled(outs [][]float32, off int, w []byte, rb, rows int, b *Batch) {
	tile := max(1, (64<<10)/rb)
	for lo := 0; lo < rows; lo += tile {
		hi := min(lo+tile, rows)
		for t := 0; t < b.n; t++ {
			kernels.rows[BF16](outs[t][off+lo:off+hi], w[lo*rb:hi*rb], rb, activations{f: b.x[t*b.cols : (t+1)*b.cols]})
		}
	}
}

// gemmFloatTail adds the products of columns [from, cols) to a tile of nr
// rows (from r0) x nt vectors (from t0), stored as tile[t*tr + r].
func gemmFloatTail(tile []float32, t Type, w []byte, rb, r0, nr int, b *Batch, t0, nt, tr, from int) {
	cols := b.cols
	for r := range nr {
		row := w[(r0+r)*rb : (r0+r+1)*rb]
		for j := range nt {
			x := b.x[(t0+j)*cols : (t0+j+1)*cols]
			var s float32
			for i := from; i < cols; i++ {
				var wi float32
				switch t {
				case F16:
					wi = FP16ToFP32(binary.LittleEndian.Uint16(row[2*i:]))
				case BF16:
					wi = BF16ToFP32(binary.LittleEndian.Uint16(row[2*i:]))
				default:
					wi = math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:]))
				}
				s += wi * x[i]
			}
			tile[j*tr+r] += s
		}
	}
}

// quantizeBatchAVX2 is quantizeBatchGeneric (the same bytes) for n
// blocks; q34 may be nil.
//
//go:noescape
func quantizeBatchAVX2(q *byte, d *float32, bias, bias4 *int32, xc *float32, q34 *byte, x *float32, n int)
