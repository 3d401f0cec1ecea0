package convert

import (
	"fmt"
	"slices"
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
// copied as stored: F32, F16, BF16, Q8_0, Q4_0 and Q2_K..Q6_K without
// requantising.
// Other ggml types are an error naming the tensor and its type. The tensors
// alias f's mapping: keep f open until Write returns. path is used in error
// messages and for the default name.
func FromGGUF(f *gguf.File, path string) (*Model, error) {
	meta, notes, err := ggufConfig(f)
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
	for _, n := range notes {
		m.Notes = append(m.Notes, path+": "+n)
	}
	archName, _ := meta.String(format.KeyArchitecture)
	fam, _ := arch.Lookup(archName) // ggufConfig checked it
	hasOutput := false
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		if slices.Contains(fam.GGUFUnused, ti.Name) {
			m.Notes = append(m.Notes, fmt.Sprintf("%s: tensor %s: not used by llmap, left out", path, ti.Name))
			continue
		}
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
// runs into llmap metadata keys, and notes for the user. GGUF spells them
// the same way for every family, under the architecture's name:
// ARCH.embedding_length, ...; the epsilon key depends on the family's
// norm, and the RoPE keys are read only for families with RoPE.
func ggufConfig(f *gguf.File) (*format.Metadata, []string, error) {
	name, ok := f.String("general.architecture")
	if !ok {
		return nil, nil, fmt.Errorf("metadata general.architecture: missing")
	}
	fam, err := arch.Lookup(name)
	if err != nil {
		return nil, nil, err
	}
	c := arch.Config{Arch: fam.Name}
	var notes []string
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
			return nil, nil, err
		}
	}
	if c.NKVHeads, err = u32("attention.head_count_kv", false, uint32(c.NHeads)); err != nil {
		return nil, nil, err
	}
	// The head size is attention.key_length where it is not dim/n_heads
	// (Qwen 3); llmap's keys and values have the same width.
	if c.HeadSize, err = u32("attention.key_length", false, 0); err != nil {
		return nil, nil, err
	}
	if v, err := u32("attention.value_length", false, uint32(c.HeadSize)); err != nil {
		return nil, nil, err
	} else if v != c.HeadSize {
		return nil, nil, fmt.Errorf("metadata %s.attention.value_length = %d: keys and values of different widths (key_length %d) are not supported", name, v, c.HeadSize)
	}
	c.SetDefaults()
	epsKey := "attention.layer_norm_rms_epsilon"
	if fam.Norm == arch.LayerNorm {
		epsKey = "attention.layer_norm_epsilon"
	}
	if c.NormEps, ok = f.Float32(name + "." + epsKey); !ok {
		return nil, nil, fmt.Errorf("metadata %s.%s: missing", name, epsKey)
	}
	if fam.Position.RoPE() {
		if notes, err = ggufRoPE(f, fam, &c); err != nil {
			return nil, nil, err
		}
	}
	if w, err := u32("attention.sliding_window", false, 0); err != nil {
		return nil, nil, err
	} else if w > 0 && w < c.ContextLength {
		c.SlidingWindow = w
		notes = append(notes, fmt.Sprintf("%s.attention.sliding_window %d: each position attends to itself and the %d before it; "+
			"contexts of up to %d positions are not affected (llmap's default is 2048)", name, w, w-1, w))
	}
	// The vocabulary size is the embedding's row count.
	if t, ok := f.Tensor(format.TensorTokenEmbd); ok && len(t.Dims) == 2 && t.Dims[1] <= arch.MaxSize {
		c.VocabSize = int(t.Dims[1])
	} else if toks, ok := f.Strings("tokenizer.ggml.tokens"); ok {
		c.VocabSize = len(toks)
	} else {
		return nil, nil, fmt.Errorf("tensor %s: missing", format.TensorTokenEmbd)
	}
	if err := c.Validate(); err != nil {
		return nil, nil, fmt.Errorf("metadata: %w", err)
	}
	return c.Metadata("", ""), notes, nil
}

// ggufRoPE reads the RoPE keys of a GGUF file into c: the base, the
// attention factor, and for LongRoPE families the original context, which
// caps the context when the file has the (short) frequency divisors.
// Partial RoPE and the scaling types llmap does not run are refused.
func ggufRoPE(f *gguf.File, fam *arch.Family, c *arch.Config) (notes []string, err error) {
	name := fam.Name
	if c.RopeBase, _ = f.Float32(name + ".rope.freq_base"); c.RopeBase == 0 {
		c.RopeBase = fam.RopeBase
	}
	if d, ok := f.Uint32(name + ".rope.dimension_count"); ok && int(d) != c.HeadSize {
		return nil, fmt.Errorf("metadata %s.rope.dimension_count = %d: partial RoPE is not supported (head size %d)", name, d, c.HeadSize)
	}
	if st, ok := f.String(name + ".rope.scaling.type"); ok && st != "none" {
		return nil, fmt.Errorf("metadata %s.rope.scaling.type = %q: RoPE scaling of this type is not supported (llmap runs frequency divisors: rope_freqs.weight, LongRoPE factors)", name, st)
	}
	if a, ok := f.Float32(name + ".rope.scaling.attn_factor"); ok && a != 1 {
		c.RopeAttnFactor = a
	}
	if !fam.LongRoPE {
		return nil, nil
	}
	divisors := fam.Tensor(arch.RoleRopeFreqs).Name
	_, scaled := f.Tensor(divisors)
	orig, ok := f.Uint32(name + ".rope.scaling.original_context_length")
	switch {
	case !ok || int(orig) >= c.ContextLength:
	case !scaled:
		return nil, fmt.Errorf("metadata %s.context_length %d is longer than rope.scaling.original_context_length %d, but the file has no %s (LongRoPE factors)",
			name, c.ContextLength, orig, divisors)
	case orig == 0:
		return nil, fmt.Errorf("metadata %s.rope.scaling.original_context_length = 0", name)
	default:
		notes = append(notes, fmt.Sprintf("LongRoPE: llmap runs the short factors (%s), exact up to the original context of %d positions; "+
			"the context is capped there (%s.context_length %d needs the long factors)", divisors, orig, name, c.ContextLength))
		c.ContextLength = int(orig)
	}
	return notes, nil
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
