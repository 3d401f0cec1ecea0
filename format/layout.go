package format

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unicode/utf8"

	"github.com/llmap/llmap/quant"
)

// Version of the format this package reads and writes. Readers reject files
// with another major version and accept files with a higher minor version.
// Minor version 1 added the K-quant tensor types (5 to 9).
const (
	VersionMajor = 1
	VersionMinor = 1
)

// Magic is the first eight bytes of every .llmap file. The high first byte
// catches 7-bit transfers and "\r\n" catches newline conversion (as in PNG).
const Magic = "\x89LLMAP\r\n"

// Layout of the fixed header (SPEC.md, "Fixed header"). All integers are
// little-endian.
const (
	offMagic        = 0  // [8]byte Magic
	offMajor        = 8  // u16
	offMinor        = 10 // u16
	offHeaderSize   = 12 // u32: size of the fixed header; metadata starts here
	offFileSize     = 16 // u64: total file length
	offDataOffset   = 24 // u64: start of the data section, multiple of PageSize
	offMetaCount    = 32 // u32: number of metadata entries
	offTensorCount  = 36 // u32: number of tensor records
	offHeaderCRC    = 40 // u32: CRC-32C of [0, data offset) with this field zeroed
	offReserved     = 44 // u32: zero
	FixedHeaderSize = 48 // size of the fixed header in versions 1.0 and 1.1
)

// Alignment rules of tensor data (SPEC.md, "Data section").
const (
	Alignment = 64   // every tensor starts on a multiple of Alignment
	PageSize  = 4096 // the data section, and every tensor of at least PageSize bytes, start on a multiple of PageSize
)

// Limits the reader enforces, and the writer too, so that every file the
// writer produces can be read back.
const (
	MaxKeyLen          = 256     // bytes in a metadata key
	MaxNameLen         = 256     // bytes in a tensor name
	MaxStringLen       = 1 << 20 // bytes in a string value or one element of a []string
	MaxArrayLen        = 1 << 24 // elements in a []string, []f32 or []i32
	MaxMetadataEntries = 1 << 16 // metadata entries in a file
	MaxTensors         = 1 << 20 // tensor records in a file
	MaxDims            = 8       // dimensions of a tensor shape
)

// Smallest possible encodings, used to cap counts by the bytes that remain
// before anything is allocated.
const (
	minMetaEntry   = 4 + 1 + 1 + 4                 // key_len, 1-byte key, kind, value_size
	minTensorEntry = 4 + 1 + 4 + 4 + 8 + 8 + 8 + 4 // name_len, 1-byte name, type, n_dims, 1 dim, offset, size, crc
)

var le = binary.LittleEndian

// tensorAlign returns the alignment a tensor of size bytes must have.
func tensorAlign(size int64) int64 {
	if size >= PageSize {
		return PageSize
	}
	return Alignment
}

// alignUp rounds x up to a multiple of a (a power of two); x+a must not overflow.
func alignUp(x, a int64) int64 { return (x + a - 1) &^ (a - 1) }

// tensorSize validates a shape for type typ and returns its element count
// and byte size. The message of a non-nil error describes the problem
// without position, so the reader and the writer can both use it.
func tensorSize(typ quant.Type, shape []int64) (numel, size int64, err error) {
	if !typ.Valid() {
		return 0, 0, fmt.Errorf("unknown tensor type %d", uint32(typ))
	}
	if len(shape) == 0 || len(shape) > MaxDims {
		return 0, 0, fmt.Errorf("has %d dimensions, want 1 to %d", len(shape), MaxDims)
	}
	n := uint64(1)
	for i, d := range shape {
		if d <= 0 {
			return 0, 0, fmt.Errorf("dimension %d is %d, want > 0", i, d)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, 0, fmt.Errorf("shape %v overflows the element count", shape)
		}
		n = lo
	}
	if bs := int64(typ.BlockSize()); shape[len(shape)-1]%bs != 0 {
		return 0, 0, fmt.Errorf("last dimension %d is not a multiple of the %s block size %d", shape[len(shape)-1], typ, bs)
	}
	size, err = typ.RowBytes(int64(n))
	if err != nil {
		return 0, 0, err
	}
	return int64(n), size, nil
}

// checkName validates a metadata key or tensor name.
func checkName(s string, max int) error {
	switch {
	case len(s) == 0:
		return fmt.Errorf("empty name")
	case len(s) > max:
		return fmt.Errorf("name is %d bytes, limit %d", len(s), max)
	case !utf8.ValidString(s):
		return fmt.Errorf("name %q is not valid UTF-8", s)
	}
	return nil
}

// appendMetadata appends the encoding of every entry of m (SPEC.md,
// "Metadata section") after checking it against the reader's limits.
func appendMetadata(b []byte, m *Metadata) ([]byte, error) {
	if m.Len() > MaxMetadataEntries {
		return nil, fmt.Errorf("%d metadata entries, limit %d", m.Len(), MaxMetadataEntries)
	}
	for i, key := range m.keys {
		if err := checkName(key, MaxKeyLen); err != nil {
			return nil, fmt.Errorf("metadata key %q: %v", key, err)
		}
		v := m.vals[i]
		payload, err := encodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("metadata key %q: %v", key, err)
		}
		b = le.AppendUint32(b, uint32(len(key)))
		b = append(b, key...)
		b = append(b, byte(v.kind))
		b = le.AppendUint32(b, uint32(len(payload)))
		b = append(b, payload...)
	}
	return b, nil
}

// encodeValue returns the payload bytes of v.
func encodeValue(v Value) ([]byte, error) {
	arrayLen := func(n int) error {
		if n > MaxArrayLen {
			return fmt.Errorf("%s value has %d elements, limit %d", v.kind, n, MaxArrayLen)
		}
		return nil
	}
	var p []byte
	switch v.kind {
	case KindU32, KindI32, KindF32:
		p = le.AppendUint32(p, uint32(v.num))
	case KindU64:
		p = le.AppendUint64(p, v.num)
	case KindBool:
		p = append(p, byte(v.num))
	case KindString:
		if len(v.str) > MaxStringLen {
			return nil, fmt.Errorf("string value is %d bytes, limit %d", len(v.str), MaxStringLen)
		}
		p = append(p, v.str...)
	case KindStrings:
		if err := arrayLen(len(v.strs)); err != nil {
			return nil, err
		}
		p = le.AppendUint32(p, uint32(len(v.strs)))
		for i, s := range v.strs {
			if len(s) > MaxStringLen {
				return nil, fmt.Errorf("string %d is %d bytes, limit %d", i, len(s), MaxStringLen)
			}
			p = le.AppendUint32(p, uint32(len(s)))
			p = append(p, s...)
		}
	case KindF32s:
		if err := arrayLen(len(v.f32s)); err != nil {
			return nil, err
		}
		for _, x := range v.f32s {
			p = le.AppendUint32(p, math.Float32bits(x))
		}
	case KindI32s:
		if err := arrayLen(len(v.i32s)); err != nil {
			return nil, err
		}
		for _, x := range v.i32s {
			p = le.AppendUint32(p, uint32(x))
		}
	default:
		return nil, fmt.Errorf("invalid value kind %s", v.kind)
	}
	if uint64(len(p)) > math.MaxUint32 {
		return nil, fmt.Errorf("value is %d bytes, limit %d", len(p), uint32(math.MaxUint32))
	}
	return p, nil
}
