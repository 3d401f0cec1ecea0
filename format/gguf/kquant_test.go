package gguf_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
)

// kquantExpected is ../shared/models/kquant-random/expected.json: for each
// file, prompts with their ids and the last position's logits, computed in
// float64 over the tensors as gguf-py dequantises them ("exact") and by
// llama.cpp.
type kquantExpected struct {
	Models map[string][]struct {
		Text     string    `json:"text"`
		IDs      []int     `json:"ids"`
		Exact    []float64 `json:"exact"`
		LlamaCpp []float64 `json:"llama_cpp"`
	} `json:"models"`
}

// TestKQuantDequantizeMatchesGGUFPy checks quant's reference dequantisers of
// Q2_K..Q6_K against real llama.cpp-quantised files: a float64 LLaMA forward
// pass over the tensors as quant.DequantizeRef decodes them must reproduce
// the logits that a float64 pass over gguf-py's dequantisation gave. A
// wrong bit position in any layout moves the logits by far more than the
// tolerance.
func TestKQuantDequantizeMatchesGGUFPy(t *testing.T) {
	dir := testmodels.Path(t, "kquant-random")
	raw, err := os.ReadFile(dir + "/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp kquantExpected
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Models) != 5 {
		t.Fatalf("expected.json has %d models, want 5", len(exp.Models))
	}
	for name, prompts := range exp.Models {
		t.Run(name, func(t *testing.T) {
			f, err := gguf.Open(dir + "/" + name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m := loadRefLlama(t, f)
			for _, p := range prompts {
				logits := m.forward(p.IDs)
				var worst float64
				for i, want := range p.Exact {
					worst = math.Max(worst, math.Abs(logits[i]-want))
				}
				t.Logf("%q: max |logit - exact| = %.2g (%d types: %s)", p.Text, worst, len(m.types), m.typeList())
				// expected.json rounds to 6 decimals.
				if worst > 2e-5 {
					t.Errorf("%q: logits differ from gguf-py's by up to %g", p.Text, worst)
				}
			}
			for _, typ := range []quant.Type{quant.Q2_K, quant.Q3_K, quant.Q4_K, quant.Q5_K, quant.Q6_K} {
				if strings.Contains(name, strings.ToUpper(typ.String())) && m.types[typ] == 0 {
					t.Errorf("%s holds no %s tensor", name, typ)
				}
			}
		})
	}
}

// refLlama is a float64 LLaMA (llama.cpp's conventions: adjacent-pair RoPE,
// RMSNorm, SwiGLU, grouped-query attention) over dequantised tensors, only
// for checking decoders against reference logits.
type refLlama struct {
	dim, hidden, layers, heads, kvHeads, vocab int
	eps, ropeBase                              float64
	tensors                                    map[string][]float64
	types                                      map[quant.Type]int
}

func loadRefLlama(t *testing.T, f *gguf.File) *refLlama {
	t.Helper()
	geti := func(k string) int {
		v, ok := f.Int("llama." + k)
		if !ok {
			t.Fatalf("no llama.%s", k)
		}
		return v
	}
	m := &refLlama{
		dim: geti("embedding_length"), hidden: geti("feed_forward_length"), layers: geti("block_count"),
		heads: geti("attention.head_count"), kvHeads: geti("attention.head_count_kv"),
		tensors: map[string][]float64{}, types: map[quant.Type]int{}, ropeBase: 10000, eps: 1e-5,
	}
	if x, ok := f.Float32("llama.attention.layer_norm_rms_epsilon"); ok {
		m.eps = float64(x)
	}
	if x, ok := f.Float32("llama.rope.freq_base"); ok {
		m.ropeBase = float64(x)
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		typ, err := ti.Type()
		if err != nil {
			t.Fatal(err)
		}
		data, err := f.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, ti.NumElements())
		if err := quant.DequantizeRef(typ, x, data); err != nil {
			t.Fatalf("%s: %v", ti.Name, err)
		}
		v := make([]float64, len(x))
		for j, e := range x {
			v[j] = float64(e)
		}
		m.tensors[ti.Name] = v
		m.types[typ]++
		if ti.Name == "token_embd.weight" {
			m.vocab = int(ti.Shape()[0])
		}
	}
	return m
}

