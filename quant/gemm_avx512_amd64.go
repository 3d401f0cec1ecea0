//go:build amd64 && !noasm

package quant

import "golang.org/x/sys/cpu"

func init() {
	addGEMMTier(gemmTier{name: "avx512", fn: gemmAVX512, attn: attnAVX512, quant: quantizeBatchAsm(quantizeBatch512), ktiles: kTiles512,
		usable: cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI &&
			cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C,
		needs: "AVX-512 F/BW/VL, VNNI, AVX2, FMA and F16C"})
	x4Q4_0 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512VBMI
}

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

//go:noescape
func gemmF32Tile512(w0, w1, w2, w3 *byte, x *float32, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)

//go:noescape
func gemmF16Tile512(w0, w1, w2, w3 *byte, x *float32, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)

// gemmBF16FTile512 is gemmF16Tile512 for BF16 weights.
//
//go:noescape
func gemmBF16FTile512(w0, w1, w2, w3 *byte, x *float32, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)

// gemvF16512 is the one-vector product for F16 weights: rows rows,
// stride bytes apart, of n columns (a multiple of 16) times x. Reference
// loop:
//
//	for r := 0; r < rows; r++ {
//		var s float32
//		for i := 0; i < n; i++ {
//			s += FP16ToFP32(binary.LittleEndian.Uint16(w[r*stride+2*i:])) * x[i]
//		}
//		out[r] = s
//	}
//
//go:noescape
func gemvF16512(w *byte, stride, rows int, x *float32, n int, out *float32)

// gemvQ4_0VNNI512 is gemvQ4_0AVX2 (same arguments and reference loop) on
// 512-bit registers, two blocks per VPDPBUSD and the scales of eight
// blocks picked from two loads: about half the instructions per block
// (callgrind: 14.2 per block for gemvQ4_0AVX2, 19.4 for the rows kernel).
// n is a multiple of 8.
//
//go:noescape
func gemvQ4_0VNNI512(w *byte, stride, rows int, xq *byte, xd, xc *float32, n int, out *float32)

// gemvQ4_0X4VNNI512 is gemvQ4_0VNNI512 reading the vector in the x4 layout
// (Batch.setX4; for Q4_0 192 bytes per group of four blocks, its bias
// lanes holding -8 x the sums): per eight blocks the 144 weight bytes are
// loaded once, and three byte permutes (VPERMT2B, AVX-512 VBMI) on those
// registers gather each group's nibbles and the eight scales; the vector
// needs no shuffles, the -8 offset is cancelled in the integer sums, and
// the float work is one VCVTDQ2PS/VPERMPS/FMA per four blocks. n is a
// multiple of 8. Reference loop:
//
//	for r := 0; r < rows; r++ {
//		var s float32
//		for k := 0; k < n; k++ {
//			wb := w[r*stride+18*k:]
//			var sum int32
//			for i := 0; i < 16; i++ {
//				sum += (int32(wb[2+i]&15) - 8) * int32(int8(xq[32*k+i]))
//				sum += (int32(wb[2+i]>>4) - 8) * int32(int8(xq[32*k+16+i]))
//			}
//			s += float32(sum) * (fp16(wb) * xd[k])
//		}
//		out[r] = s
//	}
//
// (xq being the quants the x4 layout holds; the float sums run in lanes,
// so the order of the additions differs.)
//
//go:noescape
func gemvQ4_0X4VNNI512(w *byte, stride, rows int, x4 *byte, xd *float32, n int, out *float32)

// gemvQ8_0VNNI512 is the one-vector product for Q8_0 weights on 512-bit
// registers: two blocks per VPDPBUSD (weights made unsigned, the offset
// taken off per row in floats with the batch's xc), four blocks per
// iteration with their scales picked from two loads by VPERMT2W. n is a
// multiple of 4.
// Reference loop:
//
//	for r := 0; r < rows; r++ {
//		var s float32
//		for k := 0; k < n; k++ {
//			wb := w[r*stride+34*k:]
//			var sum int32
//			for i := 0; i < 32; i++ {
//				sum += int32(int8(wb[2+i])) * int32(int8(xq[32*k+i]))
//			}
//			s += float32(sum) * (fp16(wb) * xd[k])
//		}
//		out[r] = s
//	}
//
//go:noescape
func gemvQ8_0VNNI512(w *byte, stride, rows int, xq *byte, xc, xd *float32, n int, out *float32)

