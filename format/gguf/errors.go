package gguf

import (
	"errors"
	"fmt"
)

// Sentinel errors grouping every [*Error]; test with errors.Is.
var (
	// ErrTruncated means the data ends inside a field, or a count or length
	// claims more bytes than remain.
	ErrTruncated = errors.New("truncated")
	// ErrInvalid means a field holds a value the format does not allow.
	ErrInvalid = errors.New("invalid")
	// ErrUnsupported means a well-formed file uses a feature this package or
	// llmap does not handle (GGUF v1, big-endian files, an element type that
	// llmap cannot import).
	ErrUnsupported = errors.New("unsupported")
)

// Error reports a problem at a byte offset of a GGUF file.
type Error struct {
	Off int64  // byte offset of the offending field from the start of the file
	Msg string // what was wrong, naming the metadata key or tensor
	Err error  // ErrTruncated, ErrInvalid or ErrUnsupported
}

func (e *Error) Error() string {
	return fmt.Sprintf("gguf: offset %d: %s", e.Off, e.Msg)
}

// Unwrap returns the sentinel the error belongs to.
func (e *Error) Unwrap() error { return e.Err }

func errorf(off int64, kind error, format string, args ...any) *Error {
	return &Error{Off: off, Msg: fmt.Sprintf(format, args...), Err: kind}
}
