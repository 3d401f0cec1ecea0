package explore

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/internal/testmodels/stories"
	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/runtime"
)

// The synthetic vocabulary: the special tokens, " ", the letters, and for
// each word every prefix of " "+word, so that the SentencePiece merges build
// the whole word as one token.
var synthWords = []string{"king", "queen", "man", "woman", "cat", "cats", "none", "one", "two", "three", "four"}

// Named directions of the synthetic embedding space (basis vectors).
const (
	dirRoyal = iota
	dirMale
	dirFemale
	dirPerson
	dirAnimal
	dirPlural
	nNamed
)

// synthVector returns the constructed embedding of a word (nil for a piece
// that only gets noise): king - man + woman = queen exactly, and the words
// none, one, ..., four carry 0..4 units of the plural direction.
func synthVector(word string, dim int) []float32 {
	v := make([]float32, dim)
	set := func(pairs ...float32) []float32 {
		for i := 0; i < len(pairs); i += 2 {
			v[int(pairs[i])] = pairs[i+1]
		}
		return v
	}
	switch word {
	case "king":
		return set(dirRoyal, 2, dirMale, 1)
	case "queen":
		return set(dirRoyal, 2, dirFemale, 1)
	case "man":
		return set(dirPerson, 1, dirMale, 1)
	case "woman":
		return set(dirPerson, 1, dirFemale, 1)
	case "cat":
		return set(dirAnimal, 1)
	case "cats":
		return set(dirAnimal, 1, dirPlural, 1)
	case "none", "one", "two", "three", "four":
		n := slices.Index([]string{"none", "one", "two", "three", "four"}, word)
		return set(dirPerson, 0.5, dirPlural, float32(n))
	}
	return nil
}

type synthModel struct {
	path   string
	pieces []string
}

// writeSynthModel writes a one-layer LLaMA model whose embedding matrix is
// built from synthVector (named directions in the first dimensions, small
// deterministic noise in the others for every other piece).
func writeSynthModel(t testing.TB, typ quant.Type) synthModel {
	t.Helper()
	const dim, hidden, layers, heads, ctx = 64, 96, 1, 4, 32
	pieces := []string{"<unk>", "<s>", "</s>", " "}
	scores := []float32{0, 0, 0, -1e9}
	has := map[string]bool{}
	add := func(p string, score float32) {
		if !has[p] {
			has[p] = true
			pieces = append(pieces, p)
			scores = append(scores, score)
		}
	}
	for _, w := range synthWords {
		for _, r := range w {
			add(string(r), -1e9)
		}
	}
	for _, w := range synthWords {
		s := " " + w
		for n := 2; n <= len(s); n++ {
			add(s[:n], float32(n))
		}
	}
	vocab := len(pieces)
	rng := rand.New(rand.NewPCG(7, 7))
	emb := make([]float32, vocab*dim)
	for id, p := range pieces {
		row := emb[id*dim : (id+1)*dim]
		if len(p) > 1 && p[0] == ' ' {
			if v := synthVector(p[1:], dim); v != nil {
				copy(row, v)
				continue
			}
		}
		for i := nNamed; i < dim; i++ {
			row[i] = float32(rng.NormFloat64() * 0.3)
		}
	}
	noise := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
		}
		return v
	}
	ones := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return v
	}

	meta := &format.Metadata{}
	meta.Set(format.KeyArchitecture, format.String(arch.Llama.Name))
	for key, v := range map[string]int{format.KeyDim: dim, format.KeyHiddenDim: hidden, format.KeyNLayers: layers,
		format.KeyNHeads: heads, format.KeyNKVHeads: heads, format.KeyVocabSize: vocab, format.KeyContextLength: ctx} {
		meta.Set(key, format.U32(uint32(v)))
	}
	meta.Set(format.KeyNormEps, format.F32(1e-5))
	meta.Set(format.KeyRopeBase, format.F32(10000))
	meta.Set(format.KeyTokenizerKind, format.String(format.TokenizerLlama))
	meta.Set(format.KeyTokenizerTokens, format.Strings(pieces))
	meta.Set(format.KeyTokenizerScores, format.F32s(scores))
	meta.Set(format.KeyTokenizerBOSID, format.I32(1))
	meta.Set(format.KeyTokenizerEOSID, format.I32(2))

	type tensor struct {
		spec format.TensorSpec
		data []float32
	}
	ts := []tensor{{format.TensorSpec{Name: "token_embd.weight", Type: typ, Shape: []int64{int64(vocab), dim}}, emb}}
	mat := func(name string, rows, cols int) {
		ts = append(ts, tensor{format.TensorSpec{Name: name, Type: quant.F32, Shape: []int64{int64(rows), int64(cols)}}, noise(rows*cols, 0.2)})
	}
	vec := func(name string, n int) {
		ts = append(ts, tensor{format.TensorSpec{Name: name, Type: quant.F32, Shape: []int64{int64(n)}}, ones(n)})
	}
	for l := range layers {
		vec(format.BlockTensor(l, "attn_norm.weight"), dim)
		mat(format.BlockTensor(l, "attn_q.weight"), dim, dim)
		mat(format.BlockTensor(l, "attn_k.weight"), dim, dim)
		mat(format.BlockTensor(l, "attn_v.weight"), dim, dim)
		mat(format.BlockTensor(l, "attn_output.weight"), dim, dim)
		vec(format.BlockTensor(l, "ffn_norm.weight"), dim)
		mat(format.BlockTensor(l, "ffn_gate.weight"), hidden, dim)
		mat(format.BlockTensor(l, "ffn_down.weight"), dim, hidden)
		mat(format.BlockTensor(l, "ffn_up.weight"), hidden, dim)
	}
	vec("output_norm.weight", dim)

	path := filepath.Join(t.TempDir(), "synth.llmap")
	specs := make([]format.TensorSpec, len(ts))
	for i, x := range ts {
		specs[i] = x.spec
	}
	w, err := format.Create(path, meta, specs)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		data := encode(t, x.spec.Type, x.data)
		if err := w.WriteTensor(x.spec.Name, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return synthModel{path, pieces}
}

