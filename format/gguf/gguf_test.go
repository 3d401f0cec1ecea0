package gguf_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
)

func TestSample(t *testing.T) {
	f, err := gguf.NewFile(sample())
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 || len(f.KV) != 5 || len(f.Tensors) != 2 || f.Alignment != 32 {
		t.Fatalf("version %d, %d kvs, %d tensors, alignment %d", f.Version, len(f.KV), len(f.Tensors), f.Alignment)
	}
	if s, ok := f.String("general.architecture"); !ok || s != "llama" {
		t.Errorf("architecture = %q, %v", s, ok)
	}
	if n, ok := f.Int("llama.block_count"); !ok || n != 1 {
		t.Errorf("block_count = %d, %v", n, ok)
	}
	if n, ok := f.Uint32("llama.block_count"); !ok || n != 1 {
		t.Errorf("block_count = %d, %v", n, ok)
	}
	if x, ok := f.Float32("llama.rope.freq_base"); !ok || x != 10000 {
		t.Errorf("freq_base = %v, %v", x, ok)
	}
	if x, ok := f.Float32("llama.block_count"); !ok || x != 1 {
		t.Errorf("Float32 of an integer = %v, %v", x, ok)
	}
	if _, ok := f.String("llama.block_count"); ok {
		t.Error("String of a uint32 succeeded")
	}
	if _, ok := f.Int("missing"); ok {
		t.Error("Int of a missing key succeeded")
	}
	if ss, ok := f.Strings("tokenizer.ggml.tokens"); !ok || strings.Join(ss, ",") != "<unk>,a,bc" {
		t.Errorf("tokens = %q, %v", ss, ok)
	}
	if fs, ok := f.Float32s("tokenizer.ggml.scores"); !ok || len(fs) != 3 || fs[2] != -2.5 {
		t.Errorf("scores = %v, %v", fs, ok)
	}
	a, ok := f.Tensor("a.weight")
	if !ok {
		t.Fatal("a.weight missing")
	}
	if typ, err := a.Type(); err != nil || typ != quant.F32 {
		t.Errorf("a.weight type %v, %v", typ, err)
	}
	if s := a.Shape(); len(s) != 2 || s[0] != 2 || s[1] != 3 {
		t.Errorf("a.weight shape %v, want [2 3]", s)
	}
	d, err := f.TensorData(a)
	if err != nil || len(d) != 24 {
		t.Fatalf("a.weight data: %d bytes, %v", len(d), err)
	}
	for i := 0; i < 6; i++ {
		if x := math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:])); x != float32(i)+0.5 {
			t.Errorf("a.weight[%d] = %v", i, x)
		}
	}
	b, _ := f.Tensor("b.weight")
	if typ, err := b.Type(); err != nil || typ != quant.Q8_0 || b.Size() != 68 || b.NumElements() != 64 {
		t.Errorf("b.weight: type %v, %v, size %d, %d elements", typ, err, b.Size(), b.NumElements())
	}
	if d, err := f.TensorData(b); err != nil || d[0] != 0 || d[67] != 67 {
		t.Errorf("b.weight data: %v", err)
	}
	if f.DataOffset%32 != 0 || b.Offset != 32 {
		t.Errorf("data offset %d, b at %d", f.DataOffset, b.Offset)
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
	if _, err := f.TensorData(a); err == nil {
		t.Error("TensorData after Close succeeded")
	}
}

