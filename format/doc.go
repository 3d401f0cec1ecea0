// Package format reads and writes .llmap files: a small typed header
// (metadata and a tensor directory) followed by tensor data laid out so that
// it can be memory-mapped and used in place. SPEC.md in this directory is the
// byte-level specification.
//
// Reading is zero-copy. Open maps the file read-only and parses only the
// header pages; NewFile does the same for bytes already in memory, so the
// parser is testable without files. Every number read from a file is
// validated before it is used, and any problem is reported as an *Error that
// names the byte offset and wraps one of ErrBadMagic, ErrVersion,
// ErrTruncated, ErrChecksum or ErrInvalid. Tensor checksums are not checked
// at open; call Verify to read and check all tensor data.
//
// Caveat: every slice returned by File.Bytes, File.Float32s and File.Data
// points into the read-only mapping. It is valid only until File.Close, and
// writing to it faults (SIGSEGV), it does not copy. Copy data you need to
// keep or modify. Metadata values are copied out of the mapping and stay
// valid after Close.
//
// Writing streams: Create validates the declared tensors and writes the
// header into a temporary file next to the target, WriteTensor copies each
// tensor from an io.Reader in declared order while computing its CRC-32C,
// and Close patches the checksums, syncs and atomically renames the file
// into place. A failed or aborted write leaves neither the target nor a
// temporary file behind.
package format
