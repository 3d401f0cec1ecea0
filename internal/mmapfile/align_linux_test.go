package mmapfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

// TestOpenAligned checks that a file of 2 MiB or more is mapped at a 2 MiB
// boundary, so that 2 MiB folios of its page cache can be mapped whole, and
// that the mapping holds the file's bytes up to its odd last page.
func TestOpenAligned(t *testing.T) {
	want := make([]byte, 3*HugePageSize+12345)
	for i := range want {
		want[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	for range 3 { // several, so that a lucky address does not pass alone
		m, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		b := m.Bytes()
		if addr := uintptr(unsafe.Pointer(unsafe.SliceData(b))); addr%HugePageSize != 0 {
			t.Errorf("mapped at %#x, not a multiple of 2 MiB", addr)
		}
		if !bytes.Equal(b, want) {
			t.Error("mapped bytes differ from the file")
		}
		if err := m.Close(); err != nil || m.Close() != nil {
			t.Errorf("Close: %v", err)
		}
	}
}
