package quant

import (
	"encoding/binary"
	"math"
)

// The K-quants (ggml's Q2_K..Q6_K, as GGUF stores them). A super-block holds
// 256 weights in sub-blocks of 16 or 32; each sub-block has an integer scale
// (and for Q2_K, Q4_K and Q5_K an integer min), and the super-block has
// fp16 factors d (and dmin) for those. Offsets are bytes from the start of
// the super-block; fp16 values are little-endian. Writing an element's index
// in the super-block as e = 128h + 32j + l (h < 2, j < 4, l < 32) for the
// types with 2-bit planes, and as e = 64h + 32u + l (h < 4, u < 2, l < 32)
// for the nibble types:
//
//	Q2_K, 84 bytes (2.625 bits/weight), 16 sub-blocks of 16:
//	  0   scales[16]  sub-block k: scale = scales[k]&15, min = scales[k]>>4
//	  16  qs[64]      q[e] = bits 2j, 2j+1 of qs[32h+l]
//	  80  d, 82 dmin
//	  w[e] = d*scale[e/16]*q[e] - dmin*min[e/16]
//
//	Q3_K, 110 bytes (3.4375), 16 sub-blocks of 16:
//	  0   hmask[32]   bit 4h+j of hmask[l] is bit 2 of q[e]
//	  32  qs[64]      bits 0, 1 of q[e] as in Q2_K
//	  96  scales[12]  16 6-bit values s[k], stored as scale+32: the low 4
//	                  bits in the low (k < 8) or high (k >= 8) nibble of
//	                  scales[k%8], the high 2 bits at bit 2(k/4) of scales[8+k%4]
//	  108 d
//	  w[e] = d*(s[e/16]-32)*(q[e]-4)
//
//	Q4_K, 144 bytes (4.5), 8 sub-blocks of 32:
//	  0   d, 2 dmin
//	  4   scales[12]  8 6-bit scales and 8 6-bit mins: for k < 4,
//	                  scale = b[k]&63, min = b[k+4]&63; for k >= 4,
//	                  scale = b[k+4]&15 | b[k-4]>>6<<4, min = b[k+4]>>4 | b[k]>>6<<4
//	  16  qs[128]     q[e] = low (u = 0) or high (u = 1) nibble of qs[32h+l]
//	  w[e] = d*scale[e/32]*q[e] - dmin*min[e/32]
//
//	Q5_K, 176 bytes (5.5), as Q4_K with a fifth bit:
//	  0   d, 2 dmin, 4 scales[12] as in Q4_K
//	  16  qh[32]      bit 2h+u of qh[l] is bit 4 of q[e]
//	  48  qs[128]     bits 0..3 of q[e] as in Q4_K
//
//	Q6_K, 210 bytes (6.5625), 16 sub-blocks of 16, e = 128h + 32j + l:
//	  0   ql[128]     bits 0..3 of q[e]: low (j < 2) or high (j >= 2) nibble
//	                  of ql[64h + 32(j%2) + l]
//	  128 qh[64]      bits 2j, 2j+1 of qh[32h+l] are bits 4, 5 of q[e]
//	  192 scales[16]  int8
//	  208 d
//	  w[e] = d*scales[e/16]*(q[e]-32)
//
// The activations of a K-quant product are Q8_K super-blocks (our own
// layout, after ggml's block_q8_K): float32 d at 0, int8 q[256] at 4 with
// x[i] ~ d*q[i] and d = max|x|/127, and at 260 the int16 sums of each 16
// q, with which the kernels apply the mins and the level offsets (-4, -32)
// per sub-block instead of per weight.

// Offsets inside a Q8_K super-block.
const (
	q8kQuants = 4                    // int8 q[256]
	q8kSums   = q8kQuants + superLen // int16 sums[16]
)

// kBlock is a K-quant super-block decoded to integers: element e is
// d*scale[e/sub]*q[e] - dmin*min[e/sub].
type kBlock struct {
	q       [superLen]int8 // levels with their offset removed: Q3_K -4..3, Q6_K -32..31, else 0..2^bits-1
	scale   [16]int32      // per sub-block (the first 8 for sub = 32)
	min     [16]int32      // per sub-block, Q2_K/Q4_K/Q5_K only
	sub     int            // elements per sub-block: 16 or 32
	d, dmin float32
}