func TestTypeMapping(t *testing.T) {
	// ggml's numbers (enum ggml_type) of the types llmap reads.
	want := map[uint32]quant.Type{0: quant.F32, 1: quant.F16, 2: quant.Q4_0, 8: quant.Q8_0, 30: quant.BF16,
		10: quant.Q2_K, 11: quant.Q3_K, 12: quant.Q4_K, 13: quant.Q5_K, 14: quant.Q6_K}
	for g, q := range want {
		got, err := gguf.TensorInfo{Name: "x", GGMLType: g}.Type()
		if err != nil || got != q {
			t.Errorf("ggml type %d -> %v, %v; want %v", g, got, err, q)
		}
		if name := gguf.GGMLTypeName(g); name != q.String() {
			t.Errorf("ggml type %d is named %q, quant %q", g, name, q)
		}
	}
	// Types llmap does not read: the error names the tensor, the type and
	// what is supported.
	for g, name := range map[uint32]string{3: "q4_1", 6: "q5_0", 17: "iq2_xs", 15: "q8_k", 20: "iq4_nl", 39: "mxfp4"} {
		_, err := gguf.TensorInfo{Name: "blk.0.ffn_down.weight", GGMLType: g}.Type()
		if err == nil || !errors.Is(err, gguf.ErrUnsupported) || !strings.Contains(err.Error(), name) ||
			!strings.Contains(err.Error(), "blk.0.ffn_down.weight") || !strings.Contains(err.Error(), "q6_k") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Sizes must agree with quant's table for the shared types.
	for g, q := range want {
		ti := gguf.TensorInfo{GGMLType: g, Dims: []uint64{256, 3}}
		rb, err := q.RowBytes(256 * 3)
		if err != nil || ti.Size() != rb {
			t.Errorf("%s: size %d, quant says %d (%v)", q, ti.Size(), rb, err)
		}
	}
}

func TestTinyLlama(t *testing.T) {
	path := testmodels.Path(t, "llama-2-tiny-random-gguf/llama-2-tiny-random.gguf")
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := os.Stat(path)
	if f.Version != 3 || len(f.Tensors) != 12 {
		t.Fatalf("version %d, %d tensors", f.Version, len(f.Tensors))
	}
	if f.DataOffset != 724416 {
		t.Errorf("data offset %d, want 724416", f.DataOffset)
	}
	if a, ok := f.String("general.architecture"); !ok || a != "llama" {
		t.Errorf("architecture %q", a)
	}
	for key, want := range map[string]int{
		"llama.embedding_length": 8, "llama.block_count": 1, "llama.attention.head_count": 2,
		"llama.feed_forward_length": 32,
	} {
		if got, ok := f.Int(key); !ok || got != want {
			t.Errorf("%s = %d, %v; want %d", key, got, ok, want)
		}
	}
	if toks, ok := f.Strings("tokenizer.ggml.tokens"); !ok || len(toks) != 32000 {
		t.Errorf("%d tokens", len(toks))
	}
	var total, end int64
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		typ, err := ti.Type()
		if err != nil {
			t.Fatal(err)
		}
		isNorm := strings.HasSuffix(ti.Name, "norm.weight")
		if isNorm && (typ != quant.F32 || len(ti.Dims) != 1 || ti.Dims[0] != 8) ||
			!isNorm && (typ != quant.F16 || len(ti.Dims) != 2) {
			t.Errorf("%s: %s %v", ti.Name, typ, ti.Dims)
		}
		d, err := f.TensorData(ti)
		if err != nil || int64(len(d)) != ti.Size() {
			t.Fatalf("%s: %d bytes, %v", ti.Name, len(d), err)
		}
		total += ti.Size()
		end = max(end, f.DataOffset+int64(ti.Offset)+ti.Size())
	}
	// SOURCES.md: the data section is exactly 1026144 bytes and ends the file.
	if end-f.DataOffset != 1026144 || end != st.Size() {
		t.Errorf("data section %d bytes ending at %d, file %d", end-f.DataOffset, end, st.Size())
	}
	if total > 1026144 {
		t.Errorf("tensors total %d bytes", total)
	}
	emb, ok := f.Tensor("token_embd.weight")
	if !ok || emb.Shape()[0] != 32000 || emb.Shape()[1] != 8 {
		t.Errorf("token_embd.weight: %v", emb)
	}
	// The bytes seen through Open equal the file's bytes read independently.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := f.TensorData(emb)
	start := 724416 + int(emb.Offset)
	if !bytes.Equal(d, raw[start:start+len(d)]) {
		t.Error("token_embd.weight bytes differ from the file")
	}
	g, err := gguf.NewFile(raw)
	if err != nil || len(g.KV) != len(f.KV) || g.DataOffset != f.DataOffset {
		t.Errorf("NewFile of the same bytes: %v", err)
	}
}

