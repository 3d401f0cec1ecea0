package convert

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
)

// TestMixMatchesLlamaQuantize checks the mix rules against files made by
// llama.cpp's llama-quantize (../shared/models/kquant-random: a 4-layer
// LLaMA with 8 heads and 4 KV heads and an untied output): every weight
// matrix must get the type llama.cpp gave it.
func TestMixMatchesLlamaQuantize(t *testing.T) {
	for file, mix := range map[string]Mix{
		"k2-Q2_K.gguf": MixQ2_K, "k2-Q3_K_M.gguf": MixQ3_K_M, "k2-Q4_K_M.gguf": MixQ4_K_M,
		"k2-Q5_K_M.gguf": MixQ5_K_M, "k2-Q6_K.gguf": MixQ6_K,
	} {
		f, err := gguf.Open(testmodels.Path(t, "kquant-random/"+file))
		if err != nil {
			t.Fatal(err)
		}
		layers, _ := f.Int("llama.block_count")
		heads, _ := f.Int("llama.attention.head_count")
		kvHeads, _ := f.Int("llama.attention.head_count_kv")
		_, tied := f.Tensor("output.weight")
		tied = !tied
		n := 0
		for _, ti := range f.Tensors {
			if len(ti.Dims) < 2 {
				continue
			}
			want, err := ti.Type()
			if err != nil {
				t.Fatal(err)
			}
			got, note := mix.TypeFor(MixTensorOf(ti.Name, int(ti.Dims[0]), layers, heads/kvHeads, tied))
			if got != want || note != "" {
				t.Errorf("%s %s: %s (%q), llama-quantize chose %s", mix, ti.Name, got, note, want)
			}
			n++
		}
		f.Close()
		if n != 30 {
			t.Errorf("%s: %d matrices, want 30", file, n)
		}
	}
}

// TestMixLayerRules checks the per-layer rules on a 32-layer model, where
// llama.cpp's Q4_K_M is known to give half the attn_v and ffn_down
// matrices Q6_K (layers 0-3, 28-31 and every third from 6 to 27).
func TestMixLayerRules(t *testing.T) {
	var six []int
	for l := range 32 {
		typ, _ := MixQ4_K_M.TypeFor(MixTensor{Role: "ffn_down", Layer: l, Layers: 32, Cols: 11008, GQA: 1})
		if typ == quant.Q6_K {
			six = append(six, l)
		} else if typ != quant.Q4_K {
			t.Errorf("layer %d: %s", l, typ)
		}
	}
	want := []int{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}
	if len(six) != len(want) {
		t.Fatalf("Q6_K layers %v, want %v", six, want)
	}
	for i := range six {
		if six[i] != want[i] {
			t.Fatalf("Q6_K layers %v, want %v", six, want)
		}
	}
	cases := []struct {
		mix  Mix
		t    MixTensor
		want quant.Type
	}{
		{MixQ3_K_M, MixTensor{Role: "ffn_down", Layer: 1, Layers: 32, Cols: 4096}, quant.Q5_K}, // layer < 32/16
		{MixQ3_K_M, MixTensor{Role: "ffn_down", Layer: 2, Layers: 32, Cols: 4096}, quant.Q4_K},
		{MixQ3_K_M, MixTensor{Role: "attn_v", Layer: 1, Layers: 32, Cols: 4096}, quant.Q5_K},
		{MixQ3_K_M, MixTensor{Role: "attn_v", Layer: 2, Layers: 32, Cols: 4096}, quant.Q4_K},
		{MixQ2_K, MixTensor{Role: "attn_v", Cols: 4096, GQA: 4}, quant.Q4_K},
		{MixQ2_K, MixTensor{Role: "attn_v", Cols: 4096, GQA: 2}, quant.Q3_K},
		{MixQ2_K, MixTensor{Role: "attn_q", Cols: 4096}, quant.Q2_K},
		{MixQ4_K_M, MixTensor{Role: "attn_qkv", Cols: 3072}, quant.Q5_K},
		{MixQ5_K_M, MixTensor{Role: "attn_qkv", Cols: 3072}, quant.Q6_K},
		{MixQ4_K_M, MixTensor{Role: "token_embd", Cols: 4096}, quant.Q4_K},
		{MixQ4_K_M, MixTensor{Role: "token_embd", Cols: 4096, Tied: true}, quant.Q6_K},
		{MixQ2_K, MixTensor{Role: "output", Cols: 4096}, quant.Q6_K},
		{MixQ6_K, MixTensor{Role: "ffn_gate", Cols: 4096}, quant.Q6_K},
	}
	for _, c := range cases {
		if got, _ := c.mix.TypeFor(c.t); got != c.want {
			t.Errorf("%s %+v: %s, want %s", c.mix, c.t, got, c.want)
		}
	}
}

