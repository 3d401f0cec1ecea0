package format

import (
	"errors"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/llmap/llmap/quant"
)

// FuzzNewFile feeds arbitrary bytes to the parser. Errors are fine; panics
// are not, and every accepted file must describe tensors inside the data.
// Each input is tried as is and with its header CRC made valid, so the
// fuzzer gets past the checksum to the metadata and directory parsers.
func FuzzNewFile(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	seeds := [][]byte{
		corruptFixture(f),
		buildBytes(f, nil, nil),
		buildBytes(f, allKindsMeta(), nil),
		buildBytes(f, nil, []testTensor{makeTensor(f, rng, "w", quant.Q4_0, 2, 32)}),
	}
	for _, s := range seeds {
		f.Add(s)
		for _, n := range []int{0, 7, 47, 48, 100, len(s) / 2, len(s) - 1} {
			f.Add(s[:n])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParse(t, b)
		if c := append([]byte(nil), b...); fixHeaderCRC(c) {
			checkParse(t, c)
		}
	})
}

func checkParse(t *testing.T, b []byte) {
	file, err := NewFile(b)
	if err != nil {
		checkError(t, err, len(b))
		return
	}
	end := int64(0)
	for i := range file.Tensors {
		ti := &file.Tensors[i]
		v := file.Bytes(ti)
		if int64(len(v)) != ti.Size || ti.Size <= 0 || ti.Offset < end || ti.Offset+ti.Size > int64(len(b)) {
			t.Fatalf("tensor %q: view of %d bytes at %d, size %d, file %d bytes", ti.Name, len(v), ti.Offset, ti.Size, len(b))
		}
		if unsafe.SliceData(v) != &b[ti.Offset] {
			t.Fatalf("tensor %q: view does not alias the input", ti.Name)
		}
		if n, want := ti.NumElements(), ti.Size/int64(ti.Type.BlockBytes())*int64(ti.Type.BlockSize()); n != want {
			t.Fatalf("tensor %q: %d elements, size implies %d", ti.Name, n, want)
		}
		end = ti.Offset + ti.Size
		if ti.Type == quant.F32 {
			if x, err := file.Float32s(ti); err == nil && int64(len(x))*4 != ti.Size {
				t.Fatalf("tensor %q: %d floats for %d bytes", ti.Name, len(x), ti.Size)
			}
		}
	}
	if err := file.Verify(); err != nil && !errors.Is(err, ErrChecksum) {
		t.Fatalf("Verify: %v", err)
	}
	for _, k := range file.Meta.Keys() {
		if v, ok := file.Meta.Get(k); !ok || !v.Kind().valid() {
			t.Fatalf("key %q: kind %d", k, v.Kind())
		}
	}
}
