package explore

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

// testMap is a map of four words, one with characters XML must escape,
// and two parallel arrows.
func testMap() *Map {
	return &Map{
		Basis:     BasisWords,
		Fitted:    4,
		Words:     []Word{{Text: "cat"}, {Text: "cats"}, {Text: `d<o>g&"`}, {Text: "dogs"}},
		Points:    [][2]float64{{0, 0}, {1, 0.5}, {0, -2}, {1, -1.5}},
		Pairs:     [][2]int{{0, 1}, {2, 3}},
		Explained: [2]float64{0.6, 0.3},
	}
}

func TestWriteSVG(t *testing.T) {
	mp := testMap()
	var buf bytes.Buffer
	if err := mp.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	// well-formed XML, one circle per word, one arrow per pair, the words
	// back unescaped
	dec := xml.NewDecoder(&buf)
	var words []string
	arrows := 0
	var lines [][4]float64
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v", err)
			}
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]string{}
		for _, a := range se.Attr {
			attr[a.Name.Local] = a.Value
		}
		switch {
		case se.Name.Local == "circle" && attr["class"] == "point":
			words = append(words, attr["data-word"])
		case se.Name.Local == "g" && attr["class"] == "arrow":
			arrows++
		case se.Name.Local == "line" && attr["stroke-width"] == "2":
			var l [4]float64
			for i, k := range []string{"x1", "y1", "x2", "y2"} {
				l[i] = parseFloat(t, attr[k])
			}
			lines = append(lines, l)
		}
	}
	if strings.Join(words, "|") != `cat|cats|d<o>g&"|dogs` || arrows != 2 || len(lines) != 2 {
		t.Fatalf("points %q, %d arrows, %d shafts", words, arrows, len(lines))
	}
	// the two arrows point the same way (same direction in the data)
	d1 := [2]float64{lines[0][2] - lines[0][0], lines[0][3] - lines[0][1]}
	d2 := [2]float64{lines[1][2] - lines[1][0], lines[1][3] - lines[1][1]}
	if cross := d1[0]*d2[1] - d1[1]*d2[0]; cross*cross > 1e-2*(d1[0]*d1[0]+d1[1]*d1[1]) {
		t.Errorf("arrows not parallel: %v %v", d1, d2)
	}
	if d1[1] >= 0 {
		t.Errorf("an arrow going up in the data goes down the picture: %v", d1)
	}
}

func TestWritePNG(t *testing.T) {
	mp := testMap()
	var buf bytes.Buffer
	if err := mp.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != pictureWidth || b.Dy() != pictureHeight {
		t.Fatalf("size %v", b)
	}
	l := mp.layout()
	for i, p := range l.pts {
		c := color.RGBAModel.Convert(img.At(int(p[0]), int(p[1]))).(color.RGBA)
		if c != pointColor {
			t.Errorf("point %d at %v is %v, want %v", i, p, c, pointColor)
		}
	}
	// each arrow's colour is drawn midway along its shaft
	for i, p := range mp.Pairs {
		a, z := l.pts[p[0]], l.pts[p[1]]
		mid := [2]float64{(a[0] + z[0]) / 2, (a[1] + z[1]) / 2}
		c := color.RGBAModel.Convert(img.At(int(mid[0]), int(mid[1]))).(color.RGBA)
		if c != arrowColors[i] {
			t.Errorf("arrow %d: %v midway, want %v", i, c, arrowColors[i])
		}
	}
	// some ink where the title is
	dark := 0
	for x := pictureMargin; x < pictureMargin+200; x++ {
		for y := pictureMargin/2 - 8; y < pictureMargin/2+6; y++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				dark++
			}
		}
	}
	if dark < 50 {
		t.Errorf("title: %d dark pixels", dark)
	}
}

// TestTitle checks that the title says what the axes were fitted to.
func TestTitle(t *testing.T) {
	mp := testMap()
	if got := mp.Title(); got != "PCA over the 4 words shown: PC1 60%, PC2 30% of its variance" {
		t.Errorf("title %q", got)
	}
	mp.Basis, mp.Fitted = BasisVocab, 512
	if got := mp.Title(); !strings.Contains(got, "the vocabulary (512 embedding rows)") {
		t.Errorf("title %q", got)
	}
}

func parseFloat(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return f
}
