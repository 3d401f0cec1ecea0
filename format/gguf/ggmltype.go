package gguf

import (
	"fmt"
	"slices"
	"strings"

	"github.com/llmap/llmap/quant"
)

// ggmlType describes one ggml element type: its name, elements per block and
// bytes per block. The numbering is ggml's enum ggml_type, which GGUF stores.
type ggmlType struct {
	name       string
	blockSize  uint64
	blockBytes uint64
}

// ggmlTypes lists every ggml type that may appear in a GGUF file. Gaps are
// types ggml has removed; they and unknown numbers are rejected so that the
// size of every tensor, and hence its bounds, is known.
var ggmlTypes = map[uint32]ggmlType{
	0:  {"f32", 1, 4},
	1:  {"f16", 1, 2},
	2:  {"q4_0", 32, 18},
	3:  {"q4_1", 32, 20},
	6:  {"q5_0", 32, 22},
	7:  {"q5_1", 32, 24},
	8:  {"q8_0", 32, 34},
	9:  {"q8_1", 32, 36},
	10: {"q2_k", 256, 84},
	11: {"q3_k", 256, 110},
	12: {"q4_k", 256, 144},
	13: {"q5_k", 256, 176},
	14: {"q6_k", 256, 210},
	15: {"q8_k", 256, 292},
	16: {"iq2_xxs", 256, 66},
	17: {"iq2_xs", 256, 74},
	18: {"iq3_xxs", 256, 98},
	19: {"iq1_s", 256, 50},
	20: {"iq4_nl", 32, 18},
	21: {"iq3_s", 256, 110},
	22: {"iq2_s", 256, 82},
	23: {"iq4_xs", 256, 136},
	24: {"i8", 1, 1},
	25: {"i16", 1, 2},
	26: {"i32", 1, 4},
	27: {"i64", 1, 8},
	28: {"f64", 1, 8},
	29: {"iq1_m", 256, 56},
	30: {"bf16", 1, 2},
	34: {"tq1_0", 256, 54},
	35: {"tq2_0", 256, 66},
	39: {"mxfp4", 32, 17},
}

// GGML type numbers of the types llmap imports.
const (
	GGMLTypeF32  uint32 = 0
	GGMLTypeF16  uint32 = 1
	GGMLTypeQ4_0 uint32 = 2
	GGMLTypeQ8_0 uint32 = 8
	GGMLTypeQ2_K uint32 = 10
	GGMLTypeQ3_K uint32 = 11
	GGMLTypeQ4_K uint32 = 12
	GGMLTypeQ5_K uint32 = 13
	GGMLTypeQ6_K uint32 = 14
	GGMLTypeBF16 uint32 = 30
)

// toQuant maps the ggml types that share their byte layout with a quant.Type.
var toQuant = map[uint32]quant.Type{
	GGMLTypeF32:  quant.F32,
	GGMLTypeF16:  quant.F16,
	GGMLTypeQ4_0: quant.Q4_0,
	GGMLTypeQ8_0: quant.Q8_0,
	GGMLTypeQ2_K: quant.Q2_K,
	GGMLTypeQ3_K: quant.Q3_K,
	GGMLTypeQ4_K: quant.Q4_K,
	GGMLTypeQ5_K: quant.Q5_K,
	GGMLTypeQ6_K: quant.Q6_K,
	GGMLTypeBF16: quant.BF16,
}

// supportedNames lists the ggml names of the types llmap imports, in
// ggml's numbering order, for error messages.
func supportedNames() string {
	ids := make([]uint32, 0, len(toQuant))
	for id := range toQuant {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = ggmlTypes[id].name
	}
	return strings.Join(names, ", ")
}

// GGMLTypeName returns ggml's lower-case name of a type number ("q4_k"), or
// "type(N)" for a number ggml does not define.
func GGMLTypeName(t uint32) string {
	if info, ok := ggmlTypes[t]; ok {
		return info.name
	}
	return fmt.Sprintf("type(%d)", t)
}
