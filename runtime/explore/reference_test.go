package explore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/llmap/llmap/internal/testmodels/stories"
	"github.com/llmap/llmap/runtime"
)

// explorerGolden is testdata/reference/explorer_stories260K.json, written
// by explorer_reference.py (numpy, float64, independent of llmap).
type explorerGolden struct {
	Tokens     []int       `json:"tokens"`
	Similarity [][]float64 `json:"similarity"`
	Attention  []struct {
		Position int           `json:"position"`
		Weights  [][][]float64 `json:"weights"`
	} `json:"attention"`
	Map struct {
		Words      [][]int   `json:"words"`
		WordsBasis mapGolden `json:"words_basis"`
		VocabBasis mapGolden `json:"vocab_basis"`
	} `json:"map"`
}

type mapGolden struct {
	Explained []float64    `json:"explained"`
	Points    [][2]float64 `json:"points"`
}

func readExplorerGolden(t *testing.T) *explorerGolden {
	t.Helper()
	data, err := os.ReadFile("../../testdata/reference/explorer_stories260K.json")
	if err != nil {
		t.Fatal(err)
	}
	var g explorerGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// TestMapAgainstReference checks the PCA of a few words of stories260K,
// with axes fitted to the words and to the vocabulary, against numpy's
// SVD in float64.
func TestMapAgainstReference(t *testing.T) {
	g := readExplorerGolden(t)
	m, err := runtime.Open(stories.Convert(t), runtime.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	e := NewEmbeddings(m)
	words := make([]Word, len(g.Map.Words))
	for i, ids := range g.Map.Words {
		words[i] = Word{IDs: ids, Vector: make([]float32, e.Dim())}
		for _, id := range ids {
			v, err := e.Vector(id)
			if err != nil {
				t.Fatal(err)
			}
			for d := range v {
				words[i].Vector[d] += v[d] / float32(len(ids))
			}
		}
	}
	for _, c := range []struct {
		basis Basis
		want  []float64
		pts   [][2]float64
		fit   int
	}{
		{BasisWords, g.Map.WordsBasis.Explained, g.Map.WordsBasis.Points, len(words)},
		{BasisVocab, g.Map.VocabBasis.Explained, g.Map.VocabBasis.Points, e.VocabSize()},
	} {
		mp := &Map{Words: words}
		if err := e.project(mp, c.basis); err != nil {
			t.Fatal(err)
		}
		if mp.Fitted != c.fit {
			t.Errorf("%v: fitted to %d vectors, want %d", c.basis, mp.Fitted, c.fit)
		}
		for k := range 2 {
			if math.Abs(mp.Explained[k]-c.want[k]) > 1e-6 {
				t.Errorf("%v: axis %d explains %.8f of the variance, want %.8f", c.basis, k, mp.Explained[k], c.want[k])
			}
		}
		worst := 0.0
		for i := range words {
			for k := range 2 {
				worst = max(worst, math.Abs(mp.Points[i][k]-c.pts[i][k]))
			}
		}
		if worst > 1e-5 {
			t.Errorf("%v: points differ from the reference by %g\ngot  %v\nwant %v", c.basis, worst, mp.Points, c.pts)
		}
	}
}

// TestMapWords checks Map's handling of words: pairs add their words,
// repeats are drawn once, unknown words and an empty list are errors, and
// two words leave the second axis without variance.
func TestMapWords(t *testing.T) {
	m, err := runtime.Open(stories.Convert(t), runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	e := NewEmbeddings(m)
	mp, err := e.Map([]string{"cat", "dog", "cat"}, [][2]string{{"cat", "cats"}, {"dog", "dogs"}}, BasisWords)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range mp.Words {
		names = append(names, w.Text)
	}
	if fmt.Sprint(names) != "[cat dog cats dogs]" || fmt.Sprint(mp.Pairs) != "[[0 2] [1 3]]" {
		t.Errorf("words %v pairs %v", names, mp.Pairs)
	}
	two, err := e.Map([]string{"Lily", "Tom"}, nil, BasisWords)
	if err != nil {
		t.Fatal(err)
	}
	if two.Explained[0] < 0.999 || two.Explained[1] != 0 || two.Points[0][1] != 0 || two.Points[0][0] != -two.Points[1][0] {
		t.Errorf("two words: explained %v, points %v", two.Explained, two.Points)
	}
	one, err := e.Map([]string{"Lily"}, nil, BasisVocab)
	if err != nil || len(one.Points) != 1 {
		t.Errorf("one word on the vocabulary's axes: %v, %v", one, err)
	}
	if _, err := e.Map(nil, nil, BasisWords); err == nil {
		t.Error("no words accepted")
	}
	if _, err := e.Map([]string{"cat", "\u6f22"}, nil, BasisWords); !errors.Is(err, ErrUnknownWord) {
		t.Errorf("unknown word: %v", err)
	}
	if _, err := ParseBasis("pca"); err == nil {
		t.Error("basis pca accepted")
	}
}

// TestTraceAgainstReference checks the per-block similarities and the
// attention weights of Trace on stories260K against the float64
// reference, for two positions and both thread counts, and that the text
// the reference's token ids came from encodes to them.
func TestTraceAgainstReference(t *testing.T) {
	g := readExplorerGolden(t)
	path := stories.Convert(t)
	const tol = 1e-4 // float32 pass against float64 on values of magnitude <= 1
	for _, threads := range []int{1, 2} {
		// A float32 KV cache, as the reference's: an f16 cache moves the
		// weights by up to 5e-4 (its accuracy is TestKVCacheAccuracy's).
		m, err := runtime.Open(path, runtime.Options{Threads: threads, KVType: runtime.KVF32})
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NewState(64)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range g.Attention {
			in, err := Trace(m, s, "Lily saw a cat. Lily liked the cat.", want.Position)
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Tokens) != len(g.Tokens) || in.Start != 1 {
				t.Fatalf("tokens %v (start %d), want %v (start 1)", in.Tokens, in.Start, g.Tokens)
			}
			for i := range g.Tokens {
				if in.Tokens[i] != g.Tokens[i] {
					t.Fatalf("tokens %v, want %v", in.Tokens, g.Tokens)
				}
			}
			worst := 0.0
			for pos, row := range g.Similarity {
				for l, w := range row {
					worst = max(worst, math.Abs(float64(in.Similarity[pos][l])-w))
				}
			}
			if worst > tol {
				t.Errorf("threads %d: similarity differs from the reference by %g", threads, worst)
			}
			if len(in.Attention) != len(want.Weights) {
				t.Fatalf("%d layers of attention, want %d", len(in.Attention), len(want.Weights))
			}
			worst = 0
			for l, heads := range want.Weights {
				for h, ws := range heads {
					got := in.Attention[l][h]
					if len(got) != len(ws) {
						t.Fatalf("layer %d head %d: %d weights, want %d", l, h, len(got), len(ws))
					}
					sum := 0.0
					for i, w := range ws {
						worst = max(worst, math.Abs(float64(got[i])-w))
						sum += float64(got[i])
					}
					if math.Abs(sum-1) > 1e-5 {
						t.Errorf("layer %d head %d: weights sum to %g", l, h, sum)
					}
				}
			}
			if worst > tol {
				t.Errorf("threads %d, position %d: attention differs from the reference by %g", threads, want.Position, worst)
			}
			t.Logf("threads %d, position %d: largest attention difference %.2g", threads, want.Position, worst)
		}
		m.Close()
	}
}

// TestTraceLeavesGenerationAlone checks that a traced state computes the
// same logits as an untraced one, that the tracer is gone afterwards, and
// that bad positions are refused.
func TestTraceLeavesGenerationAlone(t *testing.T) {
	m, err := runtime.Open(stories.Convert(t), runtime.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewState(64)
	if err != nil {
		t.Fatal(err)
	}
	const text = "Once upon a time"
	if _, err := Trace(m, s, text, -1); err != nil {
		t.Fatal(err)
	}
	traced := append([]float32(nil), s.Logits()...)
	_, plain, err := NextLogits(m, s, text)
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain {
		if plain[i] != traced[i] {
			t.Fatalf("logit %d: %g traced, %g without", i, traced[i], plain[i])
		}
	}
	for _, pos := range []int{-2, 6, 1 << 40} {
		if _, err := Trace(m, s, text, pos); err == nil {
			t.Errorf("position %d accepted", pos)
		}
	}
	if _, err := Trace(m, s, "", -1); err == nil {
		t.Error("empty text accepted")
	}
}
