package convert

import (
	"fmt"
	"sort"
	"strings"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/gguf"
)

// FromGGUF describes a GGUF file of the llama or gpt2 architecture as a
// source model. GGUF's tensor names are llmap's, and its llama q/k weights
// are already in the interleaved-pair order llmap's RoPE uses (llama.cpp's
// converter permutes Hugging Face's rotate-half rows), so every tensor is
// copied as stored: F32, F16, BF16, Q8_0 and Q4_0 without requantising.
// Other ggml types are an error naming the tensor and its type. The tensors
// alias f's mapping: keep f open until Write returns. path is used in error
// messages and for the default name.
func FromGGUF(f *gguf.File, path string) (*Model, error) {
	meta, err := ggufConfig(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tok, err := TokenizerFromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := mergeTokenizer(meta, tok); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	name, ok := f.String("general.name")
	if !ok || name == "" {
		name = strings.TrimSuffix(baseName(path), ".gguf")
	}
	meta = withName(meta, name, fmt.Sprintf("GGUF v%d (%s)", f.Version, baseName(path)))

	m := &Model{Meta: meta}
	hasOutput := false
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		typ, err := ti.Type()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		data, err := f.TensorData(ti)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		shape := ti.Shape()
		m.Tensors = append(m.Tensors, Tensor{
			Name: ti.Name, Shape: shape, Raw: data, RawType: typ,
			Row: rowDecoder(data, typ, int(shape[len(shape)-1])),
		})
		hasOutput = hasOutput || ti.Name == format.TensorOutput
	}
	meta.Set(format.KeySharedClassifier, format.Bool(!hasOutput))
	// Write tensors in the order llmap's own files use: by layer, then name.
	sort.SliceStable(m.Tensors, func(i, j int) bool { return tensorOrder(m.Tensors[i].Name) < tensorOrder(m.Tensors[j].Name) })
	if err := CheckModel(m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// tensorOrder sorts token and position embeddings first, blocks by layer,
// and the final norm and classifier last.
func tensorOrder(name string) int {
	switch name {
	case format.TensorTokenEmbd:
		return 0
	case format.TensorPositionEmbd:
		return 1
	case format.TensorOutputNorm, "output_norm.bias":
		return 1 << 30
	case format.TensorOutput:
		return 1<<30 + 1
	}
	var l int
	if _, err := fmt.Sscanf(name, "blk.%d.", &l); err == nil {
		return 2 + l
	}
	return 1<<30 - 1
}

func baseName(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[i+1:]
	}
	return path
}

// ggufConfig reads the hyperparameters of a llama or gpt2 GGUF into llmap
// metadata keys.
func ggufConfig(f *gguf.File) (*format.Metadata, error) {
	arch, ok := f.String("general.architecture")
	if !ok {
		return nil, fmt.Errorf("metadata general.architecture: missing")
	}
	if arch != format.ArchLlama && arch != format.ArchGPT2 {
		return nil, fmt.Errorf("unknown architecture %q (llmap imports %q and %q)", arch, format.ArchLlama, format.ArchGPT2)
	}
	meta := &format.Metadata{}
	meta.Set(format.KeyArchitecture, format.String(arch))
	u32 := func(key, dst string, required bool, def uint32) error {
		v, ok := f.Uint32(arch + "." + key)
		if !ok {
			if _, present := f.Lookup(arch + "." + key); present || required {
				return fmt.Errorf("metadata %s.%s: missing or not an unsigned 32-bit integer", arch, key)
			}
			v = def
		}
		meta.Set(dst, format.U32(v))
		return nil
	}
	for _, k := range []struct {
		key, dst string
	}{
		{"embedding_length", format.KeyDim},
		{"feed_forward_length", format.KeyHiddenDim},
		{"block_count", format.KeyNLayers},
		{"attention.head_count", format.KeyNHeads},
		{"context_length", format.KeyContextLength},
	} {
		if err := u32(k.key, k.dst, true, 0); err != nil {
			return nil, err
		}
	}
	nh, _ := meta.U32(format.KeyNHeads)
	if err := u32("attention.head_count_kv", format.KeyNKVHeads, false, nh); err != nil {
		return nil, err
	}
	epsKey := "attention.layer_norm_rms_epsilon"
	if arch == format.ArchGPT2 {
		epsKey = "attention.layer_norm_epsilon"
	}
	eps, ok := f.Float32(arch + "." + epsKey)
	if !ok {
		return nil, fmt.Errorf("metadata %s.%s: missing", arch, epsKey)
	}
	meta.Set(format.KeyNormEps, format.F32(eps))
	if arch == format.ArchLlama {
		base, ok := f.Float32("llama.rope.freq_base")
		if !ok {
			base = 10000
		}
		meta.Set(format.KeyRopeBase, format.F32(base))
		if d, ok := f.Uint32("llama.rope.dimension_count"); ok {
			dim, _ := meta.U32(format.KeyDim)
			if nh > 0 && d != dim/nh {
				return nil, fmt.Errorf("metadata llama.rope.dimension_count = %d: partial RoPE is not supported (head size %d)", d, dim/nh)
			}
		}
		if st, ok := f.String("llama.rope.scaling.type"); ok && st != "none" {
			return nil, fmt.Errorf("metadata llama.rope.scaling.type = %q: RoPE scaling is not supported", st)
		}
	}
	// The vocabulary size is the embedding's row count.
	if t, ok := f.Tensor(format.TensorTokenEmbd); ok && len(t.Dims) == 2 && t.Dims[1] <= 1<<24 {
		meta.Set(format.KeyVocabSize, format.U32(uint32(t.Dims[1])))
	} else if toks, ok := f.Strings("tokenizer.ggml.tokens"); ok {
		meta.Set(format.KeyVocabSize, format.U32(uint32(len(toks))))
	} else {
		return nil, fmt.Errorf("tensor %s: missing", format.TensorTokenEmbd)
	}
	return meta, nil
}

// TokenizerFromGGUF returns the tokenizer of a GGUF file (a model or a
// vocabulary-only file) as tokenizer.* metadata: tokenizer.ggml.model
// "llama" (SentencePiece-style, "▁" becomes " ") or "gpt2" (byte-level BPE).
func TokenizerFromGGUF(f *gguf.File) (*format.Metadata, error) {
	model, ok := f.String("tokenizer.ggml.model")
	if !ok {
		return nil, fmt.Errorf("metadata tokenizer.ggml.model: missing")
	}
	tokens, ok := f.Strings("tokenizer.ggml.tokens")
	if !ok {
		return nil, fmt.Errorf("metadata tokenizer.ggml.tokens: missing or not an array of strings")
	}
	id := func(key string, def int) int {
		if v, ok := f.Int(key); ok && v >= 0 && v < len(tokens) {
			return v
		}
		return def
	}
	switch model {
	case "llama":
		scores, ok := f.Float32s("tokenizer.ggml.scores")
		if !ok || len(scores) != len(tokens) {
			return nil, fmt.Errorf("metadata tokenizer.ggml.scores: missing or not one score per token")
		}
		types, ok := f.Int32s("tokenizer.ggml.token_type")
		if ok && len(types) != len(tokens) {
			return nil, fmt.Errorf("metadata tokenizer.ggml.token_type: %d types for %d tokens", len(types), len(tokens))
		}
		meta := llamaTokenizerMeta(tokens, scores, types, id("tokenizer.ggml.bos_token_id", 1), id("tokenizer.ggml.eos_token_id", 2))
		if add, ok := f.Bool("tokenizer.ggml.add_bos_token"); ok {
			meta.Set(format.KeyTokenizerAddBOS, format.Bool(add))
		}
		return meta, nil
	case "gpt2":
		merges, ok := f.Strings("tokenizer.ggml.merges")
		if !ok {
			return nil, fmt.Errorf("metadata tokenizer.ggml.merges: missing or not an array of strings")
		}
		meta := gpt2TokenizerMeta(tokens, merges)
		if eos := id("tokenizer.ggml.eos_token_id", -1); eos >= 0 {
			meta.Set(format.KeyTokenizerEOSID, format.I32(int32(eos)))
		}
		return meta, nil
	}
	return nil, fmt.Errorf("metadata tokenizer.ggml.model = %q: unsupported tokenizer (want llama or gpt2)", model)
}
