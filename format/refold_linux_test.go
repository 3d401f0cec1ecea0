package format

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
)

// TestRefold checks that a file cached in 4 KiB folios, which a mapping can
// only map page by page, is mapped by 2 MiB entries after Refold, with its
// bytes unchanged, and that a second Refold finds nothing to do. It skips
// where the kernel cannot report how pages are mapped (before 6.7) or where
// the temporary directory's file system does not cache files in 2 MiB folios.
func TestRefold(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	path := writeFile(t, t.TempDir(), "m.llmap", &Metadata{}, []testTensor{
		makeTensor(t, rng, "w", quant.Q8_0, 3000, 4096), // 13 MB: six whole 2 MiB chunks
	})
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	open := func() (*File, RefoldStats) {
		t.Helper()
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Populate(0, f.Size()); err != nil {
			t.Fatal(err)
		}
		st, err := f.Refold(0, f.Size(), func() bool { return true })
		if errors.Is(err, errors.ErrUnsupported) {
			f.Close()
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		return f, st
	}

	// Read cold through the advised mapping: 2 MiB folios, if this file
	// system has them. stop returning true: nothing is re-read.
	if err := EvictPageCache(path); err != nil {
		t.Fatal(err)
	}
	f, st := open()
	f.Close()
	if st.Huge == 0 {
		t.Skipf("no 2 MiB mappings of a file read through an advised mapping here (%+v): no large folios on this file system", st)
	}
	if st.Small != 0 || st.Refolded != 0 {
		t.Errorf("cold read: %+v, want nothing small", st)
	}

	if err := EvictPageCache(path); err != nil {
		t.Fatal(err)
	}
	if err := testmodels.ReadPageByPage(path); err != nil {
		t.Fatal(err)
	}
	f, st = open()
	defer f.Close()
	if st.Huge != 0 || st.Small < 6*hugeSize || st.Refolded != 0 {
		t.Fatalf("4 KiB folios, before Refold (stopped): %+v, want at least 6 small chunks and none huge", st)
	}
	st, err = f.Refold(0, f.Size(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A busy machine may have no 2 MiB folio for a chunk just then: one
	// chunk may stay small.
	if st.Small < 6*hugeSize || st.Refolded < st.Small-hugeSize {
		t.Errorf("Refold: %+v, want every small chunk but at most one refolded", st)
	}
	if !bytes.Equal(f.Data(), want) {
		t.Error("bytes changed")
	}
	t.Logf("Refold: %+v", st)
	again, err := f.Refold(0, f.Size(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Small != st.Small-st.Refolded || again.Huge != st.Huge+st.Refolded {
		t.Errorf("second Refold: %+v after %+v, want only what the first left small", again, st)
	}

	g, err := NewFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Refold(0, g.Size(), nil); !errors.Is(err, ErrNotMapped) {
		t.Errorf("Refold of bytes in memory: %v, want ErrNotMapped", err)
	}
}
