package explore

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Basis says which vectors a Map's axes are fitted to.
type Basis int

const (
	// BasisWords fits the axes to the words on the map: the two
	// directions along which those words differ most.
	BasisWords Basis = iota
	// BasisVocab fits them to the rows of the embedding matrix (every row
	// up to MaxVocabFit, evenly spaced rows beyond): the directions along
	// which the whole vocabulary spreads most, the same for every map of
	// the model.
	BasisVocab
)

// MaxVocabFit is the number of embedding rows BasisVocab fits its axes to
// at most: larger vocabularies are sampled at an even stride.
const MaxVocabFit = 16384

// String returns the name ParseBasis accepts.
func (b Basis) String() string {
	if b == BasisVocab {
		return "vocab"
	}
	return "words"
}

// ParseBasis parses "words" or "vocab".
func ParseBasis(s string) (Basis, error) {
	switch s {
	case "words":
		return BasisWords, nil
	case "vocab":
		return BasisVocab, nil
	}
	return 0, fmt.Errorf("unknown basis %q: want words or vocab", s)
}

// Map is a two-dimensional picture of words in the embedding space: each
// word's vector minus the basis's mean, projected onto the basis's two
// principal axes (PCA).
type Map struct {
	Basis     Basis
	Fitted    int          // the vectors the axes were fitted to
	Words     []Word       // the words on the map
	Points    [][2]float64 // (words, 2) each word's coordinates on the two axes
	Pairs     [][2]int     // arrows: indices into Words, from and to
	Explained [2]float64   // the fraction of the basis's variance along each axis
}

// Map projects words, and the words of pairs (from, to) not among them,
// onto the two principal axes of basis. A word listed twice is drawn once.
// With BasisWords fewer than three distinct vectors leave an axis without
// variance: its coordinates are 0.
func (e *Embeddings) Map(words []string, pairs [][2]string, basis Basis) (*Map, error) {
	mp := &Map{}
	index := map[string]int{}
	add := func(w string) (int, error) {
		if i, ok := index[w]; ok {
			return i, nil
		}
		word, err := e.Word(w)
		if err != nil {
			return 0, err
		}
		index[w] = len(mp.Words)
		mp.Words = append(mp.Words, word)
		return len(mp.Words) - 1, nil
	}
	for _, w := range words {
		if _, err := add(w); err != nil {
			return nil, err
		}
	}
	for _, p := range pairs {
		a, err := add(p[0])
		if err != nil {
			return nil, err
		}
		b, err := add(p[1])
		if err != nil {
			return nil, err
		}
		mp.Pairs = append(mp.Pairs, [2]int{a, b})
	}
	if len(mp.Words) == 0 {
		return nil, errors.New("no words to map")
	}
	if err := e.project(mp, basis); err != nil {
		return nil, err
	}
	return mp, nil
}

