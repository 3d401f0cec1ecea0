package arch

import (
	"fmt"

	"github.com/llmap/llmap/format"
)

// Llama is LLaMA as llama2.c and GGUF's "llama" run it: RMSNorm, RoPE on
// adjacent pairs, grouped-query attention, a SwiGLU feed-forward network,
// a classifier that may be tied to the embedding. LLaMA 3.1 and later add
// RoPE frequency divisors (rope_freqs.weight in GGUF, rope_scaling
// "llama3" in config.json).
//
// Mistral 7B (v0.1 to v0.3) is this family too: GGUF files call it
// "llama", and MistralForCausalLM has LLaMA's tensors and config.json
// keys, plus a sliding window (4096 positions in v0.1, none later).
// Hugging Face applies the window, so its import keeps it; GGUF files do
// not record it, and llama.cpp, like llmap, then attends to the whole
// context. Within 4096 positions the two agree exactly.
var Llama = mustRegister(&Family{
	Name: "llama", Norm: RMSNorm, Position: RoPEPairs, FFN: SwiGLU,
	NormEps: 1e-5, RopeBase: 10000, // llama2.c's
	Tensors: []Tensor{
		{Name: format.TensorTokenEmbd, Role: RoleTokenEmbedding, Shape: []Dim{DimVocab, DimModel}, HF: "model.embed_tokens.weight"},
		{Name: "rope_freqs.weight", Role: RoleRopeFreqs, Shape: []Dim{DimPairs}, Optional: true, HFFrom: "rope_scaling"},
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
	HF: HF{Architectures: []string{"LlamaForCausalLM", "MistralForCausalLM"}, ModelType: "llama", Config: llamaHF},
})

// llamaHF reads a LlamaForCausalLM or MistralForCausalLM config.json, with
// Hugging Face's LlamaConfig defaults (eps 1e-6, θ 10000).
func llamaHF(j *HFConfig) (Config, error) {
	c, err := decoderHF(j, "llama", 0, 1e-6, 10000)
	if err != nil {
		return c, err
	}
	if err := noBias(j, "attention_bias", "mlp_bias"); err != nil {
		return c, err
	}
	s, kind, err := ropeScaling(j)
	switch {
	case err != nil:
		return c, err
	case s == nil:
	case kind == "llama3":
		div, err := llama3RopeFreqs(s, c.HeadSize, float64(c.RopeBase))
		if err != nil {
			return c, err
		}
		j.Derive(RoleRopeFreqs, div)
	default:
		return c, fmt.Errorf("rope_scaling %s is not supported (llmap runs rope_type llama3)", j.Raw("rope_scaling"))
	}
	slidingWindow(j, &c, true)
	return c, nil
}
