package main

import (
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/llmap/llmap/runtime"
)

// runJSON runs llmap with -o json and decodes stdout into v.
func runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	stdout, stderr, code := llmap(t, append(args, "-o", "json")...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stdout)
	}
}

type scoreRow struct {
	Rank  int     `json:"rank"`
	ID    int     `json:"id"`
	Token string  `json:"token"`
	Score float32 `json:"score"`
}

type wordJSON struct {
	Word   string `json:"word"`
	Tokens []struct {
		ID    int    `json:"id"`
		Token string `json:"token"`
	} `json:"tokens"`
}

func (w wordJSON) ids() []int {
	var ids []int
	for _, t := range w.Tokens {
		ids = append(ids, t.ID)
	}
	return ids
}

// embeddingRows reads the embedding matrix of the model through the
// runtime, dequantised, for reference computations in float64.
func embeddingRows(t *testing.T, path string) (*runtime.Model, [][]float32) {
	t.Helper()
	m, err := runtime.Open(path, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e := m.Weights.TokenEmbedding
	rows := make([][]float32, e.Rows)
	for r := range rows {
		rows[r] = make([]float32, e.Cols)
		e.Row(r, rows[r])
	}
	return m, rows
}

func cosine64(a, b []float32) float64 {
	var d, aa, bb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(aa*bb)
}

// TestEmbedNearestAgainstReference: nearest on stories260K agrees with a
// float64 cosine over every row; a one-token word finds itself first.
func TestEmbedNearestAgainstReference(t *testing.T) {
	model := stories260K(t)
	m, rows := embeddingRows(t, model)
	var out struct {
		Query   wordJSON   `json:"query"`
		Metric  string     `json:"metric"`
		Results []scoreRow `json:"results"`
	}
	runJSON(t, &out, "embed", model, "nearest", "Lily", "-k", "12")
	if len(out.Query.Tokens) != 1 || out.Query.Tokens[0].Token != " Lily" {
		t.Fatalf("Lily encodes to %+v, want the token \" Lily\"", out.Query.Tokens)
	}
	id := out.Query.Tokens[0].ID
	ref := make([]int, len(rows))
	score := make([]float64, len(rows))
	for r := range rows {
		ref[r] = r
		score[r] = cosine64(rows[r], rows[id])
	}
	sort.SliceStable(ref, func(a, b int) bool { return score[ref[a]] > score[ref[b]] })
	if out.Metric != "cosine" || len(out.Results) != 12 {
		t.Fatalf("metric %q, %d results", out.Metric, len(out.Results))
	}
	for i, r := range out.Results {
		if r.Rank != i+1 || r.ID != ref[i] || math.Abs(float64(r.Score)-score[ref[i]]) > 1e-5 || r.Token != string(m.Tokenizer.Piece(-1, r.ID)) {
			t.Errorf("row %d: %+v, reference id %d score %g", i, r, ref[i], score[ref[i]])
		}
	}
	if out.Results[0].ID != id {
		t.Errorf("nearest of Lily is not Lily: %+v", out.Results[0])
	}

	// The text table has the same rows, sorted, one per line.
	stdout, _, code := llmap(t, "embed", model, "nearest", "Lily", "-k", "12")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 14 {
		t.Fatalf("exit %d, %d lines:\n%s", code, len(lines), stdout)
	}
	for i, line := range lines[2:] {
		f := strings.Fields(line)
		if f[1] != strconv.Itoa(out.Results[i].ID) || f[len(f)-1] != strconv.FormatFloat(float64(out.Results[i].Score), 'f', 4, 32) {
			t.Errorf("text row %d %q differs from json %+v", i, line, out.Results[i])
		}
	}
	// Stable: the same again, and with one thread.
	again, _, _ := llmap(t, "embed", model, "nearest", "Lily", "-k", "12", "--threads", "1")
	if again != stdout {
		t.Errorf("output changed between runs:\n%s\n%s", stdout, again)
	}
}

func TestEmbedVectorIsMeanOfTokens(t *testing.T) {
	model := stories260K(t)
	_, rows := embeddingRows(t, model)
	var out struct {
		wordJSON
		Dim    int       `json:"dim"`
		Norm   float32   `json:"norm"`
		First  []float32 `json:"first"`
		Last   []float32 `json:"last"`
		Vector []float32 `json:"vector"`
	}
	runJSON(t, &out, "embed", model, "vector", "cat")
	ids := out.ids()
	if len(ids) < 2 || out.Dim != 64 || len(out.Vector) != 64 || len(out.First) != 8 || len(out.Last) != 8 {
		t.Fatalf("%+v", out)
	}
	var ss float64
	for i := range out.Vector {
		var mean float64
		for _, id := range ids {
			mean += float64(rows[id][i])
		}
		mean /= float64(len(ids))
		if math.Abs(mean-float64(out.Vector[i])) > 1e-6 {
			t.Fatalf("element %d: %g, mean of the rows %g", i, out.Vector[i], mean)
		}
		ss += mean * mean
	}
	if math.Abs(math.Sqrt(ss)-float64(out.Norm)) > 1e-5 {
		t.Errorf("norm %g, reference %g", out.Norm, math.Sqrt(ss))
	}
	if !slices.Equal(out.First, out.Vector[:8]) || !slices.Equal(out.Last, out.Vector[56:]) {
		t.Error("first/last values are not the vector's ends")
	}
	stdout, _, code := llmap(t, "embed", model, "vector", "cat")
	if code != 0 || !strings.Contains(stdout, `"cat" = `) || !strings.Contains(stdout, "mean of its") {
		t.Errorf("exit %d: %s", code, stdout)
	}
}

func TestEmbedAnalogyAndDirection(t *testing.T) {
	model := stories260K(t)
	_, rows := embeddingRows(t, model)
	var an struct {
		A       wordJSON   `json:"a"`
		B       wordJSON   `json:"b"`
		C       wordJSON   `json:"c"`
		Results []scoreRow `json:"results"`
	}
	runJSON(t, &an, "embed", model, "analogy", "he", "she", "him")
	// q = she - he + him in float64, cosine with every row.
	q := make([]float32, len(rows[0]))
	mean := func(w wordJSON, sign float32) {
		for _, id := range w.ids() {
			for i := range q {
				q[i] += sign * rows[id][i] / float32(len(w.ids()))
			}
		}
	}
	mean(an.B, 1)
	mean(an.A, -1)
	mean(an.C, 1)
	excluded := slices.Concat(an.A.ids(), an.B.ids(), an.C.ids())
	if len(an.Results) != 5 {
		t.Fatalf("%d results, want the default 5", len(an.Results))
	}
	for i, r := range an.Results {
		if slices.Contains(excluded, r.ID) {
			t.Errorf("result %+v is one of the input tokens", r)
		}
		if c := cosine64(rows[r.ID], q); math.Abs(c-float64(r.Score)) > 1e-4 {
			t.Errorf("result %+v: reference cosine %g", r, c)
		}
		if i > 0 && r.Score > an.Results[i-1].Score {
			t.Errorf("results not sorted: %+v", an.Results)
		}
	}

	var dir struct {
		Words []struct {
			Rank int `json:"rank"`
			wordJSON
			Dot    float32 `json:"dot"`
			Cosine float32 `json:"cosine"`
		} `json:"words"`
	}
	words := []string{"dog", "dogs", "tree", "trees", "ball", "balls"}
	runJSON(t, &dir, append([]string{"embed", model, "direction", "--from", "cat", "--to", "cats"}, words...)...)
	if len(dir.Words) != len(words) {
		t.Fatalf("%d words, want %d", len(dir.Words), len(words))
	}
	for i, w := range dir.Words {
		if i > 0 && w.Dot > dir.Words[i-1].Dot {
			t.Errorf("not sorted by dot: %+v", dir.Words)
		}
		if w.Rank != i+1 || !slices.Contains(words, w.Word) {
			t.Errorf("row %d: %+v", i, w)
		}
	}
	stdout, stderr, code := llmap(t, append([]string{"embed", model, "direction", "--from", "cat", "--to", "cats"}, words...)...)
	if code != 0 || strings.Count(stdout, "\n") != 2+len(words) {
		t.Errorf("exit %d %s:\n%s", code, stderr, stdout)
	}
}

func TestEmbedContext(t *testing.T) {
	model := stories260K(t)
	var out struct {
		Positions []struct {
			Pos    int       `json:"pos"`
			ID     int       `json:"id"`
			Norm   float32   `json:"norm"`
			Vector []float32 `json:"vector"`
		} `json:"positions"`
		Repeats []struct {
			ID         int     `json:"id"`
			Token      string  `json:"token"`
			First      int     `json:"first"`
			Pos        int     `json:"pos"`
			Contextual float32 `json:"contextual_cosine"`
			Static     float32 `json:"static_cosine"`
		} `json:"repeats"`
	}
	runJSON(t, &out, "embed", model, "context", "Lily saw a cat. Lily liked the cat.")
	if len(out.Positions) < 10 || len(out.Repeats) == 0 {
		t.Fatalf("%d positions, %d repeats", len(out.Positions), len(out.Repeats))
	}
	foundLily := false
	for _, r := range out.Repeats {
		a, b := out.Positions[r.First], out.Positions[r.Pos]
		if a.ID != r.ID || b.ID != r.ID {
			t.Errorf("repeat %+v does not point at its token", r)
		}
		if c := cosine64(a.Vector, b.Vector); math.Abs(c-float64(r.Contextual)) > 1e-5 {
			t.Errorf("repeat %+v: reference cosine %g", r, c)
		}
		if math.Abs(float64(r.Static)-1) > 1e-6 || r.Contextual >= 0.9999 {
			t.Errorf("repeat %+v: the static cosine is 1 and the context moves the vectors apart", r)
		}
		foundLily = foundLily || r.Token == " Lily"
	}
	if !foundLily {
		t.Error("the second Lily is not listed")
	}
	stdout, _, code := llmap(t, "embed", model, "context", "Lily saw a cat. Lily liked the cat.")
	if code != 0 || !strings.Contains(stdout, "contextual") || !strings.Contains(stdout, `" Lily"`) {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}

func TestNext(t *testing.T) {
	model := stories260K(t)
	var out struct {
		Tokens       []struct{ ID int } `json:"tokens"`
		Temperatures []float32          `json:"temperatures"`
		Top          []struct {
			Rank  int       `json:"rank"`
			ID    int       `json:"id"`
			Token string    `json:"token"`
			Logit float32   `json:"logit"`
			Probs []float32 `json:"probs"`
		} `json:"top"`
		TopMass []float32 `json:"top_mass"`
	}
	runJSON(t, &out, "next", model, "-p", "Once upon a time", "-t", "0,0.5", "-t", "1", "-t", "2", "--top", "20")
	temps := []float32{0, 0.5, 1, 2}
	if !slices.Equal(out.Temperatures, temps) || len(out.Top) != 20 || len(out.Tokens) != 5 {
		t.Fatalf("temperatures %v, %d rows, %d prompt tokens", out.Temperatures, len(out.Top), len(out.Tokens))
	}
	for j, r := range out.Top {
		if j > 0 && r.Logit > out.Top[j-1].Logit {
			t.Errorf("rows not sorted by logit at %d", j)
		}
		if len(r.Probs) != len(temps) {
			t.Fatalf("row %d has %d probabilities", j, len(r.Probs))
		}
		// t=0: all probability on the argmax.
		if want := float32(0); j == 0 && r.Probs[0] != 1 || j > 0 && r.Probs[0] != want {
			t.Errorf("t=0 row %d: %g", j, r.Probs[0])
		}
		// For t > 0, p_j / p_0 = exp((logit_j - logit_0) / t), in float64.
		for i, temp := range temps[1:] {
			p0, pj := float64(out.Top[0].Probs[i+1]), float64(r.Probs[i+1])
			want := p0 * math.Exp((float64(r.Logit)-float64(out.Top[0].Logit))/float64(temp))
			if math.Abs(pj-want) > 1e-6+1e-4*want {
				t.Errorf("t=%g row %d: p %g, reference %g", temp, j, pj, want)
			}
		}
	}
	// Higher temperatures flatten: the top token loses probability.
	for i := 1; i < len(temps); i++ {
		if !(out.Top[0].Probs[i] < out.Top[0].Probs[i-1]) || out.TopMass[i] > out.TopMass[i-1]+1e-6 {
			t.Errorf("t=%g does not flatten: %v, mass %v", temps[i], out.Top[0].Probs, out.TopMass)
		}
	}
	stdout, stderr, code := llmap(t, "next", model, "-p", "Once upon a time", "-t", "0,1")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 13 || !strings.Contains(lines[1], "t=0") || !strings.Contains(lines[2], "█") {
		t.Errorf("exit %d %s:\n%s", code, stderr, stdout)
	}
}

// TestEmbedNextBadInput: each mistake gets one line on stderr naming it and
// a non-zero exit.
func TestEmbedNextBadInput(t *testing.T) {
	model := stories260K(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unencodable word", []string{"embed", model, "nearest", "日本"}, "not in the vocabulary"},
		{"unencodable analogy word", []string{"embed", model, "analogy", "he", "she", "日本"}, "not in the vocabulary"},
		{"k above vocabulary", []string{"embed", model, "nearest", "cat", "-k", "513"}, "larger than the vocabulary"},
		{"k zero", []string{"embed", model, "nearest", "cat", "-k", "0"}, "at least 1"},
		{"unknown metric", []string{"embed", model, "nearest", "cat", "--metric", "l2"}, "unknown metric"},
		{"unknown action", []string{"embed", model, "neighbours", "cat"}, "unknown action"},
		{"no action", []string{"embed", model}, "missing ACTION"},
		{"no word", []string{"embed", model, "vector"}, "missing WORD"},
		{"analogy short", []string{"embed", model, "analogy", "a", "b"}, "missing C"},
		{"two words", []string{"embed", model, "vector", "cat", "dog"}, "unexpected argument"},
		{"direction without from", []string{"embed", model, "direction", "--to", "cats", "dog"}, "--from"},
		{"flag for another action", []string{"embed", model, "vector", "cat", "-k", "3"}, "does not apply"},
		{"bad output", []string{"embed", model, "vector", "cat", "-o", "xml"}, "text or json"},
		{"empty text", []string{"embed", model, "context", ""}, "empty"},
		{"missing model", []string{"embed", "nope.llmap", "vector", "cat"}, "no such file"},
		{"negative temperature", []string{"next", model, "-p", "Once", "-t", "1,-0.5"}, "-t/--temp must be 0 or more"},
		{"bad temperature", []string{"next", model, "-p", "Once", "-t", "hot"}, "invalid argument"},
		{"empty prompt", []string{"next", model, "-p", ""}, "-p/--prompt is required"},
		{"no prompt", []string{"next", model}, "-p/--prompt is required"},
		{"top above vocabulary", []string{"next", model, "-p", "Once", "--top", "600"}, "larger than the vocabulary"},
		{"next bad output", []string{"next", model, "-p", "Once", "-o", "yaml"}, "text or json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expectUserError(t, c.args, c.want) })
	}
}

func TestEmbedNextHelp(t *testing.T) {
	for _, cmd := range []string{"embed", "next"} {
		stdout, _, code := llmap(t, "help", cmd)
		if code != 0 || !strings.Contains(stdout, "Usage:") || !strings.Contains(stdout, "--output") {
			t.Errorf("help %s: exit %d: %q", cmd, code, stdout)
		}
	}
}
