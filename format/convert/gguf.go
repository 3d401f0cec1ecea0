package convert

import (
	"fmt"
	"strings"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/runtime/tokenizer"
)

// FromGGUF describes a GGUF file of a family llmap runs (format/arch) as a
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
	if err := CheckModel(m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Write tensors in the order of the family's table, as llmap's own
	// files have them: embeddings, blocks by layer, output.
	if err := sortByTable(m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func baseName(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[i+1:]
	}
	return path
}

// ggufConfig reads the hyperparameters of a GGUF model of a family llmap
// runs into llmap metadata keys. GGUF spells them the same way for every
// family, under the architecture's name: ARCH.embedding_length, ...; the
// epsilon key depends on the family's norm, and the RoPE keys are read
// only for families with RoPE.
func ggufConfig(f *gguf.File) (*format.Metadata, error) {
	name, ok := f.String("general.architecture")
	if !ok {
		return nil, fmt.Errorf("metadata general.architecture: missing")
	}
	fam, err := arch.Lookup(name)
	if err != nil {
		return nil, err
	}
	c := arch.Config{Arch: fam.Name}
	u32 := func(key string, required bool, def uint32) (int, error) {
		v, ok := f.Uint32(name + "." + key)
		if !ok {
			if _, present := f.Lookup(name + "." + key); present || required {
				return 0, fmt.Errorf("metadata %s.%s: missing or not an unsigned 32-bit integer", name, key)
			}
			v = def
		}
		return int(v), nil
	}
	for _, k := range []struct {
		key string
		dst *int
	}{
		{"embedding_length", &c.Dim},
		{"feed_forward_length", &c.HiddenDim},
		{"block_count", &c.NLayers},
		{"attention.head_count", &c.NHeads},
		{"context_length", &c.ContextLength},
	} {
		if *k.dst, err = u32(k.key, true, 0); err != nil {
			return nil, err
		}
	}
	if c.NKVHeads, err = u32("attention.head_count_kv", false, uint32(c.NHeads)); err != nil {
		return nil, err
	}
	epsKey := "attention.layer_norm_rms_epsilon"
	if fam.Norm == arch.LayerNorm {
		epsKey = "attention.layer_norm_epsilon"
	}
	if c.NormEps, ok = f.Float32(name + "." + epsKey); !ok {
		return nil, fmt.Errorf("metadata %s.%s: missing", name, epsKey)
	}
	if fam.Position.RoPE() {
		if c.RopeBase, ok = f.Float32(name + ".rope.freq_base"); !ok {
			c.RopeBase = fam.RopeBase
		}
		if d, ok := f.Uint32(name + ".rope.dimension_count"); ok {
			if c.NHeads > 0 && int(d) != c.Dim/c.NHeads {
				return nil, fmt.Errorf("metadata %s.rope.dimension_count = %d: partial RoPE is not supported (head size %d)", name, d, c.Dim/c.NHeads)
			}
		}
		if st, ok := f.String(name + ".rope.scaling.type"); ok && st != "none" {
			return nil, fmt.Errorf("metadata %s.rope.scaling.type = %q: RoPE scaling is not supported", name, st)
		}
	}
	// The vocabulary size is the embedding's row count.
	if t, ok := f.Tensor(format.TensorTokenEmbd); ok && len(t.Dims) == 2 && t.Dims[1] <= arch.MaxSize {
		c.VocabSize = int(t.Dims[1])
	} else if toks, ok := f.Strings("tokenizer.ggml.tokens"); ok {
		c.VocabSize = len(toks)
	} else {
		return nil, fmt.Errorf("tensor %s: missing", format.TensorTokenEmbd)
	}
	c.SetDefaults()
	return c.Metadata("", ""), nil
}

// TokenizerFromGGUF returns the tokenizer of a GGUF file (a model or a
// vocabulary-only file) as tokenizer.* metadata, read by the tokenizer
// package (tokenizer.ggml.model "llama" or "gpt2" with its pre-tokenizer,
// special tokens, BOS rule and chat templates). The tokenizer is built once
// here, so that a file whose merges or special tokens do not hold together
// is refused at conversion rather than when the model is run.
func TokenizerFromGGUF(f *gguf.File) (*format.Metadata, error) {
	s, err := tokenizer.FromGGUF(f)
	if err != nil {
		return nil, err
	}
	return checkedTokenizerMeta(s)
}

// checkedTokenizerMeta builds the tokenizer of s to check it and returns
// its metadata.
func checkedTokenizerMeta(s *tokenizer.Spec) (*format.Metadata, error) {
	if _, err := tokenizer.New(s); err != nil {
		return nil, err
	}
	return s.Metadata(), nil
}
