package convert

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/llmap/llmap/format"
)

// Shape is the set of hyperparameters of a synthetic LLaMA-style model.
type Shape struct {
	Dim, HiddenDim, NLayers, NHeads, NKVHeads, VocabSize, ContextLength int
}

// Shapes are the named shapes llmap synth knows: real models' dimensions,
// for benchmarks and tests, since no pretrained model of these sizes is at hand.
var Shapes = map[string]Shape{
	"stories260K":    {Dim: 64, HiddenDim: 172, NLayers: 5, NHeads: 8, NKVHeads: 4, VocabSize: 512, ContextLength: 512},
	"stories15M":     {Dim: 288, HiddenDim: 768, NLayers: 6, NHeads: 6, NKVHeads: 6, VocabSize: 32000, ContextLength: 256},
	"stories110M":    {Dim: 768, HiddenDim: 2048, NLayers: 12, NHeads: 12, NKVHeads: 12, VocabSize: 32000, ContextLength: 1024},
	"tinyllama-1.1b": {Dim: 2048, HiddenDim: 5632, NLayers: 22, NHeads: 32, NKVHeads: 4, VocabSize: 32000, ContextLength: 2048},
	"llama2-7b":      {Dim: 4096, HiddenDim: 11008, NLayers: 32, NHeads: 32, NKVHeads: 32, VocabSize: 32000, ContextLength: 4096},
}

// ShapeNames lists the named shapes, sorted.
func ShapeNames() []string {
	names := make([]string, 0, len(Shapes))
	for n := range Shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validate checks that the shape describes a runnable model.
func (s Shape) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"dim", s.Dim}, {"hidden", s.HiddenDim}, {"layers", s.NLayers}, {"heads", s.NHeads},
		{"kv-heads", s.NKVHeads}, {"vocab", s.VocabSize}, {"ctx", s.ContextLength}} {
		if f.v <= 0 || f.v > 1<<20 {
			return fmt.Errorf("--%s %d is out of range (1..%d)", f.name, f.v, 1<<20)
		}
	}
	switch {
	case s.Dim%s.NHeads != 0:
		return fmt.Errorf("--dim %d is not a multiple of --heads %d", s.Dim, s.NHeads)
	case s.NHeads%s.NKVHeads != 0:
		return fmt.Errorf("--heads %d is not a multiple of --kv-heads %d", s.NHeads, s.NKVHeads)
	case (s.Dim/s.NHeads)%2 != 0:
		return fmt.Errorf("head size %d (dim/heads) must be even", s.Dim/s.NHeads)
	case s.VocabSize < 259:
		return fmt.Errorf("--vocab %d is too small: the tokenizer needs 3 special and 256 byte tokens", s.VocabSize)
	}
	return nil
}

// synthStd is the standard deviation of synthetic weights: small enough that
// activations stay finite through any number of layers.
const synthStd = 0.02

// Synth describes a LLaMA-style model of the given shape with random
// weights drawn from N(0, 0.02²) (norm weights are 1). Every row is generated
// from its own seeded stream, so the model is the same for a seed whatever
// the output type, and writing it needs memory for one row only.
func Synth(name string, s Shape, seed uint64) (*Model, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	meta := Hyperparameters{
		Arch: format.ArchLlama, Dim: s.Dim, HiddenDim: s.HiddenDim, NLayers: s.NLayers,
		NHeads: s.NHeads, NKVHeads: s.NKVHeads, VocabSize: s.VocabSize, ContextLength: s.ContextLength,
		NormEps: 1e-5, RopeBase: 10000,
	}.Metadata(name, fmt.Sprintf("llmap synth, seed %d: random weights, not a trained model", seed))
	tokens, scores := synthVocab(s.VocabSize)
	meta.Set(format.KeyTokenizerKind, format.String(format.TokenizerLlama))
	meta.Set(format.KeyTokenizerTokens, format.Strings(tokens))
	meta.Set(format.KeyTokenizerScores, format.F32s(scores))
	meta.Set(format.KeyTokenizerBOSID, format.I32(1))
	meta.Set(format.KeyTokenizerEOSID, format.I32(2))
	meta.Set(format.KeyTokenizerAddBOS, format.Bool(true))

	m := &Model{Meta: meta}
	kv := s.Dim / s.NHeads * s.NKVHeads
	add := func(name string, shape ...int64) {
		id := uint64(len(m.Tensors))
		t := Tensor{Name: name, Shape: shape}
		if len(shape) == 1 {
			t.Row = func(_ int, dst []float32) {
				for i := range dst {
					dst[i] = 1
				}
			}
		} else {
			t.Row = func(r int, dst []float32) {
				rng := rand.New(rand.NewPCG(seed, id<<40|uint64(r)))
				for i := range dst {
					dst[i] = float32(rng.NormFloat64() * synthStd)
				}
			}
		}
		m.Tensors = append(m.Tensors, t)
	}
	d, h := int64(s.Dim), int64(s.HiddenDim)
	add(format.TensorTokenEmbd, int64(s.VocabSize), d)
	for l := 0; l < s.NLayers; l++ {
		b := func(n string) string { return format.BlockTensor(l, n) }
		add(b("attn_norm.weight"), d)
		add(b("attn_q.weight"), d, d)
		add(b("attn_k.weight"), int64(kv), d)
		add(b("attn_v.weight"), int64(kv), d)
		add(b("attn_output.weight"), d, d)
		add(b("ffn_norm.weight"), d)
		add(b("ffn_gate.weight"), h, d)
		add(b("ffn_down.weight"), d, h)
		add(b("ffn_up.weight"), h, d)
	}
	add(format.TensorOutputNorm, d)
	add(format.TensorOutput, int64(s.VocabSize), d)
	return m, nil
}

// synthVocab makes a vocabulary that the SentencePiece tokenizer accepts:
// <unk>, <s>, </s>, the 256 byte tokens, then the space and lower-case
// letter strings, shortest first, with scores that favour longer pieces.
func synthVocab(n int) ([]string, []float32) {
	tokens := []string{"<unk>", "<s>", "</s>"}
	for b := 0; b < 256; b++ {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
	}
	const alphabet = " abcdefghijklmnopqrstuvwxyz"
	for length := 1; len(tokens) < n; length++ {
		var gen func(prefix string)
		gen = func(prefix string) {
			if len(tokens) >= n {
				return
			}
			if len(prefix) == length {
				if !strings.Contains(prefix[1:], " ") {
					tokens = append(tokens, prefix)
				}
				return
			}
			for _, c := range alphabet {
				gen(prefix + string(c))
			}
		}
		gen("")
	}
	scores := make([]float32, n)
	for i := range scores {
		scores[i] = float32(len(tokens[i])) - float32(i)/float32(n)
		if i < 259 {
			scores[i] = 0
		}
	}
	return tokens[:n], scores
}