//go:noescape
func gemmQ4_0TileVNNI(w0, w1, w2, w3 *byte, x *byte, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)

// gemmAVX512 walks 4x4 tiles: each group of four rows (the last group
// repeats its last row) meets every vector while it is in the L1 cache.
// Per step the int8 types take two blocks (VNNI; an odd last block is
// added in Go), the float types sixteen columns (BF16 widened exactly to
// float32: VDPBF16PS would round the activations to bfloat16 and measured
// no faster here); the columns after the last whole step are added in Go. One vector goes to
// the 512-bit one-vector kernels for Q4_0, Q8_0 and F16, and to the AVX2
// tier's for the other types.
func gemmAVX512(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) {
	switch {
	case b.n == 1 && t == Q4_0:
		gemvQ4_0512(outs[0][off:off+rows], w, rb, b)
		return
	case b.n == 1 && t == Q8_0:
		gemvQ8_0512(outs[0][off:off+rows], w, rb, b)
		return
	case t == Q8_0 && b.useX4:
		// 2-128 vectors (decoding steps, prompts): the small-batch tiles,
		// which multiply no padding vectors, their 2x8 tile doing the float
		// work once per eight blocks (the 4x4 tile below, once per two, takes
		// Q8_0 only past x4MaxTokens).
		gemmQ8_0X4(outs, off, w, rb, rows, b)
		return
	case t == Q4_0 && b.useAMX:
		// 5-128 vectors on a CPU with AMX: panels of rows converted to
		// Q8_0 blocks once, then the Q8_0 tiles.
		gemmQ4_0AMX(outs, off, w, rb, rows, b)
		return
	case b.n == 1 && t != F16:
		gemmAVX2(outs, off, t, w, rb, rows, b)
		return
	case b.n == 1: // F16
		out := outs[0][off : off+rows]
		if c16 := b.cols &^ 15; c16 > 0 {
			gemvF16512(&w[0], rb, rows, &b.x[0], c16, &out[0])
		} else {
			clear(out)
		}
		if b.cols%16 != 0 {
			var tile [1]float32
			for r := range rows {
				tile[0] = 0
				gemmFloatTail(tile[:], t, w, rb, r, 1, b, 0, 1, 1, b.cols&^15)
				out[r] += tile[0]
			}
		}
		return
	}
	if t == Q4_0 && b.n >= packedMinTokens {
		// Prompts: the AVX2 tier's integer panel kernel (each panel of 8
		// rows expanded to bytes once, then 6 vectors per step) is faster
		// here than the 4x4 VNNI tile below, which decodes the nibbles and
		// does the float work of every block for every 4 vectors.
		gemmPanelIntAVX2(outs, off, t, w, rb, rows, b)
		return
	}
	if t.Quantized() && b.nb%2 != 0 {
		// The VNNI tiles take blocks in pairs; an odd count (rows of 288,
		// stories15M's width) left one block per row and vector to the Go
		// tier, which made such a prefill 1.5x slower than the rows kernels
		// (bench-compare against e51bfd0). The AVX2 tile takes any count.
		gemmAVX2(outs, off, t, w, rb, rows, b)
		return
	}
	var tile [16]float32
	nb, cols := b.nb, b.cols
	for r0 := 0; r0 < rows; r0 += 4 {
		var wr [4]*byte
		for i := range wr {
			wr[i] = &w[min(r0+i, rows-1)*rb]
		}
		nr := min(4, rows-r0)
		for t0 := 0; t0 < b.n; t0 += 4 {
			nt := min(4, b.n-t0)
			// (direct calls: through a func value, tile would escape)
			switch t {
			case Q8_0:
				gemmQ8_0TileVNNI(wr[0], wr[1], wr[2], wr[3], &b.q[t0*nb*32], nb*32, &b.bias[t0*nb*8], &b.d[t0*nb], 4*nb, nb/2, &tile)
			case Q4_0:
				gemmQ4_0TileVNNI(wr[0], wr[1], wr[2], wr[3], &b.q[t0*nb*32], nb*32, &b.bias4[t0*nb*8], &b.d[t0*nb], 4*nb, nb/2, &tile)
			case F32:
				gemmF32Tile512(wr[0], wr[1], wr[2], wr[3], &b.x[t0*cols], 4*cols, nil, nil, 0, cols/16, &tile)
			case F16:
				gemmF16Tile512(wr[0], wr[1], wr[2], wr[3], &b.x[t0*cols], 4*cols, nil, nil, 0, cols/16, &tile)
			case BF16:
				gemmBF16FTile512(wr[0], wr[1], wr[2], wr[3], &b.x[t0*cols], 4*cols, nil, nil, 0, cols/16, &tile)
			}
			if !t.Quantized() && cols%16 != 0 {
				gemmFloatTail(tile[:], t, w, rb, r0, nr, b, t0, 4, 4, cols&^15)
			}
			for j := range nt {
				copy(outs[t0+j][off+r0:][:nr], tile[4*j:4*j+nr])
			}
		}
	}
}