// encode stores v as tensor type typ.
func encode(t testing.TB, typ quant.Type, v []float32) []byte {
	t.Helper()
	n, err := typ.RowBytes(int64(len(v)))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	if err := quant.QuantizeRef(typ, b, v); err != nil {
		t.Fatal(err)
	}
	return b
}

func openSynth(t testing.TB, typ quant.Type) (*runtime.Model, synthModel) {
	t.Helper()
	sm := writeSynthModel(t, typ)
	m, err := runtime.Open(sm.path, runtime.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, sm
}

func TestWordTokens(t *testing.T) {
	m, sm := openSynth(t, quant.F32)
	e := NewEmbeddings(m)
	for _, w := range synthWords {
		ids, err := e.Tokens(w)
		if err != nil {
			t.Fatalf("%q: %v", w, err)
		}
		if len(ids) != 1 || sm.pieces[ids[0]] != " "+w {
			t.Errorf("%q encodes to %v, want the one piece %q", w, ids, " "+w)
		}
	}
	// "ink" stays three letters (no piece joins them), and the leading
	// space is then a token of its own, which is dropped.
	ids, err := e.Tokens("ink")
	if err != nil || len(ids) != 3 || sm.pieces[ids[0]] != "i" {
		t.Errorf("ink: %v %v", ids, err)
	}
	for _, bad := range []string{"xyz", "", "  ", "日本"} {
		if _, err := e.Tokens(bad); !errors.Is(err, ErrUnknownWord) {
			t.Errorf("%q: error %v, want ErrUnknownWord", bad, err)
		}
	}
}

func TestAnalogyFindsConstructed(t *testing.T) {
	for _, typ := range []quant.Type{quant.F32, quant.F16, quant.Q8_0} {
		t.Run(typ.String(), func(t *testing.T) {
			m, sm := openSynth(t, typ)
			e := NewEmbeddings(m)
			res, words, err := e.Analogy("man", "king", "woman", 5, Cosine)
			if err != nil {
				t.Fatal(err)
			}
			if got := sm.pieces[res[0].ID]; got != " queen" {
				t.Fatalf("king - man + woman = %q (%v), want \" queen\"", got, res)
			}
			if typ == quant.F32 && math.Abs(float64(res[0].Score)-1) > 1e-6 {
				t.Errorf("cosine of queen = %g, want 1", res[0].Score)
			}
			for _, r := range res {
				for _, w := range words {
					if slices.Contains(w.IDs, r.ID) {
						t.Errorf("result %d is a token of %q", r.ID, w.Text)
					}
				}
			}
			if !sortedScores(res) {
				t.Errorf("results not sorted: %v", res)
			}
		})
	}
}

func sortedScores(r []TokenScore) bool {
	return sort.SliceIsSorted(r, func(i, j int) bool { return r[i].Score > r[j].Score })
}

func TestNearestOfTokenIsItself(t *testing.T) {
	m, _ := openSynth(t, quant.F32)
	e := NewEmbeddings(m)
	for id := range e.VocabSize() {
		v, err := e.Vector(id)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Nearest(v, 3, Cosine)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].ID != id || math.Abs(float64(res[0].Score)-1) > 1e-5 {
			t.Errorf("nearest of token %d is %v", id, res)
		}
	}
}

