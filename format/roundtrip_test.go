package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/llmap/llmap/quant"
)

func TestRoundTrip(t *testing.T) {
	meta := allKindsMeta()
	tensors := allTypesTensors(t)
	path := writeFile(t, t.TempDir(), "model.llmap", meta, tensors)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	if f.Path() != path {
		t.Errorf("Path = %q, want %q", f.Path(), path)
	}
	st, _ := os.Stat(path)
	if f.Size() != st.Size() || int64(len(f.Data())) != st.Size() {
		t.Errorf("Size = %d, len(Data) = %d, file is %d bytes", f.Size(), len(f.Data()), st.Size())
	}

	// Metadata: same keys in the same order, same kinds and values.
	if got, want := f.Meta.Keys(), meta.Keys(); !reflect.DeepEqual(got, want) {
		t.Fatalf("keys = %q, want %q", got, want)
	}
	for _, k := range meta.Keys() {
		want, _ := meta.Get(k)
		got, _ := f.Meta.Get(k)
		if got.Kind() != want.Kind() || !reflect.DeepEqual(got.Any(), want.Any()) {
			t.Errorf("%s = %s %v, want %s %v", k, got.Kind(), got, want.Kind(), want)
		}
	}
	// -0 must survive as -0 (compare bits; DeepEqual treats -0 == 0).
	scores, _ := f.Meta.F32s(KeyTokenizerScores)
	if bits := math.Float32bits(scores[4]); bits != 0x80000000 {
		t.Errorf("scores[4] bits %08x, want 80000000", bits)
	}

	// Tensors: directory, data, alignment, checksums.
	if len(f.Tensors) != len(tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(tensors))
	}
	end := int64(0)
	for i, tt := range tensors {
		ti := &f.Tensors[i]
		if ti.Name != tt.spec.Name || ti.Type != tt.spec.Type || !reflect.DeepEqual(ti.Shape, tt.spec.Shape) {
			t.Errorf("tensor %d = %s %s %v, want %s %s %v", i, ti.Name, ti.Type, ti.Shape, tt.spec.Name, tt.spec.Type, tt.spec.Shape)
		}
		if got, _ := f.Tensor(tt.spec.Name); got != ti {
			t.Errorf("Tensor(%q) = %p, want %p", tt.spec.Name, got, ti)
		}
		if ti.Size != int64(len(tt.data)) {
			t.Errorf("%s: Size = %d, want %d", ti.Name, ti.Size, len(tt.data))
		}
		if n := ti.NumElements(); n*int64(ti.Type.BlockBytes())/int64(ti.Type.BlockSize()) != ti.Size {
			t.Errorf("%s: NumElements = %d inconsistent with size %d", ti.Name, n, ti.Size)
		}
		if ti.Offset%64 != 0 || (ti.Size >= 4096 && ti.Offset%4096 != 0) || ti.Offset < end {
			t.Errorf("%s: offset %d (size %d, previous end %d) breaks the alignment rules", ti.Name, ti.Offset, ti.Size, end)
		}
		end = ti.Offset + ti.Size
		if want := crc32.Checksum(tt.data, crc32.MakeTable(crc32.Castagnoli)); ti.CRC != want {
			t.Errorf("%s: CRC = %08x, want %08x", ti.Name, ti.CRC, want)
		}
		b := f.Bytes(ti)
		if !bytes.Equal(b, tt.data) {
			t.Errorf("%s: Bytes differ from the data written", ti.Name)
		}
		if cap(b) != len(b) {
			t.Errorf("%s: cap(Bytes) = %d, want %d", ti.Name, cap(b), len(b))
		}
		if ti.Type == quant.F32 {
			x, err := f.Float32s(ti)
			if err != nil {
				t.Fatalf("%s: Float32s: %v", ti.Name, err)
			}
			if len(x) != len(tt.data)/4 {
				t.Fatalf("%s: %d floats, want %d", ti.Name, len(x), len(tt.data)/4)
			}
			for j := range x {
				if want := math.Float32frombits(binary.LittleEndian.Uint32(tt.data[4*j:])); x[j] != want {
					t.Fatalf("%s[%d] = %v, want %v", ti.Name, j, x[j], want)
				}
			}
			if p := uintptr(unsafe.Pointer(&x[0])); p%64 != 0 {
				t.Errorf("%s: mapped float32s at %#x, not 64-byte aligned", ti.Name, p)
			}
		} else if _, err := f.Float32s(ti); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Float32s of a %s tensor: err = %v, want ErrInvalid", ti.Name, ti.Type, err)
		}
	}
	if end != f.Size() {
		t.Errorf("last tensor ends at %d, file is %d bytes", end, f.Size())
	}
	if _, ok := f.Tensor("missing"); ok {
		t.Error("Tensor(missing) found")
	}
	if err := f.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestRoundTripEmpty(t *testing.T) {
	// No metadata and no tensors: the file is exactly the header page.
	b := buildBytes(t, nil, nil)
	if len(b) != PageSize {
		t.Errorf("empty file is %d bytes, want %d", len(b), PageSize)
	}
	f, err := NewFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Meta.Len() != 0 || len(f.Tensors) != 0 || f.Verify() != nil {
		t.Errorf("empty file: %d keys, %d tensors", f.Meta.Len(), len(f.Tensors))
	}
}

