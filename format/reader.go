package format

import (
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"unicode/utf8"

	"github.com/llmap/llmap/internal/mmapfile"
	"github.com/llmap/llmap/quant"
)

// castagnoli is the CRC-32C table used for the header and tensor checksums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// TensorInfo is one record of the tensor directory.
type TensorInfo struct {
	Name   string
	Type   quant.Type
	Shape  []int64 // outermost first: a matrix with rows outputs and cols inputs is [rows, cols]
	Offset int64   // absolute byte offset of the data in the file
	Size   int64   // byte length of the data, Type.RowBytes(NumElements())
	CRC    uint32  // CRC-32C (Castagnoli) of the data
}

// NumElements returns the product of the dimensions.
func (t *TensorInfo) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed .llmap file whose tensor data stays in the underlying
// bytes (the read-only mapping when opened with Open).
type File struct {
	Meta    Metadata
	Tensors []TensorInfo // in directory order, which is also file order

	data    []byte            // the whole file
	path    string            // "" for NewFile
	index   map[string]int    // tensor name -> position in Tensors
	mapping *mmapfile.Mapping // non-nil while mapped by Open
	heap    []byte            // anonymous memory holding the file (OpenInMemory); unmapped by Close
}

// Open maps the file at path read-only and parses its header with NewFile.
// Only the header pages are read; tensor data is neither read nor checked
// (see Verify). The mapping starts on a 2 MiB boundary where the system
// allows it and is advised for 2 MiB pages (HugePages; NoHugePages undoes
// it). The mapping is released if any step fails.
func Open(path string) (*File, error) {
	m, err := mmapfile.Open(path)
	if err != nil {
		return nil, err
	}
	// 2 MiB pages from the first fault on (advice; see HugePages): the
	// header read below would otherwise bring the start of the file into
	// the page cache as small folios, which stay small while cached.
	_ = adviseHuge(m.Bytes())
	f, err := NewFile(m.Bytes())
	if err != nil {
		_ = m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.path = path
	f.mapping = m
	return f, nil
}

// Close releases the mapping. Every slice obtained from the File becomes
// invalid. Close is idempotent; it is a no-op for files made by NewFile
// except that later Bytes calls return nil.
func (f *File) Close() error {
	var err error
	if f.mapping != nil {
		err = f.mapping.Close()
		f.mapping = nil
	}
	if f.heap != nil {
		if e := freePages(f.heap); err == nil {
			err = e
		}
		f.heap = nil
	}
	f.data = nil
	return err
}

// Path returns the path given to Open ("" for NewFile).
func (f *File) Path() string { return f.path }

// Size returns the file length in bytes.
func (f *File) Size() int64 { return int64(len(f.data)) }

// Data returns the whole file (the mapping), for madvise and the like. It is
// read-only and valid until Close.
func (f *File) Data() []byte { return f.data }

// Tensor returns the directory record of the named tensor.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.index[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// Bytes returns the tensor's data without copying. It returns nil after
// Close or if t does not describe bytes inside f. The slice's capacity ends
// at the tensor's end.
func (f *File) Bytes(t *TensorInfo) []byte {
	if t.Offset < 0 || t.Size < 0 || t.Offset > int64(len(f.data)) || t.Size > int64(len(f.data))-t.Offset {
		return nil
	}
	end := t.Offset + t.Size
	return f.data[t.Offset:end:end]
}

// Float32s returns the data of an F32 tensor as []float32 without copying.
// It fails for other types and if the data is not 4-byte aligned in memory
// (possible only with a misaligned buffer passed to NewFile).
func (f *File) Float32s(t *TensorInfo) ([]float32, error) {
	if t.Type != quant.F32 {
		return nil, errorf(t.Offset, ErrInvalid, "tensor %q has type %s, not f32", t.Name, t.Type)
	}
	b := f.Bytes(t)
	if b == nil {
		return nil, errorf(t.Offset, ErrInvalid, "tensor %q: data not available (file closed?)", t.Name)
	}
	x, err := float32s(b)
	if err != nil {
		return nil, errorf(t.Offset, ErrInvalid, "tensor %q: %v", t.Name, err)
	}
	return x, nil
}

// Verify recomputes the CRC-32C of every tensor in file order and returns an
// *Error wrapping ErrChecksum for the first one that does not match. It reads
// the whole file.
func (f *File) Verify() error {
	if f.data == nil && len(f.Tensors) > 0 {
		return errors.New("format: Verify on a closed file")
	}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if got := crc32.Checksum(f.Bytes(t), castagnoli); got != t.CRC {
			return errorf(t.Offset, ErrChecksum, "tensor %q: data CRC-32C is %08x, directory records %08x", t.Name, got, t.CRC)
		}
	}
	return nil
}

