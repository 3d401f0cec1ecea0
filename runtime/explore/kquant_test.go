package explore

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/format/llama2c"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/runtime"
)

// stories260K returns llama2.c's three published stories260K outputs joined
// (the text the perplexity tests score), the checkpoint (closed when the
// test ends) and its tokenizer.
func stories260K(t *testing.T) (text string, ck *llama2c.Checkpoint, tok *llama2c.Tokenizer) {
	t.Helper()
	for _, name := range []string{"expected_t0.0_n200.txt", "expected_t0.0_n256.txt", "expected_t1.0_p0.9_s133742_n256.txt"} {
		b, err := os.ReadFile(testmodels.Path(t, "stories260K/"+name))
		if err != nil {
			t.Fatal(err)
		}
		text += string(b) + "\n"
	}
	ck, err := llama2c.Open(testmodels.Path(t, "stories260K/stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	tb, err := os.ReadFile(testmodels.Path(t, "stories260K/tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err = llama2c.ReadTokenizer(tb, ck.Config.VocabSize); err != nil {
		t.Fatal(err)
	}
	return text, ck, tok
}

// paddedStories260K describes stories260K zero-padded to an exactly
// equivalent model whose matrices have rows of 256, so that the K-quants
// can hold every one of them: the residual stream and the feed-forward
// width grow from 64 and 172 to 256 with zero weights; 24 zero query heads
// (and 12 zero KV heads, keeping 2 query heads per KV head) give zero
// attention output; the norm weights are halved and the epsilon quartered,
// which keeps RMSNorm's output on the real coordinates (the mean square
// over 256 is a quarter of that over 64).
func paddedStories260K(t *testing.T, ck *llama2c.Checkpoint, tok *llama2c.Tokenizer) *convert.Model {
	const width = 256
	m := convert.FromLlama2c(ck, tok, "stories260K-padded")
	m.Meta.Set(format.KeyDim, format.U32(width))
	m.Meta.Set(format.KeyHiddenDim, format.U32(width))
	m.Meta.Set(format.KeyNHeads, format.U32(32))
	m.Meta.Set(format.KeyNKVHeads, format.U32(16))
	m.Meta.Set(format.KeyNormEps, format.F32(1e-5/4))
	if c := ck.Config; c.Dim != 64 || c.HiddenDim != 172 || c.NHeads != 8 || c.NKVHeads != 4 {
		t.Fatalf("stories260K config %+v", c)
	}
	for i := range m.Tensors {
		ti := &m.Tensors[i]
		orig := *ti
		cols := orig.Cols()
		ti.Raw = nil
		if len(ti.Shape) == 1 { // RMSNorm weights
			ti.Shape = []int64{width}
			ti.Row = func(_ int, dst []float32) {
				clear(dst)
				orig.Row(0, dst[:cols])
				for j := range cols {
					dst[j] /= 2
				}
			}
			continue
		}
		rows := orig.Rows()
		switch {
		case ti.Name == "token_embd.weight" || ti.Name == "output.weight":
			ti.Shape = []int64{int64(rows), width}
		case strings.HasSuffix(ti.Name, "attn_k.weight") || strings.HasSuffix(ti.Name, "attn_v.weight"):
			ti.Shape = []int64{16 * 8, width} // 16 KV heads of 8
		default:
			ti.Shape = []int64{width, width}
		}
		ti.Row = func(r int, dst []float32) {
			clear(dst)
			if r < rows {
				orig.Row(r, dst[:cols])
			}
		}
	}
	return m
}

// TestKQuantPerplexity measures the K-quants on a real model: stories260K
// padded so that every matrix is K-quantised (paddedStories260K), scored on
// llama2.c's published stories against the padded f32 model, which must
// itself reproduce stories260K's perplexity; both with each type alone and
// with the mixes. The targets: Q6_K within 0.5% of f32, Q4_K (and
// Q4_K_M) better than Q4_0; and the types and mixes in the order of
// llama.cpp's published tables (Q2_K is far worse on a model this small).
func TestKQuantPerplexity(t *testing.T) {
	text, ck, tok := stories260K(t)
	openWith := func(src *convert.Model, name string, opts convert.Options) (*runtime.Model, *runtime.State) {
		path := filepath.Join(t.TempDir(), name+".llmap")
		if err := convert.Write(path, src, opts); err != nil {
			t.Fatal(err)
		}
		m, err := runtime.Open(path, runtime.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		s, _ := m.NewState(0)
		return m, s
	}
	open := func(src *convert.Model, typ quant.Type) (*runtime.Model, *runtime.State) {
		m, s := openWith(src, typ.String(), convert.Options{Matrices: typ})
		for _, ti := range m.File().Tensors {
			if len(ti.Shape) == 2 && ti.Type != typ {
				t.Fatalf("%s: tensor %s stored as %s", typ, ti.Name, ti.Type)
			}
		}
		return m, s
	}
	orig, origState := open(convert.FromLlama2c(ck, tok, "stories260K"), quant.F32)
	want, err := Perplexity(orig, origState, text, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	padded := paddedStories260K(t, ck, tok)
	// The f32 model is scored once: the types are compared by perplexity
	// only (top-1 agreement would run it again for each).
	ref, refState := open(padded, quant.F32)
	base, err := Perplexity(ref, refState, text, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(base.Perplexity()/want.Perplexity() - 1); d > 1e-5 {
		t.Fatalf("padded f32 perplexity %.6f, stories260K's %.6f", base.Perplexity(), want.Perplexity())
	}
	ppl := map[quant.Type]float64{}
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q6_K, quant.Q5_K, quant.Q4_K, quant.Q4_0, quant.Q3_K, quant.Q2_K} {
		m, s := open(padded, typ)
		r, err := Perplexity(m, s, text, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ppl[typ] = r.Perplexity()
		t.Logf("%-4s perplexity %.4f (f32 %.4f, %+.2f%%)", typ, r.Perplexity(), base.Perplexity(), 100*(r.Perplexity()/base.Perplexity()-1))
	}
	// The mixes, as llmap convert --quant writes them.
	mixPPL := map[convert.Mix]float64{}
	for _, mix := range convert.Mixes() {
		m, s := openWith(padded, mix.String(), convert.Options{Mix: mix})
		r, err := Perplexity(m, s, text, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		mixPPL[mix] = r.Perplexity()
		t.Logf("%-6s perplexity %.4f (f32 %.4f, %+.2f%%)", mix, r.Perplexity(), base.Perplexity(), 100*(r.Perplexity()/base.Perplexity()-1))
	}
	for _, typ := range []quant.Type{quant.Q8_0, quant.Q6_K} {
		if rel := ppl[typ]/base.Perplexity() - 1; rel > 0.005 {
			t.Errorf("%s perplexity %+.2f%% of f32, want within 0.5%%", typ, 100*rel)
		}
	}
	if rel := mixPPL[convert.MixQ6_K]/base.Perplexity() - 1; rel > 0.005 {
		t.Errorf("q6_k mix perplexity %+.2f%% of f32, want within 0.5%%", 100*rel)
	}
	// llama.cpp's published order: Q6_K, Q5_K_M, Q4_K_M, then Q4_0, then
	// Q3_K_M, Q2_K.
	mixOrder := []float64{mixPPL[convert.MixQ6_K], mixPPL[convert.MixQ5_K_M], mixPPL[convert.MixQ4_K_M], ppl[quant.Q4_0], mixPPL[convert.MixQ3_K_M], mixPPL[convert.MixQ2_K]}
	for i := 1; i < len(mixOrder); i++ {
		if mixOrder[i] <= mixOrder[i-1] {
			t.Errorf("mixes out of llama.cpp's order (q6_k, q5_k_m, q4_k_m, q4_0, q3_k_m, q2_k): %v", mixOrder)
			break
		}
	}
	// Q8_0 and Q6_K are both at f32's level (as in llama.cpp's tables);
	// below them each type must lose more than the one before.
	order := []quant.Type{quant.Q6_K, quant.Q5_K, quant.Q4_K, quant.Q4_0, quant.Q3_K, quant.Q2_K}
	for i := 1; i < len(order); i++ {
		if ppl[order[i]] <= ppl[order[i-1]] {
			t.Errorf("%s perplexity %.4f is not above %s's %.4f", order[i], ppl[order[i]], order[i-1], ppl[order[i-1]])
		}
	}
}