// TestLayoutMatchesSpec decodes a file by hand, as SPEC.md describes it,
// without the package's parser.
func TestLayoutMatchesSpec(t *testing.T) {
	var meta Metadata
	meta.Set("a.b", U32(7))
	meta.Set("s", Strings([]string{"x", "yz"}))
	tensors := allTypesTensors(t)[:2] // Q8_0 [40,64] and F32 [7]
	b := buildBytes(t, &meta, tensors)
	le := binary.LittleEndian

	if !bytes.Equal(b[:8], []byte{0x89, 'L', 'L', 'M', 'A', 'P', '\r', '\n'}) {
		t.Errorf("magic % x", b[:8])
	}
	if le.Uint16(b[8:]) != 1 || le.Uint16(b[10:]) != VersionMinor || le.Uint32(b[12:]) != 48 {
		t.Errorf("version %d.%d header size %d", le.Uint16(b[8:]), le.Uint16(b[10:]), le.Uint32(b[12:]))
	}
	if le.Uint64(b[16:]) != uint64(len(b)) || le.Uint64(b[24:]) != 4096 {
		t.Errorf("file size %d (len %d), data offset %d", le.Uint64(b[16:]), len(b), le.Uint64(b[24:]))
	}
	if le.Uint32(b[32:]) != 2 || le.Uint32(b[36:]) != 2 || le.Uint32(b[44:]) != 0 {
		t.Errorf("counts %d %d reserved %d", le.Uint32(b[32:]), le.Uint32(b[36:]), le.Uint32(b[44:]))
	}
	want := []byte{
		3, 0, 0, 0, 'a', '.', 'b', 1, 4, 0, 0, 0, 7, 0, 0, 0, // "a.b" u32 7
		1, 0, 0, 0, 's', 7, 15, 0, 0, 0, 2, 0, 0, 0, // "s" []string, 15 bytes, count 2
		1, 0, 0, 0, 'x', 2, 0, 0, 0, 'y', 'z',
		17, 0, 0, 0, 't', 'o', 'k', 'e', 'n', '_', 'e', 'm', 'b', 'd', '.', 'w', 'e', 'i', 'g', 'h', 't',
		3, 0, 0, 0, 2, 0, 0, 0, // q8_0, 2 dims
		40, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0,
		0, 16, 0, 0, 0, 0, 0, 0, // offset 4096
		0xa0, 0x0a, 0, 0, 0, 0, 0, 0, // size 2720
	}
	if got := b[48 : 48+len(want)]; !bytes.Equal(got, want) {
		t.Errorf("metadata and first record:\n got % x\nwant % x", got, want)
	}
	fl := walk(t, b)
	// The second tensor (28 bytes) follows the first at the next multiple of 64.
	if fl.tOffVal[1] != 4096+2752 || fl.tSizeVal[1] != 28 || len(b) != 4096+2752+28 {
		t.Errorf("second tensor at %d size %d, file %d bytes", fl.tOffVal[1], fl.tSizeVal[1], len(b))
	}
	for i := fl.tCRC[1] + 4; i < 4096; i++ {
		if b[i] != 0 {
			t.Fatalf("padding byte %d is %d", i, b[i])
		}
	}
	// CRC-32C check value from SPEC.md, and the header CRC as specified.
	tab := crc32.MakeTable(crc32.Castagnoli)
	if c := crc32.Checksum([]byte("123456789"), tab); c != 0xE3069283 {
		t.Errorf("CRC-32C check value %08x", c)
	}
	h := append([]byte(nil), b[:4096]...)
	copy(h[40:44], []byte{0, 0, 0, 0})
	if c := crc32.Checksum(h, tab); c != le.Uint32(b[40:]) {
		t.Errorf("header CRC %08x, want %08x", le.Uint32(b[40:]), c)
	}
}

