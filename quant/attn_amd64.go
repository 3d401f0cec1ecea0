//go:build amd64 && !noasm

package quant

import "golang.org/x/sys/cpu"

// The AVX2 and AVX-512 tiers of the attention kernels (attn.go).
//
// AttnScores multiplies register tiles of keys x queries: 4x3 (AVX2) or
// 4x4 (AVX-512) with the MatMul tile kernels for F32 and F16 keys (their
// weight rows are the key rows, stride bytes apart), and attnQ8Tile /
// attnQ8Tile512 for Q8_0 keys, which widen and scale each key block
// instead of quantising the queries. A single query takes the rows kernel
// (F32, F16). AttnValues runs the attnVal* kernels (attn_amd64.s) over
// chunks of the head's columns, up to four (AVX-512) or two (AVX2)
// queries at a time. Heads these do not cover (Q8_0 slices that are not
// whole blocks, heads narrower than a step or wider than maxTileHead) and
// the columns after the last whole step go to the portable tier.

func init() {
	if cpu.X86.HasAVX && cpu.X86.HasF16C {
		encodeF16Impl = encodeF16Asm
	}
}

//go:noescape
func encodeF16F16C(dst *byte, x *float32, n int)

// encodeF16Asm converts x to fp16 into dst with VCVTPS2PH, eight at a
// time, the rest in Go.
func encodeF16Asm(dst []byte, x []float32) {
	n := len(x) &^ 7
	if n > 0 {
		_ = dst[2*n-1]
		encodeF16F16C(&dst[0], &x[0], n)
	}
	encodeF16Generic(dst[2*n:], x[n:])
}

// maxTileHead is the widest head the score tiles take (a padded copy of
// the queries lives on the stack).
const maxTileHead = 256

//go:noescape
func attnQ8Tile(w0, w1, w2, w3 *byte, x *float32, xstride int, d *float32, dstride int, n int, out *[12]float32)

//go:noescape
func attnQ8Tile512(w0, w1, w2, w3 *byte, x *float32, xstride int, bias *int32, d *float32, dstride int, n int, out *[16]float32)

// The value kernels: o[g*ldo+j] += sum_t p[g*ldp+t] * V(t, j) for g < nq
// (1..4 on AVX-512, 1..2 on AVX2) and the kernel's columns j (64, 32, 16
// or 8), V(t, j) element j of the chunk at v[t*stride:] (for Q8_0 whole
// blocks: 32 columns a block). Reference loop:
//
//	for g := range nq {
//		for t := range nk {
//			for j := range cols {
//				o[g*ldo+j] += p[g*ldp+t] * decode(v[t*stride:], j)
//			}
//		}
//	}

//go:noescape
func attnValF32C64(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)

//go:noescape
func attnValF16C64(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)

//go:noescape
func attnValQ8C64(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)

//go:noescape
func attnValF32C16(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)

//go:noescape
func attnValF16C16(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)

//go:noescape
func attnValF32C32(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)

//go:noescape
func attnValF16C32(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)

//go:noescape
func attnValQ8C32(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)

//go:noescape
func attnValF32C8(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)

//go:noescape
func attnValF16C8(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)

// attnAVX2 and attnAVX512 are the two tiers' attention kernels.
var (
	attnAVX2   = attnKernels{attnScoresAVX2, attnValuesAVX2}
	attnAVX512 = attnKernels{attnScores512, attnValuesAVX512}
)

// kvOffset is the byte offset of element e of a cache row of type t (e a
// multiple of 32 for Q8_0).
func kvOffset(t Type, e int) int {
	if t == Q8_0 {
		return e / 32 * 34
	}
	return KVRowBytes(t, e)
}

// tiledHead reports whether the tile kernels take a head slice of hs
// elements at element off of a row of type t, with steps of step columns.
func tiledHead(t Type, off, hs, step int) bool {
	if t == Q8_0 {
		return off%32 == 0 && hs%32 == 0 && hs <= maxTileHead
	}
	return hs >= step && hs <= maxTileHead
}

