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
//
// Products with a matrix (MatVec) take an activation Vec prepared once per
// product: float32 for F32/F16/BF16 weights, and for Q8_0/Q4_0 weights the
// activations quantised to Q8_0 blocks (llama.cpp style, d = max|x|/127), so
// that the inner loops are integer dot products. The kernels come in three
// tiers: *Ref scalar references, *Generic portable Go, and AVX2/FMA/F16C
// assembly selected at init (build with -tags noasm to leave it out, or call
// DisableAsm in tests). Weight data may point into a read-only mapping; no
// function here writes to it.
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
)

// typeInfo is one row of the type table: elements per block and bytes per block.
type typeInfo struct {
	name       string
	blockSize  int // elements per block
	blockBytes int // bytes per block
}

var types = [...]typeInfo{
	F32:  {"f32", 1, 4},
	F16:  {"f16", 1, 2},
	BF16: {"bf16", 1, 2},
	Q8_0: {"q8_0", 32, 34},
	Q4_0: {"q4_0", 32, 18},
}

// Types lists every type in the table, in numeric order.
func Types() []Type { return []Type{F32, F16, BF16, Q8_0, Q4_0} }

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return int(t) < len(types) }

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
func (t Type) Quantized() bool { return t == Q8_0 || t == Q4_0 }

// ParseType parses a type name as accepted by --quant (case-insensitive).
func ParseType(s string) (Type, error) {
	for _, t := range Types() {
		if strings.EqualFold(s, t.String()) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown tensor type %q (want f32, f16, bf16, q8_0 or q4_0)", s)
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
