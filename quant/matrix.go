package quant

import "fmt"

// Matrix is a row-major matrix of Rows rows, each of Cols elements of Type,
// encoded as Data (len(Data) == Rows*Type.RowBytes(Cols)). Cols is a
// multiple of Type.BlockSize(). Data usually points into a read-only file
// mapping; Matrix never writes to it.
type Matrix struct {
	Type       Type
	Rows, Cols int
	Data       []byte
}

// NewMatrix checks that data holds exactly rows x cols elements of type t
// and returns the matrix. Every size comes from a file, so it fails with an
// error wrapping ErrSize rather than panicking.
func NewMatrix(t Type, rows, cols int, data []byte) (Matrix, error) {
	if !t.Valid() {
		return Matrix{}, fmt.Errorf("%w: unknown tensor type %d", ErrSize, uint32(t))
	}
	if rows < 0 || cols < 0 {
		return Matrix{}, fmt.Errorf("%w: negative shape %dx%d", ErrSize, rows, cols)
	}
	rb, err := t.RowBytes(int64(cols))
	if err != nil {
		return Matrix{}, fmt.Errorf("%w: %v", ErrSize, err)
	}
	if rows > 0 && rb > int64(len(data))/int64(rows) {
		return Matrix{}, fmt.Errorf("%w: %dx%d %s matrix needs more than the %d bytes given", ErrSize, rows, cols, t, len(data))
	}
	if int64(rows)*rb != int64(len(data)) {
		return Matrix{}, fmt.Errorf("%w: %dx%d %s matrix needs %d bytes, have %d", ErrSize, rows, cols, t, int64(rows)*rb, len(data))
	}
	return Matrix{Type: t, Rows: rows, Cols: cols, Data: data}, nil
}

// RowBytes returns the encoded size of one row.
func (m Matrix) RowBytes() int {
	return m.Cols / m.Type.BlockSize() * m.Type.BlockBytes()
}

// RowData returns the encoded bytes of row r.
func (m Matrix) RowData(r int) []byte {
	rb := m.RowBytes()
	return m.Data[r*rb : (r+1)*rb : (r+1)*rb]
}

// Row dequantises row r into dst (len(dst) == Cols), touching only that
// row's bytes: an embedding lookup reads one row of the mapping.
func (m Matrix) Row(r int, dst []float32) {
	if r < 0 || r >= m.Rows {
		panic(fmt.Sprintf("quant: row %d out of range [0,%d)", r, m.Rows))
	}
	if len(dst) != m.Cols {
		panic(fmt.Sprintf("quant: Row dst has %d elements, want %d", len(dst), m.Cols))
	}
	src := m.RowData(r)
	if m.Type == F32 {
		if v, ok := bytesAsFloat32(src); ok {
			copy(dst, v)
			return
		}
	}
	dequantize(m.Type, dst, src)
}

// Vec is an activation vector prepared for products with matrices of one
// type: for Q8_0 and Q4_0 matrices the float32 vector is quantised to Q8_0
// blocks, for the K-quants to Q8_K super-blocks, once per matrix-vector
// product, and the integer kernels use those. A Vec is written only by Set;
// MatVec calls only read it, so several goroutines may share one prepared Vec.
type Vec struct {
	x   []float32 // (n,) the float vector given to Set, not copied
	q   []byte    // (n/32 Q8_0 blocks or n/256 Q8_K super-blocks) encoding of x; capacity fixed by NewVec
	t   Type      // matrix type x was prepared for
	act actFormat // the form of x the kernels of t read
}

// NewVec allocates scratch for vectors of up to maxLen elements.
func NewVec(maxLen int) *Vec {
	if maxLen < 0 {
		maxLen = 0
	}
	n := max((maxLen+blockLen-1)/blockLen*sizeQ8_0, (maxLen+superLen-1)/superLen*sizeQ8_K)
	return &Vec{q: make([]byte, n)}
}

// Set prepares x for products with matrices of type t. It does not allocate.
// x is not copied: it must stay unchanged until the products are done. For
// quantised t, len(x) must be a multiple of t's block size.
func (v *Vec) Set(x []float32, t Type) {
	v.x = x
	v.t = t
	v.act = types[t].act
	var n, bs int
	switch v.act {
	case actF32:
		return
	case actQ8_0:
		bs, n = blockLen, len(x)/blockLen*sizeQ8_0
	case actQ8_K:
		bs, n = superLen, len(x)/superLen*sizeQ8_K
	}
	if len(x)%bs != 0 {
		panic(fmt.Sprintf("quant: Vec.Set: length %d is not a multiple of %d", len(x), bs))
	}
	if n > cap(v.q) {
		panic(fmt.Sprintf("quant: Vec.Set: length %d exceeds the NewVec capacity", len(x)))
	}
	v.q = v.q[:n]
	if v.act == actQ8_0 {
		quantizeQ8_0(v.q, x)
	} else {
		kernels.quantQ8_K(v.q, x)
	}
}

// Len returns the number of elements of the prepared vector.
func (v *Vec) Len() int { return len(v.x) }

// MatVec computes out[r-lo] = dot(row r of m, x) for r in [lo, hi), with x
// the vector prepared in v for m's type (or a type that SharesActivations
// with it). It does not allocate, and it only reads m and v, so goroutines
// may call it concurrently on disjoint row ranges (disjoint parts of out)
// with the same Vec.
//
//	W (Rows, Cols) @ x (Cols,) -> out (hi-lo,)
func MatVec(out []float32, m Matrix, v *Vec, lo, hi int) {
	if lo < 0 || hi > m.Rows || lo > hi {
		panic(fmt.Sprintf("quant: MatVec rows [%d,%d) out of range [0,%d)", lo, hi, m.Rows))
	}
	if len(out) < hi-lo {
		panic(fmt.Sprintf("quant: MatVec out has %d elements, want %d", len(out), hi-lo))
	}
	if len(v.x) != m.Cols {
		panic(fmt.Sprintf("quant: MatVec vector has %d elements, matrix %d columns", len(v.x), m.Cols))
	}
	if types[m.Type].act != v.act {
		panic(fmt.Sprintf("quant: MatVec on a %s matrix with a vector prepared for %s", m.Type, v.t))
	}
	out = out[:hi-lo]
	rb := m.RowBytes()
	kernels.rows[m.Type](out, m.Data[lo*rb:hi*rb], rb, activations{f: v.x, q: v.q})
}

// DotRowsF32 computes out[r] = dot(w[r*stride : r*stride+len(x)], x) for
// every r of out: strided float32 rows, such as one attention head's slice
// of each position in a KV cache. It panics if the rows do not fit in w.
//
//	for r := range out {
//		out[r] = simd.Dot(w[r*stride:r*stride+len(x)], x)
//	}
func DotRowsF32(out, w []float32, stride int, x []float32) {
	if len(out) > 0 && (stride < len(x) || (len(out)-1)*stride+len(x) > len(w)) {
		panic(fmt.Sprintf("quant: DotRowsF32: %d rows of %d, stride %d, do not fit in %d values", len(out), len(x), stride, len(w)))
	}
	kernels.rows[F32](out, float32AsBytes(w), 4*stride, activations{f: x})
}
