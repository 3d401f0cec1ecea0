package gguf_test

import (
	"encoding/binary"
	"math"
)

// enc is a test-only little-endian GGUF encoder for crafting files.
type enc struct{ b []byte }

func (e *enc) u8(v uint8)   { e.b = append(e.b, v) }
func (e *enc) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *enc) str(s string) { e.u64(uint64(len(s))); e.b = append(e.b, s...) }

// kv is one metadata entry: key, type tag, and the encoded value.
type kv struct {
	key string
	typ uint32
	val []byte
}

func kvU32(key string, v uint32) kv {
	var e enc
	e.u32(v)
	return kv{key, 4, e.b}
}

func kvStr(key, s string) kv {
	var e enc
	e.str(s)
	return kv{key, 8, e.b}
}

func kvF32(key string, f float32) kv {
	var e enc
	e.u32(math.Float32bits(f))
	return kv{key, 6, e.b}
}

func kvStrs(key string, ss []string) kv {
	var e enc
	e.u32(8)
	e.u64(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
	return kv{key, 9, e.b}
}

func kvF32s(key string, fs []float32) kv {
	var e enc
	e.u32(6)
	e.u64(uint64(len(fs)))
	for _, f := range fs {
		e.u32(math.Float32bits(f))
	}
	return kv{key, 9, e.b}
}

// tensor is one tensor to write; offset < 0 means "next aligned position".
type tensor struct {
	name   string
	typ    uint32
	dims   []uint64
	data   []byte
	offset int64
}

// build returns a GGUF v3 file with the given metadata and tensors. Tensor
// data is placed back to back with the alignment (32 unless set by a kv).
func build(kvs []kv, tensors []tensor, align uint64) []byte {
	var e enc
	e.b = append(e.b, "GGUF"...)
	e.u32(3)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(kvs)))
	for _, k := range kvs {
		e.str(k.key)
		e.u32(k.typ)
		e.b = append(e.b, k.val...)
	}
	var next uint64
	offs := make([]uint64, len(tensors))
	for i, t := range tensors {
		e.str(t.name)
		e.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			e.u64(d)
		}
		e.u32(t.typ)
		offs[i] = next
		if t.offset >= 0 {
			offs[i] = uint64(t.offset)
		}
		e.u64(offs[i])
		next = offs[i] + uint64(len(t.data))
		next = (next + align - 1) / align * align
	}
	if len(tensors) == 0 {
		return e.b
	}
	for len(e.b)%int(align) != 0 {
		e.u8(0)
	}
	base := len(e.b)
	for i, t := range tensors {
		for uint64(len(e.b)) < uint64(base)+offs[i] {
			e.u8(0)
		}
		e.b = append(e.b, t.data...)
	}
	return e.b
}

// sample is a small valid file with several kinds of metadata and an F32
// and a Q8_0 tensor.
func sample() []byte {
	f32 := make([]byte, 4*3*2)
	for i := 0; i < 6; i++ {
		binary.LittleEndian.PutUint32(f32[4*i:], math.Float32bits(float32(i)+0.5))
	}
	q8 := make([]byte, 34*2)
	for i := range q8 {
		q8[i] = byte(i)
	}
	return build([]kv{
		kvStr("general.architecture", "llama"),
		kvU32("llama.block_count", 1),
		kvF32("llama.rope.freq_base", 10000),
		kvStrs("tokenizer.ggml.tokens", []string{"<unk>", "a", "bc"}),
		kvF32s("tokenizer.ggml.scores", []float32{0, -1, -2.5}),
	}, []tensor{
		{"a.weight", 0, []uint64{3, 2}, f32, -1},
		{"b.weight", 8, []uint64{32, 2}, q8, -1},
	}, 32)
}
