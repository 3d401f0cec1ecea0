package arch

import (
	"fmt"

	"github.com/llmap/llmap/format"
)

// Llama is LLaMA as llama2.c and GGUF's "llama" run it: RMSNorm, RoPE on
// adjacent pairs, grouped-query attention, a SwiGLU feed-forward network,
// a classifier that may be tied to the embedding.
var Llama = mustRegister(&Family{
	Name: "llama", Norm: RMSNorm, Position: RoPEPairs, FFN: SwiGLU,
	NormEps: 1e-5, RopeBase: 10000, // llama2.c's
	Tensors: []Tensor{
		{Name: format.TensorTokenEmbd, Role: RoleTokenEmbedding, Shape: []Dim{DimVocab, DimModel}, HF: "model.embed_tokens.weight"},
		{Name: "attn_norm.weight", Role: RoleAttnNorm, Shape: []Dim{DimModel}, HF: "model.layers.%d.input_layernorm.weight"},
		{Name: "attn_q.weight", Role: RoleAttnQ, Shape: []Dim{DimQ, DimModel}, HF: "model.layers.%d.self_attn.q_proj.weight", HFLayout: HFRotateHalf},
		{Name: "attn_k.weight", Role: RoleAttnK, Shape: []Dim{DimKV, DimModel}, HF: "model.layers.%d.self_attn.k_proj.weight", HFLayout: HFRotateHalf},
		{Name: "attn_v.weight", Role: RoleAttnV, Shape: []Dim{DimKV, DimModel}, HF: "model.layers.%d.self_attn.v_proj.weight"},
		{Name: "attn_output.weight", Role: RoleAttnOutput, Shape: []Dim{DimModel, DimQ}, HF: "model.layers.%d.self_attn.o_proj.weight"},
		{Name: "ffn_norm.weight", Role: RoleFFNNorm, Shape: []Dim{DimModel}, HF: "model.layers.%d.post_attention_layernorm.weight"},
		{Name: "ffn_gate.weight", Role: RoleFFNGate, Shape: []Dim{DimHidden, DimModel}, HF: "model.layers.%d.mlp.gate_proj.weight"},
		{Name: "ffn_down.weight", Role: RoleFFNDown, Shape: []Dim{DimModel, DimHidden}, HF: "model.layers.%d.mlp.down_proj.weight"},
		{Name: "ffn_up.weight", Role: RoleFFNUp, Shape: []Dim{DimHidden, DimModel}, HF: "model.layers.%d.mlp.up_proj.weight"},
		{Name: format.TensorOutputNorm, Role: RoleOutputNorm, Shape: []Dim{DimModel}, HF: "model.norm.weight"},
		{Name: format.TensorOutput, Role: RoleOutput, Shape: []Dim{DimVocab, DimModel}, HF: "lm_head.weight"},
	},
	HF: HF{Architectures: []string{"LlamaForCausalLM"}, ModelType: "llama", Config: llamaHF},
})

// llamaHF reads a LlamaForCausalLM config.json, with Hugging Face's
// LlamaConfig defaults.
func llamaHF(j *HFConfig) (Config, error) {
	c := Config{
		Arch: "llama", Dim: j.Int(0, "hidden_size"), HiddenDim: j.Int(0, "intermediate_size"),
		NLayers: j.Int(0, "num_hidden_layers"), NHeads: j.Int(0, "num_attention_heads"),
		VocabSize: j.Int(0, "vocab_size"), ContextLength: j.Int(0, "max_position_embeddings"),
		NormEps: float32(j.Float("rms_norm_eps", 1e-6)), RopeBase: float32(j.Float("rope_theta", 10000)),
	}
	c.NKVHeads = j.Int(c.NHeads, "num_key_value_heads")
	d, nh, nkv := c.Dim, c.NHeads, c.NKVHeads
	switch {
	case d <= 0 || c.HiddenDim <= 0 || c.NLayers <= 0 || nh <= 0 || nkv <= 0 || c.VocabSize <= 0 || c.ContextLength <= 0:
		return c, fmt.Errorf("hidden_size %d, intermediate_size %d, num_hidden_layers %d, num_attention_heads %d, num_key_value_heads %d, vocab_size %d, max_position_embeddings %d must be positive",
			d, c.HiddenDim, c.NLayers, nh, nkv, c.VocabSize, c.ContextLength)
	case d%nh != 0 || nh%nkv != 0 || (d/nh)%2 != 0:
		return c, fmt.Errorf("hidden_size %d, num_attention_heads %d and num_key_value_heads %d do not give an even head size shared by whole groups", d, nh, nkv)
	case j.Int(0, "head_dim") != 0 && j.Int(0, "head_dim") != d/nh:
		return c, fmt.Errorf("head_dim %d is not hidden_size/num_attention_heads = %d", j.Int(0, "head_dim"), d/nh)
	case j.String("hidden_act") != "" && j.String("hidden_act") != "silu":
		return c, fmt.Errorf("hidden_act %q is not supported (want silu)", j.String("hidden_act"))
	}
	if b, _ := j.Bool("attention_bias"); b {
		return c, fmt.Errorf("attention_bias/mlp_bias are not supported")
	}
	if b, _ := j.Bool("mlp_bias"); b {
		return c, fmt.Errorf("attention_bias/mlp_bias are not supported")
	}
	if j.Has("rope_scaling") {
		return c, fmt.Errorf("rope_scaling %s is not supported", j.Raw("rope_scaling"))
	}
	c.HeadSize = d / nh
	return c, nil
}
