package arch

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/llmap/llmap/format"
)

// TestSpecMatchesTable: format/SPEC.md shows every family's table exactly
// as the code has it.
func TestSpecMatchesTable(t *testing.T) {
	spec, err := os.ReadFile("../SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Families() {
		if !strings.Contains(string(spec), f.SpecTable()) {
			t.Errorf("format/SPEC.md does not hold the %s table; paste this into \"Tensor names\":\n\n%s", f.Name, f.SpecTable())
		}
	}
}

var (
	stories260K = Config{Arch: "llama", Dim: 64, HiddenDim: 172, NLayers: 5, NHeads: 8, NKVHeads: 4, HeadSize: 8,
		VocabSize: 512, ContextLength: 512, NormEps: 1e-5, RopeBase: 10000, SharedClassifier: true}
	gpt2Tiny = Config{Arch: "gpt2", Dim: 16, HiddenDim: 64, NLayers: 2, NHeads: 4, NKVHeads: 4, HeadSize: 4,
		VocabSize: 40, ContextLength: 32, NormEps: 1e-5}
)

func TestMetadataRoundTrip(t *testing.T) {
	wide := stories260K
	wide.HeadSize = 16 // q_dim 128 > dim, as Qwen 3 has it
	phi := Config{Arch: "phi3", Dim: 32, HiddenDim: 48, NLayers: 2, NHeads: 4, NKVHeads: 4, HeadSize: 8, VocabSize: 64,
		ContextLength: 4096, NormEps: 1e-5, RopeBase: 10000, RopeAttnFactor: 1.19, SlidingWindow: 2047}
	for _, c := range []Config{stories260K, gpt2Tiny, wide, phi} {
		meta := c.Metadata("name", "source")
		got, err := FromMetadata(meta)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if got != c {
			t.Errorf("read back %+v, want %+v", got, c)
		}
		_, hasHeadSize := meta.Get(format.KeyHeadSize)
		if hasHeadSize != (c.HeadSize != c.Dim/c.NHeads) {
			t.Errorf("%s: model.head_size written %v for head size %d, dim/n_heads %d", c.Arch, hasHeadSize, c.HeadSize, c.Dim/c.NHeads)
		}
		if _, hasRope := meta.Get(format.KeyRopeBase); hasRope != (c.Arch != "gpt2") {
			t.Errorf("%s: model.rope_base written: %v", c.Arch, hasRope)
		}
		_, hasFactor := meta.Get(format.KeyRopeAttnFactor)
		_, hasWindow := meta.Get(format.KeySlidingWindow)
		if hasFactor != (c.RopeAttnFactor != 0) || hasWindow != (c.SlidingWindow != 0) {
			t.Errorf("%s: model.rope_attn_factor written %v, model.sliding_window %v", c.Arch, hasFactor, hasWindow)
		}
	}
}

func TestFromMetadataRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(m *format.Metadata)
		want string
	}{
		{"unknown family", func(m *format.Metadata) { m.Set(format.KeyArchitecture, format.String("mamba")) }, `unknown architecture "mamba"`},
		{"zero dim", func(m *format.Metadata) { m.Set(format.KeyDim, format.U32(0)) }, "model.dim = 0 is out of range"},
		{"huge vocab", func(m *format.Metadata) { m.Set(format.KeyVocabSize, format.U32(1<<30)) }, "model.vocab_size"},
		{"kv heads", func(m *format.Metadata) { m.Set(format.KeyNKVHeads, format.U32(3)) }, "not a multiple of n_kv_heads 3"},
		{"dim and heads", func(m *format.Metadata) { m.Set(format.KeyNHeads, format.U32(7)) }, "dim 64 is not a multiple of n_heads 7"},
		{"odd head", func(m *format.Metadata) { m.Set(format.KeyHeadSize, format.U32(9)) }, "head size 9 is odd"},
		{"eps", func(m *format.Metadata) { m.Set(format.KeyNormEps, format.F32(2)) }, "norm_eps 2 is out of range"},
		{"rope base", func(m *format.Metadata) { m.Set(format.KeyRopeBase, format.F32(0)) }, "rope_base 0"},
		{"attention factor", func(m *format.Metadata) { m.Set(format.KeyRopeAttnFactor, format.F32(-1)) }, "rope_attn_factor -1 is out of range"},
		{"attention factor NaN", func(m *format.Metadata) { m.Set(format.KeyRopeAttnFactor, format.F32(float32(math.NaN()))) }, "rope_attn_factor NaN"},
		{"attention factor type", func(m *format.Metadata) { m.Set(format.KeyRopeAttnFactor, format.U32(2)) }, format.KeyRopeAttnFactor},
		{"window", func(m *format.Metadata) { m.Set(format.KeySlidingWindow, format.U32(1<<30)) }, "model.sliding_window = 1073741824 is out of range"},
		{"no rope base", func(m *format.Metadata) {
			n := &format.Metadata{}
			for _, k := range m.Keys() {
				if v, _ := m.Get(k); k != format.KeyRopeBase {
					n.Set(k, v)
				}
			}
			*m = *n
		}, format.KeyRopeBase},
	} {
		meta := stories260K.Metadata("", "")
		c.edit(meta)
		_, err := FromMetadata(meta)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestFindAndEntries(t *testing.T) {
	f := Llama
	for _, c := range []struct {
		name  string
		role  Role
		layer int
	}{
		{"token_embd.weight", RoleTokenEmbedding, -1},
		{"blk.0.attn_q.weight", RoleAttnQ, 0},
		{"blk.11.ffn_up.weight", RoleFFNUp, 11},
		{"output.weight", RoleOutput, -1},
	} {
		row, layer, ok := f.Find(c.name)
		if !ok || row.Role != c.role || layer != c.layer {
			t.Errorf("Find(%q) = %v, %d, %v; want %s in layer %d", c.name, row, layer, ok, c.role, c.layer)
		}
	}
	for _, name := range []string{"attn_q.weight", "blk.x.attn_q.weight", "blk.01.attn_q.weight", "blk.-1.attn_q.weight",
		"blk.0.token_embd.weight", "blk.0.attn_qkv.weight", "position_embd.weight", "blk.0"} {
		if _, _, ok := f.Find(name); ok {
			t.Errorf("Find(%q) found a llama tensor", name)
		}
	}
	c := stories260K
	es := f.Entries(&c)
	if len(es) != 3+9*c.NLayers+1 {
		t.Fatalf("%d entries", len(es))
	}
	if es[0].Name != "token_embd.weight" || es[1].Name != "rope_freqs.weight" || es[2].Name != "blk.0.attn_norm.weight" ||
		es[11].Name != "blk.1.attn_norm.weight" || es[len(es)-1].Name != "output.weight" ||
		!slices.Equal(es[4].Shape, []int64{32, 64}) || !slices.Equal(es[1].Shape, []int64{4}) || es[1].Required(&c) {
		t.Errorf("entries out of order or misshaped: %v %v %v %v %v %v", es[0].Name, es[1].Name, es[2].Name, es[11].Name, es[len(es)-1].Name, es[4].Shape)
	}
	if out := es[len(es)-1]; out.Required(&c) {
		t.Error("output.weight required with a shared classifier")
	}
	c.SharedClassifier = false
	if out := es[len(es)-1]; !out.Required(&c) {
		t.Error("output.weight not required without a shared classifier")
	}
	q := GPT2.Tensor(RoleAttnQKV)
	if got := q.ShapeOf(&gpt2Tiny); !slices.Equal(got, []int64{48, 16}) {
		t.Errorf("gpt2 attn_qkv shape %v, want [48 16]", got)
	}
}

func TestRegisterRejects(t *testing.T) {
	base := func() *Family {
		f := *Llama
		f.Name = "test-" + t.Name()
		f.Tensors = slices.Clone(Llama.Tensors)
		return &f
	}
	drop := func(f *Family, r Role) *Family {
		f.Tensors = slices.DeleteFunc(f.Tensors, func(t Tensor) bool { return t.Role == r })
		return f
	}
	for name, f := range map[string]*Family{
		"repeated name":   func() *Family { f := base(); f.Name = "llama"; return f }(),
		"no value":        drop(base(), RoleAttnV),
		"no gate":         drop(base(), RoleFFNGate),
		"no down":         drop(base(), RoleFFNDown),
		"learned no wpe":  func() *Family { f := base(); f.Position = Learned; return f }(),
		"bad norm":        func() *Family { f := base(); f.Norm = 0; return f }(),
		"repeated tensor": func() *Family { f := base(); f.Tensors = append(f.Tensors, f.Tensors[2]); return f }(),
		"optional query":  func() *Family { f := base(); f.Tensors[2].Optional = true; return f }(),
	} {
		if err := Register(f); err == nil {
			t.Errorf("%s: registered", name)
			delete(families, f.Name)
		}
	}
}

func TestHFConfig(t *testing.T) {
	for _, c := range []struct {
		json, family, hfArch, err string
		want                      Config
	}{
		{json: `{"architectures": ["LlamaForCausalLM"], "hidden_size": 16, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64, "vocab_size": 62}`,
			family: "llama", hfArch: "LlamaForCausalLM",
			want: Config{Arch: "llama", Dim: 16, HiddenDim: 40, NLayers: 2, NHeads: 4, NKVHeads: 2, HeadSize: 4, VocabSize: 62,
				ContextLength: 64, NormEps: 1e-6, RopeBase: 10000}},
		{json: `{"model_type": "gpt2", "n_embd": 16, "n_layer": 2, "n_head": 4, "n_positions": 32, "vocab_size": 40, "n_inner": null}`,
			family: "gpt2", hfArch: "GPT2LMHeadModel", want: gpt2Tiny},
		{json: `{"architectures": ["GPT2Model"], "n_embd": 16, "n_layer": 2, "n_head": 4, "n_positions": 32, "vocab_size": 40, "n_inner": 8}`,
			family: "gpt2", hfArch: "GPT2Model", want: func() Config { c := gpt2Tiny; c.HiddenDim = 8; return c }()},
		{json: `{"architectures": ["BertForMaskedLM"], "model_type": "bert"}`, err: "unknown architecture [BertForMaskedLM]"},
		{json: `{"architectures": ["LlamaForCausalLM"], "hidden_size": 16, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "max_position_embeddings": 64, "vocab_size": 62, "rope_scaling": {"rope_type": "llama3"}}`,
			family: "llama", hfArch: "LlamaForCausalLM", err: "rope_scaling (llama3): factor 0"},
		{json: `{"architectures": ["LlamaForCausalLM"], "hidden_size": 16, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "max_position_embeddings": 64, "vocab_size": 62, "rope_scaling": {"type": "yarn", "factor": 4}}`,
			family: "llama", hfArch: "LlamaForCausalLM", err: "llmap runs rope_type llama3"},
		{json: `{"architectures": ["MistralForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 12, "max_position_embeddings": 64, "vocab_size": 62,
			"sliding_window": 8, "rms_norm_eps": 1e-5, "rope_theta": 1e6}`,
			family: "llama", hfArch: "MistralForCausalLM",
			want: Config{Arch: "llama", Dim: 32, HiddenDim: 40, NLayers: 2, NHeads: 4, NKVHeads: 2, HeadSize: 12, VocabSize: 62,
				ContextLength: 64, NormEps: 1e-5, RopeBase: 1e6, SlidingWindow: 8}},
		{json: `{"architectures": ["MistralForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "head_dim": 7, "max_position_embeddings": 64, "vocab_size": 62}`,
			family: "llama", hfArch: "MistralForCausalLM", err: "head_dim 7 is not a positive even number"},
		{json: `{"architectures": ["Qwen2ForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 4,
			"num_attention_heads": 4, "max_position_embeddings": 64, "vocab_size": 62, "use_sliding_window": true,
			"sliding_window": 16, "max_window_layers": 0}`,
			family: "qwen2", hfArch: "Qwen2ForCausalLM",
			want: Config{Arch: "qwen2", Dim: 32, HiddenDim: 40, NLayers: 4, NHeads: 4, NKVHeads: 4, HeadSize: 8, VocabSize: 62,
				ContextLength: 64, NormEps: 1e-6, RopeBase: 10000, SlidingWindow: 16}},
		{json: `{"architectures": ["Qwen2ForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 4,
			"num_attention_heads": 4, "max_position_embeddings": 64, "vocab_size": 62, "use_sliding_window": true,
			"sliding_window": 16, "max_window_layers": 2}`,
			family: "qwen2", hfArch: "Qwen2ForCausalLM", err: "max_window_layers 2 of 4"},
		{json: `{"architectures": ["Qwen3ForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64, "vocab_size": 62,
			"rope_scaling": {"rope_type": "default"}}`,
			family: "qwen3", hfArch: "Qwen3ForCausalLM",
			want: Config{Arch: "qwen3", Dim: 32, HiddenDim: 40, NLayers: 2, NHeads: 4, NKVHeads: 2, HeadSize: 128, VocabSize: 62,
				ContextLength: 64, NormEps: 1e-6, RopeBase: 10000}},
		{json: `{"architectures": ["Qwen3ForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "max_position_embeddings": 64, "vocab_size": 62, "attention_bias": true}`,
			family: "qwen3", hfArch: "Qwen3ForCausalLM", err: "attention_bias is not supported"},
		{json: `{"architectures": ["Qwen2ForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "max_position_embeddings": 64, "vocab_size": 62,
			"rope_scaling": {"type": "yarn", "factor": 4, "original_max_position_embeddings": 32768}}`,
			family: "qwen2", hfArch: "Qwen2ForCausalLM", err: "rope_scaling"},
		{json: `{"architectures": ["Phi3ForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "max_position_embeddings": 64, "vocab_size": 62, "partial_rotary_factor": 0.75}`,
			family: "phi3", hfArch: "Phi3ForCausalLM", err: "partial_rotary_factor 0.75"},
		{json: `{"architectures": ["Phi3ForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "max_position_embeddings": 256, "original_max_position_embeddings": 32, "vocab_size": 62,
			"rope_scaling": {"type": "longrope", "short_factor": [1, 2, 3], "long_factor": [1, 2, 3, 4]}}`,
			family: "phi3", hfArch: "Phi3ForCausalLM", err: "short_factor: want a list of head_dim/2 = 4 numbers"},
		{json: `{"architectures": ["Phi3ForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "max_position_embeddings": 256, "original_max_position_embeddings": 32, "vocab_size": 62,
			"rope_scaling": {"type": "longrope", "short_factor": [1, 2, 3, -4], "long_factor": [1, 2, 3, 4]}}`,
			family: "phi3", hfArch: "Phi3ForCausalLM", err: "short_factor[3] = -4 is out of range"},
		{json: `{"architectures": ["Phi3ForCausalLM"], "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 2,
			"num_attention_heads": 4, "max_position_embeddings": 64, "vocab_size": 62, "rope_scaling": {"type": "linear", "factor": 2}}`,
			family: "phi3", hfArch: "Phi3ForCausalLM", err: "llmap runs longrope"},
		{json: `{"model_type": "gpt2", "n_embd": 16, "n_layer": 2, "n_head": 4, "n_positions": 32, "vocab_size": 40,
			"activation_function": "relu"}`, family: "gpt2", hfArch: "GPT2LMHeadModel", err: "activation_function"},
	} {
		j, err := ParseHFConfig([]byte(c.json))
		if err != nil {
			t.Fatal(err)
		}
		f, hfArch, err := HFFamily(j)
		if err != nil {
			if c.err == "" || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v", c.json, err)
			}
			continue
		}
		if f.Name != c.family || hfArch != c.hfArch {
			t.Errorf("%s: family %s (%s), want %s (%s)", c.json, f.Name, hfArch, c.family, c.hfArch)
		}
		got, err := f.HF.Config(j)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.json, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.json, got, err, c.want)
		}
	}
}

