// Package quant defines the tensor element types llmap stores and computes
// with, their byte layouts, reference (de)quantisers and fused dot-product
// kernels.
//
// Quantised types use GGUF's block layouts so that GGUF tensors can be copied
// without requantising:
//
//	Q8_0: 32 weights per block, 34 bytes: fp16 scale d, then 32 int8 q; w = d*q
//	Q4_0: 32 weights per block, 18 bytes: fp16 scale d, then 16 bytes of nibbles;
//	      byte j holds weight j in its low nibble and weight j+16 in its high
//	      nibble; w = d*(nibble-8)
//	Q2_K..Q6_K: 256-weight super-blocks of 16- or 32-weight sub-blocks with
//	      quantised per-sub-block scales (and mins); see kquant.go
//
// Every type is one row of the type table (types, below): its block size and
// bytes, its reference dequantiser and quantiser, the activation format its
// kernels read, and its rows kernel per tier (kernels.go).
//
// Products with a matrix (MatVec) take an activation Vec prepared once per
// product: float32 for F32/F16/BF16 weights; for Q8_0/Q4_0 weights the
// activations quantised to Q8_0 blocks (llama.cpp style, d = max|x|/127), and
// for the K-quants to Q8_K super-blocks (float32 d, 256 int8, and the sums of
// each 16), so that the inner loops are integer dot products. The kernels come
// in tiers: *Ref scalar references, *Generic portable Go, and assembly (AVX2
// with FMA and F16C, or AVX-512, on amd64; NEON, with SDOT where the CPU has
// it, on arm64) selected at init (build with -tags noasm to leave it out, or
// call DisableAsm in tests). Weight data may point into a
// read-only mapping; no function here writes to it.
package quant

import (
	"fmt"
	"math/bits"
	"strings"
)

// Type is the element type of a tensor. The numeric values are stored in
// .llmap files and must never change.
type Type uint32

const (
	F32  Type = 0
	F16  Type = 1
	BF16 Type = 2
	Q8_0 Type = 3
	Q4_0 Type = 4
	Q2_K Type = 5
	Q3_K Type = 6
	Q4_K Type = 7
	Q5_K Type = 8
	Q6_K Type = 9

	numTypes = 10
)

// Block geometry. Kernels and their callers use these names, never the
// numbers.
const (
	// blockLen is the number of weights in a Q8_0 or Q4_0 block (ggml's QK8_0, QK4_0).
	blockLen = 32
	// superLen is the number of weights in a K-quant super-block (ggml's QK_K).
	superLen = 256

	sizeQ8_0 = 2 + blockLen            // fp16 d, int8 q[32]
	sizeQ4_0 = 2 + blockLen/2          // fp16 d, nibbles[16]
	sizeQ2_K = 16 + superLen/4 + 2 + 2 // scales[16], qs[64], fp16 d, fp16 dmin
	sizeQ3_K = superLen/8 + superLen/4 + 12 + 2
	sizeQ4_K = 2 + 2 + 12 + superLen/2
	sizeQ5_K = 2 + 2 + 12 + superLen/8 + superLen/2
	sizeQ6_K = superLen/2 + superLen/4 + superLen/16 + 2
	// sizeQ8_K is one super-block of activations: float32 d, int8 q[256],
	// int16 sums of each 16 q.
	sizeQ8_K = 4 + superLen + 2*superLen/16
)

// actFormat is the form in which a type's kernels read the activations.
type actFormat uint8

const (
	actF32  actFormat = iota // the float32 vector itself
	actQ8_0                  // Q8_0 blocks of 32
	actQ8_K                  // Q8_K super-blocks of 256
)

