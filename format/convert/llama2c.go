package convert

import (
	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/llama2c"
	"github.com/llmap/llmap/quant"
)

// FromLlama2c describes a llama2.c checkpoint and its tokenizer as a source
// model. The tensors alias the checkpoint's mapping: keep ck open until
// Write returns.
func FromLlama2c(ck *llama2c.Checkpoint, tok *llama2c.Tokenizer, name string) *Model {
	c := ck.Config
	meta := &format.Metadata{}
	meta.Set(format.KeyArchitecture, format.String("llama"))
	meta.Set(format.KeyName, format.String(name))
	meta.Set(format.KeySource, format.String(sourceName(c.Version)))
	meta.Set(format.KeyDim, format.U32(uint32(c.Dim)))
	meta.Set(format.KeyHiddenDim, format.U32(uint32(c.HiddenDim)))
	meta.Set(format.KeyNLayers, format.U32(uint32(c.NLayers)))
	meta.Set(format.KeyNHeads, format.U32(uint32(c.NHeads)))
	meta.Set(format.KeyNKVHeads, format.U32(uint32(c.NKVHeads)))
	meta.Set(format.KeyVocabSize, format.U32(uint32(c.VocabSize)))
	meta.Set(format.KeyContextLength, format.U32(uint32(c.SeqLen)))
	meta.Set(format.KeyNormEps, format.F32(1e-5))
	meta.Set(format.KeyRopeBase, format.F32(10000))
	meta.Set(format.KeySharedClassifier, format.Bool(c.SharedClassifier))
	meta.Set(format.KeyTokenizerKind, format.String("llama"))
	meta.Set(format.KeyTokenizerTokens, format.Strings(tok.Pieces))
	meta.Set(format.KeyTokenizerScores, format.F32s(tok.Scores))
	meta.Set(format.KeyTokenizerBOSID, format.I32(1))
	meta.Set(format.KeyTokenizerEOSID, format.I32(2))
	meta.Set(format.KeyTokenizerAddBOS, format.Bool(true))

	m := &Model{Meta: meta}
	for _, t := range ck.Tensors {
		ct := Tensor{Name: t.Name, Shape: t.Shape, Row: t.Row}
		if b, ok := t.F32Bytes(); ok {
			ct.Raw, ct.RawType = b, quant.F32
		}
		m.Tensors = append(m.Tensors, ct)
	}
	return m
}

func sourceName(version int) string {
	switch version {
	case llama2c.VersionFP32:
		return "llama2.c checkpoint version 1 (fp32)"
	case llama2c.VersionInt8:
		return "llama2.c checkpoint version 2 (int8)"
	}
	return "llama2.c checkpoint (legacy, version 0)"
}
