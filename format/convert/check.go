package convert

import (
	"fmt"
	"slices"
	"sort"

	"github.com/llmap/llmap/format"
)

// CheckModel checks that m has exactly the tensors its architecture needs,
// with the shapes its metadata implies, and that every tensor with raw
// bytes has as many as its type and shape require.
func CheckModel(m *Model) error {
	want, err := wantShapes(m.Meta)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(m.Tensors))
	for i := range m.Tensors {
		t := &m.Tensors[i]
		w, ok := want[t.Name]
		if !ok {
			return fmt.Errorf("tensor %s: not part of the %s architecture", t.Name, archOf(m.Meta))
		}
		if !slices.Equal(t.Shape, w) {
			return fmt.Errorf("tensor %s: shape %v, want %v", t.Name, t.Shape, w)
		}
		if t.Raw != nil {
			n, err := t.RawType.RowBytes(int64(t.Rows()) * int64(t.Cols()))
			if err != nil || n != int64(len(t.Raw)) {
				return fmt.Errorf("tensor %s: %d bytes of %s data, want %d", t.Name, len(t.Raw), t.RawType, n)
			}
		}
		seen[t.Name] = true
	}
	shared, _ := m.Meta.Bool(format.KeySharedClassifier)
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !seen[n] && !(n == format.TensorOutput && shared) {
			return fmt.Errorf("tensor %s: missing", n)
		}
	}
	return nil
}

func archOf(meta *format.Metadata) string {
	a, _ := meta.String(format.KeyArchitecture)
	return a
}

// wantShapes lists the tensors of the architecture in meta with their
// shapes, outermost first (format/SPEC.md, "Tensor names").
func wantShapes(meta *format.Metadata) (map[string][]int64, error) {
	arch, err := meta.String(format.KeyArchitecture)
	if err != nil {
		return nil, err
	}
	get := func(k string) int64 {
		v, e := meta.U32(k)
		if e != nil && err == nil {
			err = e
		}
		return int64(v)
	}
	d, h, nl, nh, nkv, vocab, ctx := get(format.KeyDim), get(format.KeyHiddenDim), get(format.KeyNLayers),
		get(format.KeyNHeads), get(format.KeyNKVHeads), get(format.KeyVocabSize), get(format.KeyContextLength)
	if err != nil {
		return nil, err
	}
	if nh == 0 || nkv == 0 || d%nh != 0 || nl > 1<<16 {
		return nil, fmt.Errorf("metadata: dim %d, n_heads %d, n_kv_heads %d, n_layers %d are inconsistent", d, nh, nkv, nl)
	}
	kv := d / nh * nkv
	w := map[string][]int64{
		format.TensorTokenEmbd:  {vocab, d},
		format.TensorOutputNorm: {d},
		format.TensorOutput:     {vocab, d},
	}
	for l := 0; l < int(nl); l++ {
		b := func(s string, shape ...int64) { w[format.BlockTensor(l, s)] = shape }
		b("attn_norm.weight", d)
		b("attn_output.weight", d, d)
		b("ffn_norm.weight", d)
		b("ffn_up.weight", h, d)
		b("ffn_down.weight", d, h)
		switch arch {
		case format.ArchLlama:
			b("attn_q.weight", d, d)
			b("attn_k.weight", kv, d)
			b("attn_v.weight", kv, d)
			b("ffn_gate.weight", h, d)
		case format.ArchGPT2:
			b("attn_norm.bias", d)
			b("attn_qkv.weight", 3*d, d)
			b("attn_qkv.bias", 3*d)
			b("attn_output.bias", d)
			b("ffn_norm.bias", d)
			b("ffn_up.bias", h)
			b("ffn_down.bias", d)
		}
	}
	switch arch {
	case format.ArchLlama:
	case format.ArchGPT2:
		w[format.TensorPositionEmbd] = []int64{ctx, d}
		w["output_norm.bias"] = []int64{d}
	default:
		return nil, fmt.Errorf("unknown architecture %q (llmap runs %q and %q)", arch, format.ArchLlama, format.ArchGPT2)
	}
	return w, nil
}
