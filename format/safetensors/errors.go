package safetensors

import (
	"errors"
	"fmt"
)

// Sentinel errors grouping every [*Error]; test with errors.Is.
var (
	// ErrTruncated means the file is shorter than its header claims.
	ErrTruncated = errors.New("truncated")
	// ErrInvalid means the header or the index is malformed or lies about
	// the data.
	ErrInvalid = errors.New("invalid")
	// ErrUnsupported means a valid tensor has a dtype llmap cannot import.
	ErrUnsupported = errors.New("unsupported")
)

// Error reports a problem in a safetensors file or index.
type Error struct {
	Off int64  // byte offset in the file the problem refers to (0 for the header length, 8 for the JSON header)
	Msg string // what was wrong, naming the tensor or shard
	Err error  // ErrTruncated, ErrInvalid or ErrUnsupported
}

func (e *Error) Error() string {
	return fmt.Sprintf("safetensors: offset %d: %s", e.Off, e.Msg)
}

// Unwrap returns the sentinel the error belongs to.
func (e *Error) Unwrap() error { return e.Err }

func errorf(off int64, kind error, format string, args ...any) *Error {
	return &Error{Off: off, Msg: fmt.Sprintf(format, args...), Err: kind}
}
