package arch

import (
	"fmt"

	"github.com/llmap/llmap/format"
)

// GPT2 is GPT-2: learned positions, pre-LayerNorm blocks with biases, a
// fused query/key/value projection, a GELU (tanh) feed-forward network and
// a classifier tied to the token embedding in every released model.
var GPT2 = mustRegister(&Family{
	Name: "gpt2", Norm: LayerNorm, Position: Learned, FFN: GELU,
	NormEps: 1e-5,
	Tensors: []Tensor{
		{Name: format.TensorTokenEmbd, Role: RoleTokenEmbedding, Shape: []Dim{DimVocab, DimModel}, HF: "wte.weight"},
		{Name: format.TensorPositionEmbd, Role: RolePositionEmbedding, Shape: []Dim{DimContext, DimModel}, HF: "wpe.weight"},
		{Name: "attn_norm.weight", Role: RoleAttnNorm, Shape: []Dim{DimModel}, HF: "h.%d.ln_1.weight"},
		{Name: "attn_norm.bias", Role: RoleAttnNormBias, Shape: []Dim{DimModel}, HF: "h.%d.ln_1.bias"},
		{Name: "attn_qkv.weight", Role: RoleAttnQKV, Shape: []Dim{DimQKV, DimModel}, HF: "h.%d.attn.c_attn.weight", HFLayout: HFTransposed},
		{Name: "attn_qkv.bias", Role: RoleAttnQKVBias, Shape: []Dim{DimQKV}, HF: "h.%d.attn.c_attn.bias"},
		{Name: "attn_output.weight", Role: RoleAttnOutput, Shape: []Dim{DimModel, DimQ}, HF: "h.%d.attn.c_proj.weight", HFLayout: HFTransposed},
		{Name: "attn_output.bias", Role: RoleAttnOutputBias, Shape: []Dim{DimModel}, HF: "h.%d.attn.c_proj.bias"},
		{Name: "ffn_norm.weight", Role: RoleFFNNorm, Shape: []Dim{DimModel}, HF: "h.%d.ln_2.weight"},
		{Name: "ffn_norm.bias", Role: RoleFFNNormBias, Shape: []Dim{DimModel}, HF: "h.%d.ln_2.bias"},
		{Name: "ffn_up.weight", Role: RoleFFNUp, Shape: []Dim{DimHidden, DimModel}, HF: "h.%d.mlp.c_fc.weight", HFLayout: HFTransposed},
		{Name: "ffn_up.bias", Role: RoleFFNUpBias, Shape: []Dim{DimHidden}, HF: "h.%d.mlp.c_fc.bias"},
		{Name: "ffn_down.weight", Role: RoleFFNDown, Shape: []Dim{DimModel, DimHidden}, HF: "h.%d.mlp.c_proj.weight", HFLayout: HFTransposed},
		{Name: "ffn_down.bias", Role: RoleFFNDownBias, Shape: []Dim{DimModel}, HF: "h.%d.mlp.c_proj.bias"},
		{Name: format.TensorOutputNorm, Role: RoleOutputNorm, Shape: []Dim{DimModel}, HF: "ln_f.weight"},
		{Name: "output_norm.bias", Role: RoleOutputNormBias, Shape: []Dim{DimModel}, HF: "ln_f.bias"},
		{Name: format.TensorOutput, Role: RoleOutput, Shape: []Dim{DimVocab, DimModel}, HF: "lm_head.weight"},
	},
	HF: HF{
		Architectures: []string{"GPT2LMHeadModel", "GPT2Model"}, ModelType: "gpt2",
		Prefixes: []string{"transformer.", ""}, TiedByDefault: true, Config: gpt2HF,
	},
})

// gpt2HF reads a GPT2LMHeadModel or GPT2Model config.json, with Hugging
// Face's GPT2Config defaults.
func gpt2HF(j *HFConfig) (Config, error) {
	d := j.Int(0, "n_embd")
	c := Config{
		Arch: "gpt2", Dim: d, HiddenDim: 4 * d, NLayers: j.Int(0, "n_layer"), NHeads: j.Int(0, "n_head"),
		VocabSize: j.Int(0, "vocab_size"), ContextLength: j.Int(0, "n_positions"),
		NormEps: float32(j.Float("layer_norm_epsilon", 1e-5)),
	}
	if n := j.Int(0, "n_inner"); n > 0 {
		c.HiddenDim = n
	}
	c.NKVHeads = c.NHeads
	switch act := j.String("activation_function"); {
	case d <= 0 || c.NLayers <= 0 || c.NHeads <= 0 || c.ContextLength <= 0 || c.VocabSize <= 0:
		return c, fmt.Errorf("n_embd %d, n_layer %d, n_head %d, n_positions %d, vocab_size %d must be positive",
			d, c.NLayers, c.NHeads, c.ContextLength, c.VocabSize)
	case act != "gelu_new" && act != "gelu_pytorch_tanh" && act != "":
		return c, fmt.Errorf("activation_function %q is not supported (llmap's GPT-2 uses the tanh GELU, gelu_new)", act)
	}
	scale, ok := j.Bool("scale_attn_weights")
	byLayer, _ := j.Bool("scale_attn_by_inverse_layer_idx")
	if (ok && !scale) || byLayer {
		return c, fmt.Errorf("only the standard 1/sqrt(head_size) attention scaling is supported")
	}
	if d%c.NHeads != 0 {
		return c, fmt.Errorf("n_embd %d is not a multiple of n_head %d", d, c.NHeads)
	}
	c.HeadSize = d / c.NHeads
	return c, nil
}
