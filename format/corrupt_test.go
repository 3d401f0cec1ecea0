package format

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/llmap/llmap/quant"
)

// corruptFixture is a small valid file whose fields the corruption cases
// patch: metadata of several kinds, and four tensors of which t2 is page
// sized and t3 is last.
func corruptFixture(t testing.TB) []byte {
	var m Metadata
	m.Set("a.name", String("fixture"))
	m.Set("a.flag", Bool(true))
	m.Set("a.count", U32(3))
	m.Set("a.list", Strings([]string{"ab", "c"}))
	m.Set("a.x", I32(1))
	m.Set("a.y", I32(2))
	rng := rand.New(rand.NewPCG(3, 4))
	return buildBytes(t, &m, []testTensor{
		makeTensor(t, rng, "t0", quant.F32, 16),     // 64 bytes
		makeTensor(t, rng, "t1", quant.Q8_0, 4, 64), // 272 bytes
		makeTensor(t, rng, "t2", quant.F32, 32, 32), // 4096 bytes, page aligned
		makeTensor(t, rng, "t3", quant.F32, 8),      // 32 bytes, last
	})
}

// Metadata entry and tensor indices in corruptFixture.
const (
	mName, mFlag, mCount, mList, mX, mY = 0, 1, 2, 3, 4, 5
)

