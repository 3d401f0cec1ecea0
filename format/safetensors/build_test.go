package safetensors_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// tensor is one tensor for the test-only writer.
type tensor struct {
	name  string
	dtype string
	shape []int64
	data  []byte
}

// f32s encodes float32 values little-endian.
func f32s(xs ...float32) []byte {
	b := make([]byte, 0, 4*len(xs))
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// write returns a safetensors file holding tensors back to back in name
// order, with metadata, the header padded with spaces to a multiple of 8.
func write(tensors []tensor, metadata map[string]string) []byte {
	sort.Slice(tensors, func(i, j int) bool { return tensors[i].name < tensors[j].name })
	header := map[string]any{}
	if metadata != nil {
		header["__metadata__"] = metadata
	}
	var buf []byte
	for _, t := range tensors {
		header[t.name] = map[string]any{
			"dtype": t.dtype, "shape": t.shape,
			"data_offsets": []int{len(buf), len(buf) + len(t.data)},
		}
		buf = append(buf, t.data...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		panic(err)
	}
	return rawFile(string(h), buf)
}

// rawFile returns a file with the given header text (padded to a multiple of
// 8) and byte buffer.
func rawFile(header string, buf []byte) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, buf...)
}

// writeFile writes data to dir/name.
func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}
