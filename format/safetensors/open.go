package safetensors

import (
	"fmt"

	"github.com/llmap/llmap/internal/mmapfile"
)

// Open maps the file at path read-only and parses it. Call Close to unmap.
// Errors name the path and wrap an [*Error] for format problems.
func Open(path string) (*File, error) {
	m, err := mmapfile.Open(path)
	if err != nil {
		return nil, err
	}
	f, err := NewFile(m.Bytes())
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.unmap = m.Close
	return f, nil
}