func fp16At(b []byte) float32 { return FP16ToFP32(binary.LittleEndian.Uint16(b)) }

// scaleMinK4 returns scale and min k (k < 8) of the 12 packed bytes of a
// Q4_K or Q5_K super-block.
func scaleMinK4(b []byte, k int) (scale, min int32) {
	b = b[:12]
	if k < 4 {
		return int32(b[k] & 63), int32(b[k+4] & 63)
	}
	return int32(b[k+4]&15 | b[k-4]>>6<<4), int32(b[k+4]>>4 | b[k]>>6<<4)
}

// scaleQ3_K returns the 6-bit scale k (k < 16, still offset by 32) of the
// 12 packed bytes of a Q3_K super-block.
func scaleQ3_K(b []byte, k int) int32 {
	b = b[:12]
	lo := b[k%8] & 15
	if k >= 8 {
		lo = b[k%8] >> 4
	}
	hi := b[8+k%4] >> (2 * (k / 4)) & 3
	return int32(lo | hi<<4)
}

// decodeK decodes one super-block b of type t into k.
func decodeK(t Type, b []byte, k *kBlock) {
	*k = kBlock{sub: 16}
	switch t {
	case Q2_K:
		b = b[:sizeQ2_K]
		for i := range 16 {
			k.scale[i], k.min[i] = int32(b[i]&15), int32(b[i]>>4)
		}
		for e := range superLen {
			h, j, l := e/128, e%128/32, e%32
			k.q[e] = int8(b[16+32*h+l] >> (2 * j) & 3)
		}
		k.d, k.dmin = fp16At(b[80:]), fp16At(b[82:])
	case Q3_K:
		b = b[:sizeQ3_K]
		for i := range 16 {
			k.scale[i] = scaleQ3_K(b[96:], i) - 32
		}
		for e := range superLen {
			h, j, l := e/128, e%128/32, e%32
			lo := b[32+32*h+l] >> (2 * j) & 3
			hi := b[l] >> (4*h + j) & 1
			k.q[e] = int8(lo|hi<<2) - 4
		}
		k.d = fp16At(b[108:])
	case Q4_K, Q5_K:
		qs := b[16:]
		if t == Q5_K {
			b = b[:sizeQ5_K]
			qs = b[48:]
		} else {
			b = b[:sizeQ4_K]
		}
		k.sub = 32
		for i := range 8 {
			k.scale[i], k.min[i] = scaleMinK4(b[4:], i)
		}
		for e := range superLen {
			h, u, l := e/64, e%64/32, e%32
			q := qs[32*h+l] >> (4 * u) & 15
			if t == Q5_K {
				q |= b[16+l] >> (2*h + u) & 1 << 4
			}
			k.q[e] = int8(q)
		}
		k.d, k.dmin = fp16At(b[0:]), fp16At(b[2:])
	case Q6_K:
		b = b[:sizeQ6_K]
		for i := range 16 {
			k.scale[i] = int32(int8(b[192+i]))
		}
		for e := range superLen {
			h, j, l := e/128, e%128/32, e%32
			lo := b[64*h+32*(j%2)+l] >> (4 * (j / 2)) & 15
			hi := b[128+32*h+l] >> (2 * j) & 3
			k.q[e] = int8(lo|hi<<4) - 32
		}
		k.d = fp16At(b[208:])
	}
}

// dequantizeK returns the reference dequantiser of K-quant type t:
// w = float32(d*scale)*q - float32(dmin*min), rounded as ggml rounds it.
func dequantizeK(t Type) func(dst []float32, src []byte) {
	size := kSize(t)
	return func(dst []float32, src []byte) {
		var k kBlock
		for b := 0; b < len(dst)/superLen; b++ {
			decodeK(t, src[size*b:][:size], &k)
			out := dst[superLen*b:][:superLen]
			for e := range out {
				dl := k.d * float32(k.scale[e/k.sub])
				ml := k.dmin * float32(k.min[e/k.sub])
				out[e] = float32(dl*float32(k.q[e])) - ml
			}
		}
	}
}

