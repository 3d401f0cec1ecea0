package gguf

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/llmap/llmap/quant"
)

const (
	// Magic is the first four bytes of every GGUF file.
	Magic = "GGUF"
	// DefaultAlignment is the data alignment when general.alignment is absent.
	DefaultAlignment = 32
	// AlignmentKey is the metadata key that overrides the data alignment.
	AlignmentKey = "general.alignment"
	// MaxDims is the largest number of dimensions a tensor may have.
	MaxDims = 4
	// maxArrayDepth bounds the nesting of arrays of arrays.
	maxArrayDepth = 8
	// maxElements bounds the element count of one tensor (as ggml, below 2^63).
	maxElements = 1 << 62
)

// File is a parsed GGUF file.
type File struct {
	Version    uint32       // 2 or 3
	KV         []KV         // metadata in file order
	Tensors    []TensorInfo // tensor infos in file order
	Alignment  uint64       // data alignment: general.alignment or DefaultAlignment
	DataOffset int64        // start of the tensor data, from the start of the file (may lie past the end of a file without tensors)

	data     []byte         // the whole file
	kvIndex  map[string]int // key -> index in KV
	tensorIx map[string]int // name -> index in Tensors
	unmap    func() error   // releases the mapping made by Open; nil otherwise
}

// TensorInfo describes one tensor of a GGUF file.
type TensorInfo struct {
	Name     string
	GGMLType uint32   // ggml's type number (see GGMLTypeName)
	Dims     []uint64 // ne[], innermost (contiguous) first, as stored: Dims[0] is the row length
	Offset   uint64   // of the data, relative to File.DataOffset
}

// Type returns the llmap element type with the same byte layout as the
// tensor's ggml type: f32, f16, bf16, q8_0, q4_0 and the K-quants q2_k to
// q6_k. Other types yield an error wrapping ErrUnsupported that names the
// tensor, the ggml type and the types llmap supports.
func (t TensorInfo) Type() (quant.Type, error) {
	if q, ok := toQuant[t.GGMLType]; ok {
		return q, nil
	}
	return 0, fmt.Errorf("gguf: tensor %q has ggml type %s, which llmap cannot import (it reads %s): %w",
		t.Name, GGMLTypeName(t.GGMLType), supportedNames(), ErrUnsupported)
}

// TypeName returns ggml's name of the tensor's type ("f16", "q4_k").
func (t TensorInfo) TypeName() string { return GGMLTypeName(t.GGMLType) }

// Shape returns the dimensions outermost first, the row-major order used by
// llmap and NumPy: a matrix with rows of n elements and m rows is [m, n].
func (t TensorInfo) Shape() []int64 {
	s := make([]int64, len(t.Dims))
	for i, d := range t.Dims {
		s[len(s)-1-i] = int64(d)
	}
	return s
}

// NumElements returns the product of the dimensions, or -1 if a dimension is
// zero or the product exceeds 2^62. Tensors of a parsed File never give -1.
func (t TensorInfo) NumElements() int64 {
	n := uint64(1)
	for _, d := range t.Dims {
		if d == 0 {
			return -1
		}
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > maxElements {
			return -1
		}
		n = lo
	}
	return int64(n)
}

// Size returns the number of bytes of the tensor's data, or -1 if the type is
// unknown, the row length is not a whole number of blocks or the size
// overflows. Tensors of a parsed File never give -1.
func (t TensorInfo) Size() int64 {
	size, _ := t.size()
	return size
}

