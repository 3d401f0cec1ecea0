package arch

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// HF is how a family's Hugging Face checkpoints look: the config.json
// names that select it, where its tensors are, and how its hyperparameters
// are spelled. The tensor names and layouts are in the family's table.
type HF struct {
	// Architectures are config.json "architectures" entries that mean
	// this family; ModelType is its "model_type", used when
	// "architectures" is absent.
	Architectures []string
	ModelType     string
	// Prefixes are tried in order before every tensor name: GPT-2's
	// GPT2LMHeadModel nests the model under "transformer.", GPT2Model
	// does not.
	Prefixes []string
	// TiedByDefault is tie_word_embeddings when config.json leaves it out.
	TiedByDefault bool
	// Config reads the hyperparameters from config.json, with the
	// family's defaults, and rejects options llmap does not run.
	// SharedClassifier is decided by the importer from
	// tie_word_embeddings and the tensors present. It may also leave
	// notes for the user and tensors computed from config.json (j.Note,
	// j.Derive).
	Config func(j *HFConfig) (Config, error)
}

// HFConfig is a parsed config.json whose values a family reads by key.
// Reading it with the family's HF.Config may also leave notes and
// derived tensors on it.
type HFConfig struct {
	raw     map[string]json.RawMessage
	notes   []string
	derived map[Role][]float32
}

// Note records a line the importer shows the user: an option of
// config.json that llmap runs in a way worth knowing about.
func (j *HFConfig) Note(format string, args ...any) {
	j.notes = append(j.notes, fmt.Sprintf(format, args...))
}

// Notes are the lines recorded by Note, in order.
func (j *HFConfig) Notes() []string { return j.notes }

// Derive records the values of the tensor of role r (a vector outside
// the blocks) that Hugging Face keeps in config.json rather than in the
// checkpoint: LLaMA 3's RoPE frequency divisors, computed from
// rope_scaling. The importer writes it under the family's name for r.
func (j *HFConfig) Derive(r Role, v []float32) {
	if j.derived == nil {
		j.derived = map[Role][]float32{}
	}
	j.derived[r] = v
}

// Derived returns the values recorded by Derive for role r, nil if none.
func (j *HFConfig) Derived(r Role) []float32 { return j.derived[r] }

// ParseHFConfig parses the text of a config.json.
func ParseHFConfig(data []byte) (*HFConfig, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		raw = map[string]json.RawMessage{}
	}
	return &HFConfig{raw: raw}, nil
}

// Has reports whether key is present and not null.
func (j *HFConfig) Has(key string) bool {
	v, ok := j.raw[key]
	return ok && string(v) != "null"
}

// Raw returns key's JSON text, nil if absent.
func (j *HFConfig) Raw(key string) json.RawMessage { return j.raw[key] }

// Int returns the first of keys that is present as an integer, def if none.
func (j *HFConfig) Int(def int, keys ...string) int {
	for _, k := range keys {
		var v int
		if j.Has(k) && json.Unmarshal(j.raw[k], &v) == nil {
			return v
		}
	}
	return def
}

// Float returns key as a number, def if absent.
func (j *HFConfig) Float(key string, def float64) float64 {
	var v float64
	if j.Has(key) && json.Unmarshal(j.raw[key], &v) == nil {
		return v
	}
	return def
}

// String returns key as a string, "" if absent.
func (j *HFConfig) String(key string) string {
	var v string
	if j.Has(key) {
		_ = json.Unmarshal(j.raw[key], &v) // a non-string reads as ""
	}
	return v
}

// Bool returns key as a boolean and whether it is present as one.
func (j *HFConfig) Bool(key string) (v, ok bool) {
	if j.Has(key) && json.Unmarshal(j.raw[key], &v) == nil {
		return v, true
	}
	return false, false
}

// Architectures is the "architectures" list.
func (j *HFConfig) Architectures() []string {
	var a []string
	if j.Has("architectures") {
		_ = json.Unmarshal(j.raw["architectures"], &a) // not a list reads as none
	}
	return a
}

