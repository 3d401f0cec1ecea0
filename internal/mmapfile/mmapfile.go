// Package mmapfile maps a whole file read-only: the one way llmap's readers
// (format, format/gguf, format/safetensors, format/llama2c) open a file.
package mmapfile

import (
	"fmt"
	"os"

	mmap "github.com/edsrzf/mmap-go"
)

// Mapping is a read-only mapping of a whole file. Its bytes are valid until
// Close; writing to them faults.
type Mapping struct {
	m       mmap.MMap // nil for an empty file, which cannot be mapped
	aligned []byte    // the mapping made by mapAligned (Linux), instead of m
}

// Open maps the file at path read-only. An empty file gives an empty
// mapping (mmap cannot map zero bytes), so parsers report it as truncated
// like any other short file. Errors come from os.Open, or name the path.
func Open(path string) (*Mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() == 0 {
		return &Mapping{}, nil
	}
	if b, err := mapAligned(f, st.Size()); err == nil && b != nil {
		return &Mapping{aligned: b}, nil
	}
	m, err := mmap.Map(f, mmap.RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	return &Mapping{m: m}, nil
}

// Bytes returns the mapped file.
func (m *Mapping) Bytes() []byte {
	if m.aligned != nil {
		return m.aligned
	}
	return m.m
}

// Close unmaps the file. It is safe to call more than once.
func (m *Mapping) Close() error {
	if m == nil {
		return nil
	}
	if m.aligned != nil {
		err := unmapAligned(m.aligned)
		m.aligned = nil
		return err
	}
	if m.m == nil {
		return nil
	}
	err := m.m.Unmap()
	m.m = nil
	return err
}
