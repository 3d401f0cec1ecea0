package runtime

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/quant"
)

// Two test families that compute what llama computes with other pieces:
// NeoX-style RoPE on q/k rows stored in rotate-half order, and fused
// q/k/v and gate/up tensors. The families that will use these pieces
// (Qwen 2, Phi-3) bring their own reference tests.
var testFamilies = sync.OnceValue(func() error {
	neox := *arch.Llama
	neox.Name, neox.Position = "test-llama-neox", arch.RoPEHalves
	fused := *arch.Llama
	fused.Name = "test-llama-fused"
	fused.Tensors = nil
	for _, t := range arch.Llama.Tensors {
		switch t.Role {
		case arch.RoleAttnQ:
			fused.Tensors = append(fused.Tensors, arch.Tensor{Name: "attn_qkv.weight", Role: arch.RoleAttnQKV, Shape: []arch.Dim{arch.DimQKV, arch.DimModel}})
		case arch.RoleFFNGate:
			fused.Tensors = append(fused.Tensors, arch.Tensor{Name: "ffn_gate_up.weight", Role: arch.RoleFFNGateUp, Shape: []arch.Dim{arch.DimHidden2, arch.DimModel}})
		case arch.RoleAttnK, arch.RoleAttnV, arch.RoleFFNUp:
		default:
			fused.Tensors = append(fused.Tensors, t)
		}
	}
	if err := arch.Register(&neox); err != nil {
		return err
	}
	return arch.Register(&fused)
})

// TestFamilyPieces: a llama model, the same weights with q/k rows in
// rotate-half order run with RoPEHalves, and the same weights fused into
// attn_qkv and ffn_gate_up give the same logits, prefilled and decoded.
func TestFamilyPieces(t *testing.T) {
	if err := testFamilies(); err != nil {
		t.Fatal(err)
	}
	c := arch.Config{Arch: "llama", Dim: 64, HiddenDim: 96, NLayers: 2, NHeads: 4, NKVHeads: 2, VocabSize: 300, ContextLength: 64}
	base, err := convert.Synth("base", c, 11)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	byName := map[string]*convert.Tensor{}
	for i := range base.Tensors {
		byName[base.Tensors[i].Name] = &base.Tensors[i]
	}
	withArch := func(name string) *format.Metadata {
		meta := &format.Metadata{}
		for _, k := range base.Meta.Keys() {
			v, _ := base.Meta.Get(k)
			meta.Set(k, v)
		}
		meta.Set(format.KeyArchitecture, format.String(name))
		return meta
	}

	// NeoX: HF row j of a head is llama row 2j (j < hs/2) or 2(j-hs/2)+1.
	neox := &convert.Model{Meta: withArch("test-llama-neox")}
	hs := c.HeadSize
	role := func(name string) arch.Role {
		row, _, _ := arch.Llama.Find(name)
		return row.Role
	}
	for _, t := range base.Tensors {
		if r := role(t.Name); r == arch.RoleAttnQ || r == arch.RoleAttnK {
			row := t.Row
			t.Row = func(j int, dst []float32) {
				head, k := j/hs, j%hs
				src := 2 * k
				if k >= hs/2 {
					src = 2*(k-hs/2) + 1
				}
				row(head*hs+src, dst)
			}
		}
		neox.Tensors = append(neox.Tensors, t)
	}

	// Fused: rows of q, k, v stacked; rows of gate, up stacked.
	fused := &convert.Model{Meta: withArch("test-llama-fused")}
	stack := func(name string, parts ...string) convert.Tensor {
		var rows int64
		for _, p := range parts {
			rows += byName[p].Shape[0]
		}
		return convert.Tensor{Name: name, Shape: []int64{rows, int64(c.Dim)}, Row: func(r int, dst []float32) {
			for _, p := range parts {
				if n := int(byName[p].Shape[0]); r >= n {
					r -= n
					continue
				}
				byName[p].Row(r, dst)
				return
			}
		}}
	}
	for _, t := range base.Tensors {
		_, l, _ := arch.Llama.Find(t.Name)
		b := func(s string) string { return format.BlockTensor(l, s) }
		switch role(t.Name) {
		case arch.RoleAttnQ:
			fused.Tensors = append(fused.Tensors, stack(b("attn_qkv.weight"), t.Name, b("attn_k.weight"), b("attn_v.weight")))
		case arch.RoleFFNGate:
			fused.Tensors = append(fused.Tensors, stack(b("ffn_gate_up.weight"), t.Name, b("ffn_up.weight")))
		case arch.RoleAttnK, arch.RoleAttnV, arch.RoleFFNUp:
		default:
			fused.Tensors = append(fused.Tensors, t)
		}
	}

	tokens := []int{1, 40, 41, 42, 7, 250, 99, 13, 14, 15}
	run := func(src *convert.Model, threads int) [][]float32 {
		if err := convert.CheckModel(src); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.llmap")
		if err := convert.Write(path, src, convert.Options{Matrices: quant.F32}); err != nil {
			t.Fatal(err)
		}
		m, err := Open(path, Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		s, _ := m.NewState(0)
		logits, err := m.Prefill(s, tokens, 0)
		if err != nil {
			t.Fatal(err)
		}
		out := [][]float32{slices.Clone(logits)}
		for pos := len(tokens); pos < len(tokens)+4; pos++ {
			if logits, err = m.Forward(s, argmax(logits), pos); err != nil {
				t.Fatal(err)
			}
			out = append(out, slices.Clone(logits))
		}
		return out
	}
	for _, threads := range []int{1, 2} {
		want := run(base, threads)
		for name, src := range map[string]*convert.Model{"neox": neox, "fused": fused} {
			got := run(src, threads)
			for i := range want {
				if d := maxDiff(got[i], want[i]); d > 1e-4 {
					t.Errorf("%s, %d threads, step %d: logits differ from llama's by %g", name, threads, i, d)
				}
			}
		}
	}
}
