package convert

import "github.com/llmap/llmap/format"

// Hyperparameters are the model.* metadata every source model sets, so that
// each reader fills one struct and the keys are written in one place, in
// the order llmap's own files use.
type Hyperparameters struct {
	Arch                               string // format.ArchLlama or format.ArchGPT2
	Dim, HiddenDim, NLayers, NHeads    int
	NKVHeads, VocabSize, ContextLength int
	NormEps                            float32
	RopeBase                           float32 // 0: no RoPE (GPT-2), the key is left out
	SharedClassifier                   bool
}

// Metadata returns a new Metadata holding the architecture, name and source
// and the hyperparameters; the caller adds the tokenizer keys.
func (h Hyperparameters) Metadata(name, source string) *format.Metadata {
	m := &format.Metadata{}
	m.Set(format.KeyArchitecture, format.String(h.Arch))
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
		{format.KeyDim, h.Dim}, {format.KeyHiddenDim, h.HiddenDim}, {format.KeyNLayers, h.NLayers},
		{format.KeyNHeads, h.NHeads}, {format.KeyNKVHeads, h.NKVHeads}, {format.KeyVocabSize, h.VocabSize},
		{format.KeyContextLength, h.ContextLength},
	} {
		m.Set(kv.key, format.U32(uint32(kv.v)))
	}
	m.Set(format.KeyNormEps, format.F32(h.NormEps))
	if h.RopeBase != 0 {
		m.Set(format.KeyRopeBase, format.F32(h.RopeBase))
	}
	m.Set(format.KeySharedClassifier, format.Bool(h.SharedClassifier))
	return m
}
