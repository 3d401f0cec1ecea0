package arch

import (
	"fmt"

	"github.com/llmap/llmap/format"
)

// Config holds a model's hyperparameters. It is the one such type: the
// readers of foreign formats fill it, convert writes it as the model.*
// metadata of a .llmap file, and the runtime reads it back from there.
type Config struct {
	Arch             string  // family name (Family.Name), general.architecture
	Dim              int     // residual stream width
	HiddenDim        int     // feed-forward inner width
	NLayers          int     // transformer blocks
	NHeads           int     // query heads
	NKVHeads         int     // key/value heads; NHeads/NKVHeads query heads share one
	HeadSize         int     // width of one head; usually Dim/NHeads
	VocabSize        int     // tokens, rows of the embedding
	ContextLength    int     // the model's maximum number of positions
	NormEps          float32 // epsilon of the family's norm
	RopeBase         float32 // RoPE base frequency θ; 0 for families without RoPE
	SharedClassifier bool    // the classifier is the token embedding (no output.weight)

	// RopeAttnFactor multiplies RoPE's cosines and sines, so every
	// attention score by its square: LongRoPE's attention factor
	// (Phi-3 128k, Phi-3.5). 0 means none (1).
	RopeAttnFactor float32
	// SlidingWindow, if > 0, is the number of positions a query
	// attends to: itself and the SlidingWindow-1 before it (Mistral
	// v0.1, Phi-3 mini 4k). 0 means the whole context.
	SlidingWindow int
}

// QDim is the width of the query vector of one position: NHeads·HeadSize.
func (c *Config) QDim() int { return c.NHeads * c.HeadSize }

// KVDim is the width of the key and value vectors of one position.
func (c *Config) KVDim() int { return c.NKVHeads * c.HeadSize }

// Family returns the family c.Arch names.
func (c *Config) Family() (*Family, error) { return Lookup(c.Arch) }

// MaxSize bounds every size hyperparameter. It is far above any published
// model and keeps every shape product well inside int64.
const MaxSize = 1 << 24

// SetDefaults fills the hyperparameters left zero that have a usual value:
// HeadSize Dim/NHeads (when it divides), NKVHeads NHeads, and the family's
// default epsilon and RoPE base (not for an unknown family).
func (c *Config) SetDefaults() {
	if c.NKVHeads == 0 {
		c.NKVHeads = c.NHeads
	}
	if c.HeadSize == 0 && c.NHeads > 0 && c.Dim%c.NHeads == 0 {
		c.HeadSize = c.Dim / c.NHeads
	}
	f, err := Lookup(c.Arch)
	if err != nil {
		return
	}
	if c.NormEps == 0 {
		c.NormEps = f.NormEps
	}
	if c.RopeBase == 0 && f.Position.RoPE() {
		c.RopeBase = f.RopeBase
	}
}

// Validate checks that c describes a model the family can run: sizes in
// range, heads that share key/value heads in whole groups, an even head
// size for RoPE.
func (c *Config) Validate() error {
	f, err := Lookup(c.Arch)
	if err != nil {
		return err
	}
	if c.HeadSize == 0 && c.NHeads > 0 && c.Dim%c.NHeads != 0 {
		return fmt.Errorf("dim %d is not a multiple of n_heads %d", c.Dim, c.NHeads)
	}
	for _, v := range []struct {
		name string
		v    int
	}{
		{"dim", c.Dim}, {"hidden_dim", c.HiddenDim}, {"n_layers", c.NLayers}, {"n_heads", c.NHeads},
		{"n_kv_heads", c.NKVHeads}, {"head_size", c.HeadSize}, {"vocab_size", c.VocabSize},
		{"context_length", c.ContextLength},
	} {
		if v.v <= 0 || v.v > MaxSize {
			return fmt.Errorf("%s %d is out of range (1..%d)", v.name, v.v, MaxSize)
		}
	}
	switch {
	case c.NHeads%c.NKVHeads != 0:
		return fmt.Errorf("n_heads %d is not a multiple of n_kv_heads %d", c.NHeads, c.NKVHeads)
	case int64(c.NHeads)*int64(c.HeadSize) > MaxSize:
		return fmt.Errorf("n_heads %d × head_size %d is too large", c.NHeads, c.HeadSize)
	case !(c.NormEps > 0 && c.NormEps < 1):
		return fmt.Errorf("norm_eps %g is out of range (0..1)", c.NormEps)
	case c.SlidingWindow < 0 || c.SlidingWindow > MaxSize:
		return fmt.Errorf("sliding_window %d is out of range (0..%d)", c.SlidingWindow, MaxSize)
	case c.RopeAttnFactor != 0 && !(c.RopeAttnFactor > 0 && c.RopeAttnFactor <= 100 && f.Position.RoPE()):
		return fmt.Errorf("rope_attn_factor %g is out of range (0..100, RoPE families only)", c.RopeAttnFactor)
	}
	if f.Position.RoPE() {
		if c.HeadSize%2 != 0 {
			return fmt.Errorf("head size %d is odd; RoPE rotates pairs", c.HeadSize)
		}
		if !(c.RopeBase > 1) {
			return fmt.Errorf("rope_base %g is out of range (> 1)", c.RopeBase)
		}
	}
	return nil
}

