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
	meta := ck.Config.Metadata(name, sourceName(ck.Version))
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
