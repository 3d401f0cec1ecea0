package quant

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrSize reports a buffer whose length does not match the element count and
// type it is used with.
var ErrSize = errors.New("quant: buffer size mismatch")

// Error bounds of the reference quantisers, as a fraction of the largest
// magnitude in the 32-element block an element belongs to (for Q8_0/Q4_0) or
// of the element itself (F16/BF16, normal range). Tests hold round trips to
// them. For the block types the fp16 scale also has an absolute rounding
// error of up to 2^-25 (when it is an fp16 subnormal, i.e. for blocks whose
// largest magnitude is below about 8e-3 for Q8_0, 5e-4 for Q4_0), which adds
// up to 127*2^-25 (Q8_0) or 8*2^-25 (Q4_0) to an element's error.
const (
	// MaxRelErrF16 is half an ulp of binary16's 11-bit significand.
	MaxRelErrF16 = 1.0 / 2048
	// MaxRelErrBF16 is half an ulp of bfloat16's 8-bit significand.
	MaxRelErrBF16 = 1.0 / 256
	// MaxRelErrQ8_0: rounding to 1/254 of the block maximum, plus the fp16
	// rounding of the scale (127 steps of a scale off by 2^-11).
	MaxRelErrQ8_0 = 1.0/254 + 1.0/2048
	// MaxRelErrQ4_0: the value of largest magnitude maps to -8 exactly, but
	// one of the opposite sign may be clamped from +8 to +7 (an error of 1/8
	// of the maximum); everything else rounds to 1/16. Plus the fp16 scale.
	MaxRelErrQ4_0 = 1.0/8 + 8.0/2048
)

// checkSizes verifies that n elements of t occupy exactly len(b) bytes.
func checkSizes(t Type, n int, b []byte) error {
	rb, err := t.RowBytes(int64(n))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSize, err)
	}
	if int64(len(b)) != rb {
		return fmt.Errorf("%w: %d %s elements need %d bytes, have %d", ErrSize, n, t, rb, len(b))
	}
	return nil
}

// QuantizeRef encodes src as len(src) elements of type t into dst, which
// must be exactly t.RowBytes(len(src)) long. Q8_0 uses d = max|x|/127,
// q = round(x/d); Q4_0 uses d = m/-8 where m is the element of largest
// magnitude, q = min(15, trunc(x/d + 8.5)) (the llama.cpp reference rules).
// The K-quants search their scales (kquant_quantize.go).
func QuantizeRef(t Type, dst []byte, src []float32) error {
	if err := checkSizes(t, len(src), dst); err != nil {
		return err
	}
	types[t].quantize(dst, src)
	return nil
}

func quantizeF32(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

func quantizeF16(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToFP16(v))
	}
}

func quantizeBF16(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToBF16(v))
	}
}

// quantizeQ8_0 encodes src (a multiple of 32 long) as Q8_0 blocks into dst.
// It is also used for activations, so it must not allocate.
func quantizeQ8_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/blockLen; b++ {
		quantizeBlockQ8_0(dst[sizeQ8_0*b:][:sizeQ8_0], src[blockLen*b:][:blockLen])
	}
}

func quantizeQ4_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/blockLen; b++ {
		quantizeBlockQ4_0(dst[sizeQ4_0*b:][:sizeQ4_0], src[blockLen*b:][:blockLen])
	}
}

func quantizeBlockQ8_0(dst []byte, x []float32) {
	dst = dst[:sizeQ8_0]
	x = x[:blockLen]
	var amax float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax = a
		}
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	binary.LittleEndian.PutUint16(dst, FP32ToFP16(d))
	for i, v := range x {
		dst[2+i] = byte(int8(roundHalfAway(v * id)))
	}
}

func quantizeBlockQ4_0(dst []byte, x []float32) {
	dst = dst[:sizeQ4_0]
	x = x[:blockLen]
	var amax, m float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, m = a, v
		}
	}
	d := m / -8
	var id float32
	if d != 0 {
		id = 1 / d
	}
	binary.LittleEndian.PutUint16(dst, FP32ToFP16(d))
	const half = blockLen / 2
	for j := 0; j < half; j++ {
		lo := min(15, int(int8(x[j]*id+8.5)))
		hi := min(15, int(int8(x[j+half]*id+8.5)))
		dst[2+j] = byte(lo) | byte(hi)<<4
	}
}

// DequantizeRef decodes len(dst) elements of type t from src, which must be
// exactly t.RowBytes(len(dst)) long.
func DequantizeRef(t Type, dst []float32, src []byte) error {
	if err := checkSizes(t, len(dst), src); err != nil {
		return err
	}
	types[t].dequantize(dst, src)
	return nil
}

func dequantizeF32(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func dequantizeF16(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = FP16ToFP32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

func dequantizeBF16(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = BF16ToFP32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

func dequantizeQ8_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/blockLen; b++ {
		blk := src[sizeQ8_0*b:][:sizeQ8_0]
		d := FP16ToFP32(binary.LittleEndian.Uint16(blk))
		out := dst[blockLen*b:][:blockLen]
		for i := range out {
			out[i] = d * float32(int8(blk[2+i]))
		}
	}
}

func dequantizeQ4_0(dst []float32, src []byte) {
	const half = blockLen / 2
	for b := 0; b < len(dst)/blockLen; b++ {
		blk := src[sizeQ4_0*b:][:sizeQ4_0]
		d := FP16ToFP32(binary.LittleEndian.Uint16(blk))
		out := dst[blockLen*b:][:blockLen]
		for j := 0; j < half; j++ {
			out[j] = d * float32(int(blk[2+j]&0x0f)-8)
			out[j+half] = d * float32(int(blk[2+j]>>4)-8)
		}
	}
}

// dequantize is DequantizeRef without the size check.
func dequantize(t Type, dst []float32, src []byte) { types[t].dequantize(dst, src) }

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// roundHalfAway rounds to the nearest integer, halves away from zero (C roundf).
func roundHalfAway(v float32) float32 {
	return float32(math.Round(float64(v)))
}