// TestHFRopeScaling: LLaMA 3's rope_scaling becomes one divisor per pair
// (1 for short wavelengths, factor for long ones, a blend between), and
// LongRoPE's short factors, attention factor and capped context come from
// config.json as Hugging Face computes them.
func TestHFRopeScaling(t *testing.T) {
	j, err := ParseHFConfig([]byte(`{"architectures": ["LlamaForCausalLM"], "hidden_size": 32, "intermediate_size": 40,
		"num_hidden_layers": 2, "num_attention_heads": 2, "max_position_embeddings": 128, "vocab_size": 62,
		"rope_theta": 500000, "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
		"original_max_position_embeddings": 64, "rope_type": "llama3"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Llama.HF.Config(j); err != nil {
		t.Fatal(err)
	}
	// head 16, θ 500000: wavelengths 2π·500000^(i/8) = 6.3, 32.4, 167, ...;
	// 6.3 < 64/4 keeps its frequency, 32.4 lies between 16 and 64 (blend
	// s = (64/32.4 - 1)/3), the rest exceed 64 and are divided by 8.
	div := j.Derived(RoleRopeFreqs)
	wavelen := 2 * math.Pi * math.Pow(500000, 1.0/8)
	sm := (64/wavelen - 1) / 3
	want := []float64{1, 1 / ((1-sm)/8 + sm), 8, 8, 8, 8, 8, 8}
	if len(div) != len(want) {
		t.Fatalf("%d divisors, want %d", len(div), len(want))
	}
	for i := range want {
		if math.Abs(float64(div[i])-want[i]) > 1e-5*want[i] {
			t.Errorf("divisor %d = %g, want %g", i, div[i], want[i])
		}
	}

	j, err = ParseHFConfig([]byte(`{"architectures": ["Phi3ForCausalLM"], "hidden_size": 32, "intermediate_size": 40,
		"num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 131072,
		"original_max_position_embeddings": 4096, "vocab_size": 62, "sliding_window": 262144,
		"rope_scaling": {"type": "longrope", "short_factor": [1, 1.5, 2, 2.5], "long_factor": [1, 2, 3, 4]}}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Phi3.HF.Config(j)
	if err != nil {
		t.Fatal(err)
	}
	// Phi-3.5 mini's numbers: sqrt(1 + ln(32)/ln(4096)) = 1.1902.
	if c.ContextLength != 4096 || math.Abs(float64(c.RopeAttnFactor)-math.Sqrt(1+math.Log(32)/math.Log(4096))) > 1e-6 ||
		c.SlidingWindow != 0 || !slices.Equal(j.Derived(RoleRopeFreqs), []float32{1, 1.5, 2, 2.5}) {
		t.Errorf("longrope: %+v, divisors %v", c, j.Derived(RoleRopeFreqs))
	}
	if n := j.Notes(); len(n) != 2 || !strings.Contains(n[0], "capped") || !strings.Contains(n[1], "no effect") {
		t.Errorf("notes %q", n)
	}
}
