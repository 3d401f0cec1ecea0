package format

import (
	"bytes"
	"testing"
)

// TestHugePages checks that MADV_HUGEPAGE is advice: it succeeds on a
// mapped file, on one read into memory and on bytes from NewFile, leaves
// the bytes as they were, and is a no-op after Close.
func TestHugePages(t *testing.T) {
	path := writeFile(t, t.TempDir(), "m.llmap", allKindsMeta(), allTypesTensors(t))
	for name, open := range map[string]func(string) (*File, error){"mapped": Open, "in memory": OpenInMemory} {
		f, err := open(path)
		if err != nil {
			t.Fatal(err)
		}
		want := bytes.Clone(f.Data())
		if err := f.HugePages(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !bytes.Equal(f.Data(), want) {
			t.Errorf("%s: bytes changed", name)
		}
		f.Close()
		if err := f.HugePages(); err != nil {
			t.Errorf("%s, closed: %v", name, err)
		}
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := NewFile(bytes.Clone(f.Data()))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.HugePages(); err != nil {
		t.Errorf("NewFile: %v", err)
	}
}
