package format

import (
	"fmt"
	"io"
	"math"
	"os"
)

// OpenInMemory reads the whole file at path into anonymous memory and
// parses it with NewFile: the weights no longer depend on the file (it may
// be changed or deleted afterwards) and cost their full size in RSS, as
// llama.cpp's --no-mmap does. The memory is page aligned, like a mapping,
// so zero-copy float32 views work; Close releases it. Data is not a file
// mapping: the paging helpers (WillNeed, DontNeed, Resident) return
// ErrNotMapped.
func OpenInMemory(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < FixedHeaderSize {
		return Open(path) // reports the short file exactly as Open does
	}
	if size > math.MaxInt {
		return nil, fmt.Errorf("%s: file of %d bytes is too large to read into memory", path, size)
	}
	buf, err := allocPages(int(size))
	if err != nil {
		return nil, fmt.Errorf("%s: allocating %d bytes: %w", path, size, err)
	}
	_ = adviseHuge(buf) // before the read touches it: 2 MiB pages from the start
	if _, err := io.ReadFull(fd, buf); err != nil {
		_ = freePages(buf)
		return nil, fmt.Errorf("%s: reading into memory: %w", path, err)
	}
	f, err := NewFile(buf)
	if err != nil {
		_ = freePages(buf)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.path = path
	f.heap = buf
	return f, nil
}
