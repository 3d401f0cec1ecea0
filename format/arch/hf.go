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
	// tie_word_embeddings and the tensors present.
	Config func(j *HFConfig) (Config, error)
}

// HFConfig is a parsed config.json whose values a family reads by key.
type HFConfig struct {
	raw map[string]json.RawMessage
}

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
