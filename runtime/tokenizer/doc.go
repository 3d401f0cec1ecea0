// Package tokenizer turns text into token ids and token ids back into bytes.
//
// SentencePiece implements the scored-BPE encoder of llama2.c's run.c, which
// reproduces SentencePiece's LLaMA tokenizer: each UTF-8 codepoint becomes a
// piece (or its bytes, through the "<0xHH>" byte-fallback pieces), and the
// adjacent pair whose concatenation is the highest-scoring piece is merged
// until no pair is a piece.
//
// Tokenizers are immutable after construction and safe for concurrent use.
// Byte slices returned by their decoding methods point into the tokenizer's
// own storage and must not be modified.
package tokenizer

import "errors"

// ErrInvalidVocab is wrapped by the errors of tokenizer constructors given an
// inconsistent vocabulary (mismatched lengths, special ids out of range).
var ErrInvalidVocab = errors.New("tokenizer: invalid vocabulary")
