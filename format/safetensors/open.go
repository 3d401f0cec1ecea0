package safetensors

import (
	"fmt"
	"os"

	"github.com/edsrzf/mmap-go"
)

// Open maps the file at path read-only and parses it. Call Close to unmap.
// Errors name the path and wrap an [*Error] for format problems.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < 8 {
		return nil, fmt.Errorf("%s: %w", path, errorf(0, ErrTruncated, "file of %d bytes is too short for the header length", st.Size()))
	}
	m, err := mmap.Map(fh, mmap.RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	f, err := NewFile(m)
	if err != nil {
		m.Unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.unmap = m.Unmap
	return f, nil
}