// typeTraits is one row of the type table.
type typeTraits struct {
	name       string
	blockSize  int // elements per block
	blockBytes int // bytes per block
	act        actFormat
	// dequantize decodes whole blocks: len(dst)/blockSize blocks of src.
	// It is the reference every kernel is tested against.
	dequantize func(dst []float32, src []byte)
	// quantize encodes whole blocks: len(src)/blockSize blocks into dst.
	// It must not allocate (Q8_0 also quantises activations).
	quantize func(dst []byte, src []float32)
	// rows holds the rows kernel of each tier (kernels.go); tiers without
	// a kernel of their own are nil. Ref and Generic are always set.
	rows [numTiers]rowsFunc
	// dot holds the single-row kernel of each tier that has one.
	dot [numTiers]dotFunc
}

// types is the type table. A new type is one row here plus, optionally, its
// assembly kernels registered by the tier files (see registerTier).
var types = [numTypes]typeTraits{
	F32:  {name: "f32", blockSize: 1, blockBytes: 4, act: actF32, dequantize: dequantizeF32, quantize: quantizeF32, rows: tierRows(rowsFloat(dotF32Ref, 4), rowsF32Generic), dot: tierDots(floatDot(dotF32Ref), floatDot(dotF32Generic))},
	F16:  {name: "f16", blockSize: 1, blockBytes: 2, act: actF32, dequantize: dequantizeF16, quantize: quantizeF16, rows: tierRows(rowsFloat(dotF16Ref, 2), rowsFloat(dotF16Generic, 2)), dot: tierDots(floatDot(dotF16Ref), floatDot(dotF16Generic))},
	BF16: {name: "bf16", blockSize: 1, blockBytes: 2, act: actF32, dequantize: dequantizeBF16, quantize: quantizeBF16, rows: tierRows(rowsFloat(dotBF16Ref, 2), rowsFloat(dotBF16Generic, 2)), dot: tierDots(floatDot(dotBF16Ref), floatDot(dotBF16Generic))},
	Q8_0: {name: "q8_0", blockSize: blockLen, blockBytes: sizeQ8_0, act: actQ8_0, dequantize: dequantizeQ8_0, quantize: quantizeQ8_0, rows: tierRows(rowsBlock(dotQ8_0Ref, sizeQ8_0, sizeQ8_0), rowsBlock(dotQ8_0Generic, sizeQ8_0, sizeQ8_0)), dot: tierDots(blockDot(dotQ8_0Ref), blockDot(dotQ8_0Generic))},
	Q4_0: {name: "q4_0", blockSize: blockLen, blockBytes: sizeQ4_0, act: actQ8_0, dequantize: dequantizeQ4_0, quantize: quantizeQ4_0, rows: tierRows(rowsBlock(dotQ4_0Ref, sizeQ4_0, sizeQ8_0), rowsBlock(dotQ4_0Generic, sizeQ4_0, sizeQ8_0)), dot: tierDots(blockDot(dotQ4_0Ref), blockDot(dotQ4_0Generic))},
	Q2_K: {name: "q2_k", blockSize: superLen, blockBytes: sizeQ2_K, act: actQ8_K, dequantize: dequantizeK(Q2_K), quantize: quantizeQ2_K, rows: tierRows(rowsBlock(dotKRef(Q2_K), sizeQ2_K, sizeQ8_K), rowsBlock(dotQ2_KGeneric, sizeQ2_K, sizeQ8_K)), dot: tierDots(blockDot(dotKRef(Q2_K)), blockDot(dotQ2_KGeneric))},
	Q3_K: {name: "q3_k", blockSize: superLen, blockBytes: sizeQ3_K, act: actQ8_K, dequantize: dequantizeK(Q3_K), quantize: quantizeQ3_K, rows: tierRows(rowsBlock(dotKRef(Q3_K), sizeQ3_K, sizeQ8_K), rowsBlock(dotQ3_KGeneric, sizeQ3_K, sizeQ8_K)), dot: tierDots(blockDot(dotKRef(Q3_K)), blockDot(dotQ3_KGeneric))},
	Q4_K: {name: "q4_k", blockSize: superLen, blockBytes: sizeQ4_K, act: actQ8_K, dequantize: dequantizeK(Q4_K), quantize: quantizeQ4_K, rows: tierRows(rowsBlock(dotKRef(Q4_K), sizeQ4_K, sizeQ8_K), rowsBlock(dotQ4_KGeneric, sizeQ4_K, sizeQ8_K)), dot: tierDots(blockDot(dotKRef(Q4_K)), blockDot(dotQ4_KGeneric))},
	Q5_K: {name: "q5_k", blockSize: superLen, blockBytes: sizeQ5_K, act: actQ8_K, dequantize: dequantizeK(Q5_K), quantize: quantizeQ5_K, rows: tierRows(rowsBlock(dotKRef(Q5_K), sizeQ5_K, sizeQ8_K), rowsBlock(dotQ5_KGeneric, sizeQ5_K, sizeQ8_K)), dot: tierDots(blockDot(dotKRef(Q5_K)), blockDot(dotQ5_KGeneric))},
	Q6_K: {name: "q6_k", blockSize: superLen, blockBytes: sizeQ6_K, act: actQ8_K, dequantize: dequantizeK(Q6_K), quantize: quantizeQ6_K, rows: tierRows(rowsBlock(dotKRef(Q6_K), sizeQ6_K, sizeQ8_K), rowsBlock(dotQ6_KGeneric, sizeQ6_K, sizeQ8_K)), dot: tierDots(blockDot(dotKRef(Q6_K)), blockDot(dotQ6_KGeneric))},
}

