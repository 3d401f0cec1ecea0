package runtime

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
)

func TestReferenceGPT2(t *testing.T) {
	t.Run("lmbuddy-f32", func(t *testing.T) {
		// GPT2Model names without "transformer.", Conv1D [in, out] weights.
		path := convertHF(t, testmodels.Path(t, "tiny-gpt2-random-lmbuddy"), nil)
		d := compareReference(t, path, "gpt2_lmbuddy.json", tolExact, true)
		t.Logf("tiny-gpt2-random-lmbuddy (f32): max |logit - torch| = %.3g", d)
	})
	t.Run("tiny-f16", func(t *testing.T) {
		// GPT2LMHeadModel, "transformer." names, 2 layers, 4 heads, F16,
		// 32 positions (the whole context in the last case).
		path := convertHF(t, filepath.Join(referenceDir, "hf-gpt2-tiny"), nil)
		d := compareReference(t, path, "gpt2_tiny.json", tolExact, true)
		t.Logf("hf-gpt2-tiny (f16): max |logit - torch| = %.3g", d)
	})
	for _, c := range []struct {
		typ quant.Type
		tol float64
	}{{quant.F32, tolExact}, {quant.BF16, 0.25}, {quant.Q8_0, tolQ8}, {quant.Q4_0, tolQ4}} {
		t.Run("tiny-"+c.typ.String(), func(t *testing.T) {
			path := convertHF(t, filepath.Join(referenceDir, "hf-gpt2-tiny"), &c.typ)
			d := compareReference(t, path, "gpt2_tiny.json", c.tol, false)
			t.Logf("hf-gpt2-tiny requantised to %s: max |logit - torch| = %.3g", c.typ, d)
		})
	}
}

// TestGPT2Tokenizer: GPT-2 has no BOS, so a prompt is its text's ids alone
// (as Hugging Face's model(input_ids) sees it); only an empty prompt starts
// from <|endoftext|>, which is also EOS, so that generation from it works.
func TestGPT2Tokenizer(t *testing.T) {
	m, err := Open(convertHF(t, filepath.Join(referenceDir, "hf-gpt2-tiny"), nil), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok := m.Tokenizer
	eot := 35 // "<|endoftext|>" in hf-gpt2-tiny/vocab.json
	if tok.BOS() != -1 || tok.EOS() != eot {
		t.Fatalf("BOS %d EOS %d, want -1 and %d", tok.BOS(), tok.EOS(), eot)
	}
	// vocab.json: a..z are 0..25, "." 26, "Ġ" 27, "Ġt" 28, "he" 29, "Ġthe" 30
	if got, want := tok.Encode(" the cat.", false), []int{30, 27, 2, 0, 19, 26}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if got := tok.Encode("", true); !slices.Equal(got, []int{eot}) {
		t.Errorf("Encode(\"\", addBOS) = %v, want [%d]", got, eot)
	}
	if got := tok.Encode("he", true); !slices.Equal(got, []int{29}) {
		t.Errorf("Encode(\"he\", addBOS) = %v", got)
	}
	s, err := m.NewState(0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Context() != 32 {
		t.Errorf("context %d, want the model's 32", s.Context())
	}
	var text []byte
	st, err := m.Generate(s, Generation{Prompt: "", Sampler: NewSampler(m.Config.VocabSize, 0, 0, 0, nil)},
		func(p []byte) error { text = append(text, p...); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.PromptTokens != 1 || st.Positions == 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestLayerNorm compares layerNorm with the float64 definition, including
// a large common offset, where a one-pass variance would lose precision.
func TestLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 16, 33, 768} {
		x, w, b := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = 1000 + float32(r.NormFloat64())
			w[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		var mean, vr float64
		for _, v := range x {
			mean += float64(v)
		}
		mean /= float64(n)
		for _, v := range x {
			vr += (float64(v) - mean) * (float64(v) - mean)
		}
		vr /= float64(n)
		out := make([]float32, n)
		layerNorm(out, x, w, b, 1e-5)
		for i := range x {
			want := (float64(x[i])-mean)/math.Sqrt(vr+1e-5)*float64(w[i]) + float64(b[i])
			if d := math.Abs(float64(out[i]) - want); d > 1e-4*(1+math.Abs(want)) {
				t.Fatalf("n=%d i=%d: %v, want %v", n, i, out[i], want)
			}
		}
		layerNorm(x, x, w, b, 1e-5) // in place
		if !slices.Equal(x, out) {
			t.Fatalf("n=%d: in-place result differs", n)
		}
	}
}

func TestGeluTanh(t *testing.T) {
	// Values of 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))), computed with
	// torch.nn.functional.gelu(approximate="tanh") in float64.
	in := []float32{-6, -3, -1, -0.5, 0, 0.5, 1, 3, 6}
	want := []float64{0, -0.003637392, -0.158808009, -0.154285988, 0, 0.345714012, 0.841191991, 2.996362608, 6}
	geluTanh(in)
	for i, w := range want {
		if math.Abs(float64(in[i])-w) > 1e-6 {
			t.Errorf("gelu[%d] = %v, want %v", i, in[i], w)
		}
	}
}
