package runtime

import (
	"testing"

	"github.com/llmap/llmap/format/convert"
)

// TestKVCacheBytes: the figure for a low-RAM machine, the cache of
// the llama2-7b shape (32 layers, 4096 wide, no grouped-query attention)
// at 2048 positions: 2 GiB of float32, 1 GiB of fp16, and 34/32 bytes a
// value with q8_0 (32 x 4096 x 2048 x 2 x 34/32 bytes = 0.53 GiB), which
// is what Model.StateBytes reports (and llmap run prints at start).
func TestKVCacheBytes(t *testing.T) {
	c := convert.Shapes["llama2-7b"]
	c.SetDefaults()
	const gib = 1 << 30
	for k, want := range map[KVType]float64{KVF32: 2, KVF16: 1, KVQ8_0: 0.53125} {
		m := &Model{Config: c, kvType: k, pool: NewPool(1)}
		kv, _ := m.StateBytes(2048)
		if got := float64(kv) / gib; got != want {
			t.Errorf("%s: %.4f GiB, want %.4f", k, got, want)
		}
		if k == KVQ8_0 && float64(kv)/gib > 0.55 {
			t.Errorf("q8_0: %.3f GiB, above the 0.55 GiB target", float64(kv)/gib)
		}
	}
}