// headerCRC returns the CRC-32C of the header region h = file[0:data offset]
// with the header CRC field taken as zero.
func headerCRC(h []byte) uint32 {
	var zero [4]byte
	c := crc32.Update(0, castagnoli, h[:offHeaderCRC])
	c = crc32.Update(c, castagnoli, zero[:])
	return crc32.Update(c, castagnoli, h[offHeaderCRC+4:])
}

// NewFile parses and validates a .llmap file held in data. Tensor views
// alias data, which must not change while the File is in use. Only the
// header region (up to the data offset) is read.
func NewFile(data []byte) (*File, error) {
	f := &File{data: data}
	if err := f.parse(); err != nil {
		return nil, err
	}
	return f, nil
}

// parse validates the fixed header, then decodes the metadata and the tensor
// directory. The order of checks is the one in SPEC.md.
func (f *File) parse() error {
	b := f.data
	n := uint64(len(b))

	// Fixed header.
	if m := min(len(b), len(Magic)); string(b[:m]) != Magic[:m] {
		return errorf(offMagic, ErrBadMagic, "file starts with %q, want %q", b[:m], Magic[:m])
	}
	if n < FixedHeaderSize {
		return errorf(int64(n), ErrTruncated, "file is %d bytes, the fixed header alone is %d", n, FixedHeaderSize)
	}
	major, minor := le.Uint16(b[offMajor:]), le.Uint16(b[offMinor:])
	if major != VersionMajor {
		return errorf(offMajor, ErrVersion, "file version %d.%d, this reader supports %d.x", major, minor, VersionMajor)
	}
	newer := minor > VersionMinor // a later minor version may add things this reader skips
	fileSize := le.Uint64(b[offFileSize:])
	if fileSize > n {
		return errorf(offFileSize, ErrTruncated, "header records %d bytes, file has %d", fileSize, n)
	}
	if fileSize < n {
		return errorf(int64(fileSize), ErrInvalid, "%d trailing bytes after the file size recorded in the header", n-fileSize)
	}
	headerSize := uint64(le.Uint32(b[offHeaderSize:]))
	if headerSize < FixedHeaderSize || (!newer && headerSize != FixedHeaderSize) {
		return errorf(offHeaderSize, ErrInvalid, "header size %d, want %d", headerSize, FixedHeaderSize)
	}
	dataOff := le.Uint64(b[offDataOffset:])
	if dataOff%PageSize != 0 || dataOff < headerSize || dataOff > fileSize {
		return errorf(offDataOffset, ErrInvalid, "data offset %d is not a multiple of %d between the header size %d and the file size %d", dataOff, PageSize, headerSize, fileSize)
	}
	if got, want := headerCRC(b[:dataOff]), le.Uint32(b[offHeaderCRC:]); got != want {
		return errorf(offHeaderCRC, ErrChecksum, "header CRC-32C is %08x, header records %08x", got, want)
	}

	// Counts, capped by the limits and by the bytes available for them.
	metaCount, tensorCount := uint64(le.Uint32(b[offMetaCount:])), uint64(le.Uint32(b[offTensorCount:]))
	room := dataOff - headerSize
	if metaCount > MaxMetadataEntries || metaCount > room/minMetaEntry {
		return errorf(offMetaCount, ErrInvalid, "%d metadata entries do not fit (limit %d, %d header bytes)", metaCount, MaxMetadataEntries, room)
	}
	if tensorCount > MaxTensors || tensorCount > (room-metaCount*minMetaEntry)/minTensorEntry {
		return errorf(offTensorCount, ErrInvalid, "%d tensor records do not fit (limit %d, %d header bytes)", tensorCount, MaxTensors, room)
	}

	d := &decoder{b: b[:dataOff], off: int(headerSize)}
	if err := f.parseMetadata(d, int(metaCount), newer); err != nil {
		return err
	}
	end, err := f.parseTensors(d, int(tensorCount), dataOff, fileSize)
	if err != nil {
		return err
	}
	if !newer && end != fileSize {
		return errorf(int64(end), ErrInvalid, "%d bytes after the end of the last tensor", fileSize-end)
	}
	return nil
}

