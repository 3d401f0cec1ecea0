// Package arch describes the model families llmap runs, as data: one file
// per family (llama.go with Mistral, qwen2.go, qwen3.go, phi3.go, gpt2.go)
// holds a Family value with its hyperparameter defaults, the pieces its
// blocks are built from (norm kind, position encoding, feed-forward kind),
// its tensor table (GGUF-style name, role, shape in terms of the
// hyperparameters, whether it may be absent, its Hugging Face name and
// layout) and how to read a Hugging Face config.json. Config is the one
// hyperparameter type of llmap.
//
// Everything that knows a family reads this table: the runtime binds
// tensors to its one forward pass by Role, format/convert checks and
// imports GGUF, Hugging Face and llama2.c models against it, synth
// generates random models of any family from it, and format/SPEC.md shows
// it (a test keeps SPEC.md and the table in step).
//
// # Adding a family
//
// Write one file, as qwen2.go is, with
//
//	var Qwen2 = mustRegister(&Family{Name: "qwen2", Norm: RMSNorm, Position: RoPEHalves, FFN: SwiGLU, ...})
//
// listing its tensors with the existing roles (a q/k/v bias is
// RoleAttnQBias..., a fused projection RoleAttnQKV or RoleFFNGateUp; the
// runtime splits fused matrices into row ranges without copying), and
// HF.Config reading its config.json (decoderHF reads the keys LLaMA-like
// decoders share; rope.go computes RoPE frequency divisors from
// rope_scaling; a tensor HF keeps in config.json is derived there and
// named by the row's HFFrom). Then run `go test ./format/arch` and
// paste the table it prints into format/SPEC.md. Only a piece the runtime
// does not have yet (a new norm, activation, or a tensor role, as Qwen 3's
// per-head q/k norm was) needs code outside this file: a Role or enum
// value here and its few lines in runtime's forward pass.
//
// The package imports only format (for metadata keys and tensor names), so
// both format/convert and runtime can import it.
package arch
