package quant

import (
	"encoding/binary"
	"math"
	"sync"
)

// The dot kernels come in three tiers (see STYLE.md): dot*Ref is the scalar
// reference the others are tested against, dot*Generic is portable Go, and
// dot*AVX2 (amd64 assembly, dot_amd64.s) is selected at init when the CPU
// has AVX2, FMA and F16C. The exported Dot* functions dispatch through the
// variables below.
var (
	dotF16Impl  = dotF16Generic
	dotBF16Impl = dotBF16Generic
	dotQ8_0Impl = dotQ8_0Generic
	dotQ4_0Impl = dotQ4_0Generic
	dotF32Impl  = dotF32Generic

	// The rows kernels compute out[i] = dot(w[i*stride:], x) for every i
	// of out; MatVec calls one per row range.
	rowsF32Impl  = rowsFloatGeneric(dotF32Generic, 4)
	rowsF16Impl  = rowsFloatGeneric(dotF16Generic, 2)
	rowsBF16Impl = rowsFloatGeneric(dotBF16Generic, 2)
	rowsQ8_0Impl = rowsBlockGeneric(dotQ8_0Generic, 34)
	rowsQ4_0Impl = rowsBlockGeneric(dotQ4_0Generic, 18)
)

// rowsFloat and rowsBlock are the signatures of the rows kernels for float
// element types (x is float32) and block types (xq is Q8_0 blocks).
type (
	rowsFloat func(out []float32, w []byte, stride int, x []float32)
	rowsBlock func(out []float32, w []byte, stride int, xq []byte)
)

// rowsFloatGeneric runs a float dot kernel over rows of len(x)*elemBytes bytes.
func rowsFloatGeneric(dot func([]byte, []float32) float32, elemBytes int) rowsFloat {
	return func(out []float32, w []byte, stride int, x []float32) {
		n := len(x) * elemBytes
		for i := range out {
			out[i] = dot(w[i*stride:i*stride+n], x)
		}
	}
}

// rowsBlockGeneric runs a block dot kernel over rows of len(xq)/34 blocks
// of blockBytes each.
func rowsBlockGeneric(dot func([]byte, []byte) float32, blockBytes int) rowsBlock {
	return func(out []float32, w []byte, stride int, xq []byte) {
		n := len(xq) / 34 * blockBytes
		for i := range out {
			out[i] = dot(w[i*stride:i*stride+n], xq)
		}
	}
}

// asmEnabled reports whether the assembly kernels are in use.
var asmEnabled bool

// DisableAsm switches every kernel to its portable Go tier, so that tests can
// run both paths on one machine. It returns a function that restores the
// previous selection. It is not safe to call concurrently with the kernels.
func DisableAsm() (restore func()) {
	f16, bf16, q8, q4, f32, on := dotF16Impl, dotBF16Impl, dotQ8_0Impl, dotQ4_0Impl, dotF32Impl, asmEnabled
	rf16, rbf16, rq8, rq4, rf32 := rowsF16Impl, rowsBF16Impl, rowsQ8_0Impl, rowsQ4_0Impl, rowsF32Impl
	dotF16Impl, dotBF16Impl, dotQ8_0Impl, dotQ4_0Impl, dotF32Impl = dotF16Generic, dotBF16Generic, dotQ8_0Generic, dotQ4_0Generic, dotF32Generic
	rowsF32Impl = rowsFloatGeneric(dotF32Generic, 4)
	rowsF16Impl = rowsFloatGeneric(dotF16Generic, 2)
	rowsBF16Impl = rowsFloatGeneric(dotBF16Generic, 2)
	rowsQ8_0Impl = rowsBlockGeneric(dotQ8_0Generic, 34)
	rowsQ4_0Impl = rowsBlockGeneric(dotQ4_0Generic, 18)
	asmEnabled = false
	return func() {
		dotF16Impl, dotBF16Impl, dotQ8_0Impl, dotQ4_0Impl, dotF32Impl, asmEnabled = f16, bf16, q8, q4, f32, on
		rowsF16Impl, rowsBF16Impl, rowsQ8_0Impl, rowsQ4_0Impl, rowsF32Impl = rf16, rbf16, rq8, rq4, rf32
	}
}

