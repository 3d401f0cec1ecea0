package safetensors_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llmap/llmap/format/safetensors"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
)

// TestTinyGPT2 checks the lm-buddy GPT-2 file: shapes from config.json, and
// tensor data equal to the float32 values read with encoding/binary at the
// offsets of the header decoded by encoding/json.
func TestTinyGPT2(t *testing.T) {
	path := testmodels.Path(t, "tiny-gpt2-random-lmbuddy/model.safetensors")
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string][]int64{
		"wte.weight": {21, 2}, "wpe.weight": {1024, 2}, "h.0.attn.c_attn.weight": {2, 6},
		"h.0.attn.c_attn.bias": {6}, "h.0.mlp.c_fc.weight": {2, 8}, "h.0.mlp.c_proj.weight": {8, 2},
		"ln_f.weight": {2}, "ln_f.bias": {2},
	}
	for name, shape := range want {
		ti, ok := f.Tensor(name)
		if !ok || !slices.Equal(ti.Shape, shape) || ti.DType != "F32" {
			t.Errorf("%s: %+v, want shape %v", name, ti, shape)
		}
	}
	ts := f.Tensors()
	if len(ts) != 16 || !slices.IsSortedFunc(ts, func(a, b safetensors.TensorInfo) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("%d tensors, sorted: %v", len(ts), ts)
	}
	if md := f.Metadata(); md["format"] != "pt" {
		t.Errorf("metadata %v", md)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	if f.DataOffset() != int64(8+n) {
		t.Errorf("data offset %d", f.DataOffset())
	}
	for i := range ts {
		ti := &ts[i]
		var h struct{ DataOffsets [2]int }
		json.Unmarshal(header[ti.Name], &h)
		ref := raw[8+int(n)+h.DataOffsets[0] : 8+int(n)+h.DataOffsets[1]]
		got, err := f.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		if typ, err := ti.Type(); err != nil || typ != quant.F32 || int64(len(got)) != 4*ti.NumElements() {
			t.Fatalf("%s: %v %v, %d bytes", ti.Name, typ, err, len(got))
		}
		for j := 0; j < len(ref)/4; j++ {
			x := math.Float32frombits(binary.LittleEndian.Uint32(ref[4*j:]))
			y := math.Float32frombits(binary.LittleEndian.Uint32(got[4*j:]))
			if x != y || math.IsNaN(float64(x)) {
				t.Fatalf("%s[%d] = %v, want %v", ti.Name, j, y, x)
			}
		}
	}

	// OpenDir on the model directory finds model.safetensors.
	s, err := safetensors.OpenDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wte, ok := s.Tensor("wte.weight")
	if !ok {
		t.Fatal("wte.weight missing from the set")
	}
	d1, _ := s.TensorData(wte)
	d2, _ := f.TensorData(wte)
	if !slices.Equal(d1, d2) || len(s.Tensors()) != 16 || !slices.Equal(s.Shards(), []string{"model.safetensors"}) {
		t.Error("set differs from the file")
	}
}

