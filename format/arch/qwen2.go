package arch

import (
	"fmt"

	"github.com/llmap/llmap/format"
)

// Qwen2 is Qwen 2 and Qwen 2.5: LLaMA's blocks with biases on the query,
// key and value projections and RoPE on halves (NeoX), so Hugging Face's
// q/k rows are used as they are. The small models tie the classifier to
// the embedding; Qwen2Config's default is untied.
var Qwen2 = mustRegister(&Family{
	Name: "qwen2", Norm: RMSNorm, Position: RoPEHalves, FFN: SwiGLU,
	NormEps: 1e-6, RopeBase: 10000, // Qwen2Config's defaults; released models have θ 1e6
	Tensors: []Tensor{
		{Name: format.TensorTokenEmbd, Role: RoleTokenEmbedding, Shape: []Dim{DimVocab, DimModel}, HF: "model.embed_tokens.weight"},
		{Name: "attn_norm.weight", Role: RoleAttnNorm, Shape: []Dim{DimModel}, HF: "model.layers.%d.input_layernorm.weight"},
		{Name: "attn_q.weight", Role: RoleAttnQ, Shape: []Dim{DimQ, DimModel}, HF: "model.layers.%d.self_attn.q_proj.weight"},
		{Name: "attn_q.bias", Role: RoleAttnQBias, Shape: []Dim{DimQ}, HF: "model.layers.%d.self_attn.q_proj.bias"},
		{Name: "attn_k.weight", Role: RoleAttnK, Shape: []Dim{DimKV, DimModel}, HF: "model.layers.%d.self_attn.k_proj.weight"},
		{Name: "attn_k.bias", Role: RoleAttnKBias, Shape: []Dim{DimKV}, HF: "model.layers.%d.self_attn.k_proj.bias"},
		{Name: "attn_v.weight", Role: RoleAttnV, Shape: []Dim{DimKV, DimModel}, HF: "model.layers.%d.self_attn.v_proj.weight"},
		{Name: "attn_v.bias", Role: RoleAttnVBias, Shape: []Dim{DimKV}, HF: "model.layers.%d.self_attn.v_proj.bias"},
		{Name: "attn_output.weight", Role: RoleAttnOutput, Shape: []Dim{DimModel, DimQ}, HF: "model.layers.%d.self_attn.o_proj.weight"},
		{Name: "ffn_norm.weight", Role: RoleFFNNorm, Shape: []Dim{DimModel}, HF: "model.layers.%d.post_attention_layernorm.weight"},
		{Name: "ffn_gate.weight", Role: RoleFFNGate, Shape: []Dim{DimHidden, DimModel}, HF: "model.layers.%d.mlp.gate_proj.weight"},
		{Name: "ffn_down.weight", Role: RoleFFNDown, Shape: []Dim{DimModel, DimHidden}, HF: "model.layers.%d.mlp.down_proj.weight"},
		{Name: "ffn_up.weight", Role: RoleFFNUp, Shape: []Dim{DimHidden, DimModel}, HF: "model.layers.%d.mlp.up_proj.weight"},
		{Name: format.TensorOutputNorm, Role: RoleOutputNorm, Shape: []Dim{DimModel}, HF: "model.norm.weight"},
		{Name: format.TensorOutput, Role: RoleOutput, Shape: []Dim{DimVocab, DimModel}, HF: "lm_head.weight"},
	},
	HF: HF{Architectures: []string{"Qwen2ForCausalLM"}, ModelType: "qwen2", Config: qwen2HF},
})

// qwen2HF reads a Qwen2ForCausalLM config.json.
func qwen2HF(j *HFConfig) (Config, error) {
	c, err := decoderHF(j, "qwen2", 0, 1e-6, 10000)
	if err != nil {
		return c, err
	}
	if s, _, err := ropeScaling(j); err != nil || s != nil {
		return c, fmt.Errorf("rope_scaling %s is not supported", j.Raw("rope_scaling"))
	}
	return c, qwenWindow(j, &c)
}

// qwenWindow reads Qwen's sliding window: it applies only with
// use_sliding_window (off in every released Qwen 2.5 and 3), and then
// only to the layers from max_window_layers on.
func qwenWindow(j *HFConfig, c *Config) error {
	on, _ := j.Bool("use_sliding_window")
	first := j.Int(28, "max_window_layers")
	switch {
	case !on || first >= c.NLayers:
		return nil // no layer has the window
	case first > 0:
		return fmt.Errorf("use_sliding_window from layer max_window_layers %d of %d is not supported (llmap has one window for all layers)", first, c.NLayers)
	}
	slidingWindow(j, c, true)
	return nil
}