// AsmEnabled reports whether the assembly kernels are selected (false with
// -tags noasm, on CPUs without AVX2/FMA/F16C, or after DisableAsm).
func AsmEnabled() bool { return asmEnabled }

// DotF32 returns the dot product of a row of little-endian float32 values w
// (4*len(x) bytes, any alignment) with x.
func DotF32(w []byte, x []float32) float32 {
	if len(w) != 4*len(x) {
		panic("quant: DotF32 length mismatch")
	}
	return dotF32Impl(w, x)
}

// DotF16 returns the dot product of a row of binary16 values w (2*len(x)
// bytes) with x.
func DotF16(w []byte, x []float32) float32 {
	if len(w) != 2*len(x) {
		panic("quant: DotF16 length mismatch")
	}
	return dotF16Impl(w, x)
}

// DotBF16 returns the dot product of a row of bfloat16 values w (2*len(x)
// bytes) with x.
func DotBF16(w []byte, x []float32) float32 {
	if len(w) != 2*len(x) {
		panic("quant: DotBF16 length mismatch")
	}
	return dotBF16Impl(w, x)
}

// DotQ8_0 returns the dot product of a Q8_0 row w with activations xq
// quantised to Q8_0 (the same number of 34-byte blocks).
func DotQ8_0(w, xq []byte) float32 {
	if len(w) != len(xq) || len(w)%34 != 0 {
		panic("quant: DotQ8_0 length mismatch")
	}
	return dotQ8_0Impl(w, xq)
}

// DotQ4_0 returns the dot product of a Q4_0 row w (18-byte blocks) with
// activations xq quantised to Q8_0 (the same number of 34-byte blocks).
func DotQ4_0(w, xq []byte) float32 {
	if len(w)%18 != 0 || len(xq)%34 != 0 || len(w)/18 != len(xq)/34 {
		panic("quant: DotQ4_0 length mismatch")
	}
	return dotQ4_0Impl(w, xq)
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
	for b := 0; b < len(w)/34; b++ {
		wb, xb := w[34*b:34*b+34], xq[34*b:34*b+34]
		var sum int32
		for i := 0; i < 32; i++ {
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
	for b := 0; b < len(w)/18; b++ {
		wb, xb := w[18*b:18*b+18], xq[34*b:34*b+34]
		var sum int32
		for j := 0; j < 16; j++ {
			sum += (int32(wb[2+j]&0x0f) - 8) * int32(int8(xb[2+j]))
			sum += (int32(wb[2+j]>>4) - 8) * int32(int8(xb[2+j+16]))
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
	for len(w) >= 34 && len(xq) >= 34 {
		wb, xb := w[:34], xq[:34]
		var s0, s1 int32
		for i := 2; i < 34; i += 2 {
			s0 += int32(int8(wb[i])) * int32(int8(xb[i]))
			s1 += int32(int8(wb[i+1])) * int32(int8(xb[i+1]))
		}
		s += float32(s0+s1) * (t[binary.LittleEndian.Uint16(wb)] * t[binary.LittleEndian.Uint16(xb)])
		w, xq = w[34:], xq[34:]
	}
	return s
}

func dotQ4_0Generic(w, xq []byte) float32 {
	t := fp16Table()
	var s float32
	for len(w) >= 18 && len(xq) >= 34 {
		wb, xb := w[:18], xq[:34]
		var s0, s1 int32
		for j := 0; j < 16; j++ {
			q := wb[2+j]
			s0 += (int32(q&0x0f) - 8) * int32(int8(xb[2+j]))
			s1 += (int32(q>>4) - 8) * int32(int8(xb[18+j]))
		}
		s += float32(s0+s1) * (t[binary.LittleEndian.Uint16(wb)] * t[binary.LittleEndian.Uint16(xb)])
		w, xq = w[18:], xq[34:]
	}
	return s
}
