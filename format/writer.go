package format

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/llmap/llmap/quant"
)

// TensorSpec declares one tensor to be written: its name, element type and
// shape (outermost first).
type TensorSpec struct {
	Name  string
	Type  quant.Type
	Shape []int64
}

// Writer streams a .llmap file into a temporary file beside the target and
// renames it into place on Close, so the target path only ever holds a
// complete file. It holds the header in memory, never the tensor data.
// A Writer is not safe for concurrent use.
type Writer struct {
	path     string
	f        *os.File     // the temporary file (see CreateTemp); nil once closed
	header   []byte       // file[0:data offset]; CRCs patched in as tensors are written
	tensors  []TensorInfo // layout in declared order
	crcAt    []int        // position of each tensor's CRC field in header
	next     int          // index of the next tensor to write
	pos      int64        // bytes written to f so far
	fileSize int64
	buf      []byte // copy buffer
	err      error  // sticky: set once the write has failed, been aborted or closed
}

var (
	errAborted = errors.New("format: write aborted")
	errClosed  = errors.New("format: writer is closed")
)

// copyBufSize is the chunk size in which tensor data is copied.
const copyBufSize = 1 << 20

// Create validates the metadata and tensor specs, computes the layout and
// writes the header into a temporary file in path's directory. Tensors must
// then be written with WriteTensor in the declared order, and the file
// finished with Close (or dropped with Abort).
func Create(path string, meta *Metadata, tensors []TensorSpec) (*Writer, error) {
	if meta == nil {
		meta = &Metadata{}
	}
	header, layout, crcAt, err := buildHeader(meta, tensors)
	if err != nil {
		return nil, fmt.Errorf("format: create %s: %w: %w", path, err, ErrInvalid)
	}
	if err := CheckSpace(path, int64(le.Uint64(header[offFileSize:]))); err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	f, err := CreateTemp(path)
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	w := &Writer{
		path: path, f: f,
		header: header, tensors: layout, crcAt: crcAt,
		fileSize: int64(le.Uint64(header[offFileSize:])),
		buf:      make([]byte, copyBufSize),
	}
	// The CRC fields are zero placeholders until Close rewrites the header.
	if _, err := f.Write(header); err != nil {
		return nil, w.fail(fmt.Errorf("format: write %s: %w", path, unwrapPath(err)))
	}
	w.pos = int64(len(header))
	return w, nil
}

// buildHeader encodes the header region (fixed header, metadata, directory,
// zero padding up to the data offset) and the layout of the tensors.
func buildHeader(meta *Metadata, specs []TensorSpec) (header []byte, layout []TensorInfo, crcAt []int, err error) {
	if len(specs) > MaxTensors {
		return nil, nil, nil, fmt.Errorf("%d tensors, limit %d", len(specs), MaxTensors)
	}
	h := make([]byte, FixedHeaderSize, PageSize)
	copy(h[offMagic:], Magic)
	le.PutUint16(h[offMajor:], VersionMajor)
	le.PutUint16(h[offMinor:], VersionMinor)
	le.PutUint32(h[offHeaderSize:], FixedHeaderSize)
	le.PutUint32(h[offMetaCount:], uint32(meta.Len()))
	le.PutUint32(h[offTensorCount:], uint32(len(specs)))
	if h, err = appendMetadata(h, meta); err != nil {
		return nil, nil, nil, err
	}

	// The directory has fixed-width fields, so its length (and with it the
	// data offset) is known before the tensor offsets are.
	layout = make([]TensorInfo, len(specs))
	seen := make(map[string]bool, len(specs))
	dirLen := 0
	for i, s := range specs {
		if err := checkName(s.Name, MaxNameLen); err != nil {
			return nil, nil, nil, fmt.Errorf("tensor %d: %v", i, err)
		}
		if seen[s.Name] {
			return nil, nil, nil, fmt.Errorf("duplicate tensor name %q", s.Name)
		}
		seen[s.Name] = true
		_, size, err := tensorSize(s.Type, s.Shape)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("tensor %q: %v", s.Name, err)
		}
		layout[i] = TensorInfo{Name: s.Name, Type: s.Type, Shape: append([]int64(nil), s.Shape...), Size: size}
		dirLen += 4 + len(s.Name) + 4 + 4 + 8*len(s.Shape) + 8 + 8 + 4
	}
	dataOff := alignUp(int64(len(h)+dirLen), PageSize)
	end := dataOff
	for i := range layout {
		t := &layout[i]
		if end > math.MaxInt64-PageSize-t.Size {
			return nil, nil, nil, fmt.Errorf("tensor %q: file size overflows", t.Name)
		}
		t.Offset = alignUp(end, tensorAlign(t.Size))
		end = t.Offset + t.Size
	}
	le.PutUint64(h[offFileSize:], uint64(end))
	le.PutUint64(h[offDataOffset:], uint64(dataOff))

	crcAt = make([]int, len(layout))
	for i, t := range layout {
		h = le.AppendUint32(h, uint32(len(t.Name)))
		h = append(h, t.Name...)
		h = le.AppendUint32(h, uint32(t.Type))
		h = le.AppendUint32(h, uint32(len(t.Shape)))
		for _, d := range t.Shape {
			h = le.AppendUint64(h, uint64(d))
		}
		h = le.AppendUint64(h, uint64(t.Offset))
		h = le.AppendUint64(h, uint64(t.Size))
		crcAt[i] = len(h)
		h = le.AppendUint32(h, 0)
	}
	h = append(h, make([]byte, dataOff-int64(len(h)))...)
	return h, layout, crcAt, nil
}

