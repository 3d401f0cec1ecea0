//go:build !linux

package mmapfile

import "os"

// HugePageSize is the size of a transparent huge page on Linux; elsewhere
// mappings are not aligned to it.
const HugePageSize = 2 << 20

// mapAligned maps with 2 MiB alignment on Linux; elsewhere it returns nil
// and the file is mapped by mmap-go.
func mapAligned(*os.File, int64) ([]byte, error) { return nil, nil }

func unmapAligned([]byte) error { return nil }
