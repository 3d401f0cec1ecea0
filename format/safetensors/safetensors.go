package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/bits"
	"slices"
	"strings"

	"github.com/llmap/llmap/quant"
)

// MaxHeaderSize bounds the JSON header, as in the reference implementation.
const MaxHeaderSize = 100_000_000

// metadataKey is the header entry holding free-form string metadata.
const metadataKey = "__metadata__"

// dtypeBits is the size in bits of one element of each safetensors dtype.
var dtypeBits = map[string]uint64{
	"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32,
	"I64": 64, "U64": 64, "F64": 64, "C64": 64,
	"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}

// TensorInfo describes one tensor of a safetensors file.
type TensorInfo struct {
	Name  string
	DType string  // "F32", "F16", "BF16", "I64", ...
	Shape []int64 // row-major, outermost first; empty for a scalar
	Begin int64   // data offsets relative to the byte buffer after the header
	End   int64
}

// Type returns the llmap element type of the tensor: F32, F16 or BF16. Other
// dtypes yield an error wrapping ErrUnsupported that names the tensor.
func (t TensorInfo) Type() (quant.Type, error) {
	switch t.DType {
	case "F32":
		return quant.F32, nil
	case "F16":
		return quant.F16, nil
	case "BF16":
		return quant.BF16, nil
	}
	return 0, fmt.Errorf("safetensors: tensor %q has dtype %s, which llmap cannot import (want F32, F16 or BF16): %w",
		t.Name, t.DType, ErrUnsupported)
}

// NumElements returns the product of the shape, or -1 if a dimension is
// negative or the product exceeds 2^62. Tensors of a parsed File never give -1.
func (t TensorInfo) NumElements() int64 {
	n := uint64(1)
	for _, d := range t.Shape {
		if d < 0 {
			return -1
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > 1<<62 {
			return -1
		}
		n = lo
	}
	return int64(n)
}

// check validates the tensor's dtype, shape and offsets against a buffer of
// bufLen bytes, returning a message and sentinel if they are wrong.
func (t TensorInfo) check(bufLen int64) (string, error) {
	b, ok := dtypeBits[t.DType]
	if !ok {
		return fmt.Sprintf("tensor %q: unknown dtype %q", t.Name, t.DType), ErrInvalid
	}
	n := t.NumElements()
	if n < 0 {
		return fmt.Sprintf("tensor %q: shape %v has a negative dimension or more than 2^62 elements", t.Name, t.Shape), ErrInvalid
	}
	hi, nbits := bits.Mul64(uint64(n), b)
	if hi != 0 {
		return fmt.Sprintf("tensor %q: %d elements of %s overflow the size limit", t.Name, n, t.DType), ErrInvalid
	}
	if nbits%8 != 0 {
		return fmt.Sprintf("tensor %q: %d elements of %s are not a whole number of bytes", t.Name, n, t.DType), ErrInvalid
	}
	size := int64(nbits / 8)
	if t.Begin < 0 || t.End < t.Begin {
		return fmt.Sprintf("tensor %q: data_offsets [%d, %d] are not an ascending range", t.Name, t.Begin, t.End), ErrInvalid
	}
	if t.End-t.Begin != size {
		return fmt.Sprintf("tensor %q: data_offsets [%d, %d] hold %d bytes, shape %v of %s needs %d",
			t.Name, t.Begin, t.End, t.End-t.Begin, t.Shape, t.DType, size), ErrInvalid
	}
	if t.End > bufLen {
		return fmt.Sprintf("tensor %q: data_offsets [%d, %d] end past the %d-byte buffer", t.Name, t.Begin, t.End, bufLen), ErrTruncated
	}
	return "", nil
}

// File is a parsed safetensors file.
type File struct {
	data      []byte            // the whole file
	dataStart int64             // 8 + header length
	tensors   []TensorInfo      // sorted by name
	byName    map[string]int    // name -> index in tensors
	metadata  map[string]string // __metadata__
	unmap     func() error      // releases the mapping made by Open; nil otherwise
}

// NewFile parses a safetensors file held in data. The File keeps data and
// returns views into it from TensorData.
func NewFile(data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, errorf(0, ErrTruncated, "file of %d bytes is too short for the header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, errorf(0, ErrInvalid, "header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, errorf(0, ErrTruncated, "header length %d exceeds the %d bytes after it", n, len(data)-8)
	}
	header := data[8 : 8+n]
	f := &File{data: data, dataStart: 8 + int64(n)}
	bufLen := int64(len(data)) - f.dataStart

	entries, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	f.tensors = make([]TensorInfo, 0, len(entries))
	for _, e := range entries {
		if e.key == metadataKey {
			var md map[string]string
			if err := json.Unmarshal(e.raw, &md); err != nil {
				return nil, errorf(8, ErrInvalid, "%s is not an object of strings: %v", metadataKey, err)
			}
			f.metadata = md
			continue
		}
		var h struct {
			DType       string  `json:"dtype"`
			Shape       []int64 `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(e.raw, &h); err != nil {
			return nil, errorf(8, ErrInvalid, "tensor %q: %v", e.key, err)
		}
		if h.DType == "" || h.Shape == nil || len(h.DataOffsets) != 2 {
			return nil, errorf(8, ErrInvalid, "tensor %q: want dtype, shape and two data_offsets", e.key)
		}
		t := TensorInfo{Name: e.key, DType: h.DType, Shape: h.Shape, Begin: h.DataOffsets[0], End: h.DataOffsets[1]}
		if msg, kind := t.check(bufLen); kind != nil {
			return nil, errorf(8, kind, "%s", msg)
		}
		f.tensors = append(f.tensors, t)
	}

	// The tensors, ordered by offset, must tile the buffer exactly.
	byOff := slices.Clone(f.tensors)
	slices.SortFunc(byOff, func(a, b TensorInfo) int {
		return cmp.Or(cmp.Compare(a.Begin, b.Begin), cmp.Compare(a.End, b.End))
	})
	var pos int64
	prev := "the start of the buffer"
	for _, t := range byOff {
		switch {
		case t.Begin < pos:
			return nil, errorf(f.dataStart+t.Begin, ErrInvalid, "tensor %q (bytes %d..%d) overlaps %s, which ends at %d",
				t.Name, t.Begin, t.End, prev, pos)
		case t.Begin > pos:
			return nil, errorf(f.dataStart+pos, ErrInvalid, "gap of %d bytes between %s and tensor %q at %d",
				t.Begin-pos, prev, t.Name, t.Begin)
		}
		pos = t.End
		prev = fmt.Sprintf("tensor %q", t.Name)
	}
	if pos != bufLen {
		return nil, errorf(f.dataStart+pos, ErrInvalid, "%d bytes after the last tensor are not described by the header", bufLen-pos)
	}

	slices.SortFunc(f.tensors, func(a, b TensorInfo) int { return strings.Compare(a.Name, b.Name) })
	f.byName = make(map[string]int, len(f.tensors))
	for i, t := range f.tensors {
		f.byName[t.Name] = i
	}
	return f, nil
}

// entry is one top-level member of the JSON header.
type entry struct {
	key string
	raw json.RawMessage
}

// parseHeader splits the header object into its members, rejecting anything
// that is not one JSON object with distinct keys (trailing spaces allowed).
func parseHeader(header []byte) ([]entry, error) {
	if len(header) == 0 || header[0] != '{' {
		return nil, errorf(8, ErrInvalid, "header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	jsonErr := func(err error) error {
		return errorf(8+dec.InputOffset(), ErrInvalid, "bad JSON header: %v", err)
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(err)
	}
	var entries []entry
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, jsonErr(fmt.Errorf("key %v is not a string", tok))
		}
		if seen[key] {
			return nil, errorf(8+dec.InputOffset(), ErrInvalid, "duplicate header key %q", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonErr(err)
		}
		entries = append(entries, entry{key, raw})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, jsonErr(fmt.Errorf("trailing data after the header object"))
	}
	return entries, nil
}

// Tensors returns the tensor infos sorted by name.
func (f *File) Tensors() []TensorInfo { return slices.Clone(f.tensors) }

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return nil, false
	}
	return &f.tensors[i], true
}

// Metadata returns a copy of the header's __metadata__ (nil if absent).
func (f *File) Metadata() map[string]string { return maps.Clone(f.metadata) }

// DataOffset returns the file offset of the byte buffer (8 + header length).
func (f *File) DataOffset() int64 { return f.dataStart }

// TensorData returns the bytes of t's data, a view into the file without a
// copy. t's offsets and size are checked against the file again, so a
// TensorInfo from elsewhere cannot read out of bounds. Valid only until
// Close; never write to it.
func (f *File) TensorData(t *TensorInfo) ([]byte, error) {
	if f.data == nil {
		return nil, fmt.Errorf("safetensors: tensor %q: file is closed", t.Name)
	}
	if msg, kind := t.check(int64(len(f.data)) - f.dataStart); kind != nil {
		return nil, errorf(f.dataStart, kind, "%s", msg)
	}
	return f.data[f.dataStart+t.Begin : f.dataStart+t.End : f.dataStart+t.End], nil
}

// Close releases the mapping made by Open; slices from TensorData become
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