func TestCorruption(t *testing.T) {
	good := corruptFixture(t)
	fl := walk(t, good)
	le := binary.LittleEndian
	put32 := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { le.PutUint32(b[off:], v); return b }
	}
	put64 := func(off int, v uint64) func([]byte) []byte {
		return func(b []byte) []byte { le.PutUint64(b[off:], v); return b }
	}
	size := uint64(len(good))

	cases := []struct {
		name    string
		mutate  func([]byte) []byte
		nofix   bool // do not recompute the header CRC after mutating
		want    error
		off     int // expected Error.Off, -1 to skip
		message string
	}{
		{"magic", func(b []byte) []byte { b[3] = 'X'; return b }, false, ErrBadMagic, 0, "want"},
		{"major version", func(b []byte) []byte { le.PutUint16(b[8:], 2); return b }, false, ErrVersion, 8, "file version 2."},
		{"major version 0", func(b []byte) []byte { le.PutUint16(b[8:], 0); return b }, false, ErrVersion, 8, "file version 0."},
		{"fixed header cut", func(b []byte) []byte { return b[:47] }, true, ErrTruncated, 47, "fixed header"},
		{"file_size larger than file", put64(16, size+1), false, ErrTruncated, 16, "header records"},
		{"file cut short", func(b []byte) []byte { return b[:len(b)-1] }, true, ErrTruncated, 16, "header records"},
		{"file_size smaller than file", put64(16, size-1), false, ErrInvalid, int(size - 1), "trailing bytes"},
		{"trailing garbage", func(b []byte) []byte { return append(b, 0) }, false, ErrInvalid, int(size), "trailing bytes"},
		{"header_size too small", put32(12, 40), false, ErrInvalid, 12, "header size 40"},
		{"header_size too large", put32(12, 56), false, ErrInvalid, 12, "header size 56"},
		{"data_offset unaligned", put64(24, 4096+64), false, ErrInvalid, 24, "data offset"},
		{"data_offset zero", put64(24, 0), false, ErrInvalid, 24, "data offset"},
		{"data_offset past end", put64(24, 1<<40), false, ErrInvalid, 24, "data offset"},
		{"header crc", func(b []byte) []byte { b[41] ^= 1; return b }, true, ErrChecksum, 40, "header CRC"},
		{"metadata byte flipped", func(b []byte) []byte { b[fl.metaPayload[mCount]] ^= 1; return b }, true, ErrChecksum, 40, "header CRC"},
		{"tensor crc flipped", func(b []byte) []byte { b[fl.tCRC[2]] ^= 1; return b }, true, ErrChecksum, 40, "header CRC"},
		{"padding flipped", func(b []byte) []byte { b[fl.dataOff-1] ^= 1; return b }, true, ErrChecksum, 40, "header CRC"},
		{"metadata count 2^31", put32(32, 1<<31), false, ErrInvalid, 32, "metadata entries"},
		{"metadata count beyond bytes", put32(32, 60000), false, ErrInvalid, 32, "metadata entries"},
		{"tensor count 2^31", put32(36, 1<<31), false, ErrInvalid, 36, "tensor records"},
		{"tensor count beyond bytes", put32(36, 4000), false, ErrInvalid, 36, "tensor records"},
		{"key length 0", put32(fl.metaKey[mFlag], 0), false, ErrInvalid, fl.metaKey[mFlag], "metadata key length 0"},
		{"key length huge", put32(fl.metaKey[mFlag], 1<<31), false, ErrInvalid, fl.metaKey[mFlag], "metadata key length"},
		{"key not UTF-8", func(b []byte) []byte { b[fl.metaKey[mFlag]+4] = 0xff; return b }, false, ErrInvalid, fl.metaKey[mFlag], "UTF-8"},
		{"duplicate key", func(b []byte) []byte { b[fl.metaKey[mY]+4+2] = 'x'; return b }, false, ErrInvalid, fl.metaKey[mY], `duplicate metadata key "a.x"`},
		{"kind 0", func(b []byte) []byte { b[fl.metaKind[mCount]] = 0; return b }, false, ErrInvalid, fl.metaKind[mCount], "unknown kind 0"},
		{"kind 200", func(b []byte) []byte { b[fl.metaKind[mCount]] = 200; return b }, false, ErrInvalid, fl.metaKind[mCount], "unknown kind 200"},
		{"u32 value size 3", put32(fl.metaSize[mCount], 3), false, ErrInvalid, fl.metaSize[mCount], "u32 value is 3 bytes, want 4"},
		{"kind mismatch: u32 as u64", func(b []byte) []byte { b[fl.metaKind[mCount]] = byte(KindU64); return b }, false, ErrInvalid, fl.metaSize[mCount], "u64 value is 4 bytes"},
		{"bool 2", func(b []byte) []byte { b[fl.metaPayload[mFlag]] = 2; return b }, false, ErrInvalid, fl.metaSize[mFlag], "bool value is 2"},
		{"value size past header", put32(fl.metaSize[mName], 1<<31), false, ErrInvalid, fl.metaSize[mName] + 4, "before the data section"},
		{"strings count huge", put32(fl.metaPayload[mList], 1<<30), false, ErrInvalid, fl.metaSize[mList], "count"},
		{"strings count too small", put32(fl.metaPayload[mList], 1), false, ErrInvalid, fl.metaSize[mList], "after its last element"},
		{"strings element length", put32(fl.metaPayload[mList]+4, 1<<30), false, ErrInvalid, fl.metaSize[mList], "element 0"},
		{"strings payload short", put32(fl.metaSize[mList], 3), false, ErrInvalid, fl.metaSize[mList], "too short"},
		{"f32s payload not a multiple of 4", func(b []byte) []byte {
			b[fl.metaKind[mName]] = byte(KindF32s) // "fixture" is 7 bytes
			return b
		}, false, ErrInvalid, fl.metaSize[mName], "multiple of 4"},
		{"tensor name length 0", put32(fl.tName[1], 0), false, ErrInvalid, fl.tName[1], "tensor name length 0"},
		{"tensor name not UTF-8", func(b []byte) []byte { b[fl.tName[1]+4] = 0xc0; return b }, false, ErrInvalid, fl.tName[1], "UTF-8"},
		{"duplicate tensor name", func(b []byte) []byte { b[fl.tName[1]+5] = '0'; return b }, false, ErrInvalid, fl.tName[1], `duplicate tensor name "t0"`},
		{"unknown type", put32(fl.tType[1], 99), false, ErrInvalid, fl.tType[1], `tensor "t1": unknown type 99`},
		{"zero dimensions", put32(fl.tNDims[0], 0), false, ErrInvalid, fl.tNDims[0], "0 dimensions"},
		{"nine dimensions", put32(fl.tNDims[0], 9), false, ErrInvalid, fl.tNDims[0], "9 dimensions"},
		{"dimension 0", put64(fl.tDims[2][1], 0), false, ErrInvalid, fl.tDims[2][1], "dimension 1 is 0"},
		{"dimension 2^63", put64(fl.tDims[2][0], 1<<63), false, ErrInvalid, fl.tDims[2][0], "dimension 0 is"},
		{"element count overflow", func(b []byte) []byte {
			le.PutUint64(b[fl.tDims[2][0]:], 1<<40)
			le.PutUint64(b[fl.tDims[2][1]:], 1<<40)
			return b
		}, false, ErrInvalid, fl.tNDims[2], "overflows"},
		{"size overflow", put64(fl.tDims[3][0], 1<<61), false, ErrInvalid, fl.tNDims[3], "overflow"},
		{"last dimension not a multiple of the block size", func(b []byte) []byte {
			le.PutUint64(b[fl.tDims[1][0]:], 16) // [4,64] -> [16,16]: same element count
			le.PutUint64(b[fl.tDims[1][1]:], 16)
			return b
		}, false, ErrInvalid, fl.tNDims[1], "block size 32"},
		{"size mismatch", put64(fl.tSize[0], 68), false, ErrInvalid, fl.tSize[0], "size 68, want 64"},
		{"offset not aligned to 64", put64(fl.tOffset[1], uint64(fl.tOffVal[1]+4)), false, ErrInvalid, fl.tOffset[1], `tensor "t1": offset not aligned to 64`},
		{"page-sized tensor not page aligned", put64(fl.tOffset[2], uint64(fl.tOffVal[2]+64)), false, ErrInvalid, fl.tOffset[2], `tensor "t2": offset not aligned to 4096`},
		{"offset before data section", put64(fl.tOffset[0], uint64(fl.dataOff-64)), false, ErrInvalid, fl.tOffset[0], "before the data section"},
		{"overlapping tensors", put64(fl.tOffset[1], uint64(fl.tOffVal[0])), false, ErrInvalid, fl.tOffset[1], `before the end of tensor "t0"`},
		{"tensor past end of file", put64(fl.tOffset[3], (size+63)&^63), false, ErrInvalid, fl.tOffset[3], "past the end of the file"},
		{"tensor offset 2^64-64", put64(fl.tOffset[3], 1<<64-64), false, ErrInvalid, fl.tOffset[3], "past the end of the file"},
		{"bytes after the last tensor", func(b []byte) []byte {
			b = append(b, make([]byte, 64)...)
			le.PutUint64(b[16:], uint64(len(b)))
			return b
		}, false, ErrInvalid, int(size), "64 bytes after the end of the last tensor"},
		{"one more tensor record than written", put32(36, 5), false, ErrInvalid, -1, "tensor name length 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.mutate(append([]byte(nil), good...))
			if !c.nofix {
				fixHeaderCRC(b)
			}
			start := time.Now()
			_, err := NewFile(b)
			if el := time.Since(start); el > 100*time.Millisecond {
				t.Errorf("NewFile took %v", el)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			e := checkError(t, err, len(b))
			if c.off >= 0 && e.Off != int64(c.off) {
				t.Errorf("err = %v, want offset %d", err, c.off)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Errorf("err = %v, want it to mention %q", err, c.message)
			}
		})
	}
}

