// Package gguf reads GGUF files (versions 2 and 3), the model format of
// llama.cpp and ggml, so that llmap convert can import their metadata,
// tokenizer and tensors.
//
// A GGUF file is, all little-endian:
//
//	magic "GGUF", u32 version, u64 tensor count, u64 metadata count
//	metadata: (string key, u32 value type, value) repeated
//	tensor infos: (string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset) repeated
//	padding to general.alignment (default 32)
//	tensor data; each tensor at DataOffset + offset
//
// where a string is a u64 byte length followed by the bytes, and ne[0] is the
// innermost (contiguous) dimension.
//
// [NewFile] parses a byte slice; [Open] maps a file read-only and parses the
// mapping. Every count, length, dimension and offset read from the file is
// checked against the bytes that remain before anything is allocated, so a
// corrupt or hostile file yields an [*Error] rather than a panic or a huge
// allocation. Compared with ggml's reader the checks are the same except that
// tensors need not be packed back to back: they must be aligned, inside the
// file and must not overlap.
//
// Caveat: slices returned by [File.TensorData] point into the mapping made by
// [Open]. They are valid only until [File.Close]; using them afterwards, or
// writing to them at any time, faults. Metadata (keys, strings, arrays) is
// copied out of the mapping and stays valid after Close.
package gguf
