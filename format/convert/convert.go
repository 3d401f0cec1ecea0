// Package convert writes a .llmap file from a model read by one of the
// foreign-format readers (format/llama2c, format/gguf, format/safetensors).
//
// A source describes each tensor by its shape and a function that decodes one
// row to float32; where the source already stores a tensor in an llmap type,
// it also offers the raw bytes so they are copied without requantising.
// Conversion streams row by row through format.Writer: memory use does not
// grow with the model. It is the one package under format/ that uses quant's
// quantisers, because choosing and producing tensor types is its job.
package convert

import (
	"bytes"
	"fmt"
	"io"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/quant"
)

// Tensor is one tensor of a source model.
type Tensor struct {
	Name  string
	Shape []int64 // outermost first: [rows, cols] for a matrix, [n] for a vector

	// Raw, if not nil, holds the tensor in RawType exactly as it would be
	// stored in a .llmap file.
	Raw     []byte
	RawType quant.Type

	// Row decodes row r (of Rows()) into dst, which has Cols() elements.
	Row func(r int, dst []float32)
}

// Rows is the number of rows: the product of all dimensions but the last.
func (t *Tensor) Rows() int {
	n := int64(1)
	for _, d := range t.Shape[:len(t.Shape)-1] {
		n *= d
	}
	return int(n)
}

// Cols is the last (innermost) dimension.
func (t *Tensor) Cols() int { return int(t.Shape[len(t.Shape)-1]) }

// Model is a source model: metadata (hyperparameters and tokenizer, with the
// keys of format/SPEC.md) and tensors in the order they should be written.
type Model struct {
	Meta    *format.Metadata
	Tensors []Tensor

	// Notes are lines for the user about how the source is run: a
	// sliding window, a capped context, tensors left out.
	Notes []string
}

// Options choose the tensor types of the output.
type Options struct {
	// Matrices is the type of 2-D weight tensors. Vectors (norms, biases)
	// are always F32. If Keep is set, tensors that the source already
	// stores in an llmap type keep it, and others become Matrices.
	Matrices quant.Type
	Keep     bool

	// Mix, if set, chooses the type of each matrix by the rules of a
	// K-quant mix (kquant_mix.go) instead of Matrices and Keep.
	Mix Mix

	// Progress, if set, is called after each tensor with the bytes
	// written so far and the total.
	Progress func(done, total int64)

	// Notice, if set, receives one line for each tensor whose type had to
	// differ from the one asked for (a row length that is not a whole
	// number of quantisation blocks).
	Notice func(msg string)
}

// TypeFor returns the type tensor t is written in under opts.
func TypeFor(t *Tensor, opts Options) quant.Type {
	if len(t.Shape) < 2 {
		return quant.F32
	}
	want := opts.Matrices
	if opts.Keep && t.Raw != nil {
		want = t.RawType
	}
	if t.Cols()%want.BlockSize() != 0 {
		// Rows that are not whole blocks cannot be block-quantised;
		// F16 is the nearest type that can hold them.
		return quant.F16
	}
	return want
}

// Write converts m to a .llmap file at path. The file appears only when
// every tensor has been written; on error nothing is left at path.
func Write(path string, m *Model, opts Options) error {
	specs := make([]format.TensorSpec, len(m.Tensors))
	var total int64
	mixOf := mixTensors(m)
	for i := range m.Tensors {
		t := &m.Tensors[i]
		if len(t.Shape) == 0 {
			return fmt.Errorf("tensor %q: no shape", t.Name)
		}
		typ := TypeFor(t, opts)
		switch {
		case opts.Mix != 0 && len(t.Shape) >= 2:
			var note string
			typ, note = opts.Mix.TypeFor(mixOf(t))
			if note != "" && opts.Notice != nil {
				opts.Notice(fmt.Sprintf("tensor %s: %s", t.Name, note))
			}
		case typ != opts.Matrices && len(t.Shape) >= 2 && !(opts.Keep && t.Raw != nil) && opts.Notice != nil:
			opts.Notice(fmt.Sprintf("tensor %s: row length %d is not a multiple of %d, stored as %s instead of %s",
				t.Name, t.Cols(), opts.Matrices.BlockSize(), typ, opts.Matrices))
		}
		specs[i] = format.TensorSpec{Name: t.Name, Type: typ, Shape: t.Shape}
		n, err := typ.RowBytes(int64(t.Rows()) * int64(t.Cols()))
		if err != nil {
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		total += n
	}
	w, err := format.Create(path, m.Meta, specs)
	if err != nil {
		return err
	}
	defer w.Abort()
	var done int64
	for i := range m.Tensors {
		t := &m.Tensors[i]
		typ := specs[i].Type
		var r io.Reader
		if t.Raw != nil && t.RawType == typ {
			r = bytes.NewReader(t.Raw)
		} else {
			r = newRowReader(t, typ)
		}
		if err := w.WriteTensor(t.Name, r); err != nil {
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		n, _ := typ.RowBytes(int64(t.Rows()) * int64(t.Cols()))
		done += n
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	return w.Close()
}

// rowReader produces a tensor's bytes in type typ one row at a time.
type rowReader struct {
	t    *Tensor
	typ  quant.Type
	row  int
	f32  []float32
	enc  []byte
	rest []byte
}

func newRowReader(t *Tensor, typ quant.Type) *rowReader {
	n, _ := typ.RowBytes(int64(t.Cols()))
	return &rowReader{t: t, typ: typ, f32: make([]float32, t.Cols()), enc: make([]byte, n)}
}

func (r *rowReader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		if r.row == r.t.Rows() {
			return 0, io.EOF
		}
		r.t.Row(r.row, r.f32)
		if err := quant.QuantizeRef(r.typ, r.enc, r.f32); err != nil {
			return 0, err
		}
		r.rest = r.enc
		r.row++
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}