// parseMetadata decodes count metadata entries. Entries of unknown kind are
// skipped in files of a newer minor version and rejected otherwise.
func (f *File) parseMetadata(d *decoder, count int, newer bool) error {
	f.Meta = Metadata{keys: make([]string, 0, count), vals: make([]Value, 0, count), index: make(map[string]int, count)}
	for i := 0; i < count; i++ {
		at := d.pos()
		key, err := d.name(MaxKeyLen, "metadata key")
		if err != nil {
			return err
		}
		if _, dup := f.Meta.index[key]; dup {
			return errorf(at, ErrInvalid, "duplicate metadata key %q", key)
		}
		kindAt := d.pos()
		kb, err := d.take(1, "metadata kind")
		if err != nil {
			return err
		}
		sizeAt := d.pos()
		size, err := d.u32("metadata value size")
		if err != nil {
			return err
		}
		payload, err := d.take(uint64(size), "metadata value")
		if err != nil {
			return err
		}
		kind := Kind(kb[0])
		if !kind.valid() {
			if newer {
				continue
			}
			return errorf(kindAt, ErrInvalid, "metadata key %q: unknown kind %d", key, kb[0])
		}
		v, err := decodeValue(kind, payload)
		if err != nil {
			return errorf(sizeAt, ErrInvalid, "metadata key %q: %v", key, err)
		}
		f.Meta.Set(key, v)
	}
	return nil
}

// decodeValue decodes the payload of a value of a known kind, copying
// everything out of the file.
func decodeValue(kind Kind, p []byte) (Value, error) {
	if want := fixedSize(kind); want > 0 && len(p) != want {
		return Value{}, fmt.Errorf("%s value is %d bytes, want %d", kind, len(p), want)
	}
	switch kind {
	case KindU32, KindI32, KindF32:
		return Value{kind: kind, num: uint64(le.Uint32(p))}, nil
	case KindU64:
		return Value{kind: kind, num: le.Uint64(p)}, nil
	case KindBool:
		if p[0] > 1 {
			return Value{}, fmt.Errorf("bool value is %d, want 0 or 1", p[0])
		}
		return Value{kind: kind, num: uint64(p[0])}, nil
	case KindString:
		if len(p) > MaxStringLen {
			return Value{}, fmt.Errorf("string value is %d bytes, limit %d", len(p), MaxStringLen)
		}
		return Value{kind: kind, str: string(p)}, nil
	case KindStrings:
		if len(p) < 4 {
			return Value{}, fmt.Errorf("[]string value is %d bytes, too short for its count", len(p))
		}
		count := uint64(le.Uint32(p))
		if count > MaxArrayLen || count > uint64(len(p)-4)/4 {
			return Value{}, fmt.Errorf("[]string count %d does not fit (limit %d, %d bytes)", count, MaxArrayLen, len(p))
		}
		all := string(p[4:]) // one copy; the elements are substrings of it
		strs := make([]string, count)
		pos := 0
		for i := range strs {
			if len(all)-pos < 4 {
				return Value{}, fmt.Errorf("[]string element %d: length runs past the value", i)
			}
			l := uint64(le.Uint32(p[4+pos:]))
			pos += 4
			if l > MaxStringLen || l > uint64(len(all)-pos) {
				return Value{}, fmt.Errorf("[]string element %d: length %d does not fit (limit %d)", i, l, MaxStringLen)
			}
			strs[i] = all[pos : pos+int(l)]
			pos += int(l)
		}
		if pos != len(all) {
			return Value{}, fmt.Errorf("[]string value has %d bytes after its last element", len(all)-pos)
		}
		return Value{kind: kind, strs: strs}, nil
	case KindF32s, KindI32s:
		if len(p)%4 != 0 || len(p)/4 > MaxArrayLen {
			return Value{}, fmt.Errorf("%s value is %d bytes, want a multiple of 4 up to %d elements", kind, len(p), MaxArrayLen)
		}
		if kind == KindF32s {
			x := make([]float32, len(p)/4)
			for i := range x {
				x[i] = math.Float32frombits(le.Uint32(p[4*i:]))
			}
			return Value{kind: kind, f32s: x}, nil
		}
		x := make([]int32, len(p)/4)
		for i := range x {
			x[i] = int32(le.Uint32(p[4*i:]))
		}
		return Value{kind: kind, i32s: x}, nil
	}
	return Value{}, fmt.Errorf("unknown kind %d", kind)
}

// fixedSize returns the payload size of a fixed-size kind, or 0.
func fixedSize(k Kind) int {
	switch k {
	case KindU32, KindI32, KindF32:
		return 4
	case KindU64:
		return 8
	case KindBool:
		return 1
	}
	return 0
}

