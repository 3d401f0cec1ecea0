//go:build arm64 && !noasm

package quant

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The NEON tier of the batched kernels (gemm_arm64.s). Every arm64 CPU has
// Advanced SIMD, so the tier is always usable; its int8 tiles use SDOT where
// the CPU has the dot-product extension and widening multiplies where it
// does not. "neon-no-sdot" is the same tier forced onto the widening path,
// usable only where SDOT exists (elsewhere "neon" already is that path),
// so that the tests run both paths on one CPU. The attention kernels decode
// the cache rows in Go, as the generic ones do, and multiply with NEON; the
// activation quantiser is quantizeBatchNEON.
func init() {
	attn := attnKernels{attnScoresNEON, attnValuesNEON}
	addGEMMTier(gemmTier{name: "neon-no-sdot", fn: gemmNEONWiden, attn: attn, quant: quantizeBatchAsm(quantizeBatchNEON),
		usable: cpu.ARM64.HasASIMDDP, needs: "the dot-product extension (without it this path is the neon tier)"})
	fn := gemmNEONWiden
	if cpu.ARM64.HasASIMDDP {
		fn = gemmNEONSDOT
	}
	addGEMMTier(gemmTier{name: "neon", fn: fn, attn: attn, quant: quantizeBatchAsm(quantizeBatchNEON),
		usable: true, needs: "Advanced SIMD"})
}

// The tile kernels compute a tile of 4 weight rows x 6 vectors over whole
// rows: out[t*4+r] = dot(row r, vector t). The int8 kernels take n blocks
// of quants (32 bytes per block, xstride bytes between vectors) and float32
// block scales (dstride bytes between vectors), and do the generic tier's
// float operations in its order (gemmBlocksGenericFrom: the product of the
// scales rounded, then one fused multiply-add per block, which is how the Go
// compiler builds `acc += float32(sum) * (wd * xd)` for arm64), so their
// results equal it bit for bit (TestMatMulNEONExact). Reference loop of gemmQ8_0TileSDOT and
// gemmQ8_0TileNEON (the Q4_0 kernels decode Q4_0 blocks of 18 bytes):
//
//	for t := 0; t < 6; t++ {
//		for r, w := range [4][]byte{w0, w1, w2, w3} {
//			var s float32
//			for k := 0; k < n; k++ {
//				var sum int32
//				for i := 0; i < 32; i++ {
//					sum += int32(int8(w[34*k+2+i])) * int32(int8(x[t*xstride+32*k+i]))
//				}
//				s += float32(sum) * (fp16(w[34*k:]) * d[t*dstride/4+k]) // fused
//			}
//			out[t*4+r] = s
//		}
//	}
//
// The widening (no-SDOT) kernels keep sums of two products in int16 lanes,
// which is exact while x has no -128 (the Q8_0 quantiser never makes one).

//go:noescape
func gemmQ8_0TileSDOT(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[24]float32)

//go:noescape
func gemmQ8_0TileNEON(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[24]float32)

//go:noescape
func gemmQ4_0TileSDOT(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[24]float32)

//go:noescape
func gemmQ4_0TileNEON(w0, w1, w2, w3 *byte, x *byte, xstride int, d *float32, dstride int, n int, out *[24]float32)

// The float tiles take n steps of 4 columns, FMLA into one accumulator
// vector per row and vector; F16 weights are widened with FCVTL and BF16
// weights with SHLL #16, both exactly. Reference loop of gemmF32TileNEON:
//
//	for t := 0; t < 6; t++ {
//		for r, w := range [4][]float32{w0, w1, w2, w3} {
//			var s float32
//			for i := 0; i < 4*n; i++ {
//				s += w[i] * x[t*xstride/4+i]
//			}
//			out[t*4+r] = s
//		}
//	}
//
// (the sum fused and in another order, within the tests' tolerance).

//go:noescape
func gemmF32TileNEON(w0, w1, w2, w3 *byte, x *float32, xstride int, n int, out *[24]float32)

//go:noescape
func gemmF16TileNEON(w0, w1, w2, w3 *byte, x *float32, xstride int, n int, out *[24]float32)

//go:noescape
func gemmBF16TileNEON(w0, w1, w2, w3 *byte, x *float32, xstride int, n int, out *[24]float32)

func gemmNEONSDOT(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) {
	gemmNEON(outs, off, t, w, rb, rows, b, true)
}

func gemmNEONWiden(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) {
	gemmNEON(outs, off, t, w, rb, rows, b, false)
}