// attnScoresTiled walks the tiles of AttnScores: queries in groups of
// four (AVX-512) or three, a partial group padded with zero queries on the
// stack, a single float query given to the rows kernel; keys four at a
// time (the last repeated past nk); the columns after the tiles' whole
// steps are added in Go.
func attnScoresTiled(s []float32, lds int, q []float32, ldq, nq int, t Type, k []byte, stride, off, nk, hs int, avx512 bool) {
	width, cols := 3, hs&^7
	if avx512 {
		width, cols = 4, hs&^15
	}
	kb := k[kvOffset(t, off):]
	var qpad [4 * maxTileHead]float32
	var tile [16]float32
	for g0 := 0; g0 < nq; g0 += width {
		ng := min(width, nq-g0)
		x, xstride := &q[g0*ldq], 4*ldq
		switch {
		case ng == 1 && t != Q8_0:
			out := s[g0*lds : g0*lds+nk]
			kernels.rows[t](out, kb, stride, activations{f: q[g0*ldq : g0*ldq+hs]})
			continue
		case ng == 1:
			xstride = 0 // every column of the tile multiplies the one query
		case ng < width:
			for g := range width {
				row := qpad[g*hs : (g+1)*hs]
				if g < ng {
					copy(row, q[(g0+g)*ldq:])
				} else {
					clear(row)
				}
			}
			x, xstride = &qpad[0], 4*hs
		}
		for t0 := 0; t0 < nk; t0 += 4 {
			var wr [4]*byte
			for i := range wr {
				wr[i] = &kb[min(t0+i, nk-1)*stride]
			}
			if avx512 {
				switch t {
				case F32:
					gemmF32Tile512(wr[0], wr[1], wr[2], wr[3], x, xstride, nil, nil, 0, cols/16, &tile)
				case F16:
					gemmF16Tile512(wr[0], wr[1], wr[2], wr[3], x, xstride, nil, nil, 0, cols/16, &tile)
				default:
					attnQ8Tile512(wr[0], wr[1], wr[2], wr[3], x, xstride, nil, nil, 0, cols/32, &tile)
				}
			} else {
				t12 := (*[12]float32)(tile[:12])
				switch t {
				case F32:
					gemmF32Tile(wr[0], wr[1], wr[2], wr[3], x, xstride, nil, 0, cols/8, t12)
				case F16:
					gemmF16Tile(wr[0], wr[1], wr[2], wr[3], x, xstride, nil, 0, cols/8, t12)
				default:
					attnQ8Tile(wr[0], wr[1], wr[2], wr[3], x, xstride, nil, 0, cols/32, t12)
				}
			}
			nr := min(4, nk-t0)
			for g := range ng {
				row := s[(g0+g)*lds+t0:][:nr]
				copy(row, tile[4*g:4*g+nr])
				if cols < hs {
					for r := range nr {
						kr := kb[(t0+r)*stride:]
						var sum float32
						for j := cols; j < hs; j++ {
							sum += q[(g0+g)*ldq+j] * kvAt(t, kr, j)
						}
						row[r] += sum
					}
				}
			}
		}
	}
}

// attnScores512 is AttnScores on AVX-512: tiles of four keys x four queries.
func attnScores512(s []float32, lds int, q []float32, ldq, nq int, t Type, k []byte, stride, off, nk, hs int) {
	if !tiledHead(t, off, hs, 16) {
		attnScoresGeneric(s, lds, q, ldq, nq, t, k, stride, off, nk, hs)
		return
	}
	attnScoresTiled(s, lds, q, ldq, nq, t, k, stride, off, nk, hs, true)
}

// attnScoresAVX2 is AttnScores on AVX2: tiles of four keys x three
// queries (stored with the AVX-512 tile's layout, out[4*g+r]).
func attnScoresAVX2(s []float32, lds int, q []float32, ldq, nq int, t Type, k []byte, stride, off, nk, hs int) {
	if !tiledHead(t, off, hs, 8) {
		attnScoresGeneric(s, lds, q, ldq, nq, t, k, stride, off, nk, hs)
		return
	}
	attnScoresTiled(s, lds, q, ldq, nq, t, k, stride, off, nk, hs, false)
}

