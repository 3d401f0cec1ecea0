package quant

import (
	"encoding/binary"
	"math"
)

// The portable Go tier of the K-quant dot kernels: a row of super-blocks w
// with Q8_K activations xq (the same number of super-blocks). Each computes
// per super-block the integer sum over sub-blocks of scale * (q . qx) on
// unsigned levels, and applies the mins (Q2_K, Q4_K, Q5_K) or the level
// offsets (Q3_K: 4, Q6_K: 32) once per sub-block through the activation
// sums:
//
//	sum_i (q_i - o)*qx_i = sum_i q_i*qx_i - o*sum_i qx_i

// q8kHeader returns the scale, the 256 quants and the 16 sums of a Q8_K
// super-block.
func q8kHeader(xb []byte) (dx float32, qx *[superLen]byte, sums *[2 * superLen / 16]byte) {
	xb = xb[:sizeQ8_K]
	return math.Float32frombits(binary.LittleEndian.Uint32(xb)), (*[superLen]byte)(xb[q8kQuants:]), (*[2 * superLen / 16]byte)(xb[q8kSums:])
}

func sum16(sums *[2 * superLen / 16]byte, k int) int32 {
	return int32(int16(binary.LittleEndian.Uint16(sums[2*k:])))
}

// The Go kernels decode eight levels at a time from 64-bit words (the
// levels of a 32-byte run sit at the same bit position of every byte) into
// a buffer of unsigned levels, then multiply in a plain byte loop.

// Byte masks for the eight-at-a-time decoding.
const (
	lanes0f = 0x0f0f0f0f0f0f0f0f
	lanes03 = 0x0303030303030303
	lanes01 = 0x0101010101010101
)

// u64 reads eight bytes of b at 8k, little-endian.
func u64(b *[32]byte, k int) uint64 { return binary.LittleEndian.Uint64(b[8*k:]) }

// dotLevels returns the dot products of levels q[0:16] and q[16:32] with the
// int8 activations x[0:16] and x[16:32].
func dotLevels(q, x *[32]byte) (s0, s1 int32) {
	for l := 0; l < 16; l += 4 {
		s0 += int32(q[l])*int32(int8(x[l])) + int32(q[l+1])*int32(int8(x[l+1])) +
			int32(q[l+2])*int32(int8(x[l+2])) + int32(q[l+3])*int32(int8(x[l+3]))
		s1 += int32(q[l+16])*int32(int8(x[l+16])) + int32(q[l+17])*int32(int8(x[l+17])) +
			int32(q[l+18])*int32(int8(x[l+18])) + int32(q[l+19])*int32(int8(x[l+19]))
	}
	return s0, s1
}

func dotQ2_KGeneric(w, xq []byte) float32 {
	t := fp16Table()
	var s float32
	for len(w) >= sizeQ2_K && len(xq) >= sizeQ8_K {
		wb := (*[sizeQ2_K]byte)(w)
		dx, qx, sums := q8kHeader(xq)
		var sum, msum int32
		for k := range 16 {
			msum += int32(wb[k]>>4) * sum16(sums, k)
		}
		for h := range 2 {
			qs := (*[32]byte)(wb[16+32*h:])
			for j := range 4 {
				x := (*[32]byte)(qx[128*h+32*j:])
				shift := uint(2*j) & 63
				var q [32]byte
				for k := range 4 {
					binary.LittleEndian.PutUint64(q[8*k:], u64(qs, k)>>shift&lanes03)
				}
				s0, s1 := dotLevels(&q, x)
				k := 8*h + 2*j
				sum += int32(wb[k]&15)*s0 + int32(wb[k+1]&15)*s1
			}
		}
		d := t[binary.LittleEndian.Uint16(wb[80:])]
		dmin := t[binary.LittleEndian.Uint16(wb[82:])]
		s += dx * (d*float32(sum) - dmin*float32(msum))
		w, xq = w[sizeQ2_K:], xq[sizeQ8_K:]
	}
	return s
}

func dotQ3_KGeneric(w, xq []byte) float32 {
	t := fp16Table()
	var s float32
	for len(w) >= sizeQ3_K && len(xq) >= sizeQ8_K {
		wb := (*[sizeQ3_K]byte)(w)
		dx, qx, sums := q8kHeader(xq)
		var sc [16]int32
		var osum int32 // sum_k scale_k * sum(qx in k), times the offset 4
		for k := range 16 {
			sc[k] = scaleQ3_K(wb[96:], k) - 32
			osum += sc[k] * sum16(sums, k)
		}
		hm := (*[32]byte)(wb[0:])
		var sum int32
		for h := range 2 {
			qs := (*[32]byte)(wb[32+32*h:])
			for j := range 4 {
				x := (*[32]byte)(qx[128*h+32*j:])
				shift, bit := uint(2*j)&63, uint(4*h+j)&63
				var q [32]byte
				for k := range 4 {
					binary.LittleEndian.PutUint64(q[8*k:], u64(qs, k)>>shift&lanes03|(u64(hm, k)>>bit&lanes01)<<2)
				}
				s0, s1 := dotLevels(&q, x)
				k := 8*h + 2*j
				sum += sc[k]*s0 + sc[k+1]*s1
			}
		}
		d := t[binary.LittleEndian.Uint16(wb[108:])]
		s += dx * d * float32(sum-4*osum)
		w, xq = w[sizeQ3_K:], xq[sizeQ8_K:]
	}
	return s
}

