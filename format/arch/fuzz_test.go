package arch

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzHFConfig: any config.json gives a family's hyperparameters or an
// error, never a panic; what is accepted is a model llmap can run, and a
// derived RoPE divisor tensor has one positive value per pair.
func FuzzHFConfig(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/reference/hf-*/config.json")
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"architectures": ["Phi3ForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 2,
		"num_attention_heads": 4, "max_position_embeddings": 256, "original_max_position_embeddings": 32, "vocab_size": 62,
		"rope_scaling": {"type": "longrope", "short_factor": [1, 2, 3, 4], "long_factor": [1, 2, 3, 4], "attention_factor": 1.5}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := ParseHFConfig(data)
		if err != nil {
			return
		}
		fam, _, err := HFFamily(j)
		if err != nil {
			return
		}
		c, err := fam.HF.Config(j)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			return
		}
		if div := j.Derived(RoleRopeFreqs); div != nil {
			if len(div) != c.HeadSize/2 {
				t.Fatalf("%d divisors for head size %d", len(div), c.HeadSize)
			}
			for i, d := range div {
				if !(d > 0) {
					t.Fatalf("divisor %d = %g", i, d)
				}
			}
		}
		if c.SlidingWindow < 0 || c.SlidingWindow >= c.ContextLength && c.SlidingWindow != 0 {
			t.Fatalf("sliding window %d for a context of %d", c.SlidingWindow, c.ContextLength)
		}
	})
}
