package format

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmap/llmap/quant"
)

// TestCreateErrorNamesTheTarget: an error creating the temporary file
// names the path the caller gave, never the temporary name.
func TestCreateErrorNamesTheTarget(t *testing.T) {
	for _, path := range []string{"/proc/x.llmap", filepath.Join(t.TempDir(), "missing", "x.llmap")} {
		_, err := Create(path, nil, []TensorSpec{{Name: "a", Type: quant.F32, Shape: []int64{4}}})
		if err == nil {
			t.Fatalf("Create(%s) succeeded", path)
		}
		if msg := err.Error(); !strings.Contains(msg, path) || strings.Contains(msg, ".tmp-") || strings.Count(msg, path) != 1 {
			t.Errorf("Create(%s): %q should name the path once and no temporary file", path, msg)
		}
	}
}

// TestRemoveTemps: what a signal handler calls removes the temporary file
// of a write in progress; the write then fails and leaves nothing.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.llmap")
	w, err := Create(path, nil, []TensorSpec{{Name: "a", Type: quant.F32, Shape: []int64{4}}})
	if err != nil {
		t.Fatal(err)
	}
	removed := RemoveTemps()
	if len(removed) != 1 || !strings.HasPrefix(filepath.Base(removed[0]), ".m.llmap.tmp-") {
		t.Errorf("RemoveTemps = %q", removed)
	}
	w.WriteTensor("a", strings.NewReader(strings.Repeat("\x00", 16)))
	if err := w.Close(); err == nil {
		t.Error("Close after RemoveTemps succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the directory holds %v", entries)
	}
}

// TestCleanStaleTemps: temporary files nobody holds are stale; those with
// the .llmap magic are removed, others reported; held ones are left alone.
func TestCleanStaleTemps(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	staleLlmap := write(".a.llmap.tmp-0123abcd", Magic+"rest of a header")
	staleOther := write(".a.bin.tmp-89abcdef", "llama2.c header")
	unrelated := write(".notes.txt", Magic)
	held := write(".b.llmap.tmp-00000001", Magic)
	// A lock through another open file description conflicts like a lock
	// held by another process.
	hf, err := os.Open(held)
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	if err := lockTemp(hf); err != nil {
		t.Fatal(err)
	}
	// A write in progress in this process.
	w, err := Create(filepath.Join(dir, "c.llmap"), nil, []TensorSpec{{Name: "a", Type: quant.F32, Shape: []int64{4}}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()

	stale, err := CleanStaleTemps(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range stale {
		got[s.Path] = s.Removed
	}
	if len(stale) != 2 || got[staleLlmap] != true || got[staleOther] != false {
		t.Errorf("CleanStaleTemps = %+v, want %s removed and %s reported", stale, staleLlmap, staleOther)
	}
	for p, want := range map[string]bool{staleLlmap: false, staleOther: true, unrelated: true, held: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", p, err == nil, want)
		}
	}
	if err := w.WriteTensor("a", strings.NewReader(strings.Repeat("\x00", 16))); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("the write in progress failed: %v", err)
	}
}

// TestCreateChecksSpace: a file larger than the free disk space is refused
// before anything is written (a 4 TiB tensor here).
func TestCreateChecksSpace(t *testing.T) {
	dir := t.TempDir()
	_, err := Create(filepath.Join(dir, "huge.llmap"), nil, []TensorSpec{{Name: "a", Type: quant.F32, Shape: []int64{1 << 40}}})
	if err == nil || !strings.Contains(err.Error(), "free") {
		t.Fatalf("Create of a 4 TiB file: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the directory holds %v", entries)
	}
}
