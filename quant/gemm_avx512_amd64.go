//go:build amd64 && !noasm

package quant

import (
	"encoding/binary"

	"golang.org/x/sys/cpu"
)

func init() {
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI &&
		cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C {
		gemmTiers = append(gemmTiers, gemmTier{"avx512", gemmAVX512})
		gemmSel, gemmImpl = len(gemmTiers)-1, gemmAVX512
		hasBF16 = cpu.X86.HasAVX512BF16
	}
}

// hasBF16 reports whether the CPU has VDPBF16PS (AVX512_BF16).
var hasBF16 bool

// The AVX-512 tile kernels (gemm_avx512_amd64.s) compute a tile of 4
// weight rows x 4 vectors over n pairs of blocks: out[t*4+r] = dot(row r,
// vector t). x holds each vector's quants (32 bytes per block, xstride
// bytes between vectors), bias the batch's per-group biases at the same
// layout (Batch.bias for Q8_0, Batch.bias4 for Q4_0; they cancel the
// offset that makes the weights unsigned), d the float32 block scales
// (dstride bytes between vectors). Reference loop (the same result as
// gemmQ8_0Tile's, for 4 vectors and 2n blocks):
//
//	for t := 0; t < 4; t++ {
//		for r, w := range [4][]byte{w0, w1, w2, w3} {
//			var s float32
//			for k := 0; k < 2*n; k++ {
//				var sum int32
//				for g := 0; g < 8; g++ {
//					lane := bias[t*xstride/4+8*k+g]
//					for i := 4 * g; i < 4*g+4; i++ {
//						lane += int32(w[34*k+2+i]^0x80) * int32(int8(x[t*xstride+32*k+i])) // 0..255 x -127..127
//					}
//					sum += lane
//				}
//				s += float32(sum) * (fp16(w[34*k:]) * d[t*dstride/4+k])
//			}
//			out[t*4+r] = s
//		}
//	}

//go:noescape
func gemmQ8_0TileVNNI(w0, w1, w2, w3 *byte, x *byte, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)

// gemvQ4_0VNNI is gemvQ4_0AVX2 (same arguments and reference loop) with
// VPDPBUSD.
//
//go:noescape
func gemvQ4_0VNNI(w *byte, stride, rows int, xq *byte, xd, xc *float32, n int, out *float32)

//go:noescape
func gemmF32Tile512(w0, w1, w2, w3 *byte, x *float32, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)

//go:noescape
func gemmF16Tile512(w0, w1, w2, w3 *byte, x *float32, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)

//go:noescape
func gemmBF16Tile512(w0, w1, w2, w3 *byte, x *uint16, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)

//go:noescape
func gemmQ4_0TileVNNI(w0, w1, w2, w3 *byte, x *byte, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)

// gemmAVX512 walks 4x4 tiles: two blocks per step for the int8 types
// (VNNI; an odd last block is added in Go), sixteen columns per step for
// F32 and F16 (the columns after the last whole step are added in Go).
// BF16 uses VDPBF16PS where the CPU has AVX512_BF16, else the AVX2 tier.
func gemmAVX512(out []float32, ldo int, t Type, w []byte, rb, rows int, b *Batch) {
	switch t {
	case F32, F16:
		gemmFloat512(out, ldo, t, w, rb, rows, b)
		return
	case Q4_0:
		if b.n == 1 {
			gemvQ4_0VNNI(&w[0], rb, rows, &b.q[0], &b.d[0], &b.xc[0], b.nb, &out[0])
			return
		}
	case BF16:
		if hasBF16 {
			gemmBF16512(out, ldo, w, rb, rows, b)
		} else {
			gemmAVX2(out, ldo, t, w, rb, rows, b)
		}
		return
	}
	var tile [16]float32
	nb := b.nb
	bias := b.bias
	if t == Q4_0 {
		bias = b.bias4
	}
	for r0 := 0; r0 < rows; r0 += 4 {
		var wr [4]*byte
		for i := range wr {
			wr[i] = &w[min(r0+i, rows-1)*rb]
		}
		nr := min(4, rows-r0)
		for t0 := 0; t0 < b.n; t0 += 4 {
			// (direct calls: through a func value, tile would escape)
			if t == Q8_0 {
				gemmQ8_0TileVNNI(wr[0], wr[1], wr[2], wr[3], &b.q[t0*nb*32], nb*32, &bias[t0*nb*8], &b.d[t0*nb], 4*nb, nb/2, &tile)
			} else {
				gemmQ4_0TileVNNI(wr[0], wr[1], wr[2], wr[3], &b.q[t0*nb*32], nb*32, &bias[t0*nb*8], &b.d[t0*nb], 4*nb, nb/2, &tile)
			}
			nt := min(4, b.n-t0)
			if nb%2 != 0 {
				var acc [gemmTokenPad]float32
				for r := range nr {
					clear(acc[:])
					gemmBlocksGenericFrom(&acc, t, w[(r0+r)*rb:(r0+r+1)*rb], b, t0, nt, nb-1)
					for j := range nt {
						tile[4*j+r] += acc[j]
					}
				}
			}
			for j := range nt {
				copy(out[(t0+j)*ldo+r0:][:nr], tile[4*j:4*j+nr])
			}
		}
	}
}