// size is Size with the reason for -1.
func (t TensorInfo) size() (int64, string) {
	info, ok := ggmlTypes[t.GGMLType]
	if !ok {
		return -1, fmt.Sprintf("unknown ggml type %d", t.GGMLType)
	}
	if len(t.Dims) > MaxDims {
		return -1, fmt.Sprintf("%d dimensions, more than %d", len(t.Dims), MaxDims)
	}
	n := t.NumElements()
	if n < 0 {
		return -1, fmt.Sprintf("dimensions %v are zero or hold more than 2^62 elements", t.Dims)
	}
	row := uint64(1)
	if len(t.Dims) > 0 {
		row = t.Dims[0]
	}
	if row%info.blockSize != 0 {
		return -1, fmt.Sprintf("row length %d is not a multiple of the %s block size %d", row, info.name, info.blockSize)
	}
	hi, lo := bits.Mul64(uint64(n)/info.blockSize, info.blockBytes)
	if hi != 0 || lo > math.MaxInt64 {
		return -1, fmt.Sprintf("%d elements of %s overflow the size limit", n, info.name)
	}
	return int64(lo), ""
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tensorIx[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// TensorData returns the bytes of t's data, a view into the file without a
// copy. Valid only until Close; never write to it.
func (f *File) TensorData(t *TensorInfo) ([]byte, error) {
	if f.data == nil {
		return nil, fmt.Errorf("gguf: tensor %q: file is closed", t.Name)
	}
	size, why := t.size()
	if size < 0 {
		return nil, &Error{Off: f.DataOffset, Msg: fmt.Sprintf("tensor %q: %s", t.Name, why), Err: ErrInvalid}
	}
	start, end, ok := f.dataRange(t.Offset, size)
	if !ok {
		return nil, errorf(f.DataOffset, ErrTruncated, "tensor %q: data at offset %d, %d bytes, lies outside the file (%d bytes)",
			t.Name, t.Offset, size, len(f.data))
	}
	return f.data[start:end:end], nil
}

// dataRange returns the absolute byte range of size bytes at data offset off,
// and whether it lies inside the file.
func (f *File) dataRange(off uint64, size int64) (start, end int64, ok bool) {
	n := uint64(len(f.data))
	base := uint64(f.DataOffset)
	if base > n || off > n-base || uint64(size) > n-base-off {
		return 0, 0, false
	}
	start = int64(base + off)
	return start, start + size, true
}

// Close releases the mapping made by Open. Slices from TensorData become
// invalid. Close on a File from NewFile only drops the reference to the data.
func (f *File) Close() error {
	f.data = nil
	if f.unmap == nil {
		return nil
	}
	u := f.unmap
	f.unmap = nil
	return u()
}

// NewFile parses a GGUF file held in data. The File keeps data and returns
// views into it from TensorData.
func NewFile(data []byte) (*File, error) {
	r := &reader{data: data}
	f := &File{data: data}

	if len(data) < 4 {
		return nil, errorf(0, ErrTruncated, "file of %d bytes is too short for the magic", len(data))
	}
	if string(data[:4]) != Magic {
		return nil, errorf(0, ErrInvalid, "bad magic %q, want %q", data[:4], Magic)
	}
	r.off = 4
	off := r.off
	version, err := r.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
	case version == 1:
		return nil, errorf(off, ErrUnsupported, "GGUF version 1 is not supported (want 2 or 3)")
	case version&0xFFFF == 0 && bits.ReverseBytes32(version) <= 3:
		return nil, errorf(off, ErrUnsupported, "big-endian GGUF (version %d byte-swapped) is not supported", bits.ReverseBytes32(version))
	default:
		return nil, errorf(off, ErrUnsupported, "GGUF version %d is not supported (want 2 or 3)", version)
	}
	f.Version = version

	off = r.off
	nTensors, err := r.u64("tensor count")
	if err != nil {
		return nil, err
	}
	nKV, err := r.u64("metadata count")
	if err != nil {
		return nil, err
	}
	// Each kv takes at least 13 bytes (key length, type, a one-byte value)
	// and each tensor info at least 24 (name length, n_dims, type, offset).
	if nKV > r.remaining()/13 {
		return nil, errorf(off+8, ErrTruncated, "metadata count %d needs at least %d bytes, %d remain", nKV, satMul(nKV, 13), r.remaining())
	}
	if nTensors > r.remaining()/24 {
		return nil, errorf(off, ErrTruncated, "tensor count %d needs at least %d bytes, %d remain", nTensors, satMul(nTensors, 24), r.remaining())
	}

	f.KV = make([]KV, 0, nKV)
	f.kvIndex = make(map[string]int, nKV)
	var alignOff int64 // where general.alignment was read
	for i := uint64(0); i < nKV; i++ {
		kvOff := r.off
		key, err := r.str(fmt.Sprintf("key of metadata entry %d", i))
		if err != nil {
			return nil, err
		}
		if _, dup := f.kvIndex[key]; dup {
			return nil, errorf(kvOff, ErrInvalid, "duplicate metadata key %q", key)
		}
		typOff := r.off
		typ, err := r.u32(fmt.Sprintf("type of %q", key))
		if err != nil {
			return nil, err
		}
		v, err := r.value(ValueType(typ), typOff, key, 0)
		if err != nil {
			return nil, err
		}
		if key == AlignmentKey {
			alignOff = kvOff
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Value: v})
	}

	f.Alignment = DefaultAlignment
	if v, ok := f.Lookup(AlignmentKey); ok {
		a, ok := v.AsUint()
		if !ok || a == 0 || a > math.MaxUint32 || a&(a-1) != 0 {
			return nil, errorf(alignOff, ErrInvalid, "%s = %v is not a power of two that fits in a uint32", AlignmentKey, v)
		}
		f.Alignment = a
	}

	f.Tensors = make([]TensorInfo, 0, nTensors)
	f.tensorIx = make(map[string]int, nTensors)
	infoOffs := make([]int64, 0, nTensors)
	for i := uint64(0); i < nTensors; i++ {
		tOff := r.off
		t, err := r.tensorInfo(i)
		if err != nil {
			return nil, err
		}
		if _, dup := f.tensorIx[t.Name]; dup {
			return nil, errorf(tOff, ErrInvalid, "duplicate tensor name %q", t.Name)
		}
		if t.Offset%f.Alignment != 0 {
			return nil, errorf(tOff, ErrInvalid, "tensor %q: data offset %d is not a multiple of the alignment %d", t.Name, t.Offset, f.Alignment)
		}
		f.tensorIx[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
		infoOffs = append(infoOffs, tOff)
	}

	// The data section starts at the next multiple of the alignment. It may
	// lie beyond the end of a file without tensors (ggml writes no padding
	// then).
	f.DataOffset = int64((uint64(r.off) + f.Alignment - 1) / f.Alignment * f.Alignment)

	// Every tensor's data must lie inside the file, and no two may overlap.
	type span struct {
		start, end int64
		i          int
	}
	spans := make([]span, len(f.Tensors))
	for i := range f.Tensors {
		t := &f.Tensors[i]
		size := t.Size() // validated by tensorInfo
		start, end, ok := f.dataRange(t.Offset, size)
		if !ok {
			return nil, errorf(infoOffs[i], ErrTruncated, "tensor %q: data at %d+%d, %d bytes, lies outside the file (%d bytes)",
				t.Name, f.DataOffset, t.Offset, size, len(data))
		}
		spans[i] = span{start, end, i}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for k := 1; k < len(spans); k++ {
		a, b := spans[k-1], spans[k]
		if b.start < a.end {
			return nil, errorf(infoOffs[b.i], ErrInvalid, "tensor %q (bytes %d..%d) overlaps tensor %q (bytes %d..%d)",
				f.Tensors[b.i].Name, b.start, b.end, f.Tensors[a.i].Name, a.start, a.end)
		}
	}
	return f, nil
}

// satMul returns a*b, or MaxUint64 if that overflows (for messages).
func satMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// reader decodes little-endian fields, reporting the offset of any failure.
type reader struct {
	data []byte
	off  int64
}

func (r *reader) remaining() uint64 { return uint64(int64(len(r.data)) - r.off) }

// take returns the next n bytes, or an error naming what was being read.
func (r *reader) take(n uint64, what string) ([]byte, error) {
	if n > r.remaining() {
		return nil, errorf(r.off, ErrTruncated, "%s: need %d bytes, %d remain", what, n, r.remaining())
	}
	b := r.data[r.off : r.off+int64(n)]
	r.off += int64(n)
	return b, nil
}

func (r *reader) u32(what string) (uint32, error) {
	b, err := r.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *reader) u64(what string) (uint64, error) {
	b, err := r.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// str reads a u64 length and that many bytes, copied into a Go string.
func (r *reader) str(what string) (string, error) {
	off := r.off
	n, err := r.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > r.remaining() {
		r.off = off
		return "", errorf(off, ErrTruncated, "%s: string of %d bytes, %d remain", what, n, r.remaining())
	}
	b, _ := r.take(n, what)
	return string(b), nil
}

// value reads one value of type typ for key, whose type tag is at typOff.
func (r *reader) value(typ ValueType, typOff int64, key string, depth int) (Value, error) {
	if !typ.valid() {
		return Value{}, errorf(typOff, ErrInvalid, "%q: unknown value type %d", key, uint32(typ))
	}
	if typ != TypeArray {
		return r.scalar(typ, key)
	}
	if depth >= maxArrayDepth {
		return Value{}, errorf(typOff, ErrInvalid, "%q: arrays nested more than %d deep", key, maxArrayDepth)
	}
	elemOff := r.off
	et, err := r.u32(fmt.Sprintf("%q: array element type", key))
	if err != nil {
		return Value{}, err
	}
	elem := ValueType(et)
	if !elem.valid() {
		return Value{}, errorf(elemOff, ErrInvalid, "%q: unknown array element type %d", key, et)
	}
	countOff := r.off
	n, err := r.u64(fmt.Sprintf("%q: array length", key))
	if err != nil {
		return Value{}, err
	}
	if n > r.remaining()/elem.minSize() {
		return Value{}, errorf(countOff, ErrTruncated, "%q: array of %d %s needs at least %d bytes, %d remain",
			key, n, elem, satMul(n, elem.minSize()), r.remaining())
	}
	v := Value{Type: TypeArray, Elem: elem}
	// Fixed-size elements: the bytes are known to be present.
	if elem != TypeString && elem != TypeArray {
		b, _ := r.take(n*elem.minSize(), key)
		x, err := decodeArray(elem, b, n)
		if err != nil {
			return Value{}, errorf(countOff+8, ErrInvalid, "%q: %v", key, err)
		}
		v.x = x
		return v, nil
	}
	if elem == TypeString {
		s := make([]string, n)
		for i := range s {
			// Inline fast path of r.str; the message is built only on error.
			if r.remaining() >= 8 {
				l := binary.LittleEndian.Uint64(r.data[r.off:])
				if l <= r.remaining()-8 {
					start := r.off + 8
					s[i] = string(r.data[start : start+int64(l)])
					r.off = start + int64(l)
					continue
				}
			}
			if s[i], err = r.str(fmt.Sprintf("%q[%d]", key, i)); err != nil {
				return Value{}, err
			}
		}
		v.x = s
		return v, nil
	}
	vs := make([]Value, n)
	for i := range vs {
		sub := fmt.Sprintf("%s[%d]", key, i)
		if vs[i], err = r.value(TypeArray, elemOff, sub, depth+1); err != nil {
			return Value{}, err
		}
	}
	v.x = vs
	return v, nil
}

// scalar reads one fixed-size value or string.
func (r *reader) scalar(typ ValueType, key string) (Value, error) {
	if typ == TypeString {
		s, err := r.str(fmt.Sprintf("%q", key))
		return Value{Type: typ, x: s}, err
	}
	off := r.off
	b, err := r.take(typ.minSize(), fmt.Sprintf("%q (%s)", key, typ))
	if err != nil {
		return Value{}, err
	}
	x, err := decodeArray(typ, b, 1)
	if err != nil {
		return Value{}, errorf(off, ErrInvalid, "%q: %v", key, err)
	}
	v := Value{Type: typ}
	switch s := x.(type) {
	case []uint8:
		v.x = s[0]
	case []int8:
		v.x = s[0]
	case []uint16:
		v.x = s[0]
	case []int16:
		v.x = s[0]
	case []uint32:
		v.x = s[0]
	case []int32:
		v.x = s[0]
	case []float32:
		v.x = s[0]
	case []bool:
		v.x = s[0]
	case []uint64:
		v.x = s[0]
	case []int64:
		v.x = s[0]
	case []float64:
		v.x = s[0]
	}
	return v, nil
}

// decodeArray decodes n fixed-size elements of type typ from b, which holds
// exactly n*typ.minSize() bytes.
func decodeArray(typ ValueType, b []byte, n uint64) (any, error) {
	le := binary.LittleEndian
	switch typ {
	case TypeUint8:
		return slices.Clone(b), nil
	case TypeInt8:
		x := make([]int8, n)
		for i := range x {
			x[i] = int8(b[i])
		}
		return x, nil
	case TypeBool:
		x := make([]bool, n)
		for i := range x {
			if b[i] > 1 {
				return nil, fmt.Errorf("bool element %d has value %d, want 0 or 1", i, b[i])
			}
			x[i] = b[i] == 1
		}
		return x, nil
	case TypeUint16:
		x := make([]uint16, n)
		for i := range x {
			x[i] = le.Uint16(b[2*i:])
		}
		return x, nil
	case TypeInt16:
		x := make([]int16, n)
		for i := range x {
			x[i] = int16(le.Uint16(b[2*i:]))
		}
		return x, nil
	case TypeUint32:
		x := make([]uint32, n)
		for i := range x {
			x[i] = le.Uint32(b[4*i:])
		}
		return x, nil
	case TypeInt32:
		x := make([]int32, n)
		for i := range x {
			x[i] = int32(le.Uint32(b[4*i:]))
		}
		return x, nil
	case TypeFloat32:
		x := make([]float32, n)
		for i := range x {
			x[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		return x, nil
	case TypeUint64:
		x := make([]uint64, n)
		for i := range x {
			x[i] = le.Uint64(b[8*i:])
		}
		return x, nil
	case TypeInt64:
		x := make([]int64, n)
		for i := range x {
			x[i] = int64(le.Uint64(b[8*i:]))
		}
		return x, nil
	case TypeFloat64:
		x := make([]float64, n)
		for i := range x {
			x[i] = math.Float64frombits(le.Uint64(b[8*i:]))
		}
		return x, nil
	}
	return nil, fmt.Errorf("type %s is not fixed-size", typ)
}

// tensorInfo reads and validates tensor info number i.
func (r *reader) tensorInfo(i uint64) (TensorInfo, error) {
	var t TensorInfo
	off := r.off
	name, err := r.str(fmt.Sprintf("name of tensor %d", i))
	if err != nil {
		return t, err
	}
	t.Name = name
	dimsOff := r.off
	nDims, err := r.u32(fmt.Sprintf("tensor %q: n_dims", name))
	if err != nil {
		return t, err
	}
	if nDims > MaxDims {
		return t, errorf(dimsOff, ErrInvalid, "tensor %q: %d dimensions, more than %d", name, nDims, MaxDims)
	}
	t.Dims = make([]uint64, nDims)
	for j := range t.Dims {
		dOff := r.off
		if t.Dims[j], err = r.u64(fmt.Sprintf("tensor %q: ne[%d]", name, j)); err != nil {
			return t, err
		}
		if t.Dims[j] == 0 {
			return t, errorf(dOff, ErrInvalid, "tensor %q: ne[%d] is 0", name, j)
		}
	}
	typOff := r.off
	if t.GGMLType, err = r.u32(fmt.Sprintf("tensor %q: type", name)); err != nil {
		return t, err
	}
	if _, ok := ggmlTypes[t.GGMLType]; !ok {
		return t, errorf(typOff, ErrUnsupported, "tensor %q: unknown ggml type %d", name, t.GGMLType)
	}
	if t.Offset, err = r.u64(fmt.Sprintf("tensor %q: offset", name)); err != nil {
		return t, err
	}
	if _, why := t.size(); why != "" {
		return t, errorf(off, ErrInvalid, "tensor %q: %s", name, why)
	}
	return t, nil
}