// WriteTensor copies the data of the next declared tensor from r, which must
// yield exactly the tensor's size in bytes (a separate reader per tensor,
// e.g. an io.SectionReader). Any error abandons the whole write: the
// temporary file is removed and every later call returns the same error.
func (w *Writer) WriteTensor(name string, r io.Reader) error {
	if w.err != nil {
		return w.err
	}
	if w.next >= len(w.tensors) {
		return w.fail(fmt.Errorf("format: write %s: tensor %q: all %d declared tensors are already written", w.path, name, len(w.tensors)))
	}
	t := &w.tensors[w.next]
	if name != t.Name {
		return w.fail(fmt.Errorf("format: write %s: got tensor %q, want %q (tensors are written in declared order)", w.path, name, t.Name))
	}
	if err := w.copyTensor(t, r); err != nil {
		return w.fail(fmt.Errorf("format: write %s: tensor %q: %w", w.path, name, unwrapPath(err)))
	}
	le.PutUint32(w.header[w.crcAt[w.next]:], t.CRC)
	w.next++
	return nil
}

// copyTensor writes the padding before t, then t.Size bytes from r, and
// records their CRC-32C in t.CRC.
func (w *Writer) copyTensor(t *TensorInfo, r io.Reader) error {
	if pad := t.Offset - w.pos; pad > 0 {
		clear(w.buf[:pad])
		if _, err := w.f.Write(w.buf[:pad]); err != nil {
			return err
		}
		w.pos += pad
	}
	var crc uint32
	for done := int64(0); done < t.Size; {
		chunk := w.buf[:min(int64(len(w.buf)), t.Size-done)]
		n, err := io.ReadFull(r, chunk)
		done += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("reader ended after %d of %d bytes", done, t.Size)
		}
		if err != nil {
			return err
		}
		crc = crc32Update(crc, chunk)
		if _, err := w.f.Write(chunk); err != nil {
			return err
		}
		w.pos += int64(n)
	}
	var one [1]byte
	switch n, err := io.ReadFull(r, one[:]); {
	case n > 0:
		return fmt.Errorf("reader has more than %d bytes", t.Size)
	case err != io.EOF:
		return err
	}
	t.CRC = crc
	return nil
}

// Close checks that every tensor was written, fills in the checksums, syncs
// the file, renames it onto the target path and syncs the directory. On
// failure the temporary file is removed and the target is left untouched.
// Close after a successful Close returns nil.
func (w *Writer) Close() error {
	if w.err == errClosed {
		return nil
	}
	if w.err != nil {
		return w.err
	}
	if w.next < len(w.tensors) {
		return w.fail(fmt.Errorf("format: close %s: tensor %q and %d after it were not written", w.path, w.tensors[w.next].Name, len(w.tensors)-w.next-1))
	}
	if w.pos != w.fileSize {
		return w.fail(fmt.Errorf("format: close %s: wrote %d bytes, layout has %d", w.path, w.pos, w.fileSize))
	}
	le.PutUint32(w.header[offHeaderCRC:], headerCRC(w.header))
	if _, err := w.f.WriteAt(w.header, 0); err != nil {
		return w.fail(fmt.Errorf("format: close %s: %w", w.path, unwrapPath(err)))
	}
	f := w.f
	w.f = nil // CommitTemp closes or drops it
	w.err = errClosed
	if err := CommitTemp(f, w.path); err != nil {
		w.err = fmt.Errorf("format: %w", err)
		return w.err
	}
	return nil
}

// Abort abandons the write and removes the temporary file. It is a no-op
// after Close or after an error has already abandoned the write.
func (w *Writer) Abort() {
	if w.err == nil {
		_ = w.fail(errAborted)
	}
}

// fail records err, removes and closes the temporary file and returns err.
func (w *Writer) fail(err error) error {
	if w.f != nil {
		DropTemp(w.f)
		w.f = nil
	}
	w.err = err
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// crc32Update extends a CRC-32C with p.
func crc32Update(crc uint32, p []byte) uint32 {
	return crc32.Update(crc, castagnoli, p)
}