// gemmFloat512 is gemmAVX512 for F32 and F16 weights.
func gemmFloat512(out []float32, ldo int, t Type, w []byte, rb, rows int, b *Batch) {
	var tile [16]float32
	cols := b.cols
	for r0 := 0; r0 < rows; r0 += 4 {
		var wr [4]*byte
		for i := range wr {
			wr[i] = &w[min(r0+i, rows-1)*rb]
		}
		nr := min(4, rows-r0)
		for t0 := 0; t0 < b.n; t0 += 4 {
			x := &b.x[t0*cols]
			if t == F32 {
				gemmF32Tile512(wr[0], wr[1], wr[2], wr[3], x, 4*cols, nil, nil, 0, cols/16, &tile)
			} else {
				gemmF16Tile512(wr[0], wr[1], wr[2], wr[3], x, 4*cols, nil, nil, 0, cols/16, &tile)
			}
			if cols%16 != 0 {
				gemmFloatTail(tile[:], t, w, rb, r0, nr, b, t0, 4, 4, cols&^15)
			}
			for j := range min(4, b.n-t0) {
				copy(out[(t0+j)*ldo+r0:][:nr], tile[4*j:4*j+nr])
			}
		}
	}
}

// gemmBF16512 is gemmAVX512 for BF16 weights: VDPBF16PS multiplies pairs
// of bfloat16 weights and activations (the batch holds the activations
// rounded to bfloat16) and adds both products to a float32 lane; 32
// columns per step, the rest added in Go.
func gemmBF16512(out []float32, ldo int, w []byte, rb, rows int, b *Batch) {
	var tile [16]float32
	cols := b.cols
	for r0 := 0; r0 < rows; r0 += 4 {
		var wr [4]*byte
		for i := range wr {
			wr[i] = &w[min(r0+i, rows-1)*rb]
		}
		nr := min(4, rows-r0)
		for t0 := 0; t0 < b.n; t0 += 4 {
			gemmBF16Tile512(wr[0], wr[1], wr[2], wr[3], &b.bf[t0*cols], 2*cols, nil, nil, 0, cols/32, &tile)
			if cols%32 != 0 {
				for r := range nr {
					row := w[(r0+r)*rb : (r0+r+1)*rb]
					for j := range 4 {
						x := b.bf[(t0+j)*cols : (t0+j+1)*cols]
						var s float32
						for i := cols &^ 31; i < cols; i++ {
							s += BF16ToFP32(binary.LittleEndian.Uint16(row[2*i:])) * BF16ToFP32(x[i])
						}
						tile[4*j+r] += s
					}
				}
			}
			for j := range min(4, b.n-t0) {
				copy(out[(t0+j)*ldo+r0:][:nr], tile[4*j:4*j+nr])
			}
		}
	}
}