// Types lists every type in the table, in numeric order.
func Types() []Type {
	ts := make([]Type, numTypes)
	for i := range ts {
		ts[i] = Type(i)
	}
	return ts
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return t < numTypes }

// String returns the lower-case name used on the command line ("q8_0").
func (t Type) String() string {
	if !t.Valid() {
		return fmt.Sprintf("type(%d)", uint32(t))
	}
	return types[t].name
}

// BlockSize is the number of elements in one block (1 for float types).
func (t Type) BlockSize() int { return types[t].blockSize }

// BlockBytes is the number of bytes one block occupies.
func (t Type) BlockBytes() int { return types[t].blockBytes }

// Quantized reports whether t is a block-quantised integer type.
func (t Type) Quantized() bool { return types[t].act != actF32 }

// SharesActivations reports whether matrices of types t and u read the same
// prepared Vec, so that one Vec.Set serves products with both (Q4_K and
// Q6_K do; Q8_0 and Q4_K do not).
func (t Type) SharesActivations(u Type) bool { return types[t].act == types[u].act }

// ParseType parses a type name as accepted by --quant (case-insensitive).
func ParseType(s string) (Type, error) {
	names := make([]string, 0, numTypes)
	for _, t := range Types() {
		if strings.EqualFold(s, t.String()) {
			return t, nil
		}
		names = append(names, t.String())
	}
	return 0, fmt.Errorf("unknown tensor type %q (want one of %s)", s, strings.Join(names, ", "))
}

// RowBytes returns the number of bytes n elements of type t occupy. It fails
// if t is unknown, n is negative, n is not a whole number of blocks, or the
// size overflows int64.
func (t Type) RowBytes(n int64) (int64, error) {
	if !t.Valid() {
		return 0, fmt.Errorf("unknown tensor type %d", uint32(t))
	}
	if n < 0 {
		return 0, fmt.Errorf("negative element count %d", n)
	}
	bs := int64(t.BlockSize())
	if n%bs != 0 {
		return 0, fmt.Errorf("%d elements is not a multiple of the %s block size %d", n, t, bs)
	}
	hi, lo := bits.Mul64(uint64(n/bs), uint64(t.BlockBytes()))
	if hi != 0 || lo > 1<<62 {
		return 0, fmt.Errorf("%d elements of %s overflow the size limit", n, t)
	}
	return int64(lo), nil
}