func TestVerifyDetectsFlippedByte(t *testing.T) {
	tensors := allTypesTensors(t)
	b := buildBytes(t, nil, tensors)
	fl := walk(t, b)
	victim := 4 // blk.0.attn_v.weight
	b[fl.tOffVal[victim]+100] ^= 0x10
	// Opening does not read tensor data, so it still succeeds.
	f, err := NewFile(b)
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	err = f.Verify()
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("Verify: %v, want ErrChecksum", err)
	}
	e := checkError(t, err, len(b))
	if e.Off != fl.tOffVal[victim] || !strings.Contains(err.Error(), `"blk.0.attn_v.weight"`) {
		t.Errorf("Verify: %v, want offset %d naming blk.0.attn_v.weight", err, fl.tOffVal[victim])
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing.llmap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	cases := []struct {
		name    string
		content []byte
		want    error
	}{
		{"text.llmap", bytes.Repeat([]byte("hello, world\n"), 1000), ErrBadMagic},
		{"tiny.llmap", []byte("hi"), ErrBadMagic},
		{"empty.llmap", nil, ErrTruncated},
		{"prefix.llmap", []byte(Magic + "\x01\x00"), ErrTruncated},
		{"gguf.llmap", append([]byte("GGUF\x03\x00\x00\x00"), make([]byte, 5000)...), ErrBadMagic},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, c.content, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(p)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want %v naming the path", c.name, err, c.want)
		}
	}
	// A valid file truncated on disk: mapped, then rejected (and unmapped).
	good := buildBytes(t, allKindsMeta(), allTypesTensors(t))
	p := filepath.Join(dir, "cut.llmap")
	if err := os.WriteFile(p, good[:len(good)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(p); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated file: %v, want ErrTruncated", err)
	}
}

func TestCloseInvalidatesViews(t *testing.T) {
	path := writeFile(t, t.TempDir(), "m.llmap", nil, allTypesTensors(t))
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ti := &f.Tensors[1]
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if f.Bytes(ti) != nil || f.Data() != nil {
		t.Error("views still available after Close")
	}
	if _, err := f.Float32s(ti); err == nil {
		t.Error("Float32s after Close succeeded")
	}
	if err := f.Verify(); err == nil {
		t.Error("Verify after Close succeeded")
	}
}

func TestFloat32sAlignment(t *testing.T) {
	good := buildBytes(t, nil, allTypesTensors(t))
	// A buffer whose start is 1 byte past a 64-byte boundary.
	raw := make([]byte, len(good)+64)
	base := (64 - int(uintptr(unsafe.Pointer(&raw[0]))%64)) % 64
	buf := raw[base+1 : base+1+len(good)]
	copy(buf, good)
	f, err := NewFile(buf)
	if err != nil {
		t.Fatal(err)
	}
	ti, _ := f.Tensor("blk.0.attn_norm.weight")
	if _, err := f.Float32s(ti); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "aligned") {
		t.Errorf("misaligned Float32s: %v, want an alignment error", err)
	}
	if !bytes.Equal(f.Bytes(ti), good[ti.Offset:ti.Offset+ti.Size]) {
		t.Error("Bytes of a misaligned buffer differ")
	}
	// The helper itself: length and alignment checks.
	aligned := raw[base : base+16]
	if x, err := float32s(aligned); err != nil || len(x) != 4 {
		t.Errorf("float32s(16 aligned bytes) = %d floats, %v", len(x), err)
	}
	if _, err := float32s(aligned[:6]); err == nil {
		t.Error("float32s of 6 bytes succeeded")
	}
	if _, err := float32s(aligned[2:6]); err == nil {
		t.Error("float32s at a 2-byte offset succeeded")
	}
}
