package arch

import (
	"fmt"

	"github.com/llmap/llmap/format"
)

// Qwen3 is Qwen 3 (dense): Qwen 2's blocks without the q/k/v biases, and
// an RMSNorm over each query and key head (its own weight of head_size,
// the model's epsilon) before RoPE. Its head size is config.json's
// head_dim, which need not be hidden_size/heads (Qwen3-0.6B: 1024 wide,
// 16 heads of 128).
var Qwen3 = mustRegister(&Family{
	Name: "qwen3", Norm: RMSNorm, Position: RoPEHalves, FFN: SwiGLU,
	NormEps: 1e-6, RopeBase: 10000, // Qwen3Config's defaults; released models have θ 1e6
	Tensors: []Tensor{
		{Name: format.TensorTokenEmbd, Role: RoleTokenEmbedding, Shape: []Dim{DimVocab, DimModel}, HF: "model.embed_tokens.weight"},
		{Name: "attn_norm.weight", Role: RoleAttnNorm, Shape: []Dim{DimModel}, HF: "model.layers.%d.input_layernorm.weight"},
		{Name: "attn_q.weight", Role: RoleAttnQ, Shape: []Dim{DimQ, DimModel}, HF: "model.layers.%d.self_attn.q_proj.weight"},
		{Name: "attn_q_norm.weight", Role: RoleAttnQNorm, Shape: []Dim{DimHead}, HF: "model.layers.%d.self_attn.q_norm.weight"},
		{Name: "attn_k.weight", Role: RoleAttnK, Shape: []Dim{DimKV, DimModel}, HF: "model.layers.%d.self_attn.k_proj.weight"},
		{Name: "attn_k_norm.weight", Role: RoleAttnKNorm, Shape: []Dim{DimHead}, HF: "model.layers.%d.self_attn.k_norm.weight"},
		{Name: "attn_v.weight", Role: RoleAttnV, Shape: []Dim{DimKV, DimModel}, HF: "model.layers.%d.self_attn.v_proj.weight"},
		{Name: "attn_output.weight", Role: RoleAttnOutput, Shape: []Dim{DimModel, DimQ}, HF: "model.layers.%d.self_attn.o_proj.weight"},
		{Name: "ffn_norm.weight", Role: RoleFFNNorm, Shape: []Dim{DimModel}, HF: "model.layers.%d.post_attention_layernorm.weight"},
		{Name: "ffn_gate.weight", Role: RoleFFNGate, Shape: []Dim{DimHidden, DimModel}, HF: "model.layers.%d.mlp.gate_proj.weight"},
		{Name: "ffn_down.weight", Role: RoleFFNDown, Shape: []Dim{DimModel, DimHidden}, HF: "model.layers.%d.mlp.down_proj.weight"},
		{Name: "ffn_up.weight", Role: RoleFFNUp, Shape: []Dim{DimHidden, DimModel}, HF: "model.layers.%d.mlp.up_proj.weight"},
		{Name: format.TensorOutputNorm, Role: RoleOutputNorm, Shape: []Dim{DimModel}, HF: "model.norm.weight"},
		{Name: format.TensorOutput, Role: RoleOutput, Shape: []Dim{DimVocab, DimModel}, HF: "lm_head.weight"},
	},
	HF: HF{Architectures: []string{"Qwen3ForCausalLM"}, ModelType: "qwen3", Config: qwen3HF},
})

// qwen3HF reads a Qwen3ForCausalLM config.json, with Qwen3Config's
// defaults (head_dim 128).
func qwen3HF(j *HFConfig) (Config, error) {
	c, err := decoderHF(j, "qwen3", 128, 1e-6, 10000)
	if err != nil {
		return c, err
	}
	if err := noBias(j, "attention_bias"); err != nil {
		return c, err
	}
	if s, _, err := ropeScaling(j); err != nil || s != nil {
		return c, fmt.Errorf("rope_scaling %s is not supported", j.Raw("rope_scaling"))
	}
	return c, qwenWindow(j, &c)
}
