package convert

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
)

// Shapes are the named shapes llmap synth knows: real LLaMA models'
// dimensions, for benchmarks and tests, since no pretrained model of these
// sizes is at hand. Each is a complete llama Config (SetDefaults fills
// the head size, epsilon and RoPE base).
var Shapes = map[string]arch.Config{
	"stories260K":    {Arch: "llama", Dim: 64, HiddenDim: 172, NLayers: 5, NHeads: 8, NKVHeads: 4, VocabSize: 512, ContextLength: 512},
	"stories15M":     {Arch: "llama", Dim: 288, HiddenDim: 768, NLayers: 6, NHeads: 6, NKVHeads: 6, VocabSize: 32000, ContextLength: 256},
	"stories110M":    {Arch: "llama", Dim: 768, HiddenDim: 2048, NLayers: 12, NHeads: 12, NKVHeads: 12, VocabSize: 32000, ContextLength: 1024},
	"tinyllama-1.1b": {Arch: "llama", Dim: 2048, HiddenDim: 5632, NLayers: 22, NHeads: 32, NKVHeads: 4, VocabSize: 32000, ContextLength: 2048},
	"llama2-7b":      {Arch: "llama", Dim: 4096, HiddenDim: 11008, NLayers: 32, NHeads: 32, NKVHeads: 32, VocabSize: 32000, ContextLength: 4096},
}

// ShapeNames lists the named shapes, sorted.
func ShapeNames() []string { return slices.Sorted(maps.Keys(Shapes)) }

// synthStd is the standard deviation of synthetic weights: small enough that
// activations stay finite through any number of layers.
const synthStd = 0.02

// maxSynthSize caps each size of a synthetic model, far above any shape
// above, so that a mistyped flag fails at once.
const maxSynthSize = 1 << 20

// Synth describes a model of configuration c (any family of format/arch;
// zero fields get the defaults of Config.SetDefaults) with random weights
// drawn from N(0, 0.02²): every tensor of the family's table except the
// optional ones, norm weights 1. Every row is generated from its own
// seeded stream, so the model is the same for a seed whatever the output
// type, and writing it needs memory for one row only.
func Synth(name string, c arch.Config, seed uint64) (*Model, error) {
	if c.Arch == "" {
		c.Arch = arch.Llama.Name
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	for _, v := range []int{c.Dim, c.HiddenDim, c.NLayers, c.NHeads, c.VocabSize, c.ContextLength} {
		if v > maxSynthSize {
			return nil, fmt.Errorf("size %d is out of range for a synthetic model (1..%d)", v, maxSynthSize)
		}
	}
	if c.VocabSize < 259 {
		return nil, fmt.Errorf("vocab_size %d is too small: the tokenizer needs 3 special and 256 byte tokens", c.VocabSize)
	}
	f, _ := c.Family() // Validate checked it
	meta := c.Metadata(name, fmt.Sprintf("llmap synth, seed %d: random weights, not a trained model", seed))
	tokens, scores := synthVocab(c.VocabSize)
	meta.Set(format.KeyTokenizerKind, format.String(format.TokenizerLlama))
	meta.Set(format.KeyTokenizerTokens, format.Strings(tokens))
	meta.Set(format.KeyTokenizerScores, format.F32s(scores))
	meta.Set(format.KeyTokenizerBOSID, format.I32(1))
	meta.Set(format.KeyTokenizerEOSID, format.I32(2))
	meta.Set(format.KeyTokenizerAddBOS, format.Bool(true))

	m := &Model{Meta: meta}
	for _, e := range f.Entries(&c) {
		if !e.Required(&c) {
			continue
		}
		id := uint64(len(m.Tensors))
		t := Tensor{Name: e.Name, Shape: e.Shape}
		switch e.Role {
		case arch.RoleAttnNorm, arch.RoleFFNNorm, arch.RoleOutputNorm, arch.RoleAttnQNorm, arch.RoleAttnKNorm:
			t.Row = func(_ int, dst []float32) {
				for i := range dst {
					dst[i] = 1
				}
			}
		default:
			t.Row = func(r int, dst []float32) {
				rng := rand.New(rand.NewPCG(seed, id<<40|uint64(r)))
				for i := range dst {
					dst[i] = float32(rng.NormFloat64() * synthStd)
				}
			}
		}
		m.Tensors = append(m.Tensors, t)
	}
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