// kTiles512 is the AVX-512 tier's ktiles (MatMul on K-quant matrices):
// batches of at least packedMinTokens vectors (prompts; Batch.Prepare pads
// them to whole groups of 6) of every K type take the AVX2 tier's integer
// panel kernels (gemmKIntAVX2), which measured faster here than
// kTilesVNNI's 4-vector tiles for Q4_K and Q6_K too; smaller batches
// (decoding steps of a few sequences) take kTilesVNNI (Q4_K and Q6_K only,
// the other types the rows kernel).
func kTiles512(outs [][]float32, off int, t Type, w []byte, rb, rows int, b *Batch) int {
	if types[t].act == actQ8_K && b.n >= packedMinTokens {
		gemmKIntAVX2(outs, off, t, w, rb, rows, b, (b.n+5)/6*6)
		return b.n
	}
	return kTilesVNNI(outs, off, t, w, rb, rows, b)
}

// gemvQ4_0512 is one Q4_0 vector on AVX-512: the kernel takes whole groups
// of eight blocks, Go the blocks after them (no model here has any: rows
// of 768, 2048 and 5632 columns are 24, 64 and 176 blocks). With VBMI the
// vector is in the x4 layout (Batch.useX4) and the x4 kernel reads it.
func gemvQ4_0512(out []float32, w []byte, rb int, b *Batch) {
	nb := b.nb
	if n8 := nb &^ 7; n8 > 0 && b.useX4 {
		gemvQ4_0X4VNNI512(&w[0], rb, len(out), &b.x4[0], &b.d[0], n8, &out[0])
	} else if n8 > 0 {
		gemvQ4_0VNNI512(&w[0], rb, len(out), &b.q[0], &b.d[0], &b.xc[0], n8, &out[0])
	} else {
		clear(out)
	}
	if nb%8 == 0 {
		return
	}
	for r := range out {
		var acc [gemmTokenPad]float32
		gemmBlocksGenericFrom(&acc, Q4_0, w[r*rb:(r+1)*rb], b, 0, 1, nb&^7)
		out[r] += acc[0]
	}
}

// gemvQ8_0512 is one Q8_0 vector on AVX-512: the kernel takes whole groups
// of four blocks, Go the blocks after them.
func gemvQ8_0512(out []float32, w []byte, rb int, b *Batch) {
	nb := b.nb
	if n4 := nb &^ 3; n4 > 0 {
		gemvQ8_0VNNI512(&w[0], rb, len(out), &b.q[0], &b.xc[0], &b.d[0], n4, &out[0])
	} else {
		clear(out)
	}
	if nb%4 == 0 {
		return
	}
	for r := range out {
		var acc [gemmTokenPad]float32
		gemmBlocksGenericFrom(&acc, Q8_0, w[r*rb:(r+1)*rb], b, 0, 1, nb&^3)
		out[r] += acc[0]
	}
}

// quantizeBatch512 is quantizeBatchGeneric (the same bytes) for n blocks;
// q34 may be nil.
//
//go:noescape
func quantizeBatch512(q *byte, d *float32, bias, bias4 *int32, xc *float32, q34 *byte, x *float32, n int)
