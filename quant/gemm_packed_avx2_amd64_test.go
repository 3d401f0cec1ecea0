//go:build amd64 && !noasm

package quant

import (
	"reflect"
	"testing"
)

// TestKPanelLayout checks that kPanelSB has the size and field offsets
// that the panel kernels (gemm_packed_avx2_amd64.s) use.
func TestKPanelLayout(t *testing.T) {
	typ := reflect.TypeFor[kPanelSB]()
	if typ.Size() != 2880 {
		t.Errorf("kPanelSB is %d bytes, the kernels step 2880", typ.Size())
	}
	for name, want := range map[string]uintptr{"levels": 0, "scales": 2048, "mins": 2560, "d": 2816, "dmin": 2848} {
		f, _ := typ.FieldByName(name)
		if f.Offset != want {
			t.Errorf("kPanelSB.%s at %d, the kernels read it at %d", name, f.Offset, want)
		}
	}
}
