// Package safetensors reads Hugging Face safetensors checkpoints, single
// files and sharded directories, so that llmap convert can import them.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// JSON, and the tensor bytes:
//
//	{"wte.weight": {"dtype": "F32", "shape": [21, 2], "data_offsets": [0, 168]},
//	 "__metadata__": {"format": "pt"}}
//
// data_offsets are relative to the first byte after the header. Tensors are
// row-major (C order), little-endian.
//
// Validation follows the reference implementation (the Rust safetensors
// crate): N at most 100 MB and inside the file; the header a JSON object
// without duplicate keys or trailing bytes; every dtype known; shapes
// non-negative; end-begin equal to the element count times the dtype size
// (overflow-checked); and the tensors, sorted by offset, covering the byte
// buffer exactly, back to back, with no gaps, overlaps or trailing bytes.
// Files from every standard writer satisfy this.
//
// Caveat: slices returned by TensorData point into the mapping made by Open
// or OpenDir. They are valid only until Close; using them afterwards, or
// writing to them at any time, faults. They are aligned only as well as the
// header length allows (writers pad the header to a multiple of 8).
package safetensors