// TestVocabSPM checks the LLaMA vocabulary against llama2.c's tokenizer.bin,
// which holds the same pieces and scores (SOURCES.md).
func TestVocabSPM(t *testing.T) {
	f, err := gguf.Open(testmodels.Path(t, "llamacpp-vocab/ggml-vocab-llama-spm.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	toks, ok := f.Strings("tokenizer.ggml.tokens")
	scores, ok2 := f.Float32s("tokenizer.ggml.scores")
	types, ok3 := f.Int32s("tokenizer.ggml.token_type")
	if !ok || !ok2 || !ok3 || len(toks) != 32000 || len(scores) != 32000 || len(types) != 32000 {
		t.Fatalf("tokens %d, scores %d, types %d", len(toks), len(scores), len(types))
	}
	if len(f.Tensors) != 0 {
		t.Errorf("%d tensors", len(f.Tensors))
	}
	if m, _ := f.String("tokenizer.ggml.model"); m != "llama" {
		t.Errorf("tokenizer model %q", m)
	}
	tb, err := os.ReadFile(testmodels.Path(t, "llama2c-tokenizer-32k/tokenizer.bin"))
	if err != nil {
		t.Fatal(err)
	}
	off := 4
	for id := 0; id < 32000; id++ {
		score := math.Float32frombits(binary.LittleEndian.Uint32(tb[off:]))
		n := int(binary.LittleEndian.Uint32(tb[off+4:]))
		piece := string(tb[off+8 : off+8+n])
		off += 8 + n
		if score != scores[id] {
			t.Fatalf("score[%d] = %v, tokenizer.bin %v", id, scores[id], score)
		}
		if id != 1 && id != 2 && strings.ReplaceAll(toks[id], "\u2581", " ") != piece {
			t.Fatalf("token[%d] = %q, tokenizer.bin %q", id, toks[id], piece)
		}
	}
}

// TestVocabGPT2 checks the GPT-2 vocabulary and merges against OpenAI's
// encoder.json and vocab.bpe.
func TestVocabGPT2(t *testing.T) {
	f, err := gguf.Open(testmodels.Path(t, "llamacpp-vocab/ggml-vocab-gpt-2.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	toks, _ := f.Strings("tokenizer.ggml.tokens")
	merges, _ := f.Strings("tokenizer.ggml.merges")
	if len(toks) != 50257 || len(merges) != 50000 || len(f.Tensors) != 0 {
		t.Fatalf("tokens %d, merges %d, tensors %d", len(toks), len(merges), len(f.Tensors))
	}
	raw, err := os.ReadFile(testmodels.Path(t, "gpt2-tokenizer/encoder.json"))
	if err != nil {
		t.Fatal(err)
	}
	var encoder map[string]int
	if err := json.Unmarshal(raw, &encoder); err != nil {
		t.Fatal(err)
	}
	for tok, id := range encoder {
		if toks[id] != tok {
			t.Fatalf("token %d = %q, encoder.json %q", id, toks[id], tok)
		}
	}
	bpe, err := os.Open(testmodels.Path(t, "gpt2-tokenizer/vocab.bpe"))
	if err != nil {
		t.Fatal(err)
	}
	defer bpe.Close()
	sc := bufio.NewScanner(bpe)
	sc.Scan() // "#version: 0.2"
	i := 0
	for sc.Scan() {
		if sc.Text() == "" {
			continue
		}
		if merges[i] != sc.Text() {
			t.Fatalf("merge %d = %q, vocab.bpe %q", i, merges[i], sc.Text())
		}
		i++
	}
	if i != 50000 {
		t.Errorf("vocab.bpe has %d merges", i)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := gguf.Open(dir + "/missing.gguf"); err == nil {
		t.Error("missing file opened")
	}
	empty := dir + "/empty.gguf"
	os.WriteFile(empty, nil, 0o644)
	if _, err := gguf.Open(empty); !errors.Is(err, gguf.ErrTruncated) {
		t.Errorf("empty file: %v", err)
	}
	bad := dir + "/bad.gguf"
	data := sample()
	os.WriteFile(bad, data[:len(data)-1], 0o644)
	_, err := gguf.Open(bad)
	var ge *gguf.Error
	if !errors.As(err, &ge) || !strings.Contains(err.Error(), bad) {
		t.Errorf("truncated file: %v", err)
	}
	good := dir + "/good.gguf"
	os.WriteFile(good, data, 0o644)
	f, err := gguf.Open(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func BenchmarkNewFileGPT2Vocab(b *testing.B) {
	data, err := os.ReadFile(testmodels.Path(b, "llamacpp-vocab/ggml-vocab-gpt-2.gguf"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := gguf.NewFile(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestValueConversions(t *testing.T) {
	var e enc
	kvs := []kv{
		{"u64big", 10, binary.LittleEndian.AppendUint64(nil, 1<<63)},
		{"i8neg", 1, []byte{0xFF}},
		{"i64", 11, binary.LittleEndian.AppendUint64(nil, 1<<40)},
		{"f64", 12, binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.25))},
		{"true", 7, []byte{1}},
	}
	e.u32(2) // uint16 array
	e.u64(2)
	e.b = binary.LittleEndian.AppendUint16(e.b, 7)
	e.b = binary.LittleEndian.AppendUint16(e.b, 65535)
	kvs = append(kvs, kv{"u16s", 9, e.b})
	e = enc{}
	e.u32(11) // int64 array with an element outside int32
	e.u64(1)
	e.u64(1 << 40)
	kvs = append(kvs, kv{"i64s", 9, e.b})
	e = enc{}
	e.u32(12) // float64 array
	e.u64(1)
	e.u64(math.Float64bits(1.5))
	kvs = append(kvs, kv{"f64s", 9, e.b})
	f, err := gguf.NewFile(build(kvs, nil, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Int("u64big"); ok {
		t.Error("Int of 2^63 succeeded")
	}
	if u, ok := f.Uint64("u64big"); !ok || u != 1<<63 {
		t.Errorf("Uint64 = %d, %v", u, ok)
	}
	if i, ok := f.Int("i8neg"); !ok || i != -1 {
		t.Errorf("Int(i8neg) = %d, %v", i, ok)
	}
	if _, ok := f.Uint32("i8neg"); ok {
		t.Error("Uint32 of -1 succeeded")
	}
	if _, ok := f.Uint32("i64"); ok {
		t.Error("Uint32 of 2^40 succeeded")
	}
	if x, ok := f.Float32("f64"); !ok || x != 0.25 {
		t.Errorf("Float32(f64) = %v, %v", x, ok)
	}
	if b, ok := f.Bool("true"); !ok || !b {
		t.Errorf("Bool = %v, %v", b, ok)
	}
	if xs, ok := f.Int32s("u16s"); !ok || xs[0] != 7 || xs[1] != 65535 {
		t.Errorf("Int32s(u16s) = %v, %v", xs, ok)
	}
	if _, ok := f.Int32s("i64s"); ok {
		t.Error("Int32s of 2^40 succeeded")
	}
	if xs, ok := f.Float32s("f64s"); !ok || xs[0] != 1.5 {
		t.Errorf("Float32s(f64s) = %v, %v", xs, ok)
	}
	if _, ok := f.Strings("u16s"); ok {
		t.Error("Strings of uint16s succeeded")
	}
	v, _ := f.Lookup("u16s")
	if v.Type != gguf.TypeArray || v.Elem != gguf.TypeUint16 || v.Len() != 2 || v.String() != "[uint16 × 2: 7 65535]" {
		t.Errorf("u16s = %v", v)
	}
}