// TestScoresAgainstReference compares the vocabulary scan, for every
// stored type and both metrics, with a float64 computation on the
// dequantised rows, and Nearest with a full sort of those scores.
func TestScoresAgainstReference(t *testing.T) {
	for _, typ := range []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q8_0, quant.Q4_0} {
		t.Run(typ.String(), func(t *testing.T) {
			m, _ := openSynth(t, typ)
			e := NewEmbeddings(m)
			rng := rand.New(rand.NewPCG(1, 2))
			q := make([]float32, e.Dim())
			for i := range q {
				q[i] = float32(rng.NormFloat64())
			}
			row := make([]float32, e.Dim())
			for _, metric := range []Metric{Dot, Cosine} {
				ref := make([]float64, e.VocabSize())
				for r := range ref {
					m.Weights.TokenEmbedding.Row(r, row)
					var dot, rr, qq float64
					for i := range row {
						dot += float64(row[i]) * float64(q[i])
						rr += float64(row[i]) * float64(row[i])
						qq += float64(q[i]) * float64(q[i])
					}
					ref[r] = dot
					if metric == Cosine {
						ref[r] = 0
						if rr > 0 {
							ref[r] = dot / math.Sqrt(rr*qq)
						}
					}
				}
				got, err := e.Scores(q, metric)
				if err != nil {
					t.Fatal(err)
				}
				// Q8_0 and Q4_0 products quantise q to 8 bits.
				tol := 1e-4
				if typ.Quantized() {
					tol = 0.05
				}
				for r := range ref {
					if math.Abs(float64(got[r])-ref[r]) > tol*(1+math.Abs(ref[r])) {
						t.Fatalf("%s row %d: %g, reference %g", metric, r, got[r], ref[r])
					}
				}
				gotScores := slices.Clone(got)
				exclude := []int{5, 9}
				res, err := e.Nearest(q, 7, metric, exclude...)
				if err != nil {
					t.Fatal(err)
				}
				idx := make([]int, 0, len(gotScores))
				for i := range gotScores {
					if !slices.Contains(exclude, i) {
						idx = append(idx, i)
					}
				}
				sort.SliceStable(idx, func(a, b int) bool { return gotScores[idx[a]] > gotScores[idx[b]] })
				for i, r := range res {
					if r.ID != idx[i] || r.Score != gotScores[idx[i]] {
						t.Fatalf("%s: Nearest[%d] = %v, full sort gives %d", metric, i, r, idx[i])
					}
				}
			}
		})
	}
}

