package main

import (
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbedMap draws the same map as SVG and PNG and prints it as text
// and JSON: one point per word (pairs add theirs), one arrow per pair, and
// the cosine between the pairs' directions equal to a float64 computation
// on the embedding rows.
func TestEmbedMap(t *testing.T) {
	model := stories260K(t)
	dir := t.TempDir()
	args := []string{"embed", model, "map", "he", "she", "Lily", "Tom", "--pairs", "he:she,him:her"}

	svg := filepath.Join(dir, "map.svg")
	_, stderr, code := llmap(t, append(args, "-o", svg)...)
	if code != 0 || !strings.Contains(stderr, "wrote "+svg+": 6 words, 2 arrows; PCA over the 6 words shown") {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	f, err := os.Open(svg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var words []string
	arrows := 0
	dec := xml.NewDecoder(f)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", svg, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				switch {
				case a.Name.Local == "data-word":
					words = append(words, a.Value)
				case a.Name.Local == "class" && a.Value == "arrow":
					arrows++
				}
			}
		}
	}
	if strings.Join(words, " ") != "he she Lily Tom him her" || arrows != 2 {
		t.Errorf("svg: points %v, %d arrows", words, arrows)
	}

	pngPath := filepath.Join(dir, "MAP.PNG")
	if _, stderr, code := llmap(t, append(args, "-o", pngPath, "--pca", "vocab")...); code != 0 {
		t.Fatalf("png: exit %d: %s", code, stderr)
	}
	pf, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	img, err := png.Decode(pf)
	if err != nil || img.Bounds().Dx() < 400 {
		t.Fatalf("png: %v, %v", err, img)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the directory holds %d entries, want the two pictures (no temporary files)", len(entries))
	}

	var out struct {
		Basis  string
		Fitted int
		Points []struct {
			Word   string
			Tokens []struct{ ID int }
			X, Y   float64
		}
		Pairs []struct {
			From, To string
			Cosine   *float64 `json:"cosine_with_first"`
		}
	}
	runJSON(t, &out, append(args, "--pca", "vocab")...)
	if out.Basis != "vocab" || out.Fitted != 512 || len(out.Points) != 6 || len(out.Pairs) != 2 || out.Pairs[0].Cosine != nil || out.Pairs[1].Cosine == nil {
		t.Fatalf("json: %+v", out)
	}
	_, rows := embeddingRows(t, model)
	mean := func(i int) []float32 {
		v := make([]float32, len(rows[0]))
		for _, tk := range out.Points[i].Tokens {
			for d, x := range rows[tk.ID] {
				v[d] += x / float32(len(out.Points[i].Tokens))
			}
		}
		return v
	}
	diff := func(a, b int) []float32 {
		va, vb := mean(a), mean(b)
		for d := range va {
			vb[d] -= va[d]
		}
		return vb
	}
	want := cosine64(diff(0, 1), diff(4, 5)) // he->she, him->her
	if math.Abs(*out.Pairs[1].Cosine-want) > 1e-5 {
		t.Errorf("cosine of the directions %g, want %g", *out.Pairs[1].Cosine, want)
	}

	stdout, _, code := llmap(t, args...)
	if code != 0 || !strings.HasPrefix(stdout, "PCA over the 6 words shown") || !strings.Contains(stdout, `"him" -> "her"`) {
		t.Errorf("text: exit %d:\n%s", code, stdout)
	}
}

// TestEmbedMapBadInput: each mistake is one line on stderr, and no file
// is left behind.
func TestEmbedMapBadInput(t *testing.T) {
	model := stories260K(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "map.svg")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no words", []string{"embed", model, "map"}, "missing WORD"},
		{"pair without colon", []string{"embed", model, "map", "cat", "--pairs", "cat", "-o", out}, "--pairs"},
		{"pair with empty side", []string{"embed", model, "map", "cat", "--pairs", "cat:", "-o", out}, "--pairs"},
		{"pair of three", []string{"embed", model, "map", "cat", "--pairs", "a:b:c", "-o", out}, "--pairs"},
		{"unknown basis", []string{"embed", model, "map", "cat", "--pca", "all", "-o", out}, "--pca"},
		{"unknown picture type", []string{"embed", model, "map", "cat", "-o", filepath.Join(dir, "map.pdf")}, ".svg or .png"},
		{"extension alone", []string{"embed", model, "map", "cat", "-o", ".svg"}, ".svg or .png"},
		{"unencodable word", []string{"embed", model, "map", "cat", "日本", "-o", out}, "not in the vocabulary"},
		{"picture for another action", []string{"embed", model, "nearest", "cat", "-o", out}, "text or json"},
		{"pairs for another action", []string{"embed", model, "nearest", "cat", "--pairs", "a:b"}, "does not apply"},
		{"into a directory", []string{"embed", model, "map", "cat", "-o", filepath.Join(dir, "sub.svg")}, "is a directory"},
		{"missing directory", []string{"embed", model, "map", "cat", "-o", filepath.Join(dir, "no", "map.svg")}, "no such file"},
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.svg"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expectUserError(t, c.args, c.want) })
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left behind: %v", entries)
	}
}
