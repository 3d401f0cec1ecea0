package quant

import (
	"runtime"
	"testing"
)

func TestAsmSelected(t *testing.T) {
	t.Logf("GOARCH=%s asm=%v", runtime.GOARCH, AsmEnabled())
	restore := DisableAsm()
	if AsmEnabled() {
		t.Error("AsmEnabled after DisableAsm")
	}
	restore()
}
