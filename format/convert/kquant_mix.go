package convert

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/quant"
)

// Mix is a K-quant mix: a rule giving each weight matrix a tensor type, as
// llama.cpp's `llama-quantize` chooses them for its file types of the same
// names. The rules (llama.cpp's, for dense models; learnt from its
// llama_tensor_get_type, written here as a table of our own):
//
//	                q2_k       q3_k_m               q4_k_m       q5_k_m       q6_k
//	default         Q2_K       Q3_K                 Q4_K         Q5_K         Q6_K
//	output          Q6_K       Q6_K                 Q6_K         Q6_K         Q6_K
//	attn_v          Q3_K (1)   Q5_K layers 0-1,     Q6_K (2)     Q6_K (2)     -
//	                           else Q4_K
//	attn_qkv        -          Q4_K                 Q5_K         Q6_K         -
//	attn_output     Q3_K       Q4_K                 -            -            -
//	ffn_down        Q3_K       Q5_K layers < n/16,  Q6_K (2)     Q6_K (2)     -
//	                           else Q4_K
//
//	(1) Q4_K when there are 4 or more attention heads per KV head.
//	(2) in the layers that use_more_bits picks: the first and last eighth
//	    of the layers and every third one between (about half of them).
//
// The token embedding takes the default type, or the output's when it is
// also the output classifier (tied). Other matrices (attn_q, attn_k,
// ffn_gate, ffn_up) take the default type; vectors stay F32.
//
// Fallback: K-quants need rows of whole 256-element super-blocks. A matrix
// whose rows are not gets the 32-element block type with the fewest bits
// per weight that is not fewer than the chosen K type's: Q4_0 (4.5 bits)
// for Q2_K (2.625), Q3_K (3.4375) and Q4_K (4.5), Q8_0 (8.5) for Q5_K (5.5)
// and Q6_K (6.5625); and F16 when the rows are not whole 32-element blocks
// either. llama.cpp falls back to IQ4_NL, Q5_0, Q5_1 and Q8_0, which llmap
// does not have; keeping the bit budget means a q4_k_m file stays about as
// small as llama.cpp's, at Q4_0's quality for those tensors. (Rows of 64,
// as in stories260K, fall back everywhere; its 172-wide ffn_down is F16.)
//
// Not carried over from llama.cpp: its rules for mixture-of-experts models
// (8 experts: attn_v and attn_k at Q8_0), for Falcon, and for 70B models
// (attn_v at Q5_K), none of which llmap runs.
type Mix uint8

const (
	MixQ2_K Mix = iota + 1
	MixQ3_K_M
	MixQ4_K_M
	MixQ5_K_M
	MixQ6_K
)

var mixNames = map[Mix]string{MixQ2_K: "q2_k", MixQ3_K_M: "q3_k_m", MixQ4_K_M: "q4_k_m", MixQ5_K_M: "q5_k_m", MixQ6_K: "q6_k"}

// Mixes lists the mixes in order of size.
func Mixes() []Mix { return []Mix{MixQ2_K, MixQ3_K_M, MixQ4_K_M, MixQ5_K_M, MixQ6_K} }

func (m Mix) String() string {
	if s, ok := mixNames[m]; ok {
		return s
	}
	return fmt.Sprintf("mix(%d)", uint8(m))
}

// ParseMix parses a mix name as accepted by --quant ("q4_k_m",
// case-insensitive). ok is false for names that are not mixes (such as a
// plain type, "q4_k").
func ParseMix(s string) (m Mix, ok bool) {
	for _, m := range Mixes() {
		if strings.EqualFold(s, m.String()) {
			return m, true
		}
	}
	return 0, false
}

// defaultType is the type of the matrices no rule names.
func (m Mix) defaultType() quant.Type {
	switch m {
	case MixQ2_K:
		return quant.Q2_K
	case MixQ3_K_M:
		return quant.Q3_K
	case MixQ4_K_M:
		return quant.Q4_K
	case MixQ5_K_M:
		return quant.Q5_K
	}
	return quant.Q6_K
}

// MixTensor is what the mix rules need to know of a weight matrix.
type MixTensor struct {
	Role   string // GGUF's name without "blk.N." and ".weight": "attn_v", "ffn_down", "output", "token_embd", ...
	Layer  int    // block index of per-layer roles
	Layers int    // number of blocks
	Cols   int    // row length (the innermost dimension)
	GQA    int    // attention heads per KV head
	Tied   bool   // for token_embd: it is also the output classifier
}