func (m *refLlama) typeList() string {
	var s []string
	for _, typ := range quant.Types() {
		if n := m.types[typ]; n > 0 {
			s = append(s, fmt.Sprintf("%s x%d", typ, n))
		}
	}
	return strings.Join(s, ", ")
}

func (m *refLlama) w(name string) []float64 { return m.tensors[name] }

// matVec returns W (rows, len(x)) @ x.
func matVec(w, x []float64) []float64 {
	out := make([]float64, len(w)/len(x))
	for r := range out {
		var s float64
		for i, v := range x {
			s += w[r*len(x)+i] * v
		}
		out[r] = s
	}
	return out
}

func (m *refLlama) rmsNorm(x, w []float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	k := 1 / math.Sqrt(ss/float64(len(x))+m.eps)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * k * w[i]
	}
	return out
}

// rope rotates each adjacent pair (2i, 2i+1) of every head of v by
// pos * base^(-2i/headSize).
func (m *refLlama) rope(v []float64, pos, headSize int) {
	for h := 0; h < len(v); h += headSize {
		for i := 0; i < headSize; i += 2 {
			th := float64(pos) * math.Pow(m.ropeBase, -float64(i)/float64(headSize))
			c, s := math.Cos(th), math.Sin(th)
			a, b := v[h+i], v[h+i+1]
			v[h+i], v[h+i+1] = a*c-b*s, a*s+b*c
		}
	}
}

// forward returns the logits of the last of ids.
func (m *refLlama) forward(ids []int) []float64 {
	hs := m.dim / m.heads
	keys := make([][][]float64, m.layers) // (layer, pos, kvDim)
	vals := make([][][]float64, m.layers)
	var x []float64
	for pos, id := range ids {
		x = append([]float64(nil), m.w("token_embd.weight")[id*m.dim:(id+1)*m.dim]...)
		for l := range m.layers {
			p := fmt.Sprintf("blk.%d.", l)
			xb := m.rmsNorm(x, m.w(p+"attn_norm.weight"))
			q := matVec(m.w(p+"attn_q.weight"), xb)
			k := matVec(m.w(p+"attn_k.weight"), xb)
			v := matVec(m.w(p+"attn_v.weight"), xb)
			m.rope(q, pos, hs)
			m.rope(k, pos, hs)
			keys[l] = append(keys[l], k)
			vals[l] = append(vals[l], v)
			att := make([]float64, m.dim)
			for h := range m.heads {
				kh := h / (m.heads / m.kvHeads) * hs
				scores := make([]float64, pos+1)
				top := math.Inf(-1)
				for t := range scores {
					var s float64
					for i := range hs {
						s += q[h*hs+i] * keys[l][t][kh+i]
					}
					scores[t] = s / math.Sqrt(float64(hs))
					top = math.Max(top, scores[t])
				}
				var sum float64
				for t := range scores {
					scores[t] = math.Exp(scores[t] - top)
					sum += scores[t]
				}
				for t := range scores {
					for i := range hs {
						att[h*hs+i] += scores[t] / sum * vals[l][t][kh+i]
					}
				}
			}
			o := matVec(m.w(p+"attn_output.weight"), att)
			for i := range x {
				x[i] += o[i]
			}
			xb = m.rmsNorm(x, m.w(p+"ffn_norm.weight"))
			g := matVec(m.w(p+"ffn_gate.weight"), xb)
			u := matVec(m.w(p+"ffn_up.weight"), xb)
			for i := range g {
				g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
			}
			d := matVec(m.w(p+"ffn_down.weight"), g)
			for i := range x {
				x[i] += d[i]
			}
		}
	}
	return matVec(m.w("output.weight"), m.rmsNorm(x, m.w("output_norm.weight")))
}