func TestDTypes(t *testing.T) {
	data := write([]tensor{
		{"a", "F16", []int64{2}, []byte{0, 0x3c, 0, 0xc0}},
		{"b", "BF16", []int64{1, 1}, []byte{0x80, 0x3f}},
		{"c", "I64", []int64{2}, make([]byte, 16)},
		{"d", "F32", []int64{}, f32s(7)},
		{"e", "F32", []int64{0, 3}, nil},
		{"f", "F4", []int64{3, 2}, make([]byte, 3)},
	}, nil)
	f, err := safetensors.NewFile(data)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]quant.Type{"a": quant.F16, "b": quant.BF16, "d": quant.F32, "e": quant.F32} {
		ti, _ := f.Tensor(name)
		if got, err := ti.Type(); err != nil || got != want {
			t.Errorf("%s: %v, %v", name, got, err)
		}
	}
	c, _ := f.Tensor("c")
	if _, err := c.Type(); !errors.Is(err, safetensors.ErrUnsupported) || !strings.Contains(err.Error(), `"c"`) || !strings.Contains(err.Error(), "I64") {
		t.Errorf("I64: %v", err)
	}
	if d, err := f.TensorData(c); err != nil || len(d) != 16 {
		t.Errorf("I64 data: %d bytes, %v", len(d), err)
	}
	if f.Metadata() != nil {
		t.Errorf("metadata %v", f.Metadata())
	}
	d, _ := f.Tensor("d")
	if x, _ := f.TensorData(d); math.Float32frombits(binary.LittleEndian.Uint32(x)) != 7 || d.NumElements() != 1 {
		t.Error("scalar")
	}
	e, _ := f.Tensor("e")
	if x, err := f.TensorData(e); err != nil || len(x) != 0 {
		t.Errorf("empty tensor: %v", err)
	}
	// TensorData re-checks a TensorInfo that lies.
	bad := *d
	bad.End = 1 << 40
	if _, err := f.TensorData(&bad); err == nil {
		t.Error("TensorData of a lying TensorInfo succeeded")
	}
	f.Close()
	if _, err := f.TensorData(d); err == nil {
		t.Error("TensorData after Close succeeded")
	}
}

func TestCorrupt(t *testing.T) {
	good := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`
	buf := f32s(1, 2, 3)
	withLen := func(n uint64, rest []byte) []byte {
		return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
	}
	cases := []struct {
		name string
		data []byte
		kind error
		msg  string
	}{
		{"short", []byte{1, 2, 3}, safetensors.ErrTruncated, "too short"},
		{"header past end", withLen(1000, []byte(`{}`)), safetensors.ErrTruncated, "header length 1000"},
		{"header 2^63", withLen(1<<63, []byte(`{}`)), safetensors.ErrInvalid, "exceeds the limit"},
		{"header 2^64-1", withLen(^uint64(0), []byte(`{}`)), safetensors.ErrInvalid, "exceeds the limit"},
		{"empty header", withLen(0, nil), safetensors.ErrInvalid, "'{'"},
		{"not an object", rawFile(`[1,2]`, nil), safetensors.ErrInvalid, "'{'"},
		{"bad JSON", rawFile(`{"a":{"dtype":"F32",}`, nil), safetensors.ErrInvalid, "JSON"},
		{"truncated JSON", rawFile(`{"a":{"dtype":"F32"`, nil), safetensors.ErrInvalid, "JSON"},
		{"trailing JSON", rawFile(`{} {}`, nil), safetensors.ErrInvalid, "trailing"},
		{"duplicate key", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32s(1)), safetensors.ErrInvalid, `duplicate header key "a"`},
		{"metadata not strings", rawFile(`{"__metadata__":{"n":1}}`, nil), safetensors.ErrInvalid, "__metadata__"},
		{"tensor not object", rawFile(`{"a":5}`, nil), safetensors.ErrInvalid, `"a"`},
		{"missing offsets", rawFile(`{"a":{"dtype":"F32","shape":[1]}}`, f32s(1)), safetensors.ErrInvalid, `"a"`},
		{"three offsets", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, f32s(1)), safetensors.ErrInvalid, `"a"`},
		{"float offset", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}`, f32s(1)), safetensors.ErrInvalid, `"a"`},
		{"unknown dtype", rawFile(`{"a":{"dtype":"Q9","shape":[1],"data_offsets":[0,4]}}`, f32s(1)), safetensors.ErrInvalid, `unknown dtype "Q9"`},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, f32s(1)), safetensors.ErrInvalid, "negative"},
		{"shape overflow", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, f32s(1)), safetensors.ErrInvalid, `"a"`},
		{"bits overflow", rawFile(`{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,4]}}`, f32s(1)), safetensors.ErrInvalid, "overflow"},
		{"half byte", rawFile(`{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}}`, []byte{0}), safetensors.ErrInvalid, "whole number of bytes"},
		{"wrong size for shape", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, f32s(1)), safetensors.ErrInvalid, "needs 8"},
		{"descending offsets", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, f32s(1, 2, 3)), safetensors.ErrInvalid, "ascending"},
		{"negative offset", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, f32s(1)), safetensors.ErrInvalid, "ascending"},
		{"past the end", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32s(1, 2)), safetensors.ErrTruncated, "past"},
		{"far past the end", rawFile(`{"a":{"dtype":"U8","shape":[1099511627776],"data_offsets":[0,1099511627776]}}`, f32s(1, 2)), safetensors.ErrTruncated, "past"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, buf), safetensors.ErrInvalid, "overlaps"},
		{"same bytes", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32s(1)), safetensors.ErrInvalid, "overlaps"},
		{"gap", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, buf), safetensors.ErrInvalid, "gap"},
		{"trailing bytes", rawFile(good, f32s(1, 2, 3, 4)), safetensors.ErrInvalid, "after the last tensor"},
		{"truncated buffer", rawFile(good, f32s(1, 2)), safetensors.ErrTruncated, `"b"`},
	}
	for _, c := range cases {
		_, err := safetensors.NewFile(c.data)
		t.Logf("%s: %v", c.name, err)
		var se *safetensors.Error
		if !errors.Is(err, c.kind) || !errors.As(err, &se) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want %v mentioning %s", c.name, err, c.kind, c.msg)
		}
	}
	if _, err := safetensors.NewFile(rawFile(good, buf)); err != nil {
		t.Errorf("good file: %v", err)
	}
}

