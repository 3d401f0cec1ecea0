package format

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/llmap/llmap/quant"
)

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// startWrite creates a writer for tensors at dir/m.llmap.
func startWrite(t *testing.T, dir string, tensors []testTensor) (*Writer, string) {
	t.Helper()
	path := filepath.Join(dir, "m.llmap")
	specs := make([]TensorSpec, len(tensors))
	for i, tt := range tensors {
		specs[i] = tt.spec
	}
	w, err := Create(path, allKindsMeta(), specs)
	if err != nil {
		t.Fatal(err)
	}
	return w, path
}

func TestWriterTempFileBesideTarget(t *testing.T) {
	dir := t.TempDir()
	w, _ := startWrite(t, dir, allTypesTensors(t))
	defer w.Abort()
	names := dirNames(t, dir)
	if len(names) != 1 || !strings.HasPrefix(names[0], ".m.llmap.tmp-") {
		t.Errorf("during the write the directory holds %q, want one .m.llmap.tmp-* file", names)
	}
}

func TestWriterAbort(t *testing.T) {
	dir := t.TempDir()
	tensors := allTypesTensors(t)
	w, _ := startWrite(t, dir, tensors)
	if err := w.WriteTensor(tensors[0].spec.Name, bytes.NewReader(tensors[0].data)); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	w.Abort()
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("after Abort the directory holds %q", names)
	}
	if err := w.WriteTensor(tensors[1].spec.Name, bytes.NewReader(tensors[1].data)); err == nil {
		t.Error("WriteTensor after Abort succeeded")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after Abort succeeded")
	}
}

func TestWriterAbortAfterCloseKeepsFile(t *testing.T) {
	dir := t.TempDir()
	tensors := allTypesTensors(t)
	w, path := startWrite(t, dir, tensors)
	for _, tt := range tensors {
		if err := w.WriteTensor(tt.spec.Name, bytes.NewReader(tt.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "m.llmap" {
		t.Errorf("directory holds %q, want [m.llmap]", names)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Verify(); err != nil {
		t.Error(err)
	}
}

func TestWriterFailures(t *testing.T) {
	tensors := allTypesTensors(t)
	errBoom := errors.New("boom")
	big := tensors[4] // 12288 bytes
	cases := []struct {
		name  string
		write func(w *Writer) error // returns the first error
		want  string
	}{
		{"reader fails mid-tensor", func(w *Writer) error {
			w.WriteTensor(tensors[0].spec.Name, bytes.NewReader(tensors[0].data))
			w.WriteTensor(tensors[1].spec.Name, bytes.NewReader(tensors[1].data))
			w.WriteTensor(tensors[2].spec.Name, bytes.NewReader(tensors[2].data))
			w.WriteTensor(tensors[3].spec.Name, bytes.NewReader(tensors[3].data))
			r := io.MultiReader(bytes.NewReader(big.data[:5000]), iotest.ErrReader(errBoom))
			return w.WriteTensor(big.spec.Name, r)
		}, "boom"},
		{"short reader", func(w *Writer) error {
			return w.WriteTensor(tensors[0].spec.Name, bytes.NewReader(tensors[0].data[:100]))
		}, "ended after 100 of 2720 bytes"},
		{"long reader", func(w *Writer) error {
			return w.WriteTensor(tensors[0].spec.Name, bytes.NewReader(append(tensors[0].data, 0)))
		}, "more than 2720 bytes"},
		{"one byte at a time, then an error", func(w *Writer) error {
			return w.WriteTensor(tensors[0].spec.Name, iotest.OneByteReader(io.MultiReader(bytes.NewReader(tensors[0].data), iotest.ErrReader(errBoom))))
		}, "boom"},
		{"wrong order", func(w *Writer) error {
			return w.WriteTensor(tensors[1].spec.Name, bytes.NewReader(tensors[1].data))
		}, `want "token_embd.weight"`},
		{"missing tensors", func(w *Writer) error {
			if err := w.WriteTensor(tensors[0].spec.Name, bytes.NewReader(tensors[0].data)); err != nil {
				return err
			}
			return w.Close()
		}, `"blk.0.attn_norm.weight" and 6 after it were not written`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "m.llmap")
			old := []byte("the previous model")
			if err := os.WriteFile(path, old, 0o644); err != nil {
				t.Fatal(err)
			}
			w, _ := startWrite(t, dir, tensors)
			err := c.write(w)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
			// No temporary file even without Abort; the old file is untouched.
			if names := dirNames(t, dir); len(names) != 1 || names[0] != "m.llmap" {
				t.Errorf("after the failure the directory holds %q", names)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, old) {
				t.Errorf("target changed to %q", got)
			}
			if err2 := w.Close(); err2 == nil {
				t.Error("Close after a failure succeeded")
			}
			w.Abort()
		})
	}
}

func TestWriterReplacesExisting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.llmap")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "m.llmap", nil, allTypesTensors(t)[:2])
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(f.Tensors) != 2 {
		t.Errorf("%d tensors", len(f.Tensors))
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q", names)
	}
}

func TestCreateValidates(t *testing.T) {
	ok := TensorSpec{"ok", quant.F32, []int64{4}}
	long := strings.Repeat("k", MaxKeyLen+1)
	metaWith := func(key string, v Value) *Metadata {
		var m Metadata
		m.Set(key, v)
		return &m
	}
	cases := []struct {
		name  string
		meta  *Metadata
		specs []TensorSpec
	}{
		{"duplicate name", nil, []TensorSpec{ok, ok}},
		{"empty name", nil, []TensorSpec{{"", quant.F32, []int64{4}}}},
		{"long name", nil, []TensorSpec{{long, quant.F32, []int64{4}}}},
		{"unknown type", nil, []TensorSpec{{"x", quant.Type(99), []int64{4}}}},
		{"no dimensions", nil, []TensorSpec{{"x", quant.F32, nil}}},
		{"nine dimensions", nil, []TensorSpec{{"x", quant.F32, []int64{1, 1, 1, 1, 1, 1, 1, 1, 1}}}},
		{"zero dimension", nil, []TensorSpec{{"x", quant.F32, []int64{4, 0}}}},
		{"negative dimension", nil, []TensorSpec{{"x", quant.F32, []int64{-4}}}},
		{"block size", nil, []TensorSpec{{"x", quant.Q4_0, []int64{32, 16}}}},
		{"overflow", nil, []TensorSpec{{"x", quant.F32, []int64{1 << 40, 1 << 40}}}},
		{"zero value", metaWith("k", Value{}), nil},
		{"empty key", metaWith("", U32(1)), nil},
		{"long key", metaWith(long, U32(1)), nil},
		{"key not UTF-8", metaWith("\xff", U32(1)), nil},
		{"long string", metaWith("k", String(strings.Repeat("s", MaxStringLen+1))), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := Create(filepath.Join(dir, "m.llmap"), c.meta, c.specs)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Create: %v, want ErrInvalid", err)
			}
			if w != nil {
				w.Abort()
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("directory holds %q", names)
			}
		})
	}
	if _, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir", "m.llmap"), nil, nil); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
}