func TestTopKTiesAndNaN(t *testing.T) {
	nan := float32(math.NaN())
	scores := []float32{1, 3, nan, 3, 2, 3, -1}
	got := TopK(scores, 4, 5)
	want := []TokenScore{{1, 3}, {3, 3}, {4, 2}, {0, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("TopK = %v, want %v", got, want)
	}
	if got := TopK(scores, 100); len(got) != 6 {
		t.Errorf("TopK beyond the length kept %d entries, want the 6 numbers", len(got))
	}
}

func TestNearestRejectsBadK(t *testing.T) {
	m, _ := openSynth(t, quant.F32)
	e := NewEmbeddings(m)
	q := make([]float32, e.Dim())
	for _, k := range []int{0, -1, e.VocabSize() + 1} {
		if _, err := e.Nearest(q, k, Cosine); !errors.Is(err, ErrCount) {
			t.Errorf("k = %d: error %v, want ErrCount", k, err)
		}
	}
	if _, err := e.Nearest(q[:3], 1, Dot); err == nil {
		t.Error("a query of the wrong length was accepted")
	}
}

func TestDirectionOrdersAsConstructed(t *testing.T) {
	m, _ := openSynth(t, quant.F32)
	e := NewEmbeddings(m)
	words := []string{"two", "none", "four", "one", "three"}
	res, d, err := e.Direction("cat", "cats", words)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"four", "three", "two", "one", "none"}
	for i, p := range res {
		if p.Word.Text != want[i] {
			t.Fatalf("order %v, want %v", res, want)
		}
		// d is one unit of the plural direction: the dot is the count.
		if n := float32(4 - i); p.Dot != n {
			t.Errorf("%s: dot %g, want %g", p.Word.Text, p.Dot, n)
		}
	}
	if d[dirPlural] != 1 || norm(d) != 1 {
		t.Errorf("direction %v, want the plural unit vector", d)
	}
	if _, _, err := e.Direction("cat", "cats", []string{"xyz"}); !errors.Is(err, ErrUnknownWord) {
		t.Errorf("unknown word: %v", err)
	}
}

// softmaxRef is softmax(x / temp) in float64; temp 0 is the argmax.
func softmaxRef(x []float32, temp float64) []float64 {
	out := make([]float64, len(x))
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	if temp == 0 {
		out[best] = 1
		return out
	}
	var sum float64
	for i, v := range x {
		out[i] = math.Exp((float64(v) - float64(x[best])) / temp)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

func TestProbabilitiesAgainstFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	logits := make([]float32, 1000)
	for i := range logits {
		logits[i] = float32(rng.NormFloat64() * 4)
	}
	logits[17] = 25 // a clear favourite
	logits[18] = 24.5
	probs := make([]float32, len(logits))
	for _, temp := range []float32{0, 0.5, 1, 2} {
		if err := Probabilities(probs, logits, temp); err != nil {
			t.Fatal(err)
		}
		ref := softmaxRef(logits, float64(temp))
		var sum float64
		for i := range ref {
			sum += float64(probs[i])
			if d := math.Abs(float64(probs[i]) - ref[i]); d > 1e-6+1e-5*ref[i] {
				t.Fatalf("t=%g: p[%d] = %g, reference %g", temp, i, probs[i], ref[i])
			}
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("t=%g: probabilities sum to %g", temp, sum)
		}
		if temp == 0 && probs[17] != 1 {
			t.Errorf("t=0 puts %g on the argmax", probs[17])
		}
	}
	for _, bad := range []float32{-0.5, float32(math.NaN()), float32(math.Inf(1))} {
		if err := Probabilities(probs, logits, bad); !errors.Is(err, runtime.ErrTemperature) {
			t.Errorf("temperature %g: error %v", bad, err)
		}
	}
}

func TestContextualAndNext(t *testing.T) {
	m, _ := openSynth(t, quant.F32)
	s, err := m.NewState(0)
	if err != nil {
		t.Fatal(err)
	}
	text := "king man king"
	cv, err := Contextual(m, s, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(cv.Tokens) != 4 || len(cv.Hidden) != 4 || cv.Tokens[0] != m.Tokenizer.BOS() || cv.Start != 1 {
		t.Fatalf("tokens %v, %d hidden states", cv.Tokens, len(cv.Hidden))
	}
	// The same positions run again one by one give the same vectors.
	s2, _ := m.NewState(0)
	for pos, tok := range cv.Tokens {
		logits, err := m.Forward(s2, tok, pos)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s2.Hidden(), cv.Hidden[pos]) {
			t.Fatalf("hidden state %d differs from a plain forward pass", pos)
		}
		if p := slices.Index(logits, slices.Max(logits)); cv.Next[pos] != p {
			t.Errorf("next at %d = %d, argmax %d", pos, cv.Next[pos], p)
		}
	}
	reps, err := cv.Repeats(NewEmbeddings(m))
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].First != 1 || reps[0].Pos != 3 || reps[0].ID != cv.Tokens[1] {
		t.Fatalf("repeats %+v, want king at 1 and 3", reps)
	}
	a, b := cv.Hidden[1], cv.Hidden[3]
	var dot, aa, bb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if c := dot / math.Sqrt(aa*bb); math.Abs(c-float64(reps[0].Contextual)) > 1e-5 || c > 0.9999 {
		t.Errorf("contextual cosine %g, reference %g (and < 1: the context changed it)", reps[0].Contextual, c)
	}
	if math.Abs(float64(reps[0].Static)-1) > 1e-6 {
		t.Errorf("static cosine %g, want 1", reps[0].Static)
	}

	s3, _ := m.NewState(0)
	tokens, logits, err := NextLogits(m, s3, text)
	if err != nil || !slices.Equal(tokens, cv.Tokens) {
		t.Fatalf("NextLogits: %v %v", tokens, err)
	}
	if p := slices.Index(logits, slices.Max(logits)); p != cv.Next[len(cv.Next)-1] {
		t.Errorf("NextLogits argmax %d, contextual next %d", p, cv.Next[len(cv.Next)-1])
	}
	if _, _, err := NextLogits(m, s3, ""); !errors.Is(err, runtime.ErrEmptyPrompt) {
		t.Errorf("empty prompt: %v", err)
	}
	short, _ := m.NewState(2)
	if _, err := Contextual(m, short, text); err == nil {
		t.Error("a text longer than the context was accepted")
	}
}

