package runtime

import (
	"fmt"

	"github.com/llmap/llmap/format"
)

// DefaultContext is the number of positions a State holds unless asked
// otherwise; it is capped at the model's own context length.
const DefaultContext = 2048

// Architectures llmap runs.
const (
	ArchLlama = "llama"
	ArchGPT2  = "gpt2"
)

// Config holds a model's hyperparameters, read from the file's metadata.
type Config struct {
	Arch             string
	Dim              int // transformer width
	HiddenDim        int // feed-forward width
	NLayers          int
	NHeads           int // query heads
	NKVHeads         int // key/value heads; NHeads/NKVHeads query heads share one
	VocabSize        int
	ContextLength    int // the model's maximum number of positions
	NormEps          float32
	RopeBase         float32
	SharedClassifier bool
}

// HeadSize is the width of one attention head.
func (c *Config) HeadSize() int { return c.Dim / c.NHeads }

// KVDim is the width of the key and value vectors of one position.
func (c *Config) KVDim() int { return c.HeadSize() * c.NKVHeads }

// configFrom reads and checks the hyperparameters in meta.
func configFrom(meta *format.Metadata) (Config, error) {
	var c Config
	var err error
	if c.Arch, err = meta.String(format.KeyArchitecture); err != nil {
		return c, err
	}
	if c.Arch != ArchLlama && c.Arch != ArchGPT2 {
		return c, fmt.Errorf("unknown architecture %q (llmap runs %q and %q)", c.Arch, ArchLlama, ArchGPT2)
	}
	ints := []struct {
		key string
		dst *int
	}{
		{format.KeyDim, &c.Dim}, {format.KeyHiddenDim, &c.HiddenDim}, {format.KeyNLayers, &c.NLayers},
		{format.KeyNHeads, &c.NHeads}, {format.KeyNKVHeads, &c.NKVHeads},
		{format.KeyVocabSize, &c.VocabSize}, {format.KeyContextLength, &c.ContextLength},
	}
	for _, f := range ints {
		v, err := meta.U32(f.key)
		if err != nil {
			return c, err
		}
		if v == 0 || v > 1<<24 {
			return c, fmt.Errorf("metadata %s = %d is out of range", f.key, v)
		}
		*f.dst = int(v)
	}
	if c.NormEps, err = meta.F32(format.KeyNormEps); err != nil {
		return c, err
	}
	if !(c.NormEps > 0 && c.NormEps < 1) {
		return c, fmt.Errorf("metadata %s = %g is out of range", format.KeyNormEps, c.NormEps)
	}
	if c.Arch == ArchLlama {
		if c.RopeBase, err = meta.F32(format.KeyRopeBase); err != nil {
			return c, err
		}
		if !(c.RopeBase > 1) {
			return c, fmt.Errorf("metadata %s = %g is out of range", format.KeyRopeBase, c.RopeBase)
		}
	}
	if v, ok := meta.Get(format.KeySharedClassifier); ok && v.Kind() == format.KindBool {
		c.SharedClassifier, _ = meta.Bool(format.KeySharedClassifier)
	}
	if c.Dim%c.NHeads != 0 {
		return c, fmt.Errorf("dim %d is not a multiple of n_heads %d", c.Dim, c.NHeads)
	}
	if c.NHeads%c.NKVHeads != 0 {
		return c, fmt.Errorf("n_heads %d is not a multiple of n_kv_heads %d", c.NHeads, c.NKVHeads)
	}
	if c.Arch == ArchLlama && c.HeadSize()%2 != 0 {
		return c, fmt.Errorf("head size %d is odd; RoPE rotates pairs", c.HeadSize())
	}
	return c, nil
}