func dotQ4_KGeneric(w, xq []byte) float32 { return dotK4Generic(w, xq, sizeQ4_K) }

func dotQ5_KGeneric(w, xq []byte) float32 { return dotK4Generic(w, xq, sizeQ5_K) }

// dotK4Generic is the Go tier of Q4_K and Q5_K (size tells which): eight
// sub-blocks of 32 with 6-bit scales and mins, and for Q5_K a fifth bit of
// each level in qh.
func dotK4Generic(w, xq []byte, size int) float32 {
	t := fp16Table()
	qsOff := 16 // Q4_K: d, dmin, scales[12], qs
	if size == sizeQ5_K {
		qsOff = 48 // Q5_K: d, dmin, scales[12], qh[32], qs
	}
	var s float32
	for len(w) >= size && len(xq) >= sizeQ8_K {
		wb := w[:size]
		dx, qx, sums := q8kHeader(xq)
		qh := (*[32]byte)(wb[16:]) // Q5_K: bit 2h+u of qh[l] is bit 4 of the level of element 64h+32u+l
		var sum, msum int32
		for h := range 4 {
			qs := (*[32]byte)(wb[qsOff+32*h:])
			x0 := (*[32]byte)(qx[64*h:])
			x1 := (*[32]byte)(qx[64*h+32:])
			b0, b1 := uint(2*h)&63, uint(2*h+1)&63
			var lo, hi [32]byte
			for k := range 4 {
				v := u64(qs, k)
				l, u := v&lanes0f, v>>4&lanes0f
				if size == sizeQ5_K {
					m := u64(qh, k)
					l |= (m >> b0 & lanes01) << 4
					u |= (m >> b1 & lanes01) << 4
				}
				binary.LittleEndian.PutUint64(lo[8*k:], l)
				binary.LittleEndian.PutUint64(hi[8*k:], u)
			}
			a0, a1 := dotLevels(&lo, x0)
			c0, c1 := dotLevels(&hi, x1)
			s0, s1 := a0+a1, c0+c1
			sc0, m0 := scaleMinK4(wb[4:], 2*h)
			sc1, m1 := scaleMinK4(wb[4:], 2*h+1)
			sum += sc0*s0 + sc1*s1
			msum += m0*(sum16(sums, 4*h)+sum16(sums, 4*h+1)) + m1*(sum16(sums, 4*h+2)+sum16(sums, 4*h+3))
		}
		d := t[binary.LittleEndian.Uint16(wb[0:])]
		dmin := t[binary.LittleEndian.Uint16(wb[2:])]
		s += dx * (d*float32(sum) - dmin*float32(msum))
		w, xq = w[size:], xq[sizeQ8_K:]
	}
	return s
}

func dotQ6_KGeneric(w, xq []byte) float32 {
	t := fp16Table()
	var s float32
	for len(w) >= sizeQ6_K && len(xq) >= sizeQ8_K {
		wb := (*[sizeQ6_K]byte)(w)
		dx, qx, sums := q8kHeader(xq)
		var osum int32 // sum_k scale_k * sum(qx in k), times the offset 32
		for k := range 16 {
			osum += int32(int8(wb[192+k])) * sum16(sums, k)
		}
		var sum int32
		for h := range 2 {
			ql := (*[64]byte)(wb[64*h:])
			qh := (*[32]byte)(wb[128+32*h:])
			for j := range 4 {
				x := (*[32]byte)(qx[128*h+32*j:])
				lo := (*[32]byte)(ql[32*(j%2):])
				nib, hs := uint(4*(j/2))&63, uint(2*j)&63
				var q [32]byte
				for k := range 4 {
					binary.LittleEndian.PutUint64(q[8*k:], u64(lo, k)>>nib&lanes0f|(u64(qh, k)>>hs&lanes03)<<4)
				}
				s0, s1 := dotLevels(&q, x)
				k := 8*h + 2*j
				sum += int32(int8(wb[192+k]))*s0 + int32(int8(wb[192+k+1]))*s1
			}
		}
		d := t[binary.LittleEndian.Uint16(wb[208:])]
		s += dx * d * float32(sum-32*osum)
		w, xq = w[sizeQ6_K:], xq[sizeQ8_K:]
	}
	return s
}
