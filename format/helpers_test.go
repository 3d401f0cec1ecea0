package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmap/llmap/quant"
)

// testTensor is a tensor to write in a test, with its data.
type testTensor struct {
	spec TensorSpec
	data []byte
}

// makeTensor returns a tensor with deterministic pseudo-random data: real
// float32 values for F32, arbitrary bytes for the other types (the format
// does not interpret them).
func makeTensor(t testing.TB, rng *rand.Rand, name string, typ quant.Type, shape ...int64) testTensor {
	t.Helper()
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	size, err := typ.RowBytes(n)
	if err != nil {
		t.Fatalf("RowBytes(%s, %d): %v", typ, n, err)
	}
	data := make([]byte, size)
	if typ == quant.F32 {
		for i := int64(0); i < n; i++ {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(rng.NormFloat64())))
		}
	} else {
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
	}
	return testTensor{TensorSpec{Name: name, Type: typ, Shape: shape}, data}
}

// allKindsMeta returns metadata with every kind, including empty and
// non-UTF-8 strings and empty arrays.
func allKindsMeta() *Metadata {
	var m Metadata
	m.Set(KeyArchitecture, String("llama"))
	m.Set(KeyName, String("test model"))
	m.Set(KeySource, String(""))
	m.Set(KeyDim, U32(4_000_000_000))
	m.Set(KeyTokenizerBOSID, I32(-1))
	m.Set("test.u64", U64(math.MaxUint64-1))
	m.Set(KeyNormEps, F32(1e-5))
	m.Set(KeySharedClassifier, Bool(true))
	m.Set(KeyTokenizerAddBOS, Bool(false))
	m.Set(KeyTokenizerTokens, Strings([]string{"<unk>", "", "\xff\xfe", "▁hello", "<0x0A>"}))
	m.Set("test.empty_strings", Strings(nil))
	m.Set(KeyTokenizerScores, F32s([]float32{0, -1.5, float32(math.Inf(1)), 3e38, float32(math.Copysign(0, -1))}))
	m.Set("test.empty_f32s", F32s([]float32{}))
	m.Set(KeyTokenizerTokenTypes, I32s([]int32{TokenTypeNormal, TokenTypeByte, math.MinInt32, math.MaxInt32}))
	m.Set("test.unknown_key", I32s(nil))
	return &m
}

// allTypesTensors returns small (64-byte aligned) and large (page aligned)
// tensors of every type and 1 to 3 dimensions.
func allTypesTensors(t testing.TB) []testTensor {
	rng := rand.New(rand.NewPCG(1, 2))
	return []testTensor{
		makeTensor(t, rng, "token_embd.weight", quant.Q8_0, 40, 64), // 2720 bytes
		makeTensor(t, rng, "blk.0.attn_norm.weight", quant.F32, 7),  // 28 bytes
		makeTensor(t, rng, "blk.0.attn_q.weight", quant.Q4_0, 16, 256),
		makeTensor(t, rng, "blk.0.attn_k.weight", quant.F16, 3, 5),
		makeTensor(t, rng, "blk.0.attn_v.weight", quant.BF16, 2, 3, 1024), // 12288 bytes
		makeTensor(t, rng, "blk.0.ffn_up.weight", quant.F32, 33, 31),      // 4092 bytes: just under a page
		makeTensor(t, rng, "blk.0.ffn_down.weight", quant.F32, 1024),      // exactly a page
		makeTensor(t, rng, "output_norm.weight", quant.F16, 1),
	}
}