// parseTensors decodes count tensor records and checks their placement. It
// returns the end of the last tensor (dataOff if there are none).
func (f *File) parseTensors(d *decoder, count int, dataOff, fileSize uint64) (end uint64, err error) {
	f.Tensors = make([]TensorInfo, 0, count)
	f.index = make(map[string]int, count)
	end = dataOff
	for i := 0; i < count; i++ {
		at := d.pos()
		name, err := d.name(MaxNameLen, "tensor name")
		if err != nil {
			return 0, err
		}
		if _, dup := f.index[name]; dup {
			return 0, errorf(at, ErrInvalid, "duplicate tensor name %q", name)
		}
		typeAt := d.pos()
		typ, err := d.u32("tensor type")
		if err != nil {
			return 0, err
		}
		if !quant.Type(typ).Valid() {
			return 0, errorf(typeAt, ErrInvalid, "tensor %q: unknown type %d", name, typ)
		}
		dimsAt := d.pos()
		nDims, err := d.u32("tensor dimension count")
		if err != nil {
			return 0, err
		}
		if nDims == 0 || nDims > MaxDims {
			return 0, errorf(dimsAt, ErrInvalid, "tensor %q: %d dimensions, want 1 to %d", name, nDims, MaxDims)
		}
		shape := make([]int64, nDims)
		for j := range shape {
			dimAt := d.pos()
			dim, err := d.u64("tensor dimension")
			if err != nil {
				return 0, err
			}
			if dim == 0 || dim > math.MaxInt64 {
				return 0, errorf(dimAt, ErrInvalid, "tensor %q: dimension %d is %d", name, j, dim)
			}
			shape[j] = int64(dim)
		}
		_, size, err := tensorSize(quant.Type(typ), shape)
		if err != nil {
			return 0, errorf(dimsAt, ErrInvalid, "tensor %q: %v", name, err)
		}
		offAt := d.pos()
		off, err := d.u64("tensor offset")
		if err != nil {
			return 0, err
		}
		sizeAt := d.pos()
		gotSize, err := d.u64("tensor size")
		if err != nil {
			return 0, err
		}
		crc, err := d.u32("tensor CRC")
		if err != nil {
			return 0, err
		}
		if gotSize != uint64(size) {
			return 0, errorf(sizeAt, ErrInvalid, "tensor %q: size %d, want %d for %s %v", name, gotSize, size, quant.Type(typ), shape)
		}
		if a := uint64(tensorAlign(size)); off%a != 0 {
			return 0, errorf(offAt, ErrInvalid, "tensor %q: offset not aligned to %d", name, a)
		}
		if off < end {
			what := "the data section"
			if len(f.Tensors) > 0 {
				what = fmt.Sprintf("the end of tensor %q", f.Tensors[len(f.Tensors)-1].Name)
			}
			return 0, errorf(offAt, ErrInvalid, "tensor %q: offset %d is before %s at %d (tensors must be stored in directory order without overlap)", name, off, what, end)
		}
		if off > fileSize || uint64(size) > fileSize-off {
			return 0, errorf(offAt, ErrInvalid, "tensor %q: data [%d, +%d) extends past the end of the file at %d", name, off, size, fileSize)
		}
		end = off + uint64(size)
		f.index[name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, TensorInfo{Name: name, Type: quant.Type(typ), Shape: shape, Offset: int64(off), Size: size, CRC: crc})
	}
	return end, nil
}

// decoder reads little-endian fields from the header region. Running past
// its end is an ErrInvalid: the fixed header already matched the file size,
// so the records disagree with the data offset.
type decoder struct {
	b   []byte // the header region, file[0:data offset]
	off int    // next byte to read
}

func (d *decoder) pos() int64 { return int64(d.off) }

// take returns the next n bytes.
func (d *decoder) take(n uint64, what string) ([]byte, error) {
	if rem := uint64(len(d.b) - d.off); n > rem {
		return nil, errorf(d.pos(), ErrInvalid, "%s needs %d bytes, only %d remain before the data section", what, n, rem)
	}
	p := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return p, nil
}

func (d *decoder) u32(what string) (uint32, error) {
	p, err := d.take(4, what)
	if err != nil {
		return 0, err
	}
	return le.Uint32(p), nil
}

func (d *decoder) u64(what string) (uint64, error) {
	p, err := d.take(8, what)
	if err != nil {
		return 0, err
	}
	return le.Uint64(p), nil
}

// name reads a u32-length-prefixed name of 1 to max bytes of valid UTF-8.
func (d *decoder) name(max int, what string) (string, error) {
	at := d.pos()
	n, err := d.u32(what + " length")
	if err != nil {
		return "", err
	}
	if n == 0 || n > uint32(max) {
		return "", errorf(at, ErrInvalid, "%s length %d, want 1 to %d", what, n, max)
	}
	p, err := d.take(uint64(n), what)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(p) {
		return "", errorf(at, ErrInvalid, "%s %q is not valid UTF-8", what, p)
	}
	return string(p), nil
}