// TestEmbeddingsStories260K: on real weights the word of a single piece is
// that piece's row, and nearest finds it first.
func TestEmbeddingsStories260K(t *testing.T) {
	m, err := runtime.Open(stories.Convert(t), runtime.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	e := NewEmbeddings(m)
	w, err := e.Word("Lily")
	if err != nil {
		t.Fatal(err)
	}
	if len(w.IDs) != 1 || m.Tokenizer.Token(w.IDs[0]) != " Lily" {
		t.Fatalf("Lily -> %v", w.IDs)
	}
	res, err := e.Nearest(w.Vector, 5, Cosine)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].ID != w.IDs[0] || !sortedScores(res) {
		t.Errorf("nearest of Lily: %v", res)
	}
	if _, err := e.Word("日本"); !errors.Is(err, ErrUnknownWord) {
		t.Errorf("日本: %v", err)
	}
}

// BenchmarkVocabScan times one cosine scan of a GPT-2-sized embedding
// matrix (50257 x 768) and the top-10 selection, with the row norms cached.
func BenchmarkVocabScan(b *testing.B) {
	const vocab, dim = 50257, 768
	for _, typ := range []quant.Type{quant.F32, quant.Q8_0} {
		b.Run(typ.String(), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(5, 6))
			v := make([]float32, vocab*dim)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			data := encode(b, typ, v)
			v = nil
			mat, err := quant.NewMatrix(typ, vocab, dim, data)
			if err != nil {
				b.Fatal(err)
			}
			pool := runtime.NewPool(goruntime.GOMAXPROCS(0))
			defer pool.Close()
			e := newEmbeddings(mat, pool.MatVec, func(f func()) error { f(); return nil })
			t0 := time.Now()
			if _, err := e.Norms(); err != nil {
				b.Fatal(err)
			}
			normsTime := time.Since(t0)
			q := make([]float32, dim)
			for i := range q {
				q[i] = float32(rng.NormFloat64())
			}
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for b.Loop() {
				if _, err := e.Nearest(q, 10, Cosine); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/scan")
			b.ReportMetric(float64(normsTime.Nanoseconds())/1e6, "ms-norms-once")
		})
	}
}
