package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/runtime"
)

// TestConvertFamilies converts the tiny checkpoint of every family, from
// its Hugging Face directory and its GGUF twin (testdata/reference), tells
// the user what the conversion means for the model (a sliding window, a
// capped context, tensors left out), and runs the result.
func TestConvertFamilies(t *testing.T) {
	ref := "../../testdata/reference"
	dir := t.TempDir()
	for _, c := range []struct {
		input string
		notes []string // each on a line of stderr
	}{
		{"hf-llama3-tiny", nil},
		{"llama3_tiny.gguf", nil},
		{"hf-qwen2-tiny", nil},
		{"qwen2_tiny.gguf", nil},
		{"hf-qwen3-tiny", nil},
		{"qwen3_tiny.gguf", nil},
		{"hf-mistral-tiny", []string{"config.json: sliding_window 8: each position attends to itself and the 7 before it"}},
		{"mistral_tiny.gguf", nil},
		{"hf-phi3-tiny", []string{"config.json: sliding_window 8"}},
		{"phi3_tiny.gguf", []string{"phi3.attention.sliding_window 8"}},
		{"hf-phi35-tiny", []string{"rope_scaling longrope", "capped", "sliding_window 256 is no shorter than the model's context of 32 positions"}},
		{"phi35_tiny.gguf", []string{"tensor rope_factors_long.weight: not used by llmap", "LongRoPE: llmap runs the short factors (rope_factors_short.weight)"}},
	} {
		t.Run(c.input, func(t *testing.T) {
			out := filepath.Join(dir, c.input+".llmap")
			_, stderr, code := llmap(t, "convert", "-o", out, filepath.Join(ref, c.input))
			if code != 0 {
				t.Fatalf("convert: %s", stderr)
			}
			// Notes, then the summary of what was written.
			var notes []string
			for _, l := range strings.Split(stderr, "\n") {
				if strings.HasPrefix(l, "llmap convert: ") && !strings.HasPrefix(l, "llmap convert: wrote ") {
					notes = append(notes, l)
				}
			}
			for _, n := range c.notes {
				if !slices.ContainsFunc(notes, func(l string) bool { return strings.Contains(l, n) }) {
					t.Errorf("no note %q in stderr %q", n, stderr)
				}
			}
			if len(c.notes) == 0 && len(notes) > 0 {
				t.Errorf("unexpected notes: %q", notes)
			}
			stdout, stderr, code := llmap(t, "run", out, "-t", "0", "-n", "8", "-p", "the cat")
			if code != 0 || stdout == "" {
				t.Fatalf("run: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
		})
	}
}

// TestConvertUnknownFamily: a GGUF file or a Hugging Face directory of an
// architecture llmap does not run gets one line naming the file, the
// architecture and the families llmap runs, and nothing is written.
func TestConvertUnknownFamily(t *testing.T) {
	dir := t.TempDir()
	kvs, ts := tinyGGUF()
	var inputs []string
	for _, a := range []string{"gemma", "mamba", "gemma2", "phi2"} {
		k := slices.Clone(kvs)
		k[0].val = a
		for i := range k {
			k[i].key = strings.Replace(k[i].key, "llama.", a+".", 1)
		}
		p := filepath.Join(dir, a+".gguf")
		if err := os.WriteFile(p, buildGGUF(k, ts), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, p)
	}
	for _, a := range []string{"GemmaForCausalLM", "MambaForCausalLM", "Phi3SmallForCausalLM"} {
		d := filepath.Join(dir, a)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		cfg := `{"architectures": ["` + a + `"], "model_type": "x", "hidden_size": 32}`
		if err := os.WriteFile(filepath.Join(d, "config.json"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, d)
	}
	out := filepath.Join(dir, "out.llmap")
	for _, in := range inputs {
		arch := strings.TrimSuffix(filepath.Base(in), ".gguf")
		supported := "gpt2, llama, phi3, qwen2, qwen3"
		if !strings.HasSuffix(in, ".gguf") {
			supported = "LlamaForCausalLM, MistralForCausalLM, Phi3ForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM"
		}
		stderr := expectUserError(t, []string{"convert", "-o", out, in}, filepath.Base(in), arch, "unknown architecture", supported)
		t.Log(strings.TrimSpace(stderr))
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: a failed conversion left a file at the output path", in)
		}
	}
}

// TestConvertBadFamilyHyperparameters: GGUF hyperparameters of the new
// families that llmap cannot run as they say get one line naming the file
// and the key, and nothing is written; a RoPE divisor that is not a
// positive number is refused when the model is opened.
func TestConvertBadFamilyHyperparameters(t *testing.T) {
	dir := t.TempDir()
	kvs, ts := tinyGGUF()
	with := func(name string, extra []ggufKV, tensors []ggufTensor) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buildGGUF(append(slices.Clone(kvs), extra...), tensors), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A phi3 file: fused qkv (96 rows) and gate/up (64 rows), 2 heads of 16.
	phi3 := func(name string, extra []ggufKV, tensors ...ggufTensor) string {
		k := []ggufKV{{"general.architecture", 8, "phi3"}}
		for _, kv := range kvs[1:] {
			kv.key = strings.Replace(kv.key, "llama.", "phi3.", 1)
			k = append(k, kv)
		}
		for _, kv := range extra {
			if i := slices.IndexFunc(k, func(x ggufKV) bool { return x.key == kv.key }); i >= 0 {
				k[i] = kv
			} else {
				k = append(k, kv)
			}
		}
		vec := func(n int) []byte { return make([]byte, 4*n) }
		ts := []ggufTensor{{"token_embd.weight", []uint64{32, 4}, 0, vec(128)}, {"output_norm.weight", []uint64{32}, 0, vec(32)},
			{"blk.0.attn_norm.weight", []uint64{32}, 0, vec(32)}, {"blk.0.ffn_norm.weight", []uint64{32}, 0, vec(32)},
			{"blk.0.attn_qkv.weight", []uint64{32, 96}, 0, vec(32 * 96)}, {"blk.0.attn_output.weight", []uint64{32, 32}, 0, vec(1024)},
			{"blk.0.ffn_up.weight", []uint64{32, 64}, 0, vec(2048)}, {"blk.0.ffn_down.weight", []uint64{32, 32}, 0, vec(1024)}}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buildGGUF(k, append(ts, tensors...)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	longCtx := []ggufKV{{"phi3.context_length", 4, uint32(256)}, {"phi3.rope.scaling.original_context_length", 4, uint32(16)}}
	out := filepath.Join(dir, "out.llmap")
	for _, c := range []struct {
		input string
		want  []string
	}{
		{with("kv.gguf", []ggufKV{{"llama.attention.key_length", 4, uint32(16)}, {"llama.attention.value_length", 4, uint32(8)}}, ts),
			[]string{"kv.gguf", "llama.attention.value_length = 8", "key_length 16"}},
		{with("partial.gguf", []ggufKV{{"llama.rope.dimension_count", 4, uint32(8)}}, ts),
			[]string{"partial.gguf", "llama.rope.dimension_count = 8", "partial RoPE"}},
		{with("linear.gguf", []ggufKV{{"llama.rope.scaling.type", 8, "linear"}}, ts),
			[]string{"linear.gguf", `llama.rope.scaling.type = "linear"`, "not supported"}},
		{with("factor.gguf", []ggufKV{{"llama.rope.scaling.attn_factor", 6, float32(math.NaN())}}, ts),
			[]string{"factor.gguf", "rope_attn_factor NaN"}},
		{with("freqs.gguf", nil, append(slices.Clone(ts), ggufTensor{"rope_freqs.weight", []uint64{4}, 0, make([]byte, 16)})),
			[]string{"freqs.gguf", "rope_freqs.weight", "shape [4], want [8]"}},
		{phi3("nofactors.gguf", longCtx),
			[]string{"nofactors.gguf", "phi3.context_length 256", "original_context_length 16", "rope_factors_short.weight"}},
	} {
		stderr := expectUserError(t, []string{"convert", "-o", out, c.input}, c.want...)
		t.Log(strings.TrimSpace(stderr))
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: a failed conversion left a file at the output path", c.input)
		}
	}

	// Divisors of zero convert (a tensor is a tensor) but do not open.
	zero := with("zero.gguf", nil, append(slices.Clone(ts), ggufTensor{"rope_freqs.weight", []uint64{8}, 0, make([]byte, 32)}))
	if _, stderr, code := llmap(t, "convert", "-o", out, zero); code != 0 {
		t.Fatalf("convert: %s", stderr)
	}
	expectUserError(t, []string{"run", out, "-n", "1"}, "out.llmap", "rope_freqs.weight", "divisor 0 of pair 0")

	// LongRoPE with its factors: the context is capped at the original 16.
	ok := phi3("phi3.gguf", longCtx, ggufTensor{"rope_factors_short.weight", []uint64{8}, 0, f32Bytes([]float32{1, 1, 2, 2, 3, 3, 4, 4})},
		ggufTensor{"rope_factors_long.weight", []uint64{8}, 0, f32Bytes([]float32{1, 2, 3, 4, 5, 6, 7, 8})})
	os.Remove(out)
	if _, stderr, code := llmap(t, "convert", "-o", out, ok); code != 0 || !strings.Contains(stderr, "capped") {
		t.Fatalf("convert: exit %d, %s", code, stderr)
	}
	stdout, _, _ := llmap(t, "inspect", out)
	if !strings.Contains(stdout, "model.context_length     u32       16") || strings.Contains(stdout, "rope_factors_long") {
		t.Errorf("inspect: %s", stdout)
	}
}

// TestConvertHFRealTokenizers: a Hugging Face directory with LLaMA 3's or
// Qwen's real tokenizer.json and tokenizer_config.json converts with its
// tokenizer, and the model tokenises the prompts of the shared LLaMA 3 and
// Qwen 2 references to their listed ids (BOS <|begin_of_text|> for LLaMA 3,
// none for Qwen). The weights are zeros of the right shapes; only the
// tokenizer is under test here.
func TestConvertHFRealTokenizers(t *testing.T) {
	for _, c := range []struct {
		tokenizer, expected string
		cfg                 arch.Config
		hfArch              string
	}{
		{"llama3", "llama3-random/expected.json", arch.Config{Arch: "llama", Dim: 8, HiddenDim: 8, NLayers: 1, NHeads: 2, NKVHeads: 1,
			HeadSize: 4, VocabSize: 128256, ContextLength: 64, SharedClassifier: true}, "LlamaForCausalLM"},
		{"qwen3", "qwen2-random/expected.json", arch.Config{Arch: "qwen3", Dim: 8, HiddenDim: 8, NLayers: 1, NHeads: 2, NKVHeads: 1,
			HeadSize: 4, VocabSize: 151669, ContextLength: 64, SharedClassifier: true}, "Qwen3ForCausalLM"},
	} {
		t.Run(c.tokenizer, func(t *testing.T) {
			src := testmodels.Path(t, "hf-tokenizers/"+c.tokenizer)
			dir := t.TempDir()
			for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
				data, err := os.ReadFile(filepath.Join(src, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg, _ := json.Marshal(map[string]any{"architectures": []string{c.hfArch}, "hidden_size": c.cfg.Dim,
				"intermediate_size": c.cfg.HiddenDim, "num_hidden_layers": c.cfg.NLayers, "num_attention_heads": c.cfg.NHeads,
				"num_key_value_heads": c.cfg.NKVHeads, "head_dim": c.cfg.HeadSize, "vocab_size": c.cfg.VocabSize,
				"max_position_embeddings": c.cfg.ContextLength, "tie_word_embeddings": true})
			if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
				t.Fatal(err)
			}
			fam, _ := c.cfg.Family()
			var ts []stTensor
			for _, e := range fam.Entries(&c.cfg) {
				if e.HF == "" || !e.Required(&c.cfg) {
					continue
				}
				n := int64(2)
				for _, d := range e.Shape {
					n *= d
				}
				ts = append(ts, stTensor{strings.ReplaceAll(e.HF, "%d", strconv.Itoa(e.Layer)), "F16", e.Shape, make([]byte, n)})
			}
			writeSafetensors(t, filepath.Join(dir, "model.safetensors"), ts)
			out := filepath.Join(t.TempDir(), "m.llmap")
			if _, stderr, code := llmap(t, "convert", "-o", out, dir); code != 0 {
				t.Fatalf("convert: %s", stderr)
			}
			m, err := runtime.Open(out, runtime.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			raw, err := os.ReadFile(testmodels.Path(t, c.expected))
			if err != nil {
				t.Fatal(err)
			}
			var exp struct {
				Prompts []struct {
					Text string `json:"text"`
					IDs  []int  `json:"ids"`
				} `json:"prompts"`
			}
			if err := json.Unmarshal(raw, &exp); err != nil || len(exp.Prompts) == 0 {
				t.Fatalf("%s: %v", c.expected, err)
			}
			for _, p := range exp.Prompts {
				if ids := m.Tokenizer.Encode(p.Text, true); !slices.Equal(ids, p.IDs) {
					t.Errorf("%q: ids %v, want %v", p.Text, ids, p.IDs)
				}
			}
		})
	}
}