// TestMixFallback checks the types that stand in when rows are not whole
// super-blocks: stories260K (dim 64, hidden 172, 5 layers, 8 heads, 4 KV
// heads, tied embedding) has no matrix a K-quant can hold.
func TestMixFallback(t *testing.T) {
	type row struct {
		name string
		cols int
	}
	stories := []row{{"token_embd.weight", 64}, {"blk.2.attn_q.weight", 64}, {"blk.2.attn_v.weight", 64},
		{"blk.0.attn_v.weight", 64}, {"blk.2.attn_output.weight", 64}, {"blk.2.ffn_gate.weight", 64},
		{"blk.2.ffn_down.weight", 172}}
	want := map[Mix][]quant.Type{
		MixQ2_K:   {quant.Q8_0, quant.Q4_0, quant.Q4_0, quant.Q4_0, quant.Q4_0, quant.Q4_0, quant.F16},
		MixQ3_K_M: {quant.Q8_0, quant.Q4_0, quant.Q4_0, quant.Q8_0, quant.Q4_0, quant.Q4_0, quant.F16},
		MixQ4_K_M: {quant.Q8_0, quant.Q4_0, quant.Q8_0, quant.Q4_0, quant.Q4_0, quant.Q4_0, quant.F16},
		MixQ5_K_M: {quant.Q8_0, quant.Q8_0, quant.Q8_0, quant.Q8_0, quant.Q8_0, quant.Q8_0, quant.F16},
		MixQ6_K:   {quant.Q8_0, quant.Q8_0, quant.Q8_0, quant.Q8_0, quant.Q8_0, quant.Q8_0, quant.F16},
	}
	for mix, types := range want {
		for i, r := range stories {
			got, note := mix.TypeFor(MixTensorOf(r.name, r.cols, 5, 2, true))
			if got != types[i] {
				t.Errorf("%s %s: %s, want %s", mix, r.name, got, types[i])
			}
			if !strings.Contains(note, "is not a multiple of 256") || !strings.Contains(note, got.String()) {
				t.Errorf("%s %s: note %q", mix, r.name, note)
			}
		}
	}
}

func TestParseMix(t *testing.T) {
	for _, m := range Mixes() {
		if got, ok := ParseMix(strings.ToUpper(m.String())); !ok || got != m {
			t.Errorf("ParseMix(%q) = %v, %v", strings.ToUpper(m.String()), got, ok)
		}
	}
	for _, s := range []string{"q4_k", "q4_0", "q4_k_s", ""} {
		if _, ok := ParseMix(s); ok {
			t.Errorf("ParseMix(%q) accepted", s)
		}
	}
	if got := MixTensorOf("blk.12.ffn_down.weight", 4096, 32, 1, false); got.Role != "ffn_down" || got.Layer != 12 {
		t.Errorf("MixTensorOf: %+v", got)
	}
}

// TestWriteMix converts synthetic models with a mix: every matrix is
// written in the type Mix.TypeFor gives it (K-quants where rows are whole
// super-blocks, the fallbacks elsewhere, with one notice each), vectors in
// F32, and the classifier (output.weight, or the embedding when shared) is
// Q6_K.
func TestWriteMix(t *testing.T) {
	for _, c := range []struct {
		cfg   arch.Config
		notes int
	}{
		{arch.Config{Dim: 256, HiddenDim: 512, NLayers: 4, NHeads: 8, NKVHeads: 2, VocabSize: 300, ContextLength: 64}, 0},
		{arch.Config{Dim: 256, HiddenDim: 512, NLayers: 4, NHeads: 8, NKVHeads: 2, VocabSize: 300, ContextLength: 64, SharedClassifier: true}, 0},
		{arch.Config{Dim: 64, HiddenDim: 172, NLayers: 2, NHeads: 4, NKVHeads: 2, VocabSize: 300, ContextLength: 64}, 2 + 2*7},
	} {
		src, err := Synth("mix", c.cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, mix := range Mixes() {
			path := filepath.Join(t.TempDir(), mix.String()+".llmap")
			var notes []string
			if err := Write(path, src, Options{Mix: mix, Notice: func(s string) { notes = append(notes, s) }}); err != nil {
				t.Fatal(err)
			}
			if len(notes) != c.notes {
				t.Errorf("dim %d %s: %d notices, want %d: %q", c.cfg.Dim, mix, len(notes), c.notes, notes)
			}
			f, err := format.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			mixOf := mixTensors(src)
			for i, ti := range f.Tensors {
				want := quant.F32
				if len(ti.Shape) >= 2 {
					want, _ = mix.TypeFor(mixOf(&src.Tensors[i]))
				}
				if ti.Type != want {
					t.Errorf("dim %d %s %s: %s, want %s", c.cfg.Dim, mix, ti.Name, ti.Type, want)
				}
				classifier := "output.weight"
				if c.cfg.SharedClassifier {
					classifier = "token_embd.weight"
				}
				if ti.Name == classifier && c.cfg.Dim == 256 && ti.Type != quant.Q6_K {
					t.Errorf("%s: classifier %s is %s, want q6_k", mix, ti.Name, ti.Type)
				}
			}
			f.Close()
		}
	}
}
