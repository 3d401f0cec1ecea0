package quant

import (
	"encoding/binary"
	"math"
	"sync"
)

// The dot kernels come in tiers (see kernels.go): dot*Ref is the scalar
// reference the others are tested against, dot*Generic is portable Go, and
// the assembly tiers live in the per-architecture files. The exported Dot*
// functions run the active rows kernel of their type on one row.

// DotF32 returns the dot product of a row of little-endian float32 values w
// (4*len(x) bytes, any alignment) with x.
func DotF32(w []byte, x []float32) float32 {
	if len(w) != 4*len(x) {
		panic("quant: DotF32 length mismatch")
	}
	return dot1(F32, w, activations{f: x})
}

// DotF16 returns the dot product of a row of binary16 values w (2*len(x)
// bytes) with x.
func DotF16(w []byte, x []float32) float32 {
	if len(w) != 2*len(x) {
		panic("quant: DotF16 length mismatch")
	}
	return dot1(F16, w, activations{f: x})
}

// DotBF16 returns the dot product of a row of bfloat16 values w (2*len(x)
// bytes) with x.
func DotBF16(w []byte, x []float32) float32 {
	if len(w) != 2*len(x) {
		panic("quant: DotBF16 length mismatch")
	}
	return dot1(BF16, w, activations{f: x})
}

// DotQ8_0 returns the dot product of a Q8_0 row w with activations xq
// quantised to Q8_0 (the same number of 34-byte blocks).
func DotQ8_0(w, xq []byte) float32 {
	if len(w) != len(xq) || len(w)%sizeQ8_0 != 0 {
		panic("quant: DotQ8_0 length mismatch")
	}
	return dot1(Q8_0, w, activations{q: xq})
}

// DotQ4_0 returns the dot product of a Q4_0 row w (18-byte blocks) with
// activations xq quantised to Q8_0 (the same number of 34-byte blocks).
func DotQ4_0(w, xq []byte) float32 {
	if len(w)%sizeQ4_0 != 0 || len(xq)%sizeQ8_0 != 0 || len(w)/sizeQ4_0 != len(xq)/sizeQ8_0 {
		panic("quant: DotQ4_0 length mismatch")
	}
	return dot1(Q4_0, w, activations{q: xq})
}

// ---- reference tier ----

func dotF32Ref(w []byte, x []float32) float32 {
	var s float32
	for i := range x {
		s += math.Float32frombits(binary.LittleEndian.Uint32(w[4*i:])) * x[i]
	}
	return s
}

func dotF16Ref(w []byte, x []float32) float32 {
	var s float32
	for i := range x {
		s += FP16ToFP32(binary.LittleEndian.Uint16(w[2*i:])) * x[i]
	}
	return s
}

func dotBF16Ref(w []byte, x []float32) float32 {
	var s float32
	for i := range x {
		s += BF16ToFP32(binary.LittleEndian.Uint16(w[2*i:])) * x[i]
	}
	return s
}

// dotQ8_0Ref: for each block, the exact integer sum of q_w*q_x, times d_w*d_x.
func dotQ8_0Ref(w, xq []byte) float32 {
	var s float32
	for b := 0; b < len(w)/sizeQ8_0; b++ {
		wb, xb := w[sizeQ8_0*b:][:sizeQ8_0], xq[sizeQ8_0*b:][:sizeQ8_0]
		var sum int32
		for i := 0; i < blockLen; i++ {
			sum += int32(int8(wb[2+i])) * int32(int8(xb[2+i]))
		}
		d := FP16ToFP32(binary.LittleEndian.Uint16(wb)) * FP16ToFP32(binary.LittleEndian.Uint16(xb))
		s += float32(sum) * d
	}
	return s
}