// HFFamily returns the family config.json names, by "architectures" or,
// without it, by "model_type", and the Hugging Face architecture that
// selected it.
func HFFamily(j *HFConfig) (f *Family, hfArch string, err error) {
	archs := j.Architectures()
	for _, a := range archs {
		for _, f := range Families() {
			if slices.Contains(f.HF.Architectures, a) {
				return f, a, nil
			}
		}
	}
	if len(archs) == 0 {
		mt := j.String("model_type")
		for _, f := range Families() {
			if f.HF.ModelType != "" && f.HF.ModelType == mt {
				return f, f.HF.Architectures[0], nil
			}
		}
	}
	var known []string
	for _, f := range Families() {
		known = append(known, f.HF.Architectures...)
	}
	return nil, "", fmt.Errorf("unknown architecture %v (model_type %q): llmap imports %s",
		archs, j.String("model_type"), strings.Join(known, ", "))
}

// decoderHF reads the config.json keys that LLaMA-like decoders (LLaMA,
// Mistral, Qwen, Phi-3) share, with Hugging Face's names: hidden_size,
// intermediate_size, num_hidden_layers, num_attention_heads,
// num_key_value_heads (default: heads), head_dim (default: headDim, or
// hidden_size/heads when headDim is 0), vocab_size,
// max_position_embeddings, rms_norm_eps (default eps), rope_theta
// (default theta); and rejects an activation other than SiLU.
func decoderHF(j *HFConfig, arch string, headDim int, eps, theta float64) (Config, error) {
	c := Config{
		Arch: arch, Dim: j.Int(0, "hidden_size"), HiddenDim: j.Int(0, "intermediate_size"),
		NLayers: j.Int(0, "num_hidden_layers"), NHeads: j.Int(0, "num_attention_heads"),
		VocabSize: j.Int(0, "vocab_size"), ContextLength: j.Int(0, "max_position_embeddings"),
		NormEps: float32(j.Float("rms_norm_eps", eps)), RopeBase: float32(j.Float("rope_theta", theta)),
	}
	c.NKVHeads = j.Int(c.NHeads, "num_key_value_heads")
	d, nh, nkv := c.Dim, c.NHeads, c.NKVHeads
	switch {
	case d <= 0 || c.HiddenDim <= 0 || c.NLayers <= 0 || nh <= 0 || nkv <= 0 || c.VocabSize <= 0 || c.ContextLength <= 0:
		return c, fmt.Errorf("hidden_size %d, intermediate_size %d, num_hidden_layers %d, num_attention_heads %d, num_key_value_heads %d, vocab_size %d, max_position_embeddings %d must be positive",
			d, c.HiddenDim, c.NLayers, nh, nkv, c.VocabSize, c.ContextLength)
	case nh%nkv != 0:
		return c, fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d", nh, nkv)
	case j.String("hidden_act") != "" && j.String("hidden_act") != "silu":
		return c, fmt.Errorf("hidden_act %q is not supported (want silu)", j.String("hidden_act"))
	}
	if headDim == 0 {
		if d%nh != 0 {
			return c, fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d (and head_dim is not given)", d, nh)
		}
		headDim = d / nh
	}
	c.HeadSize = j.Int(headDim, "head_dim")
	if c.HeadSize <= 0 || c.HeadSize%2 != 0 {
		return c, fmt.Errorf("head_dim %d is not a positive even number", c.HeadSize)
	}
	return c, nil
}

// noBias rejects the config.json switches that add biases a family's
// table does not have.
func noBias(j *HFConfig, keys ...string) error {
	for _, k := range keys {
		if b, _ := j.Bool(k); b {
			return fmt.Errorf("%s is not supported", k)
		}
	}
	return nil
}

// slidingWindow sets c.SlidingWindow from config.json's sliding_window
// (when on: Qwen 2 also needs use_sliding_window) and notes what it means
// for llmap's contexts. A window as long as the model's context has no
// effect and is not kept.
func slidingWindow(j *HFConfig, c *Config, on bool) {
	w := j.Int(0, "sliding_window")
	if !on || w <= 0 {
		return
	}
	if w >= c.ContextLength {
		j.Note("sliding_window %d is no shorter than the model's context of %d positions: no effect", w, c.ContextLength)
		return
	}
	c.SlidingWindow = w
	j.Note("sliding_window %d: each position attends to itself and the %d before it, as Hugging Face computes it; "+
		"contexts of up to %d positions are not affected (llmap's default is 2048)", w, w-1, w)
}