// writeFile writes meta and tensors to dir/name with Writer and returns the path.
func writeFile(t testing.TB, dir, name string, meta *Metadata, tensors []testTensor) string {
	t.Helper()
	path := filepath.Join(dir, name)
	specs := make([]TensorSpec, len(tensors))
	for i, tt := range tensors {
		specs[i] = tt.spec
	}
	w, err := Create(path, meta, specs)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	defer w.Abort()
	for _, tt := range tensors {
		if err := w.WriteTensor(tt.spec.Name, bytes.NewReader(tt.data)); err != nil {
			t.Fatalf("WriteTensor: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return path
}

// buildBytes writes a file and returns its contents.
func buildBytes(t testing.TB, meta *Metadata, tensors []testTensor) []byte {
	t.Helper()
	b, err := os.ReadFile(writeFile(t, t.TempDir(), "m.llmap", meta, tensors))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fields records where each field of a file is, found by walking the bytes
// as SPEC.md describes, independently of the package's parser.
type fields struct {
	dataOff, fileSize           int
	metaKey, metaKind, metaSize []int // per entry: key_len, kind, value_size
	metaPayload                 []int
	tName, tType, tNDims        []int // per tensor record
	tDims                       [][]int
	tOffset, tSize, tCRC        []int
	tOffVal, tSizeVal           []int64
	tCRCVal                     []uint32
}

func walk(t testing.TB, b []byte) fields {
	t.Helper()
	le := binary.LittleEndian
	var f fields
	f.fileSize = int(le.Uint64(b[16:]))
	f.dataOff = int(le.Uint64(b[24:]))
	pos := int(le.Uint32(b[12:]))
	u32 := func() int { v := int(le.Uint32(b[pos:])); pos += 4; return v }
	for range le.Uint32(b[32:]) {
		f.metaKey = append(f.metaKey, pos)
		pos += u32()
		f.metaKind = append(f.metaKind, pos)
		pos++
		f.metaSize = append(f.metaSize, pos)
		n := u32()
		f.metaPayload = append(f.metaPayload, pos)
		pos += n
	}
	for range le.Uint32(b[36:]) {
		f.tName = append(f.tName, pos)
		pos += u32()
		f.tType = append(f.tType, pos)
		pos += 4
		f.tNDims = append(f.tNDims, pos)
		var dims []int
		for range u32() {
			dims = append(dims, pos)
			pos += 8
		}
		f.tDims = append(f.tDims, dims)
		f.tOffset = append(f.tOffset, pos)
		f.tOffVal = append(f.tOffVal, int64(le.Uint64(b[pos:])))
		pos += 8
		f.tSize = append(f.tSize, pos)
		f.tSizeVal = append(f.tSizeVal, int64(le.Uint64(b[pos:])))
		pos += 8
		f.tCRC = append(f.tCRC, pos)
		f.tCRCVal = append(f.tCRCVal, le.Uint32(b[pos:]))
		pos += 4
	}
	if pos > f.dataOff {
		t.Fatalf("walk: directory ends at %d, past data offset %d", pos, f.dataOff)
	}
	return f
}

// fixHeaderCRC recomputes header_crc in place, as a writer would, if the
// fixed header is present and data_offset lies inside b. It returns false
// if it could not.
func fixHeaderCRC(b []byte) bool {
	if len(b) < FixedHeaderSize {
		return false
	}
	dataOff := binary.LittleEndian.Uint64(b[24:])
	if dataOff < FixedHeaderSize || dataOff > uint64(len(b)) {
		return false
	}
	h := append([]byte(nil), b[:dataOff]...)
	binary.LittleEndian.PutUint32(h[40:], 0)
	binary.LittleEndian.PutUint32(b[40:], crc32.Checksum(h, crc32.MakeTable(crc32.Castagnoli)))
	return true
}

// sentinels lists the errors every *Error must wrap one of.
var sentinels = []error{ErrBadMagic, ErrVersion, ErrTruncated, ErrChecksum, ErrInvalid}

// checkError fails unless err is an *Error wrapping exactly one sentinel
// with an offset inside [0, size].
func checkError(t testing.TB, err error, size int) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %v wraps %d sentinels, want 1", err, n)
	}
	if e.Off < 0 || e.Off > int64(size) {
		t.Fatalf("error %v: offset %d outside the file of %d bytes", err, e.Off, size)
	}
	return e
}