func TestTruncatedEverywhere(t *testing.T) {
	good := corruptFixture(t)
	for n := 0; n < len(good); n++ {
		_, err := NewFile(good[:n])
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("file cut to %d bytes: %v, want ErrTruncated", n, err)
		}
		checkError(t, err, n)
	}
}

func TestNewerMinorVersion(t *testing.T) {
	good := corruptFixture(t)
	fl := walk(t, good)
	le := binary.LittleEndian
	b := append([]byte(nil), good...)
	le.PutUint16(b[10:], VersionMinor+1)
	b[fl.metaKind[mCount]] = 42 // a kind from the future: skipped
	b = append(b, make([]byte, 100)...)
	le.PutUint64(b[16:], uint64(len(b))) // data after the last tensor: ignored
	fixHeaderCRC(b)
	f, err := NewFile(b)
	if err != nil {
		t.Fatalf("newer minor version: %v", err)
	}
	if _, ok := f.Meta.Get("a.count"); ok {
		t.Error("entry of unknown kind was kept")
	}
	if v, err := f.Meta.I32("a.y"); err != nil || v != 2 {
		t.Errorf("a.y = %d, %v after skipping an entry", v, err)
	}
	if len(f.Tensors) != 4 || f.Verify() != nil {
		t.Errorf("%d tensors, Verify %v", len(f.Tensors), f.Verify())
	}
}

func TestHugeCountsFailFast(t *testing.T) {
	// A 100-byte file claiming 2^31 metadata entries and tensors.
	b := make([]byte, 100)
	copy(b, Magic)
	le := binary.LittleEndian
	le.PutUint16(b[8:], VersionMajor)
	le.PutUint32(b[12:], FixedHeaderSize)
	le.PutUint64(b[16:], 100)
	le.PutUint32(b[32:], 1<<31)
	le.PutUint32(b[36:], 1<<31)
	for _, dataOff := range []uint64{0, 64, 4096} {
		le.PutUint64(b[24:], dataOff)
		if _, err := NewFile(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("data offset %d: %v, want ErrInvalid", dataOff, err)
		}
	}
	// A full page of header claiming 2^31 entries: rejected by the count
	// caps, without allocating for them.
	b = append(b, make([]byte, PageSize-100)...)
	le.PutUint64(b[16:], PageSize)
	le.PutUint64(b[24:], PageSize)
	le.PutUint32(b[36:], 0)
	fixHeaderCRC(b)
	var err error
	allocs := testing.AllocsPerRun(10, func() { _, err = NewFile(b) })
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("2^31 entries: %v, want ErrInvalid", err)
	}
	if allocs > 10 {
		t.Errorf("rejecting a huge count took %v allocations", allocs)
	}
	// 400 claimed entries fit the caps; the decoder runs out of header
	// bytes at the first one (all zero: key length 0).
	le.PutUint32(b[32:], 400)
	fixHeaderCRC(b)
	if _, err := NewFile(b); !errors.Is(err, ErrInvalid) {
		t.Fatalf("400 entries: %v, want ErrInvalid", err)
	}
}
