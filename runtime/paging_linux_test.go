package runtime

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/internal/memstats"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
)

// TestRefoldAfterFirstToken puts a model into the page cache in 4 KiB
// folios (read page by page with readahead off), which a mapping can only
// map page by page, and checks that after the first token the pager reads
// the streamed weights again into 2 MiB pages (FilePmdMapped in smaps),
// that the tokens do not change, and that NoRefold and a memory budget
// leave the page cache alone. It skips where the kernel or the file system
// of the temporary directory cannot do it (format.TestRefold says which).
func TestRefoldAfterFirstToken(t *testing.T) {
	if err := format.PagingAvailable(); err != nil {
		t.Skip(err)
	}
	shape := arch.Config{Dim: 512, HiddenDim: 1536, NLayers: 8, NHeads: 8, NKVHeads: 4, VocabSize: 4096, ContextLength: 64}
	path := synthPaging(t, shape, quant.Q8_0)
	const steps = 4
	smallCache := func() {
		t.Helper()
		if err := format.EvictPageCache(path); err != nil {
			t.Fatal(err)
		}
		if err := testmodels.ReadPageByPage(path); err != nil {
			t.Fatal(err)
		}
	}
	run := func(opts Options) ([]int, PagingStats, memstats.Mapping) {
		t.Helper()
		smallCache()
		m, err := Open(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		s, _ := m.NewState(0)
		toks := greedy(t, m, s, steps)
		// The refold runs in the background: wait for it.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := m.WaitRefold(ctx); err != nil {
			t.Fatal(err)
		}
		ms, err := memstats.ReadMapping(0, path)
		if err != nil {
			t.Fatal(err)
		}
		return toks, m.PagingStats(), ms
	}

	want, st, ms := run(Options{Threads: 2, NoRefold: true})
	if st.RefoldTime != 0 || ms.PMD != 0 {
		t.Fatalf("NoRefold: %+v, %d bytes mapped by 2 MiB entries: want no refold and none", st, ms.PMD)
	}
	got, st, ms := run(Options{Threads: 2})
	t.Logf("refold: %v; mapping %+v", st, ms)
	if !slices.Equal(got, want) {
		t.Errorf("tokens %v, with NoRefold %v", got, want)
	}
	if st.RefoldTime == 0 {
		t.Fatalf("no refold after %d tokens: %+v", steps, st)
	}
	if st.SmallBytes == 0 && st.RefoldBytes == 0 {
		t.Skip("nothing refolded: this kernel cannot report how pages are mapped (PAGEMAP_SCAN, Linux 6.7)")
	}
	if st.RefoldBytes == 0 {
		t.Skip("no 2 MiB pages after reading again: no large folios on this file system")
	}
	// The streamed weights are about 24 MB; all but the 2 MiB chunks at
	// their two ends are refolded. The kernel may fail to allocate a 2 MiB
	// folio for a chunk on a busy machine (CI once got 11 of 12), so one
	// chunk may stay small.
	if st.RefoldBytes < st.SmallBytes-2<<20 || st.RefoldBytes < 16<<20 || ms.PMD < st.RefoldBytes {
		t.Errorf("refolded %d of %d small bytes, %d mapped by 2 MiB entries: want all but at most one 2 MiB chunk, and at least 16 MiB", st.RefoldBytes, st.SmallBytes, ms.PMD)
	}
	_, st, _ = run(Options{Threads: 2, MemBudget: 1 << 40})
	if st.RefoldTime != 0 {
		t.Errorf("refold under a memory budget: %+v", st)
	}
}