// project sets the axes of mp's words: Basis, Fitted, Explained, Points.
func (e *Embeddings) project(mp *Map, basis Basis) error {
	var ax *axes
	switch basis {
	case BasisWords:
		ax = fitWords(mp.Words, e.Dim())
	case BasisVocab:
		var err error
		if ax, err = e.vocabAxes(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown basis %d", basis)
	}
	mp.Basis, mp.Fitted, mp.Explained = basis, ax.fitted, ax.explained
	mp.Points = make([][2]float64, len(mp.Words))
	for i, w := range mp.Words {
		for j := range 2 {
			var s float64
			for d, x := range w.Vector {
				s += (float64(x) - ax.mean[d]) * ax.dir[j][d]
			}
			mp.Points[i][j] = s
		}
	}
	return nil
}

// axes are the result of a PCA: the mean of the fitted vectors and the two
// leading unit directions of their covariance.
type axes struct {
	mean      []float64
	dir       [2][]float64
	explained [2]float64
	fitted    int
}

// fitWords fits axes to the words' vectors through their Gram matrix
// (words x words), exact for any dimension.
func fitWords(words []Word, dim int) *axes {
	n := len(words)
	ax := &axes{mean: make([]float64, dim), fitted: n}
	for _, w := range words {
		for d, x := range w.Vector {
			ax.mean[d] += float64(x) / float64(n)
		}
	}
	c := make([][]float64, n) // centred vectors
	for i, w := range words {
		c[i] = make([]float64, dim)
		for d, x := range w.Vector {
			c[i][d] = float64(x) - ax.mean[d]
		}
	}
	g := make([][]float64, n)
	total := 0.0
	for i := range n {
		g[i] = make([]float64, n)
		for j := range i + 1 {
			g[i][j] = dotF64(c[i], c[j])
			g[j][i] = g[i][j]
		}
		total += g[i][i]
	}
	vals, vecs := jacobiEigen(g)
	for k := range 2 {
		ax.dir[k] = make([]float64, dim)
		if k >= n || vals[k] <= 1e-12*total {
			continue // no variance left along a second axis
		}
		// the covariance's eigenvector is C^T u, normalised
		for i := range n {
			axpyF64(ax.dir[k], vecs[k][i], c[i])
		}
		scaleF64(ax.dir[k], 1/math.Sqrt(dotF64(ax.dir[k], ax.dir[k])))
		ax.explained[k] = vals[k] / total
	}
	orient(ax)
	return ax
}

// vocabAxes fits axes to the embedding rows (at most MaxVocabFit of them,
// evenly spaced) by subspace iteration on their covariance, which is never
// formed: each iteration reads the rows once. The result is cached.
func (e *Embeddings) vocabAxes() (*axes, error) {
	if e.vocab != nil {
		return e.vocab, nil
	}
	rows, dim := e.matrix.Rows, e.matrix.Cols
	stride := (rows + MaxVocabFit - 1) / MaxVocabFit
	n := (rows + stride - 1) / stride
	each := func(f func(x []float32)) error {
		return e.guard(func() {
			for r := 0; r < rows; r += stride {
				e.matrix.Row(r, e.row)
				f(e.row)
			}
		})
	}
	ax := &axes{mean: make([]float64, dim), fitted: n}
	if err := each(func(x []float32) {
		for d, v := range x {
			ax.mean[d] += float64(v)
		}
	}); err != nil {
		return nil, err
	}
	scaleF64(ax.mean, 1/float64(n))
	total := 0.0
	centred := make([]float64, dim)
	center := func(x []float32) []float64 {
		for d, v := range x {
			centred[d] = float64(v) - ax.mean[d]
		}
		return centred
	}
	if err := each(func(x []float32) { c := center(x); total += dotF64(c, c) }); err != nil {
		return nil, err
	}
	// Subspace iteration: V (p, dim) orthonormal; W = Cov V; V = orth(W);
	// Rayleigh-Ritz on V^T Cov V; stop when the two leading Ritz values
	// settle. p > 2 speeds convergence when the spectrum is flat.
	p := min(8, dim, n)
	v := make([][]float64, p)
	w := make([][]float64, p)
	seed := uint64(0x9e3779b97f4a7c15)
	for i := range p {
		v[i], w[i] = make([]float64, dim), make([]float64, dim)
		for d := range v[i] {
			seed ^= seed << 13
			seed ^= seed >> 7
			seed ^= seed << 17
			v[i][d] = float64(seed>>11)/float64(1<<53) - 0.5
		}
	}
	orthonormalise(v)
	coef := make([]float64, p)
	var vals []float64
	prev := [2]float64{-1, -1}
	for iter := 0; iter < 300; iter++ {
		for i := range p {
			clear(w[i])
		}
		if err := each(func(x []float32) {
			c := center(x)
			for i := range p {
				coef[i] = dotF64(c, v[i])
			}
			for i := range p {
				axpyF64(w[i], coef[i], c)
			}
		}); err != nil {
			return nil, err
		}
		// Rayleigh-Ritz: H = V^T W (p, p), its eigenvectors rotate V
		h := make([][]float64, p)
		for i := range p {
			h[i] = make([]float64, p)
			for j := range p {
				h[i][j] = dotF64(v[i], w[j])
			}
		}
		for i := range p { // symmetrise the rounding
			for j := range i {
				h[i][j] = (h[i][j] + h[j][i]) / 2
				h[j][i] = h[i][j]
			}
		}
		var vecs [][]float64
		vals, vecs = jacobiEigen(h)
		rotated := make([][]float64, p)
		for k := range p {
			rotated[k] = make([]float64, dim)
			for i := range p {
				axpyF64(rotated[k], vecs[k][i], w[i])
			}
		}
		v = rotated
		orthonormalise(v)
		done := iter > 2
		for k := range 2 {
			done = done && math.Abs(vals[k]-prev[k]) <= 1e-12*math.Max(total, 1e-300)
			prev[k] = vals[k]
		}
		if done {
			break
		}
	}
	for k := range 2 {
		ax.dir[k] = make([]float64, dim)
		if k < p && total > 0 {
			copy(ax.dir[k], v[k])
			ax.explained[k] = vals[k] / total
		}
	}
	orient(ax)
	e.vocab = ax
	return ax, nil
}

// orient gives each axis the sign that makes its components sum to a
// positive number, so maps do not flip between runs or builds.
func orient(ax *axes) {
	for k := range 2 {
		s := 0.0
		for _, x := range ax.dir[k] {
			s += x
		}
		if s < 0 {
			scaleF64(ax.dir[k], -1)
		}
	}
}

// orthonormalise makes the rows of v orthonormal (modified Gram-Schmidt).
// A row that becomes zero stays zero.
func orthonormalise(v [][]float64) {
	for i := range v {
		for j := range i {
			axpyF64(v[i], -dotF64(v[i], v[j]), v[j])
		}
		if n := math.Sqrt(dotF64(v[i], v[i])); n > 0 {
			scaleF64(v[i], 1/n)
		}
	}
}

// jacobiEigen returns the eigenvalues of the symmetric matrix a (n, n),
// largest first, and the matching unit eigenvectors as rows: the cyclic
// Jacobi method, which a is overwritten by.
func jacobiEigen(a [][]float64) ([]float64, [][]float64) {
	n := len(a)
	v := make([][]float64, n) // columns are eigenvectors
	for i := range v {
		v[i] = make([]float64, n)
		v[i][i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		off := 0.0
		for i := range n {
			for j := range i {
				off += a[i][j] * a[i][j]
			}
		}
		if off < 1e-30 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				if a[p][q] == 0 {
					continue
				}
				theta := (a[q][q] - a[p][p]) / (2 * a[p][q])
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range n { // a = a J
					akp, akq := a[k][p], a[k][q]
					a[k][p], a[k][q] = c*akp-s*akq, s*akp+c*akq
				}
				for k := range n { // a = J^T a
					apk, aqk := a[p][k], a[q][k]
					a[p][k], a[q][k] = c*apk-s*aqk, s*apk+c*aqk
				}
				for k := range n {
					vkp, vkq := v[k][p], v[k][q]
					v[k][p], v[k][q] = c*vkp-s*vkq, s*vkp+c*vkq
				}
			}
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return -cmpF64(a[i][i], a[j][j]) })
	vals := make([]float64, n)
	vecs := make([][]float64, n)
	for k, i := range order {
		vals[k] = a[i][i]
		vecs[k] = make([]float64, n)
		for r := range n {
			vecs[k][r] = v[r][i]
		}
	}
	return vals, vecs
}

func cmpF64(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func dotF64(a, b []float64) float64 {
	var s float64
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// axpyF64 is y += a*x.
func axpyF64(y []float64, a float64, x []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func scaleF64(v []float64, a float64) {
	for i := range v {
		v[i] *= a
	}
}