// MixTensorOf fills a MixTensor from a tensor's GGUF-style name
// ("blk.3.attn_v.weight", "output.weight") and the model's shape.
func MixTensorOf(name string, cols, layers, gqa int, tied bool) MixTensor {
	t := MixTensor{Role: strings.TrimSuffix(name, ".weight"), Layers: layers, Cols: cols, GQA: gqa, Tied: tied}
	if rest, ok := strings.CutPrefix(t.Role, "blk."); ok {
		if i := strings.IndexByte(rest, '.'); i > 0 {
			if l, err := strconv.Atoi(rest[:i]); err == nil {
				t.Layer, t.Role = l, rest[i+1:]
			}
		}
	}
	return t
}

// mixTensors returns the function that describes a tensor of m to the mix
// rules: the layer count and heads per KV head from m's metadata (0 and 1
// when absent), and tied when m has no output.weight (the embedding is
// then also the classifier).
func mixTensors(m *Model) func(t *Tensor) MixTensor {
	layers, _ := m.Meta.U32(format.KeyNLayers)
	heads, _ := m.Meta.U32(format.KeyNHeads)
	kvHeads, _ := m.Meta.U32(format.KeyNKVHeads)
	gqa := 1
	if kvHeads > 0 && heads >= kvHeads {
		gqa = int(heads / kvHeads)
	}
	tied := true
	for i := range m.Tensors {
		if m.Tensors[i].Name == "output.weight" {
			tied = false
		}
	}
	return func(t *Tensor) MixTensor { return MixTensorOf(t.Name, t.Cols(), int(layers), gqa, tied) }
}

// useMoreBits reports whether layer i of n is one that llama.cpp's mixes
// give more bits: the first and last eighth, and every third layer between.
func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// ruleType is the type the mix's rules choose, before any fallback.
func (m Mix) ruleType(t MixTensor) quant.Type {
	typ := m.defaultType()
	switch role := t.Role; {
	case role == "output" || role == "token_embd" && t.Tied:
		return quant.Q6_K
	case role == "attn_v":
		switch m {
		case MixQ2_K:
			if t.GQA >= 4 {
				return quant.Q4_K
			}
			return quant.Q3_K
		case MixQ3_K_M:
			if t.Layer < 2 {
				return quant.Q5_K
			}
			return quant.Q4_K
		case MixQ4_K_M, MixQ5_K_M:
			if useMoreBits(t.Layer, t.Layers) {
				return quant.Q6_K
			}
		}
	case role == "attn_qkv":
		switch m {
		case MixQ3_K_M:
			return quant.Q4_K
		case MixQ4_K_M:
			return quant.Q5_K
		case MixQ5_K_M:
			return quant.Q6_K
		}
	case role == "attn_output":
		switch m {
		case MixQ2_K:
			return quant.Q3_K
		case MixQ3_K_M:
			return quant.Q4_K
		}
	case role == "ffn_down":
		switch m {
		case MixQ2_K:
			return quant.Q3_K
		case MixQ3_K_M:
			if t.Layer < t.Layers/16 {
				return quant.Q5_K
			}
			return quant.Q4_K
		case MixQ4_K_M, MixQ5_K_M:
			if useMoreBits(t.Layer, t.Layers) {
				return quant.Q6_K
			}
		}
	}
	return typ
}

// fallbackType returns the type that stands in for K-quant typ on rows of
// cols elements that are not whole super-blocks (see Mix).
func fallbackType(typ quant.Type, cols int) quant.Type {
	if cols%typ.BlockSize() == 0 {
		return typ
	}
	fb := quant.Q4_0
	if typ == quant.Q5_K || typ == quant.Q6_K {
		fb = quant.Q8_0
	}
	if cols%fb.BlockSize() != 0 {
		return quant.F16
	}
	return fb
}

// TypeFor returns the type mix m gives matrix t. When the rules' choice
// cannot hold rows of t.Cols elements, it returns the fallback and a note
// saying so ("row length 172 is not a multiple of 256: q6_k falls back to
// f16"); otherwise the note is empty.
func (m Mix) TypeFor(t MixTensor) (typ quant.Type, note string) {
	want := m.ruleType(t)
	typ = fallbackType(want, t.Cols)
	if typ != want {
		note = fmt.Sprintf("row length %d is not a multiple of %d: %s falls back to %s", t.Cols, want.BlockSize(), want, typ)
	}
	return typ, note
}