// FromMetadata reads and checks the hyperparameters of a .llmap file
// (format/SPEC.md, "Standard metadata keys"). Keys a family does not use
// (model.rope_base without RoPE) are ignored; model.head_size defaults to
// dim/n_heads.
func FromMetadata(meta *format.Metadata) (Config, error) {
	var c Config
	var err error
	if c.Arch, err = meta.String(format.KeyArchitecture); err != nil {
		return c, err
	}
	f, err := Lookup(c.Arch)
	if err != nil {
		return c, err
	}
	ints := []struct {
		key string
		dst *int
	}{
		{format.KeyDim, &c.Dim}, {format.KeyHiddenDim, &c.HiddenDim}, {format.KeyNLayers, &c.NLayers},
		{format.KeyNHeads, &c.NHeads}, {format.KeyNKVHeads, &c.NKVHeads},
		{format.KeyVocabSize, &c.VocabSize}, {format.KeyContextLength, &c.ContextLength},
		{format.KeyHeadSize, &c.HeadSize},
	}
	for _, k := range ints {
		if _, present := meta.Get(k.key); !present && k.key == format.KeyHeadSize {
			break // optional: SetDefaults derives it
		}
		v, err := meta.U32(k.key)
		if err != nil {
			return c, err
		}
		if v == 0 || v > MaxSize {
			return c, fmt.Errorf("metadata %s = %d is out of range (1..%d)", k.key, v, MaxSize)
		}
		*k.dst = int(v)
	}
	if c.HeadSize == 0 && c.Dim%c.NHeads == 0 { // NHeads > 0: read above
		c.HeadSize = c.Dim / c.NHeads
	}
	if c.NormEps, err = meta.F32(format.KeyNormEps); err != nil {
		return c, err
	}
	if f.Position.RoPE() {
		if c.RopeBase, err = meta.F32(format.KeyRopeBase); err != nil {
			return c, err
		}
	}
	if v, ok := meta.Get(format.KeySharedClassifier); ok && v.Kind() == format.KindBool {
		c.SharedClassifier, _ = meta.Bool(format.KeySharedClassifier)
	}
	if _, ok := meta.Get(format.KeyRopeAttnFactor); ok {
		if c.RopeAttnFactor, err = meta.F32(format.KeyRopeAttnFactor); err != nil {
			return c, err
		}
	}
	if _, ok := meta.Get(format.KeySlidingWindow); ok {
		v, err := meta.U32(format.KeySlidingWindow)
		if err != nil {
			return c, err
		}
		if v > MaxSize {
			return c, fmt.Errorf("metadata %s = %d is out of range (0..%d)", format.KeySlidingWindow, v, MaxSize)
		}
		c.SlidingWindow = int(v)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("metadata: %w", err)
	}
	return c, nil
}

// Metadata returns a new Metadata holding the architecture, name and
// source (left out when empty) and the hyperparameters, in the order
// llmap's own files use; the caller adds the tokenizer keys.
// model.head_size is written only when it is not dim/n_heads,
// model.rope_base only for families with RoPE, model.rope_attn_factor and
// model.sliding_window only when set.
func (c *Config) Metadata(name, source string) *format.Metadata {
	m := &format.Metadata{}
	m.Set(format.KeyArchitecture, format.String(c.Arch))
	if name != "" {
		m.Set(format.KeyName, format.String(name))
	}
	if source != "" {
		m.Set(format.KeySource, format.String(source))
	}
	for _, kv := range []struct {
		key string
		v   int
	}{
		{format.KeyDim, c.Dim}, {format.KeyHiddenDim, c.HiddenDim}, {format.KeyNLayers, c.NLayers},
		{format.KeyNHeads, c.NHeads}, {format.KeyNKVHeads, c.NKVHeads}, {format.KeyVocabSize, c.VocabSize},
		{format.KeyContextLength, c.ContextLength},
	} {
		m.Set(kv.key, format.U32(uint32(kv.v)))
	}
	if c.NHeads > 0 && c.HeadSize != c.Dim/c.NHeads {
		m.Set(format.KeyHeadSize, format.U32(uint32(c.HeadSize)))
	}
	m.Set(format.KeyNormEps, format.F32(c.NormEps))
	if f, err := Lookup(c.Arch); c.RopeBase != 0 && (err != nil || f.Position.RoPE()) {
		m.Set(format.KeyRopeBase, format.F32(c.RopeBase))
	}
	m.Set(format.KeySharedClassifier, format.Bool(c.SharedClassifier))
	if c.RopeAttnFactor != 0 {
		m.Set(format.KeyRopeAttnFactor, format.F32(c.RopeAttnFactor))
	}
	if c.SlidingWindow != 0 {
		m.Set(format.KeySlidingWindow, format.U32(uint32(c.SlidingWindow)))
	}
	return m
}
