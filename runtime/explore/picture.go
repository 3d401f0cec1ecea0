package explore

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// The picture of a Map: one labelled point per word, an arrow per pair
// (parallel arrows are parallel directions), both axes at the same scale
// so that angles and lengths read true, and a title saying what the axes
// were fitted to. SVG and PNG draw the same layout.

const (
	pictureWidth  = 800
	pictureHeight = 600
	pictureMargin = 48 // around the plot area; the title sits in the top one
	pointRadius   = 4
	fontSize      = 13
)

var (
	inkColor   = color.RGBA{0x22, 0x22, 0x22, 0xff}
	axisColor  = color.RGBA{0xbb, 0xbb, 0xbb, 0xff}
	pointColor = color.RGBA{0x1f, 0x4e, 0x9c, 0xff}
	// arrow colours, one per pair in turn
	arrowColors = []color.RGBA{
		{0xd6, 0x27, 0x28, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0xff, 0x7f, 0x0e, 0xff},
		{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
	}
)

// layout is a Map placed on the picture, in pixels (y down).
type layout struct {
	title, footer string
	pts           [][2]float64 // each word's point
	origin        [2]float64   // where the basis's mean falls
	showOrigin    bool         // the origin is inside the plot area
}

// Title says what the map shows: what the axes were fitted to and how much
// of its variance they hold.
func (mp *Map) Title() string {
	what := fmt.Sprintf("the %d words shown", mp.Fitted)
	if mp.Basis == BasisVocab {
		what = fmt.Sprintf("the vocabulary (%d embedding rows)", mp.Fitted)
	}
	return fmt.Sprintf("PCA over %s: PC1 %.0f%%, PC2 %.0f%% of its variance",
		what, 100*mp.Explained[0], 100*mp.Explained[1])
}

func (mp *Map) layout() *layout {
	l := &layout{title: mp.Title(), pts: make([][2]float64, len(mp.Points))}
	lo := [2]float64{math.Inf(1), math.Inf(1)}
	hi := [2]float64{math.Inf(-1), math.Inf(-1)}
	for _, p := range mp.Points {
		for k := range 2 {
			lo[k], hi[k] = min(lo[k], p[k]), max(hi[k], p[k])
		}
	}
	// one scale for both axes; labels need room on the right
	w := float64(pictureWidth - 2*pictureMargin - 80)
	h := float64(pictureHeight - 2*pictureMargin)
	span := [2]float64{hi[0] - lo[0], hi[1] - lo[1]}
	scale := math.Inf(1)
	if span[0] > 0 {
		scale = w / span[0]
	}
	if span[1] > 0 {
		scale = min(scale, h/span[1])
	}
	if math.IsInf(scale, 1) {
		scale = 1 // one point, or all at one place
	}
	mid := [2]float64{(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2}
	cx, cy := float64(pictureMargin)+w/2, float64(pictureMargin)+h/2
	at := func(p [2]float64) [2]float64 {
		return [2]float64{cx + (p[0]-mid[0])*scale, cy - (p[1]-mid[1])*scale}
	}
	for i, p := range mp.Points {
		l.pts[i] = at(p)
	}
	l.origin = at([2]float64{0, 0})
	l.showOrigin = l.origin[0] >= pictureMargin && l.origin[0] <= pictureWidth-pictureMargin &&
		l.origin[1] >= pictureMargin && l.origin[1] <= pictureHeight-pictureMargin
	l.footer = "PC1 to the right, PC2 up, at one scale"
	if l.showOrigin {
		l.footer += "; the grey lines cross at the mean of the fitted vectors"
	}
	return l
}

// arrowHead returns the two back corners of an arrow's head at b, coming
// from a, and the point where its shaft should stop.
func arrowHead(a, b [2]float64) (left, right, stop [2]float64, ok bool) {
	dx, dy := b[0]-a[0], b[1]-a[1]
	n := math.Hypot(dx, dy)
	if n < 2*pointRadius+2 {
		return left, right, stop, false
	}
	ux, uy := dx/n, dy/n
	tip := [2]float64{b[0] - ux*pointRadius, b[1] - uy*pointRadius}
	const length, half = 10, 4
	base := [2]float64{tip[0] - ux*length, tip[1] - uy*length}
	left = [2]float64{base[0] - uy*half, base[1] + ux*half}
	right = [2]float64{base[0] + uy*half, base[1] - ux*half}
	return left, right, base, true
}

// arrowTip is where an arrow from a ends before the point at b.
func arrowTip(a, b [2]float64) [2]float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	n := math.Hypot(dx, dy)
	return [2]float64{b[0] - dx/n*pointRadius, b[1] - dy/n*pointRadius}
}

func hexColor(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// WriteSVG draws the map as an SVG document. Every point is a circle of
// class "point" with the word in data-word, every arrow a group of class
// "arrow"; text is escaped.
func (mp *Map) WriteSVG(w io.Writer) error {
	l := mp.layout()
	b := bufio.NewWriter(w)
	esc := func(s string) string {
		var sb strings.Builder
		for _, r := range s {
			switch {
			case r == '&':
				sb.WriteString("&amp;")
			case r == '<':
				sb.WriteString("&lt;")
			case r == '>':
				sb.WriteString("&gt;")
			case r == '"':
				sb.WriteString("&quot;")
			case r < 0x20 || r == 0xfffe || r == 0xffff:
				sb.WriteRune('\ufffd') // not allowed in XML
			default:
				sb.WriteRune(r)
			}
		}
		return sb.String()
	}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif" font-size="%d">`+"\n",
		pictureWidth, pictureHeight, pictureWidth, pictureHeight, fontSize)
	fmt.Fprintf(b, `<title>%s</title>`+"\n", esc(l.title))
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", pictureWidth, pictureHeight)
	fmt.Fprintf(b, `<text class="title" x="%d" y="%d" fill="%s">%s</text>`+"\n", pictureMargin, pictureMargin/2+4, hexColor(inkColor), esc(l.title))
	if l.showOrigin {
		fmt.Fprintf(b, `<g stroke="%s" stroke-width="1"><line x1="%d" y1="%.1f" x2="%d" y2="%.1f"/><line x1="%.1f" y1="%d" x2="%.1f" y2="%d"/></g>`+"\n",
			hexColor(axisColor), pictureMargin, l.origin[1], pictureWidth-pictureMargin, l.origin[1],
			l.origin[0], pictureMargin, l.origin[0], pictureHeight-pictureMargin)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" fill="#777777">%s</text>`+"\n", pictureMargin, pictureHeight-pictureMargin/2+4, esc(l.footer))
	for i, p := range mp.Pairs {
		c := hexColor(arrowColors[i%len(arrowColors)])
		a, z := l.pts[p[0]], l.pts[p[1]]
		left, right, stop, ok := arrowHead(a, z)
		if !ok {
			continue
		}
		tip := arrowTip(a, z)
		fmt.Fprintf(b, `<g class="arrow" data-from="%s" data-to="%s" stroke="%s" fill="%s"><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke-width="2"/><polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f" stroke="none"/></g>`+"\n",
			esc(mp.Words[p[0]].Text), esc(mp.Words[p[1]].Text), c, c, a[0], a[1], stop[0], stop[1],
			tip[0], tip[1], left[0], left[1], right[0], right[1])
	}
	for i, p := range l.pts {
		word := esc(mp.Words[i].Text)
		fmt.Fprintf(b, `<circle class="point" data-word="%s" cx="%.1f" cy="%.1f" r="%d" fill="%s"/>`+"\n", word, p[0], p[1], pointRadius, hexColor(pointColor))
		fmt.Fprintf(b, `<text class="label" x="%.1f" y="%.1f" fill="%s">%s</text>`+"\n", p[0]+pointRadius+3, p[1]-pointRadius-2, hexColor(inkColor), word)
	}
	b.WriteString("</svg>\n")
	return b.Flush()
}

// WritePNG draws the map as a PNG image: the same layout as WriteSVG,
// rasterised with anti-aliasing, labels in the Go Regular font.
func (mp *Map) WritePNG(w io.Writer) error {
	l := mp.layout()
	img := image.NewRGBA(image.Rect(0, 0, pictureWidth, pictureHeight))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	face, err := labelFace()
	if err != nil {
		return err
	}
	fill := func(c color.RGBA, path func(r *vector.Rasterizer)) {
		r := vector.NewRasterizer(pictureWidth, pictureHeight)
		path(r)
		r.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{})
	}
	line := func(c color.RGBA, a, b [2]float64, width float64) {
		dx, dy := b[0]-a[0], b[1]-a[1]
		n := math.Hypot(dx, dy)
		if n == 0 {
			return
		}
		nx, ny := -dy/n*width/2, dx/n*width/2
		fill(c, func(r *vector.Rasterizer) {
			r.MoveTo(float32(a[0]+nx), float32(a[1]+ny))
			r.LineTo(float32(b[0]+nx), float32(b[1]+ny))
			r.LineTo(float32(b[0]-nx), float32(b[1]-ny))
			r.LineTo(float32(a[0]-nx), float32(a[1]-ny))
			r.ClosePath()
		})
	}
	text := func(c color.RGBA, x, y float64, s string) {
		d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face, Dot: fixed.P(int(x), int(y))}
		d.DrawString(s)
	}
	text(inkColor, pictureMargin, pictureMargin/2+4, l.title)
	if l.showOrigin {
		line(axisColor, [2]float64{pictureMargin, l.origin[1]}, [2]float64{pictureWidth - pictureMargin, l.origin[1]}, 1)
		line(axisColor, [2]float64{l.origin[0], pictureMargin}, [2]float64{l.origin[0], pictureHeight - pictureMargin}, 1)
	}
	text(color.RGBA{0x77, 0x77, 0x77, 0xff}, pictureMargin, pictureHeight-pictureMargin/2+4, l.footer)
	for i, p := range mp.Pairs {
		c := arrowColors[i%len(arrowColors)]
		a, z := l.pts[p[0]], l.pts[p[1]]
		left, right, stop, ok := arrowHead(a, z)
		if !ok {
			continue
		}
		tip := arrowTip(a, z)
		line(c, a, stop, 2)
		fill(c, func(r *vector.Rasterizer) {
			r.MoveTo(float32(tip[0]), float32(tip[1]))
			r.LineTo(float32(left[0]), float32(left[1]))
			r.LineTo(float32(right[0]), float32(right[1]))
			r.ClosePath()
		})
	}
	for i, p := range l.pts {
		fill(pointColor, func(r *vector.Rasterizer) {
			const steps = 24
			for s := range steps {
				a := 2 * math.Pi * float64(s) / steps
				x, y := float32(p[0]+pointRadius*math.Cos(a)), float32(p[1]+pointRadius*math.Sin(a))
				if s == 0 {
					r.MoveTo(x, y)
				} else {
					r.LineTo(x, y)
				}
			}
			r.ClosePath()
		})
		text(inkColor, p[0]+pointRadius+3, p[1]-pointRadius-2, printable(mp.Words[i].Text))
	}
	return png.Encode(w, img)
}

// printable replaces control characters, which a font cannot draw.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '\ufffd'
		}
		return r
	}, s)
}

// labelFace is the Go Regular font at the labels' size.
func labelFace() (font.Face, error) {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: fontSize, DPI: 72, Hinting: font.HintingFull})
}
