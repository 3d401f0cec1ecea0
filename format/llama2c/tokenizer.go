// Package llama2c reads llama2.c checkpoints and tokenizer files.
package llama2c

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Tokenizer is the content of a llama2.c tokenizer.bin: one piece and one
// SentencePiece score per token id.
type Tokenizer struct {
	// MaxTokenLength is the header's longest piece length in bytes. Every
	// piece is checked against it, because run.c sizes its merge buffer
	// from it.
	MaxTokenLength int
	Pieces         []string  // (vocabSize,) token id -> piece bytes ("▁" already replaced by " ")
	Scores         []float32 // (vocabSize,) token id -> merge score; higher merges first
}

// TokenizerError reports malformed tokenizer data: which record (token id,
// or -1 for the header) and the byte offset at which the problem was found.
type TokenizerError struct {
	Record int   // token id of the record, -1 for the file header
	Offset int64 // byte offset into the data
	Msg    string
}

func (e *TokenizerError) Error() string {
	if e.Record < 0 {
		return fmt.Sprintf("llama2c tokenizer: header at offset %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("llama2c tokenizer: record %d at offset %d: %s", e.Record, e.Offset, e.Msg)
}

const (
	tokenizerHeaderSize = 4 // u32 max_token_length
	recordHeaderSize    = 8 // f32 score + i32 len
)

// ReadTokenizer parses a llama2.c tokenizer.bin (layout in
// /work/shared/models/FORMATS.md): a u32 max_token_length, then records of
// f32 score, i32 len and len bytes of piece.
//
// vocabSize comes from the model header (it is not stored in the file). If
// vocabSize <= 0, records are read until the end of the data (useful for
// `llmap tokenize --tokenizer tokenizer.bin`).
//
// Trailing data: run.c ignores bytes after the last record it needs, but
// ReadTokenizer rejects them when vocabSize > 0. A tokenizer with more
// records than the model's vocabulary is almost always the wrong tokenizer
// for the model (for example tokenizer.bin paired with stories260K), and
// silently truncating it would give wrong text rather than an error.
//
// All errors are *TokenizerError. Nothing is allocated from a size claimed by
// the file before it has been checked against len(data); the returned
// strings are copies, so data may be unmapped afterwards.
func ReadTokenizer(data []byte, vocabSize int) (*Tokenizer, error) {
	if len(data) < tokenizerHeaderSize {
		return nil, &TokenizerError{Record: -1, Offset: 0,
			Msg: fmt.Sprintf("data is %d bytes, need at least %d for max_token_length", len(data), tokenizerHeaderSize)}
	}
	maxLen := binary.LittleEndian.Uint32(data)
	// Piece lengths are i32, so a larger maximum is meaningless.
	if maxLen > math.MaxInt32 {
		return nil, &TokenizerError{Record: -1, Offset: 0,
			Msg: fmt.Sprintf("max_token_length %d exceeds the largest i32 piece length", maxLen)}
	}
	body := len(data) - tokenizerHeaderSize
	capacity := body / recordHeaderSize // upper bound on the number of records
	if vocabSize > capacity {
		return nil, &TokenizerError{Record: -1, Offset: 0,
			Msg: fmt.Sprintf("vocab size %d needs at least %d bytes of records, data has %d",
				vocabSize, int64(vocabSize)*recordHeaderSize, body)}
	}
	n := vocabSize
	if n <= 0 {
		var err error
		if n, err = countRecords(data); err != nil {
			return nil, err
		}
	}
	t := &Tokenizer{
		MaxTokenLength: int(maxLen),
		Pieces:         make([]string, n),
		Scores:         make([]float32, n),
	}
	off := tokenizerHeaderSize
	for i := 0; i < n; i++ {
		score, length, err := readRecordHeader(data, off, i, maxLen)
		if err != nil {
			return nil, err
		}
		start := off + recordHeaderSize
		t.Scores[i] = score
		t.Pieces[i] = string(data[start : start+length])
		off = start + length
	}
	if off != len(data) {
		return nil, &TokenizerError{Record: n, Offset: int64(off),
			Msg: fmt.Sprintf("%d trailing bytes after the last of %d records", len(data)-off, n)}
	}
	return t, nil
}

// readRecordHeader validates record i starting at off and returns its score
// and piece length; the piece bytes are known to lie inside data.
func readRecordHeader(data []byte, off, i int, maxLen uint32) (float32, int, error) {
	if len(data)-off < recordHeaderSize {
		return 0, 0, &TokenizerError{Record: i, Offset: int64(off),
			Msg: fmt.Sprintf("truncated: %d bytes left, need %d for score and length", len(data)-off, recordHeaderSize)}
	}
	score := math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
	length := int32(binary.LittleEndian.Uint32(data[off+4:]))
	if length < 0 {
		return 0, 0, &TokenizerError{Record: i, Offset: int64(off + 4),
			Msg: fmt.Sprintf("negative piece length %d", length)}
	}
	if uint32(length) > maxLen {
		return 0, 0, &TokenizerError{Record: i, Offset: int64(off + 4),
			Msg: fmt.Sprintf("piece length %d exceeds max_token_length %d", length, maxLen)}
	}
	if int64(length) > int64(len(data)-off-recordHeaderSize) {
		return 0, 0, &TokenizerError{Record: i, Offset: int64(off + 4),
			Msg: fmt.Sprintf("truncated: piece length %d, only %d bytes left", length, len(data)-off-recordHeaderSize)}
	}
	return score, int(length), nil
}

// countRecords walks the records to the end of data and returns how many
// there are; a partial last record is an error.
func countRecords(data []byte) (int, error) {
	maxLen := binary.LittleEndian.Uint32(data)
	n := 0
	for off := tokenizerHeaderSize; off < len(data); n++ {
		_, length, err := readRecordHeader(data, off, n, maxLen)
		if err != nil {
			return 0, err
		}
		off += recordHeaderSize + length
	}
	return n, nil
}
