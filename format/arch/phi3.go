package arch

import (
	"fmt"

	"github.com/llmap/llmap/format"
)

// Phi3 is Phi-3 and Phi-3.5 mini (and Phi-3 medium, the same blocks wider):
// LLaMA's pieces with RoPE on halves (NeoX), the query, key and value
// projections fused into one matrix (rows q, k, v) and gate and up fused
// into another (rows gate, up). GGUF names the fused gate/up ffn_up.
//
// Variants: the 4k models (no rope_scaling; sliding_window 2047, which
// Hugging Face applies and llmap keeps), and the 128k models and Phi-3.5
// (LongRoPE: rope_scaling "longrope" or "su"), which llmap runs with
// their short factors and attention factor up to the original 4096
// positions (see longRoPE). Partial rotary embeddings (Phi-4-mini's
// partial_rotary_factor) are refused.
var Phi3 = mustRegister(&Family{
	Name: "phi3", Norm: RMSNorm, Position: RoPEHalves, FFN: SwiGLU,
	NormEps: 1e-5, RopeBase: 10000, // Phi3Config's defaults
	Tensors: []Tensor{
		{Name: format.TensorTokenEmbd, Role: RoleTokenEmbedding, Shape: []Dim{DimVocab, DimModel}, HF: "model.embed_tokens.weight"},
		{Name: "rope_factors_short.weight", Role: RoleRopeFreqs, Shape: []Dim{DimPairs}, Optional: true, HFFrom: "rope_scaling.short_factor"},
		{Name: "attn_norm.weight", Role: RoleAttnNorm, Shape: []Dim{DimModel}, HF: "model.layers.%d.input_layernorm.weight"},
		{Name: "attn_qkv.weight", Role: RoleAttnQKV, Shape: []Dim{DimQKV, DimModel}, HF: "model.layers.%d.self_attn.qkv_proj.weight"},
		{Name: "attn_output.weight", Role: RoleAttnOutput, Shape: []Dim{DimModel, DimQ}, HF: "model.layers.%d.self_attn.o_proj.weight"},
		{Name: "ffn_norm.weight", Role: RoleFFNNorm, Shape: []Dim{DimModel}, HF: "model.layers.%d.post_attention_layernorm.weight"},
		{Name: "ffn_up.weight", Role: RoleFFNGateUp, Shape: []Dim{DimHidden2, DimModel}, HF: "model.layers.%d.mlp.gate_up_proj.weight"},
		{Name: "ffn_down.weight", Role: RoleFFNDown, Shape: []Dim{DimModel, DimHidden}, HF: "model.layers.%d.mlp.down_proj.weight"},
		{Name: format.TensorOutputNorm, Role: RoleOutputNorm, Shape: []Dim{DimModel}, HF: "model.norm.weight"},
		{Name: format.TensorOutput, Role: RoleOutput, Shape: []Dim{DimVocab, DimModel}, HF: "lm_head.weight"},
	},
	// LongRoPE's long factors apply only past the original context,
	// which llmap does not run these models beyond.
	GGUFUnused: []string{"rope_factors_long.weight"},
	LongRoPE:   true,
	HF:         HF{Architectures: []string{"Phi3ForCausalLM"}, ModelType: "phi3", Config: phi3HF},
})

// phi3HF reads a Phi3ForCausalLM config.json, with Phi3Config's defaults.
func phi3HF(j *HFConfig) (Config, error) {
	c, err := decoderHF(j, "phi3", 0, 1e-5, 10000)
	if err != nil {
		return c, err
	}
	if err := noBias(j, "attention_bias"); err != nil {
		return c, err
	}
	if f := j.Float("partial_rotary_factor", 1); f != 1 {
		return c, fmt.Errorf("partial_rotary_factor %g is not supported (llmap rotates whole heads)", f)
	}
	s, kind, err := ropeScaling(j)
	switch {
	case err != nil:
		return c, err
	case s == nil:
	case kind == "longrope" || kind == "su":
		if err := longRoPE(j, s, &c); err != nil {
			return c, err
		}
	default:
		return c, fmt.Errorf("rope_scaling %s is not supported (llmap runs longrope)", j.Raw("rope_scaling"))
	}
	slidingWindow(j, &c, true)
	return c, nil
}
