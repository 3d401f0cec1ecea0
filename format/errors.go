package format

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every *Error returned by this package wraps exactly one of
// them, so callers can sort failures with errors.Is.
var (
	// ErrBadMagic means the data does not start with the .llmap magic.
	ErrBadMagic = errors.New("not an llmap file (bad magic)")
	// ErrVersion means the file's major version is not one this reader knows.
	ErrVersion = errors.New("unsupported llmap version")
	// ErrTruncated means the file is shorter than its header says.
	ErrTruncated = errors.New("truncated llmap file")
	// ErrChecksum means a CRC-32C (of the header or of a tensor) does not match.
	ErrChecksum = errors.New("llmap checksum mismatch")
	// ErrInvalid means a field holds a value the specification does not allow.
	ErrInvalid = errors.New("invalid llmap file")
)

// Error describes a problem at a byte offset of a .llmap file.
type Error struct {
	Off int64  // byte offset of the offending field (or tensor data)
	Msg string // what is wrong there
	Err error  // one of the sentinel errors above
}

func (e *Error) Error() string {
	s := fmt.Sprintf("offset %d: %s", e.Off, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

// errorf builds an *Error at off wrapping sentinel.
func errorf(off int64, sentinel error, format string, args ...any) *Error {
	return &Error{Off: off, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}
