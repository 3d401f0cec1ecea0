package mmapfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	want := bytes.Repeat([]byte("llmap"), 3000)
	full := filepath.Join(dir, "full")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(full, want, 0o644)
	os.WriteFile(empty, nil, 0o644)

	m, err := Open(full)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Bytes(), want) {
		t.Error("mapped bytes differ from the file")
	}
	if err := m.Close(); err != nil || m.Close() != nil {
		t.Errorf("Close: %v", err)
	}

	e, err := Open(empty)
	if err != nil || len(e.Bytes()) != 0 || e.Close() != nil {
		t.Errorf("empty file: %v, %d bytes", err, len(e.Bytes()))
	}
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(dir); err == nil {
		t.Error("a directory was mapped")
	}
}
