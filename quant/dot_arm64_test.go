//go:build arm64 && !noasm

package quant

import (
	"os"
	"testing"

	"golang.org/x/sys/cpu"
)

// On a CPU with SDOT the dispatched block kernels use it; withPaths then
// also runs the widening-multiply kernels that CPUs without it get.
func init() {
	if cpu.ARM64.HasASIMDDP {
		archPaths = append(archPaths, kernelPath{"neon-no-sdot", func() func() {
			useSDOT = false
			return func() { useSDOT = true }
		}})
	}
}

// TestCPUFeatures checks what the kernels were chosen for against
// LLMAP_EXPECT_DOTPROD (set by make test-arm64 for each emulated CPU), so a
// run meant for the fallback path cannot silently test the SDOT one.
func TestCPUFeatures(t *testing.T) {
	t.Logf("ASIMD %v, ASIMDDP (SDOT) %v, FPHP %v, asm %v", cpu.ARM64.HasASIMD, cpu.ARM64.HasASIMDDP, cpu.ARM64.HasFPHP, AsmEnabled())
	if !AsmEnabled() {
		t.Error("arm64 without noasm: the NEON kernels are not selected")
	}
	switch want := os.Getenv("LLMAP_EXPECT_DOTPROD"); want {
	case "":
	case "1", "0":
		if got := cpu.ARM64.HasASIMDDP; got != (want == "1") {
			t.Errorf("ASIMDDP = %v, LLMAP_EXPECT_DOTPROD = %s", got, want)
		}
	default:
		t.Errorf("LLMAP_EXPECT_DOTPROD = %q, want 0 or 1", want)
	}
}