// gemmNEON walks 4x6 tiles: each group of four rows (the last group
// repeats its last row when rows is not a multiple of four) meets every
// vector while it is in the L1 cache. The token dimension is padded to
// gemmTokenPad, a multiple of 6, so every tile reads whole vectors. One
// vector (decode) takes the rows kernels MatVec uses.
func gemmNEON(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch, sdot bool) {
	quantised := t == Q8_0 || t == Q4_0
	if b.n == 1 {
		var a activations
		if quantised {
			a.q = b.q34
		} else {
			a.f = b.x[:b.cols]
		}
		kernels.rows[t](outs[0][off:off+rows], w, rb, a)
		return
	}
	if b.cols == 0 {
		for j := range b.n {
			clear(outs[j][off : off+rows])
		}
		return
	}
	var tile [24]float32
	nb, cols := b.nb, b.cols
	for r0 := 0; r0 < rows; r0 += 4 {
		var wr [4]*byte
		for i := range wr {
			wr[i] = &w[min(r0+i, rows-1)*rb]
		}
		nr := min(4, rows-r0)
		for t0 := 0; t0 < b.n; t0 += 6 {
			switch {
			case t == Q8_0 && sdot:
				gemmQ8_0TileSDOT(wr[0], wr[1], wr[2], wr[3], &b.q[t0*nb*32], nb*32, &b.d[t0*nb], 4*nb, nb, &tile)
			case t == Q8_0:
				gemmQ8_0TileNEON(wr[0], wr[1], wr[2], wr[3], &b.q[t0*nb*32], nb*32, &b.d[t0*nb], 4*nb, nb, &tile)
			case t == Q4_0 && sdot:
				gemmQ4_0TileSDOT(wr[0], wr[1], wr[2], wr[3], &b.q[t0*nb*32], nb*32, &b.d[t0*nb], 4*nb, nb, &tile)
			case t == Q4_0:
				gemmQ4_0TileNEON(wr[0], wr[1], wr[2], wr[3], &b.q[t0*nb*32], nb*32, &b.d[t0*nb], 4*nb, nb, &tile)
			default:
				x := &b.x[t0*cols]
				switch t {
				case F32:
					gemmF32TileNEON(wr[0], wr[1], wr[2], wr[3], x, 4*cols, cols/4, &tile)
				case F16:
					gemmF16TileNEON(wr[0], wr[1], wr[2], wr[3], x, 4*cols, cols/4, &tile)
				default:
					gemmBF16TileNEON(wr[0], wr[1], wr[2], wr[3], x, 4*cols, cols/4, &tile)
				}
				for i := cols &^ 3; i < cols; i++ { // the last cols%4 columns
					for r := range nr {
						wi := floatAt(t, w[(r0+r)*rb:(r0+r+1)*rb], i)
						for j := range 6 {
							tile[4*j+r] += wi * b.x[(t0+j)*cols+i]
						}
					}
				}
			}
			for j := range min(6, b.n-t0) {
				copy(outs[t0+j][off+r0:][:nr], tile[4*j:4*j+nr])
			}
		}
	}
}

// axpyNEON adds w*x[i] to o[i] for i < n, n a multiple of 4 (FMLA, one
// rounding, as Go compiles o[i] += w * x[i] for arm64).
//
//go:noescape
func axpyNEON(o, x *float32, w float32, n int)

// attnScoresNEON is attnScoresGeneric with the products of a decoded key
// chunk and the queries done by the F32 rows kernel, the queries as its
// rows (summed in another order: within the tests' tolerance).
func attnScoresNEON(s []float32, lds int, q []float32, ldq, nq int, t Type, k []byte, stride, off, nk, hs int) {
	var buf, part [kvChunk]float32
	for r := range nk {
		row := k[r*stride:]
		for g := range nq {
			s[g*lds+r] = 0
		}
		for j0 := 0; j0 < hs; j0 += kvChunk {
			kc := buf[:min(kvChunk, hs-j0)]
			decodeKV(t, kc, row, off+j0)
			n4 := len(kc) &^ 3
			for g0 := 0; g0 < nq; g0 += len(part) {
				ng := min(len(part), nq-g0)
				if n4 > 0 {
					dotF32RowsNEON((*byte)(unsafe.Pointer(&q[g0*ldq+j0])), &kc[0], n4, ng, 4*ldq, &part[0])
				} else {
					clear(part[:ng])
				}
				for g := range ng {
					sum, x := part[g], q[(g0+g)*ldq+j0:][:len(kc)]
					for j := n4; j < len(kc); j++ {
						sum += kc[j] * x[j]
					}
					s[(g0+g)*lds+r] += sum
				}
			}
		}
	}
}

// attnValuesNEON is attnValuesGeneric with the weighted sums done by
// axpyNEON: the same results, bit for bit.
func attnValuesNEON(o []float32, ldo int, p []float32, ldp, nq int, t Type, v []byte, stride, off, nk, hs int) {
	var buf [kvChunk]float32
	for r := range nk {
		row := v[r*stride:]
		for j0 := 0; j0 < hs; j0 += kvChunk {
			vc := buf[:min(kvChunk, hs-j0)]
			decodeKV(t, vc, row, off+j0)
			n4 := len(vc) &^ 3
			for g := range nq {
				w := p[g*ldp+r]
				out := o[g*ldo+j0:][:len(vc)]
				if n4 > 0 {
					axpyNEON(&out[0], &vc[0], w, n4)
				}
				for j := n4; j < len(vc); j++ {
					out[j] += w * vc[j]
				}
			}
		}
	}
}

// quantizeBatchNEON is quantizeBatchGeneric (the same bytes, for finite
// values and blocks whose max|x| is not so small that 1/d overflows) for n
// blocks; q34 may be nil. FCVTAS rounds halves away from zero as
// roundHalfAway does, FCVT rounds d to fp16 ties to even as FP32ToFP16
// does.
//
//go:noescape
func quantizeBatchNEON(q *byte, d *float32, bias, bias4 *int32, xc *float32, q34 *byte, x *float32, n int)
