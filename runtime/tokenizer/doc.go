// Package tokenizer turns text into token ids and token ids back into bytes.
//
// Tokenizer is a model's whole tokenizer, built by New from a Spec: the
// tokenizer as data, which FromGGUF reads from a GGUF file's tokenizer.*
// keys, FromHFDir from a Hugging Face tokenizer.json with the files beside
// it, and SpecFromMetadata from a .llmap file (Spec.Metadata writes it).
// A Tokenizer matches the special tokens written in a text, normalizes the
// rest when the model asks for it (Qwen: NFC), encodes it with one of two
// encoders and adds BOS when the model's files say prompts start with it:
//
//   - SentencePiece implements the scored-BPE encoder of llama2.c's run.c,
//     which reproduces SentencePiece's LLaMA tokenizer: each UTF-8 codepoint
//     becomes a piece (or its bytes, through the "<0xHH>" byte-fallback
//     pieces), and the adjacent pair whose concatenation is the
//     highest-scoring piece is merged until no pair is a piece.
//   - BPE is the byte-level BPE of GPT-2, LLaMA 3, Qwen 2/2.5/3 and SmolLM:
//     text is split into pre-tokens by the family's expression (written out
//     as a scanner per family, bpe_pretokenize.go), and each pre-token's
//     bytes are merged by ranked merge rules.
//
// Tokenizers are immutable after construction and safe for concurrent use.
// Byte slices returned by their decoding methods point into the tokenizer's
// own storage and must not be modified.
package tokenizer

import "errors"

// ErrInvalidVocab is wrapped by the errors of tokenizer constructors given an
// inconsistent vocabulary (mismatched lengths, special ids out of range).
var ErrInvalidVocab = errors.New("tokenizer: invalid vocabulary")
