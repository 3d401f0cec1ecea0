package tokenizer

import "github.com/llmap/llmap/format"

// Token types, GGUF's numbering (format.TokenType*), as in tokenizer.token_types.
const (
	TypeNormal      = format.TokenTypeNormal
	TypeUnknown     = format.TokenTypeUnknown
	TypeControl     = format.TokenTypeControl
	TypeUserDefined = format.TokenTypeUserDefined
	TypeUnused      = format.TokenTypeUnused
	TypeByte        = format.TokenTypeByte
)