// kSize returns the bytes of one super-block of K-quant type t (for the
// functions the type table's own initialiser calls, which cannot read it).
func kSize(t Type) int {
	switch t {
	case Q2_K:
		return sizeQ2_K
	case Q3_K:
		return sizeQ3_K
	case Q4_K:
		return sizeQ4_K
	case Q5_K:
		return sizeQ5_K
	}
	return sizeQ6_K
}

// dotKRef returns the reference dot kernel of K-quant type t with Q8_K
// activations: per super-block, the exact integer sums
// sum_k scale_k * sum_{i in k} q_i*qx_i and sum_k min_k * sum_{i in k} qx_i,
// scaled by d*dx and dmin*dx. It reads the activations' q only, not their
// sums, so that it also checks the sums the fast tiers use.
func dotKRef(t Type) func(w, xq []byte) float32 {
	size := kSize(t)
	return func(w, xq []byte) float32 {
		var k kBlock
		var s float32
		for b := 0; b < len(w)/size; b++ {
			decodeK(t, w[size*b:][:size], &k)
			xb := xq[sizeQ8_K*b:][:sizeQ8_K]
			qx := xb[q8kQuants:][:superLen]
			var sum, msum int32
			for sb := 0; sb < superLen/k.sub; sb++ {
				var sq, sx int32
				for i := sb * k.sub; i < (sb+1)*k.sub; i++ {
					sq += int32(k.q[i]) * int32(int8(qx[i]))
					sx += int32(int8(qx[i]))
				}
				sum += k.scale[sb] * sq
				msum += k.min[sb] * sx
			}
			dx := math.Float32frombits(binary.LittleEndian.Uint32(xb))
			s += dx * (k.d*float32(sum) - k.dmin*float32(msum))
		}
		return s
	}
}

// quantizeQ8_K encodes activations src (a multiple of 256 long) as Q8_K
// super-blocks into dst: d = max|x|/127, q = x/d rounded to nearest, ties
// to even (as VCVTPS2DQ rounds), and the sums of each 16 q. It must not
// allocate.
func quantizeQ8_K(dst []byte, src []float32) {
	for b := 0; b < len(src)/superLen; b++ {
		x := (*[superLen]float32)(src[superLen*b:])
		blk := (*[sizeQ8_K]byte)(dst[sizeQ8_K*b:])
		var m0, m1, m2, m3 uint32 // |x| as bits: orders like the values
		for i := 0; i < superLen; i += 4 {
			m0 = max(m0, math.Float32bits(x[i])&0x7fffffff)
			m1 = max(m1, math.Float32bits(x[i+1])&0x7fffffff)
			m2 = max(m2, math.Float32bits(x[i+2])&0x7fffffff)
			m3 = max(m3, math.Float32bits(x[i+3])&0x7fffffff)
		}
		amax := math.Float32frombits(max(m0, m1, m2, m3))
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint32(blk[:], math.Float32bits(d))
		q := blk[q8kQuants:][:superLen]
		for g := range superLen / 16 {
			var sum int32
			for i := 16 * g; i < 16*g+16; i++ {
				v := roundEven(x[i] * id)
				q[i] = byte(int8(v))
				sum += v
			}
			binary.LittleEndian.PutUint16(blk[q8kSums+2*g:], uint16(int16(sum)))
		}
	}
}

// roundEven rounds v to the nearest integer, ties to even, clamped to
// [-127, 127]: adding 1.5*2^23 leaves the integer in the low mantissa bits
// (exact for |v| <= 2^22; here |v| <= 127 unless x held NaN or Inf, which
// give some value in range).
func roundEven(v float32) int32 {
	r := int32(math.Float32bits(v+0x1.8p23)&0x7fffff) - 0x400000
	return max(-127, min(127, r))
}