// valueKernel is one attnVal* kernel.
type valueKernel func(o *float32, ldo int, p *float32, ldp, nq int, v *byte, stride, nk int)

// valueChunk is a value kernel, the columns it covers and the queries it
// takes at most.
type valueChunk struct {
	kern        valueKernel
	cols, width int
}

// attnValuesChunks runs AttnValues over column chunks: big's columns at a
// time while they fit, then small's; the columns left go to the portable
// tier.
func attnValuesChunks(o []float32, ldo int, p []float32, ldp, nq int, t Type, v []byte, stride, off, nk, hs int, big, small valueChunk) {
	j := 0
	for _, c := range [2]valueChunk{big, small} {
		for ; j+c.cols <= hs; j += c.cols {
			vb := &v[kvOffset(t, off+j)]
			for g0 := 0; g0 < nq; g0 += c.width {
				c.kern(&o[g0*ldo+j], ldo, &p[g0*ldp], ldp, min(c.width, nq-g0), vb, stride, nk)
			}
		}
	}
	if j < hs {
		attnValuesGeneric(o[j:], ldo, p, ldp, nq, t, v, stride, off+j, nk, hs-j)
	}
}

// attnValuesAVX512 is AttnValues on AVX-512: 64 columns (then 16; for
// Q8_0 a last block on the AVX2 kernel) for up to four queries at a time.
func attnValuesAVX512(o []float32, ldo int, p []float32, ldp, nq int, t Type, v []byte, stride, off, nk, hs int) {
	switch {
	case t == Q8_0 && off%32 == 0 && hs%32 == 0:
		attnValuesChunks(o, ldo, p, ldp, nq, t, v, stride, off, nk, hs, valueChunk{attnValQ8C64, 64, 4}, valueChunk{attnValQ8C32, 32, 2})
	case t == F32:
		attnValuesChunks(o, ldo, p, ldp, nq, t, v, stride, off, nk, hs, valueChunk{attnValF32C64, 64, 4}, valueChunk{attnValF32C16, 16, 4})
	case t == F16:
		attnValuesChunks(o, ldo, p, ldp, nq, t, v, stride, off, nk, hs, valueChunk{attnValF16C64, 64, 4}, valueChunk{attnValF16C16, 16, 4})
	default:
		attnValuesGeneric(o, ldo, p, ldp, nq, t, v, stride, off, nk, hs)
	}
}

// attnValuesAVX2 is AttnValues on AVX2: 32 columns (then 8) for up to two
// queries at a time.
func attnValuesAVX2(o []float32, ldo int, p []float32, ldp, nq int, t Type, v []byte, stride, off, nk, hs int) {
	switch {
	case t == Q8_0 && off%32 == 0 && hs%32 == 0:
		attnValuesChunks(o, ldo, p, ldp, nq, t, v, stride, off, nk, hs, valueChunk{attnValQ8C32, 32, 2}, valueChunk{attnValQ8C32, 32, 2})
	case t == F32:
		attnValuesChunks(o, ldo, p, ldp, nq, t, v, stride, off, nk, hs, valueChunk{attnValF32C32, 32, 2}, valueChunk{attnValF32C8, 8, 2})
	case t == F16:
		attnValuesChunks(o, ldo, p, ldp, nq, t, v, stride, off, nk, hs, valueChunk{attnValF16C32, 32, 2}, valueChunk{attnValF16C8, 8, 2})
	default:
		attnValuesGeneric(o, ldo, p, ldp, nq, t, v, stride, off, nk, hs)
	}
}

// prefetchLines asks the hardware to bring every cache line of [p, p+n)
// into the caches (n > 0), without waiting for them.
//
//go:noescape
func prefetchLines(p *byte, n int)

// Prefetch asks the hardware to bring b into the caches without waiting
// for it: a hint that b is read soon.
func Prefetch(b []byte) {
	if len(b) > 0 {
		prefetchLines(&b[0], len(b))
	}
}
