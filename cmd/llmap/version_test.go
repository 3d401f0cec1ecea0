package main

import (
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/llmap/llmap/quant"
	"golang.org/x/sys/cpu"
)

// TestVersion: llmap version and llmap --version print the same lines:
// the module version, the revision, the Go version and the kernel tier
// (before the fix there was neither, and the --version hint pointed to a
// help topic that did not exist).
func TestVersion(t *testing.T) {
	out, stderr, code := llmap(t, "version")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out2, _, code := llmap(t, "--version")
	if code != 0 || out2 != out {
		t.Errorf("--version printed %q (exit %d), version printed %q", out2, code, out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "llmap ") || !strings.HasPrefix(lines[1], "  revision  ") ||
		lines[2] != "  go        "+goruntime.Version()+" "+goruntime.GOOS+"/"+goruntime.GOARCH ||
		lines[3] != "  kernels   "+kernelTier() {
		t.Errorf("version output:\n%s", out)
	}
	if _, stderr, _ := llmap(t, "--frobnicate"); !strings.Contains(stderr, "(see 'llmap --help')") {
		t.Errorf("unknown root flag: %q", stderr)
	}
}

// TestKernelTier: the tier follows the CPU (as x/sys/cpu reads it, and
// GODEBUG=cpu.X=off hides it) and quant's selection.
func TestKernelTier(t *testing.T) {
	if quant.AsmEnabled() && goruntime.GOARCH == "amd64" {
		want := "avx2 ("
		if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI {
			want = "avx512 ("
		}
		got := kernelTier()
		if !strings.HasPrefix(got, want) || strings.Contains(got, "AMX") != quant.AMXEnabled() {
			t.Errorf("assembly kernels on amd64 reported as %q, want %q... (AMX in use: %v)", got, want, quant.AMXEnabled())
		}
	}
	restore := quant.DisableAsm()
	defer restore()
	if got := kernelTier(); got != "generic (portable Go)" {
		t.Errorf("after DisableAsm: %q", got)
	}
}
