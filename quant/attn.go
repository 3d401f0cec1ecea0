package quant

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Attention kernels over a KV cache stored in F32, F16 or Q8_0.
//
// A cache row is one position's keys (or values) of every KV head: F32 and
// F16 rows are plain arrays, Q8_0 rows are whole Q8_0 blocks (34 bytes per
// 32 elements) over the row, so a head's slice may start inside a block
// when the head size is below 32. The kernels read a head's slice,
// elements [off, off+hs), of nk rows stride bytes apart, and multiply it
// with float32 queries (AttnScores) or attention weights (AttnValues)
// without dequantising the cache to a buffer. They come in the tiers of
// MatMul (UseGEMMTier switches both).

// KVTypes are the types a KV cache can be stored in.
var KVTypes = []Type{F32, F16, Q8_0}

// KVRowBytes returns the size of one cache row of n elements of type t (F32,
// F16 or Q8_0; n a multiple of 32 for Q8_0).
func KVRowBytes(t Type, n int) int {
	switch t {
	case F32:
		return 4 * n
	case F16:
		return 2 * n
	case Q8_0:
		return n / 32 * 34
	}
	panic(fmt.Sprintf("quant: %s is not a KV cache type", t))
}

// EncodeKV stores x into the cache row part dst of type t: a copy (F32),
// fp16 values (F16) or Q8_0 blocks, as Vec.Set quantises (len(x) a
// multiple of 32).
func EncodeKV(t Type, dst []byte, x []float32) {
	switch t {
	case F32:
		if v, ok := bytesAsFloat32(dst[:4*len(x)]); ok {
			copy(v, x)
			return
		}
		for i, f := range x {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(f))
		}
	case F16:
		encodeF16Impl(dst[:2*len(x)], x)
	case Q8_0:
		if len(x)%32 != 0 {
			panic(fmt.Sprintf("quant: EncodeKV: %d elements are not whole Q8_0 blocks", len(x)))
		}
		quantizeQ8_0(dst[:len(x)/32*34], x)
	default:
		panic(fmt.Sprintf("quant: %s is not a KV cache type", t))
	}
}

// encodeF16Impl converts float32 to fp16 (an assembly tier where there is one).
var encodeF16Impl = encodeF16Generic

func encodeF16Generic(dst []byte, x []float32) {
	for i, v := range x {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToFP16(v))
	}
}

// checkAttn panics unless nq vectors of hs elements, ld apart, fit in x and
// nk rows of the slice [off, off+hs) of a cache row fit in kv.
func checkAttn(name string, x []float32, ld, nq int, t Type, kv []byte, stride, off, nk, hs int) {
	if nq < 0 || nk < 0 || hs < 0 || off < 0 || ld < 0 || stride < 0 {
		panic(fmt.Sprintf("quant: %s: negative size", name))
	}
	if nq == 0 || nk == 0 || hs == 0 {
		return
	}
	if t == Q8_0 {
		// the blocks that hold elements [off, off+hs)
		if need := (off+hs+31)/32*34 + (nk-1)*stride; need > len(kv) || stride < (off+hs+31)/32*34 {
			panic(fmt.Sprintf("quant: %s: %d rows of %d bytes do not fit in %d", name, nk, stride, len(kv)))
		}
	} else if need := KVRowBytes(t, off+hs) + (nk-1)*stride; need > len(kv) || stride < KVRowBytes(t, off+hs) {
		panic(fmt.Sprintf("quant: %s: %d rows of %d bytes do not fit in %d", name, nk, stride, len(kv)))
	}
	if (nq-1)*ld+hs > len(x) {
		panic(fmt.Sprintf("quant: %s: %d vectors of %d, %d apart, do not fit in %d", name, nq, hs, ld, len(x)))
	}
}

// AttnScores computes s[g*lds+t] = dot(q[g*ldq:g*ldq+hs], K row t) for g < nq
// and t < nk, where K row t is elements [off, off+hs) of the cache row of
// type t at k[t*stride:]: an attention head's scores for nq queries (the
// heads that share a KV head, or several positions) over nk positions.
//
//	for g := range nq {
//		for t := range nk {
//			s[g*lds+t] = dot(q[g*ldq:][:hs], kvRow(k[t*stride:], off, hs))
//		}
//	}
func AttnScores(s []float32, lds int, q []float32, ldq, nq int, t Type, k []byte, stride, off, nk, hs int) {
	checkAttn("AttnScores", q, ldq, nq, t, k, stride, off, nk, hs)
	if nq > 0 && nk > 0 && (nq-1)*lds+nk > len(s) {
		panic(fmt.Sprintf("quant: AttnScores: %d x %d scores, %d apart, do not fit in %d", nq, nk, lds, len(s)))
	}
	if nq == 0 || nk == 0 {
		return
	}
	if hs == 0 {
		for g := range nq {
			clear(s[g*lds : g*lds+nk])
		}
		return
	}
	attnImpl.scores(s, lds, q, ldq, nq, t, k, stride, off, nk, hs)
}