// dotQ4_0Ref: for each block, the exact integer sum of (nibble-8)*q_x, times d_w*d_x.
func dotQ4_0Ref(w, xq []byte) float32 {
	var s float32
	for b := 0; b < len(w)/sizeQ4_0; b++ {
		wb, xb := w[sizeQ4_0*b:][:sizeQ4_0], xq[sizeQ8_0*b:][:sizeQ8_0]
		var sum int32
		for j := 0; j < blockLen/2; j++ {
			sum += (int32(wb[2+j]&0x0f) - 8) * int32(int8(xb[2+j]))
			sum += (int32(wb[2+j]>>4) - 8) * int32(int8(xb[2+j+blockLen/2]))
		}
		d := FP16ToFP32(binary.LittleEndian.Uint16(wb)) * FP16ToFP32(binary.LittleEndian.Uint16(xb))
		s += float32(sum) * d
	}
	return s
}

// ---- portable Go tier ----

// fp16Table maps every binary16 bit pattern to its float32 value (256 KiB),
// built on first use by the generic F16 kernel.
var fp16Table = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = FP16ToFP32(uint16(i))
	}
	return &t
})

func dotF32Generic(w []byte, x []float32) float32 {
	if v, ok := bytesAsFloat32(w); ok {
		return dotFloat32(v, x)
	}
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		b := w[4*i : 4*i+16]
		s0 += math.Float32frombits(binary.LittleEndian.Uint32(b[0:])) * x[i]
		s1 += math.Float32frombits(binary.LittleEndian.Uint32(b[4:])) * x[i+1]
		s2 += math.Float32frombits(binary.LittleEndian.Uint32(b[8:])) * x[i+2]
		s3 += math.Float32frombits(binary.LittleEndian.Uint32(b[12:])) * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += math.Float32frombits(binary.LittleEndian.Uint32(w[4*i:])) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotF16Generic(w []byte, x []float32) float32 {
	t := fp16Table()
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		b := w[2*i : 2*i+8]
		s0 += t[binary.LittleEndian.Uint16(b[0:])] * x[i]
		s1 += t[binary.LittleEndian.Uint16(b[2:])] * x[i+1]
		s2 += t[binary.LittleEndian.Uint16(b[4:])] * x[i+2]
		s3 += t[binary.LittleEndian.Uint16(b[6:])] * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += t[binary.LittleEndian.Uint16(w[2*i:])] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotBF16Generic(w []byte, x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		b := w[2*i : 2*i+8]
		s0 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[0:]))<<16) * x[i]
		s1 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2:]))<<16) * x[i+1]
		s2 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[4:]))<<16) * x[i+2]
		s3 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[6:]))<<16) * x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[2*i:]))<<16) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotQ8_0Generic(w, xq []byte) float32 {
	t := fp16Table()
	var s float32
	for len(w) >= sizeQ8_0 && len(xq) >= sizeQ8_0 {
		wb, xb := w[:sizeQ8_0], xq[:sizeQ8_0]
		var s0, s1 int32
		for i := 2; i < sizeQ8_0; i += 2 {
			s0 += int32(int8(wb[i])) * int32(int8(xb[i]))
			s1 += int32(int8(wb[i+1])) * int32(int8(xb[i+1]))
		}
		s += float32(s0+s1) * (t[binary.LittleEndian.Uint16(wb)] * t[binary.LittleEndian.Uint16(xb)])
		w, xq = w[sizeQ8_0:], xq[sizeQ8_0:]
	}
	return s
}

func dotQ4_0Generic(w, xq []byte) float32 {
	t := fp16Table()
	var s float32
	for len(w) >= sizeQ4_0 && len(xq) >= sizeQ8_0 {
		wb, xb := w[:sizeQ4_0], xq[:sizeQ8_0]
		var s0, s1 int32
		for j := 0; j < blockLen/2; j++ {
			q := wb[2+j]
			s0 += (int32(q&0x0f) - 8) * int32(int8(xb[2+j]))
			s1 += (int32(q>>4) - 8) * int32(int8(xb[2+blockLen/2+j]))
		}
		s += float32(s0+s1) * (t[binary.LittleEndian.Uint16(wb)] * t[binary.LittleEndian.Uint16(xb)])
		w, xq = w[sizeQ4_0:], xq[sizeQ8_0:]
	}
	return s
}
