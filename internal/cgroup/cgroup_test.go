package cgroup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLimitAndOOM runs a shell inside a 32 MiB cgroup: it must find itself
// in the cgroup, and a process that allocates more than the limit must be
// killed by the OOM killer, which Stats and KilledBySIGKILL report.
func TestLimitAndOOM(t *testing.T) {
	Require(t)
	g, err := New(32 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := g.Remove(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(g.Dir); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Remove", g.Dir)
		}
	}()
	got, err := os.ReadFile(filepath.Join(g.Dir, "memory.limit_in_bytes"))
	if err != nil || strings.TrimSpace(string(got)) != "33554432" {
		t.Fatalf("memory.limit_in_bytes = %q, %v", got, err)
	}

	out, err := g.Command("/bin/cat", "/proc/self/cgroup").Output()
	if err != nil {
		t.Fatal(err)
	}
	rel := strings.TrimPrefix(g.Dir, Root)
	if !strings.Contains(string(out), ":memory:"+rel+"\n") {
		t.Fatalf("child's /proc/self/cgroup does not name %s:\n%s", rel, out)
	}

	// A private anonymous allocation of 64 MiB in a 32 MiB cgroup without swap.
	cmd := g.Command(os.Args[0], "-test.run=^TestHelperAllocate$")
	cmd.Env = append(os.Environ(), "CGROUP_TEST_ALLOCATE=1")
	err = cmd.Run()
	st, serr := g.Stats()
	if serr != nil {
		t.Fatal(serr)
	}
	if !KilledBySIGKILL(err) || st.OOMKills < 1 {
		t.Fatalf("allocating 64 MiB under 32 MiB: err %v, stats %+v; want SIGKILL by the OOM killer", err, st)
	}
	// The kernel charges in pages and may overshoot the limit by a few.
	if st.MaxUsage > g.Limit+1<<20 || st.MaxUsage < g.Limit/2 {
		t.Errorf("stats %+v: want max usage near the limit %d", st, g.Limit)
	}
}

// TestHelperAllocate is run as a child by TestLimitAndOOM: it touches
// 64 MiB of memory when CGROUP_TEST_ALLOCATE is set.
func TestHelperAllocate(t *testing.T) {
	if os.Getenv("CGROUP_TEST_ALLOCATE") != "1" {
		t.Skip("helper process")
	}
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = byte(i)
	}
	t.Log(b[len(b)-1])
}