// AttnValues adds the attention-weighted values: o[g*ldo+j] += sum over t <
// nk of p[g*ldp+t] * element off+j of the value cache row of type t at
// v[t*stride:], for g < nq and j < hs.
//
//	for g := range nq {
//		for t := range nk {
//			for j, x := range kvRow(v[t*stride:], off, hs) {
//				o[g*ldo+j] += p[g*ldp+t] * x
//			}
//		}
//	}
func AttnValues(o []float32, ldo int, p []float32, ldp, nq int, t Type, v []byte, stride, off, nk, hs int) {
	checkAttn("AttnValues", o, ldo, nq, t, v, stride, off, nk, hs)
	if nq > 0 && nk > 0 && (nq-1)*ldp+nk > len(p) {
		panic(fmt.Sprintf("quant: AttnValues: %d x %d weights, %d apart, do not fit in %d", nq, nk, ldp, len(p)))
	}
	if nq == 0 || nk == 0 || hs == 0 {
		return
	}
	attnImpl.values(o, ldo, p, ldp, nq, t, v, stride, off, nk, hs)
}

// attnKernels is one tier's attention kernels.
type attnKernels struct {
	scores func(s []float32, lds int, q []float32, ldq, nq int, t Type, k []byte, stride, off, nk, hs int)
	values func(o []float32, ldo int, p []float32, ldp, nq int, t Type, v []byte, stride, off, nk, hs int)
}

var attnImpl = attnKernels{attnScoresGeneric, attnValuesGeneric}

// kvAt decodes element i of a cache row of type t.
func kvAt(t Type, row []byte, i int) float32 {
	switch t {
	case F32:
		return math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:]))
	case F16:
		return FP16ToFP32(binary.LittleEndian.Uint16(row[2*i:]))
	}
	blk := row[i/32*34:]
	return FP16ToFP32(binary.LittleEndian.Uint16(blk)) * float32(int8(blk[2+i%32]))
}

// attnScoresRef is the definition, in the order of the reference dot
// kernels: a float32 sum over the head's elements, each decoded.
func attnScoresRef(s []float32, lds int, q []float32, ldq, nq int, t Type, k []byte, stride, off, nk, hs int) {
	for g := range nq {
		for r := range nk {
			row := k[r*stride:]
			var sum float32
			for j := range hs {
				sum += q[g*ldq+j] * kvAt(t, row, off+j)
			}
			s[g*lds+r] = sum
		}
	}
}

// attnValuesRef is the definition of AttnValues.
func attnValuesRef(o []float32, ldo int, p []float32, ldp, nq int, t Type, v []byte, stride, off, nk, hs int) {
	for g := range nq {
		for r := range nk {
			row, w := v[r*stride:], p[g*ldp+r]
			for j := range hs {
				o[g*ldo+j] += w * kvAt(t, row, off+j)
			}
		}
	}
}

// kvChunk is the number of elements the portable tier decodes at a time.
const kvChunk = 64

// decodeKV decodes elements [off, off+len(dst)) of a cache row of type t.
func decodeKV(t Type, dst []float32, row []byte, off int) {
	switch t {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*(off+i):]))
		}
	case F16:
		for i := range dst {
			dst[i] = FP16ToFP32(binary.LittleEndian.Uint16(row[2*(off+i):]))
		}
	default:
		for i := 0; i < len(dst); {
			e := off + i
			blk := row[e/32*34:]
			d := FP16ToFP32(binary.LittleEndian.Uint16(blk))
			n := min(32-e%32, len(dst)-i)
			for j, v := range blk[2+e%32 : 2+e%32+n] {
				dst[i+j] = d * float32(int8(v))
			}
			i += n
		}
	}
}

// attnScoresGeneric decodes each key chunk once and multiplies it with
// every query.
func attnScoresGeneric(s []float32, lds int, q []float32, ldq, nq int, t Type, k []byte, stride, off, nk, hs int) {
	var buf [kvChunk]float32
	for r := range nk {
		row := k[r*stride:]
		for g := range nq {
			s[g*lds+r] = 0
		}
		for j0 := 0; j0 < hs; j0 += kvChunk {
			kc := buf[:min(kvChunk, hs-j0)]
			decodeKV(t, kc, row, off+j0)
			for g := range nq {
				x := q[g*ldq+j0:][:len(kc)]
				var s0, s1 float32
				j := 0
				for ; j+1 < len(kc); j += 2 {
					s0 += kc[j] * x[j]
					s1 += kc[j+1] * x[j+1]
				}
				if j < len(kc) {
					s0 += kc[j] * x[j]
				}
				s[g*lds+r] += s0 + s1
			}
		}
	}
}

// attnValuesGeneric decodes each value chunk once and adds it, weighted,
// into every output.
func attnValuesGeneric(o []float32, ldo int, p []float32, ldp, nq int, t Type, v []byte, stride, off, nk, hs int) {
	var buf [kvChunk]float32
	for r := range nk {
		row := v[r*stride:]
		for j0 := 0; j0 < hs; j0 += kvChunk {
			vc := buf[:min(kvChunk, hs-j0)]
			decodeKV(t, vc, row, off+j0)
			for g := range nq {
				w := p[g*ldp+r]
				out := o[g*ldo+j0:][:len(vc)]
				for j, x := range vc {
					out[j] += w * x
				}
			}
		}
	}
}
