// Package cgroup runs child processes under a memory limit, in a cgroup v1
// memory cgroup, for tests and benchmarks of llmap under memory pressure.
//
// A Group is a new memory cgroup made inside the one this process belongs
// to (so any limit already placed on this process still applies), with
// memory.limit_in_bytes (and memory.memsw.limit_in_bytes, where swap
// accounting exists) set. Command wraps a command so that it enters the
// cgroup before it runs: a shell writes its own pid to cgroup.procs, then
// execs the command, so every page the command maps or reads is charged to
// the cgroup. Stats reports the peak usage and whether the OOM killer
// fired; Remove deletes the cgroup.
//
// Creating cgroups needs root and a mounted cgroup v1 memory controller.
// Require skips a test where that is impossible, and fails it instead when
// the CI environment variable is "true".
package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// Root is where the cgroup v1 memory controller is mounted.
const Root = "/sys/fs/cgroup/memory"

// Available reports why memory cgroups cannot be created here, or nil.
func Available() error {
	if err := supported(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(Root, "memory.limit_in_bytes")); err != nil {
		return fmt.Errorf("no cgroup v1 memory controller at %s", Root)
	}
	if os.Geteuid() != 0 {
		return errors.New("creating memory cgroups needs root")
	}
	parent, err := parentDir()
	if err != nil {
		return err
	}
	if err := writable(parent); err != nil {
		return fmt.Errorf("cannot create cgroups in %s: %w", parent, err)
	}
	return nil
}

// Require skips the test when Available fails, or fails it when CI=true:
// CI must run the tests under a memory limit, not silently skip them.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cgroup: %v (CI=true: tests under a memory limit must run; run as root with a cgroup v1 memory controller)", err)
		}
		t.Skipf("cgroup: %v; skipping the test under a memory limit", err)
	}
}

// parentDir returns the memory cgroup directory of this process.
func parentDir() (string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				return filepath.Join(Root, filepath.Clean("/"+parts[2])), nil
			}
		}
	}
	return "", errors.New("this process is in no cgroup v1 memory cgroup")
}

// Group is a memory cgroup with a limit.
type Group struct {
	Dir   string // the cgroup's directory
	Limit int64  // memory.limit_in_bytes as written
}

var seq atomic.Int64

// New creates a memory cgroup limited to limit bytes (page cache included,
// as cgroup v1 counts it). Call Remove when done.
func New(limit int64) (*Group, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	parent, err := parentDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(parent, fmt.Sprintf("llmap-test-%d-%d", os.Getpid(), seq.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating cgroup: %w", err)
	}
	g := &Group{Dir: dir, Limit: limit}
	if err := g.write("memory.limit_in_bytes", limit); err != nil {
		g.Remove()
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "memory.memsw.limit_in_bytes")); err == nil {
		// memory+swap no larger than memory: the limit cannot be dodged by swapping.
		if err := g.write("memory.memsw.limit_in_bytes", limit); err != nil {
			g.Remove()
			return nil, err
		}
	}
	return g, nil
}

func (g *Group) write(file string, v int64) error {
	if err := os.WriteFile(filepath.Join(g.Dir, file), []byte(strconv.FormatInt(v, 10)), 0o644); err != nil {
		return fmt.Errorf("cgroup %s: %w", file, err)
	}
	return nil
}

func (g *Group) read(file string) (string, error) {
	b, err := os.ReadFile(filepath.Join(g.Dir, file))
	return string(b), err
}

// Command returns a command that runs name with args inside the cgroup: a
// shell puts itself into the cgroup and then execs the program, so the
// program is in the cgroup before it runs its first instruction.
func (g *Group) Command(name string, args ...string) *exec.Cmd {
	procs := filepath.Join(g.Dir, "cgroup.procs")
	a := append([]string{"-c", `echo $$ > "$0" && exec "$@"`, procs, name}, args...)
	return exec.Command("/bin/sh", a...)
}

// Stats are the cgroup's counters.
type Stats struct {
	MaxUsage int64 // memory.max_usage_in_bytes: peak charge, page cache included
	Failcnt  int64 // memory.failcnt: times a charge hit memory.limit_in_bytes (hits of the memsw limit are not counted here)
	OOMKills int64 // oom_kill from memory.oom_control: processes the OOM killer killed
}

// Stats reads the cgroup's counters.
func (g *Group) Stats() (Stats, error) {
	var s Stats
	num := func(file string) (int64, error) {
		b, err := g.read(file)
		if err != nil {
			return 0, err
		}
		return strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	}
	var err error
	if s.MaxUsage, err = num("memory.max_usage_in_bytes"); err != nil {
		return s, err
	}
	if s.Failcnt, err = num("memory.failcnt"); err != nil {
		return s, err
	}
	oc, err := g.read("memory.oom_control")
	if err != nil {
		return s, err
	}
	for line := range strings.Lines(oc) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "oom_kill" {
			s.OOMKills, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return s, nil
}

// KilledBySIGKILL reports whether err (from exec.Cmd.Wait or Run) says the
// process was killed by SIGKILL, as the OOM killer does.
func KilledBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// Remove deletes the cgroup. Its processes must have exited; memory still
// charged to it (page cache) moves to the parent.
func (g *Group) Remove() error {
	err := os.Remove(g.Dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing cgroup: %w", err)
	}
	return nil
}