// TestTruncatedEverywhere cuts a valid file at every length.
func TestTruncatedEverywhere(t *testing.T) {
	data := write([]tensor{{"a", "F32", []int64{2}, f32s(1, 2)}, {"b", "F16", []int64{1}, []byte{0, 0x3c}}}, map[string]string{"format": "pt"})
	for n := 0; n < len(data); n++ {
		if _, err := safetensors.NewFile(data[:n:n]); err == nil {
			t.Fatalf("prefix of %d bytes parsed", n)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "short.safetensors", []byte{1, 0, 0})
	if _, err := safetensors.Open(filepath.Join(dir, "short.safetensors")); !errors.Is(err, safetensors.ErrTruncated) {
		t.Errorf("short file: %v", err)
	}
	writeFile(t, dir, "bad.safetensors", rawFile(`{"a":1}`, nil))
	_, err := safetensors.Open(filepath.Join(dir, "bad.safetensors"))
	if !errors.Is(err, safetensors.ErrInvalid) || !strings.Contains(err.Error(), "bad.safetensors") {
		t.Errorf("bad file: %v", err)
	}
	if _, err := safetensors.OpenDir(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory without a model: %v", err)
	}
}

func FuzzNewFile(f *testing.F) {
	f.Add(write([]tensor{{"a", "F32", []int64{2}, f32s(1, 2)}, {"b", "I8", []int64{1}, []byte{1}}}, map[string]string{"k": "v"}))
	f.Add(rawFile(`{}`, nil))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32s(1, 2, 3)))
	if data, err := os.ReadFile(filepath.Join(testmodels.Dir(), "tiny-gpt2-random-lmbuddy/model.safetensors")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := safetensors.NewFile(data)
		if err != nil {
			var se *safetensors.Error
			if !errors.As(err, &se) {
				t.Fatalf("error is not an *Error: %v", err)
			}
			return
		}
		var total int64
		for _, ti := range sf.Tensors() {
			d, err := sf.TensorData(&ti)
			if err != nil || int64(len(d)) != ti.End-ti.Begin {
				t.Fatalf("%s: %d bytes, %v", ti.Name, len(d), err)
			}
			total += int64(len(d))
			ti.Type()
		}
		if total != int64(len(data))-sf.DataOffset() {
			t.Fatalf("tensors cover %d of %d bytes", total, int64(len(data))-sf.DataOffset())
		}
	})
}
