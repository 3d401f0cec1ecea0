package gguf_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/internal/testmodels"
)

// TestTruncatedEverywhere cuts the sample file at every length: each prefix
// must fail with ErrTruncated and an *Error, without panicking.
func TestTruncatedEverywhere(t *testing.T) {
	data := sample()
	for n := 0; n < len(data); n++ {
		_, err := gguf.NewFile(data[:n:n])
		var ge *gguf.Error
		if !errors.Is(err, gguf.ErrTruncated) || !errors.As(err, &ge) {
			t.Fatalf("prefix of %d bytes: %v", n, err)
		}
		if ge.Off < 0 || ge.Off > int64(n)+64 {
			t.Fatalf("prefix of %d bytes: offset %d", n, ge.Off)
		}
	}
	if _, err := gguf.NewFile(data); err != nil {
		t.Fatal(err)
	}
}

// TestTruncatedReal cuts the tiny llama file inside its header fields and at
// sampled points of the metadata and tensor data.
func TestTruncatedReal(t *testing.T) {
	data, err := os.ReadFile(testmodels.Path(t, "llama-2-tiny-random-gguf/llama-2-tiny-random.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	cuts := []int{0, 3, 4, 7, 8, 15, 16, 23, 24, 30, 40, 100, 1000, 100000, 724415, 724416, 724417, len(data) - 1}
	for _, n := range cuts {
		if _, err := gguf.NewFile(data[:n:n]); !errors.Is(err, gguf.ErrTruncated) {
			t.Errorf("prefix of %d bytes: %v", n, err)
		}
	}
}

// header returns magic, version 3 and the two counts.
func header(nTensors, nKV uint64) *enc {
	e := &enc{}
	e.b = append(e.b, "GGUF"...)
	e.u32(3)
	e.u64(nTensors)
	e.u64(nKV)
	return e
}

// allocated runs fn and returns the bytes it allocated.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestHugeClaims(t *testing.T) {
	huge := []struct {
		name string
		data func() []byte
	}{
		{"kv count 2^40", func() []byte { return pad(header(0, 1<<40).b) }},
		{"tensor count 2^40", func() []byte { return pad(header(1<<40, 0).b) }},
		{"kv count 2^64-1", func() []byte { return pad(header(0, ^uint64(0)).b) }},
		{"key length 2^60", func() []byte { e := header(0, 1); e.u64(1 << 60); return pad(e.b) }},
		{"string value 2^60", func() []byte {
			e := header(0, 1)
			e.str("k")
			e.u32(8)
			e.u64(1 << 60)
			return pad(e.b)
		}},
		{"uint64 array 2^62", func() []byte {
			e := header(0, 1)
			e.str("k")
			e.u32(9)
			e.u32(10)
			e.u64(1 << 62)
			return pad(e.b)
		}},
		{"uint8 array 2^64-1", func() []byte {
			e := header(0, 1)
			e.str("k")
			e.u32(9)
			e.u32(0)
			e.u64(^uint64(0))
			return pad(e.b)
		}},
		{"string array 2^40", func() []byte {
			e := header(0, 1)
			e.str("k")
			e.u32(9)
			e.u32(8)
			e.u64(1 << 40)
			return pad(e.b)
		}},
		{"nested array 2^40", func() []byte {
			e := header(0, 1)
			e.str("k")
			e.u32(9)
			e.u32(9)
			e.u64(1 << 40)
			return pad(e.b)
		}},
		{"tensor name 2^60", func() []byte { e := header(1, 0); e.u64(1 << 60); return pad(e.b) }},
	}
	for _, c := range huge {
		data := c.data()
		var err error
		n := allocated(func() { _, err = gguf.NewFile(data) })
		if !errors.Is(err, gguf.ErrTruncated) {
			t.Errorf("%s: %v", c.name, err)
		}
		if n > 64<<10 {
			t.Errorf("%s: allocated %d bytes", c.name, n)
		}
	}
}

// rawTensor is a file with one f32 tensor of 4 elements at data offset off.
func rawTensor(off uint64) []byte {
	e := header(1, 0)
	e.str("t")
	e.u32(1)
	e.u64(4)
	e.u32(0)
	e.u64(off)
	return pad(e.b)
}

// pad appends 64 zero bytes so that only the claimed size is wrong.
func pad(b []byte) []byte { return append(b, make([]byte, 64)...) }

func TestCorrupt(t *testing.T) {
	f32 := make([]byte, 16)
	one := func(t tensor) []tensor { return []tensor{t} }
	cases := []struct {
		name string
		data []byte
		kind error
		msg  string
	}{
		{"bad magic", append([]byte("GGUG"), sample()[4:]...), gguf.ErrInvalid, "magic"},
		{"version 1", func() []byte { b := sample(); b[4] = 1; return b }(), gguf.ErrUnsupported, "version 1"},
		{"version 4", func() []byte { b := sample(); b[4] = 4; return b }(), gguf.ErrUnsupported, "version 4"},
		{"big-endian", func() []byte { b := sample(); binary.BigEndian.PutUint32(b[4:], 3); return b }(), gguf.ErrUnsupported, "big-endian"},
		{"alignment 0", build([]kv{kvU32("general.alignment", 0)}, nil, 32), gguf.ErrInvalid, "general.alignment"},
		{"alignment 48", build([]kv{kvU32("general.alignment", 48)}, nil, 32), gguf.ErrInvalid, "general.alignment"},
		{"alignment string", build([]kv{kvStr("general.alignment", "32")}, nil, 32), gguf.ErrInvalid, "general.alignment"},
		{"misaligned tensor", build(nil, one(tensor{"t", 0, []uint64{4}, f32, 16}), 32), gguf.ErrInvalid, `"t"`},
		{"misaligned for alignment 64", build([]kv{kvU32("general.alignment", 64)},
			[]tensor{{"a", 0, []uint64{4}, f32, 0}, {"b", 0, []uint64{4}, f32, 32}}, 64), gguf.ErrInvalid, `"b"`},
		{"tensor past end", build(nil, one(tensor{"t", 0, []uint64{8}, f32, -1}), 32), gguf.ErrTruncated, `"t"`},
		{"offset 2^40", rawTensor(1 << 40), gguf.ErrTruncated, `"t"`},
		{"offset 2^64-32", rawTensor(^uint64(0) - 31), gguf.ErrTruncated, `"t"`},
		{"overlap", build(nil, []tensor{{"a", 0, []uint64{4}, f32, 0}, {"b", 0, []uint64{4}, f32, 0}}, 32), gguf.ErrInvalid, "overlaps"},
		{"duplicate tensor", build(nil, []tensor{{"a", 0, []uint64{4}, f32, -1}, {"a", 0, []uint64{4}, f32, -1}}, 32), gguf.ErrInvalid, "duplicate tensor"},
		{"duplicate key", build([]kv{kvU32("k", 1), kvU32("k", 2)}, nil, 32), gguf.ErrInvalid, `duplicate metadata key "k"`},
		{"5 dims", build(nil, one(tensor{"t", 0, []uint64{1, 1, 1, 1, 4}, f32, -1}), 32), gguf.ErrInvalid, "5 dimensions"},
		{"zero dim", build(nil, one(tensor{"t", 0, []uint64{4, 0}, f32, -1}), 32), gguf.ErrInvalid, "ne[1] is 0"},
		{"dims overflow", build(nil, one(tensor{"t", 0, []uint64{1 << 32, 1 << 32}, f32, -1}), 32), gguf.ErrInvalid, `"t"`},
		{"size overflow", build(nil, one(tensor{"t", 0, []uint64{1 << 31, 1 << 31}, f32, -1}), 32), gguf.ErrInvalid, "overflow"},
		{"partial q8_0 block", build(nil, one(tensor{"t", 8, []uint64{33}, make([]byte, 68), -1}), 32), gguf.ErrInvalid, "block size"},
		{"unknown ggml type", build(nil, one(tensor{"t", 4, []uint64{4}, f32, -1}), 32), gguf.ErrUnsupported, "ggml type 4"},
		{"unknown value type", build([]kv{{"k", 13, []byte{0}}}, nil, 32), gguf.ErrInvalid, `"k": unknown value type 13`},
		{"unknown element type", build([]kv{{"k", 9, []byte{99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}}, nil, 32), gguf.ErrInvalid, "element type 99"},
		{"bool 2", build([]kv{{"k", 7, []byte{2}}}, nil, 32), gguf.ErrInvalid, `"k"`},
		{"deep arrays", func() []byte {
			var e enc
			for i := 0; i < 20; i++ {
				e.u32(9)
				e.u64(1)
			}
			e.u32(0)
			e.u64(0)
			return build([]kv{{"k", 9, e.b}}, nil, 32)
		}(), gguf.ErrInvalid, "nested"},
	}
	for _, c := range cases {
		_, err := gguf.NewFile(c.data)
		t.Logf("%s: %v", c.name, err)
		var ge *gguf.Error
		if !errors.Is(err, c.kind) || !errors.As(err, &ge) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want %v mentioning %s", c.name, err, c.kind, c.msg)
		}
	}
}

func TestNestedArrays(t *testing.T) {
	var e enc
	e.u32(9) // array of arrays
	e.u64(2)
	e.u32(5) // [int32 × 2]
	e.u64(2)
	e.u32(7)
	e.u32(0xFFFFFFFF)
	e.u32(8) // [string × 1]
	e.u64(1)
	e.str("hi")
	f, err := gguf.NewFile(build([]kv{{"k", 9, e.b}}, nil, 32))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := f.Lookup("k")
	outer, ok := v.Interface().([]gguf.Value)
	if !ok || v.Len() != 2 || v.Elem != gguf.TypeArray {
		t.Fatalf("%v", v)
	}
	if xs, ok := outer[0].Int32s(); !ok || xs[0] != 7 || xs[1] != -1 {
		t.Errorf("inner ints %v", xs)
	}
	if ss, ok := outer[1].Strings(); !ok || ss[0] != "hi" {
		t.Errorf("inner strings %v", ss)
	}
	if s := v.String(); s != `[array × 2: [int32 × 2: 7 -1] [string × 1: "hi"]]` {
		t.Errorf("String() = %s", s)
	}
}

// TestVersion2 accepts GGUF v2, whose layout equals v3 for little-endian files.
func TestVersion2(t *testing.T) {
	b := sample()
	b[4] = 2
	f, err := gguf.NewFile(b)
	if err != nil || f.Version != 2 {
		t.Fatalf("v2: %v", err)
	}
}

func FuzzNewFile(f *testing.F) {
	f.Add(sample())
	f.Add(build(nil, nil, 32))
	f.Add(build([]kv{kvU32("general.alignment", 64)}, []tensor{{"a", 1, []uint64{4, 2}, make([]byte, 16), -1}}, 64))
	f.Add(pad(header(1<<40, 1<<40).b))
	for _, rel := range []string{
		"llamacpp-vocab/ggml-vocab-llama-spm.gguf",
		"llamacpp-vocab/ggml-vocab-gpt-2.gguf",
		"llama-2-tiny-random-gguf/llama-2-tiny-random.gguf",
	} {
		if data, err := os.ReadFile(filepath.Join(testmodels.Dir(), rel)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := gguf.NewFile(data)
		if err != nil {
			var ge *gguf.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error is not an *Error: %v", err)
			}
			return
		}
		for _, kv := range g.KV {
			_ = kv.Value.String()
		}
		for i := range g.Tensors {
			ti := &g.Tensors[i]
			d, err := g.TensorData(ti)
			if err != nil || int64(len(d)) != ti.Size() {
				t.Fatalf("%s: %d bytes, %v", ti.Name, len(d), err)
			}
			ti.Type()
		}
	})
}
