package main

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/llama2c"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/runtime"
)

// stTensor is one tensor for writeSafetensors.
type stTensor struct {
	name  string
	dtype string
	shape []int64
	data  []byte
}

// writeSafetensors writes a safetensors file: u64 header length, JSON
// header padded with spaces to 8 bytes, then the tensors back to back.
func writeSafetensors(t *testing.T, path string, tensors []stTensor) {
	t.Helper()
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var body []byte
	for _, x := range tensors {
		header[x.name] = map[string]any{"dtype": x.dtype, "shape": x.shape, "data_offsets": []int{len(body), len(body) + len(x.data)}}
		body = append(body, x.data...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(append(out, h...), body...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func f32Bytes(x []float32) []byte {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// exportHFLlama re-exports a llama .llmap file (F32 tensors) as a Hugging
// Face LlamaForCausalLM directory: HF tensor names, q/k rows permuted into
// HF's rotate-half order (the inverse of the import: HF row i of a head is
// llmap row 2i, HF row i+hs/2 is llmap row 2i+1), config.json, and the
// tokenizer as a SentencePiece tokenizer.model built from tok512.bin's
// pieces and scores (" " written back as "▁").
func exportHFLlama(t *testing.T, model, tokPath, dir string) {
	t.Helper()
	f, err := format.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := func(k string) int {
		v, err := f.Meta.U32(k)
		if err != nil {
			t.Fatal(err)
		}
		return int(v)
	}
	dim, nh, nkv, nl := u(format.KeyDim), u(format.KeyNHeads), u(format.KeyNKVHeads), u(format.KeyNLayers)
	hs := dim / nh
	get := func(name string) ([]float32, []int64) {
		ti, ok := f.Tensor(name)
		if !ok {
			t.Fatalf("no tensor %s", name)
		}
		v, err := f.Float32s(ti)
		if err != nil {
			t.Fatal(err)
		}
		return v, ti.Shape
	}
	var ts []stTensor
	add := func(hf, name string) {
		v, shape := get(name)
		ts = append(ts, stTensor{hf, "F32", shape, f32Bytes(v)})
	}
	unpermute := func(hf, name string) {
		v, shape := get(name)
		cols := int(shape[1])
		out := make([]float32, len(v))
		for r := 0; r < int(shape[0]); r++ {
			head, j := r/hs, r%hs
			src := head*hs + 2*(j%(hs/2)) // HF row j <- llmap row 2j (j < hs/2) or 2(j-hs/2)+1
			if j >= hs/2 {
				src++
			}
			copy(out[r*cols:(r+1)*cols], v[src*cols:(src+1)*cols])
		}
		ts = append(ts, stTensor{hf, "F32", shape, f32Bytes(out)})
	}
	add("model.embed_tokens.weight", "token_embd.weight")
	for l := 0; l < nl; l++ {
		p := "model.layers." + strconv.Itoa(l) + "."
		b := func(s string) string { return format.BlockTensor(l, s) }
		add(p+"input_layernorm.weight", b("attn_norm.weight"))
		unpermute(p+"self_attn.q_proj.weight", b("attn_q.weight"))
		unpermute(p+"self_attn.k_proj.weight", b("attn_k.weight"))
		add(p+"self_attn.v_proj.weight", b("attn_v.weight"))
		add(p+"self_attn.o_proj.weight", b("attn_output.weight"))
		add(p+"post_attention_layernorm.weight", b("ffn_norm.weight"))
		add(p+"mlp.gate_proj.weight", b("ffn_gate.weight"))
		add(p+"mlp.up_proj.weight", b("ffn_up.weight"))
		add(p+"mlp.down_proj.weight", b("ffn_down.weight"))
	}
	add("model.norm.weight", "output_norm.weight")
	shared, _ := f.Meta.Bool(format.KeySharedClassifier)
	if !shared {
		add("lm_head.weight", "output.weight")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSafetensors(t, filepath.Join(dir, "model.safetensors"), ts)
	cfg := map[string]any{
		"architectures": []string{"LlamaForCausalLM"}, "model_type": "llama",
		"hidden_size": dim, "intermediate_size": u(format.KeyHiddenDim), "num_hidden_layers": nl,
		"num_attention_heads": nh, "num_key_value_heads": nkv, "vocab_size": u(format.KeyVocabSize),
		"max_position_embeddings": u(format.KeyContextLength), "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
		"tie_word_embeddings": shared, "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
	}
	raw, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if tokPath != "" {
		data, err := os.ReadFile(tokPath)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := llama2c.ReadTokenizer(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		var pb []byte
		for i, p := range tok.Pieces {
			var m []byte
			m = protoBytes(m, 1, []byte(strings.ReplaceAll(p, " ", "▁")))
			m = binary.AppendUvarint(m, 2<<3|5)
			m = binary.LittleEndian.AppendUint32(m, math.Float32bits(tok.Scores[i]))
			m = binary.AppendUvarint(m, 3<<3) // field 3, varint
			m = binary.AppendUvarint(m, 1)
			pb = protoBytes(pb, 1, m)
		}
		pb = protoBytes(pb, 2, []byte{}) // a trainer_spec-like field the reader skips
		if err := os.WriteFile(filepath.Join(dir, "tokenizer.model"), pb, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func protoBytes(b []byte, field int, payload []byte) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3|2)
	b = binary.AppendUvarint(b, uint64(len(payload)))
	return append(b, payload...)
}

// TestHFRoundTripStories260K: stories260K converted from llama2.c, exported
// to a Hugging Face LlamaForCausalLM directory (rotate-half q/k, HF names)
// and imported again prints llama2.c's greedy story byte for byte, with the
// tokenizer from the directory's tokenizer.model and from --tokenizer.
func TestHFRoundTripStories260K(t *testing.T) {
	model := stories260K(t)
	tokPath := testmodels.Path(t, "stories260K/tok512.bin")
	want, err := os.ReadFile(testmodels.Path(t, "stories260K/expected_t0.0_n200.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	withModel := filepath.Join(tmp, "hf-sp")
	exportHFLlama(t, model, tokPath, withModel)
	bare := filepath.Join(tmp, "hf-bare")
	exportHFLlama(t, model, "", bare)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"tokenizer.model", []string{withModel}},
		{"--tokenizer tok512.bin", []string{"--tokenizer", tokPath, bare}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "s.llmap")
			if _, stderr, code := llmap(t, append([]string{"convert", "-o", out}, c.args...)...); code != 0 {
				t.Fatalf("convert: exit %d: %s", code, stderr)
			}
			stdout, stderr, code := llmap(t, "run", out, "-t", "0", "-n", "200")
			if code != 0 {
				t.Fatalf("run: exit %d: %s", code, stderr)
			}
			if stdout != string(want)+"\n" {
				t.Errorf("story differs from llama2.c's\n got: %q\nwant: %q", stdout, string(want)+"\n")
			}
		})
	}
	// Without a tokenizer the import fails with one line naming the directory.
	_, stderr, code := llmap(t, "convert", "-o", filepath.Join(tmp, "x.llmap"), bare)
	if code == 0 || !strings.Contains(stderr, "no tokenizer") || !strings.Contains(stderr, bare) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestConvertGGUF: the GGUF's f16 matrices are copied as they are, and
// the .llmap runs and tokenizes with the GGUF's LLaMA vocabulary.
func TestConvertGGUF(t *testing.T) {
	src := testmodels.Path(t, "llama-2-tiny-random-gguf/llama-2-tiny-random.gguf")
	out := filepath.Join(t.TempDir(), "tiny.llmap")
	if _, stderr, code := llmap(t, "convert", "-o", out, src); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, stderr)
	}
	stdout, _, code := llmap(t, "inspect", out)
	if code != 0 {
		t.Fatal("inspect failed")
	}
	for _, want := range []string{`"llama"`, "blk.0.attn_q.weight", "f16", "model.n_kv_heads", "tokenizer.scores"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q", want)
		}
	}
	// "Hello world" in the LLaMA vocabulary (ggml-vocab-llama-spm.gguf.out).
	stdout, _, _ = llmap(t, "tokenize", out, "Hello world")
	if stdout != "1 15043 3186\n" {
		t.Errorf("tokenize: %q", stdout)
	}
	if _, stderr, code := llmap(t, "run", out, "-t", "0", "-n", "8"); code != 0 {
		t.Errorf("run: exit %d: %s", code, stderr)
	}
	if _, stderr, code := llmap(t, "verify", out); code != 0 {
		t.Errorf("verify: exit %d: %s", code, stderr)
	}
}

// TestConvertHFGPT2 converts both GPT-2 directories and runs them.
func TestConvertHFGPT2(t *testing.T) {
	for _, dir := range []string{"../../testdata/reference/hf-gpt2-tiny", testmodels.Path(t, "tiny-gpt2-random-lmbuddy")} {
		out := filepath.Join(t.TempDir(), "g.llmap")
		if _, stderr, code := llmap(t, "convert", "--from", "hf", "-o", out, dir); code != 0 {
			t.Fatalf("%s: exit %d: %s", dir, code, stderr)
		}
		stdout, stderr, code := llmap(t, "run", out, "-t", "0", "-n", "10")
		if code != 0 {
			t.Fatalf("run %s: exit %d: %s", dir, code, stderr)
		}
		t.Logf("%s: %q", filepath.Base(dir), stdout)
		stdout, _, _ = llmap(t, "inspect", out)
		if !strings.Contains(stdout, `"gpt2"`) || !strings.Contains(stdout, "blk.0.attn_qkv.weight") {
			t.Errorf("inspect: %s", stdout)
		}
	}
}

// ggufKV is one metadata entry for buildGGUF.
type ggufKV struct {
	key string
	typ uint32 // 4 u32, 6 f32, 8 string, 9 array (of strings if val is []string, of f32 if []float32)
	val any
}

type ggufTensor struct {
	name string
	dims []uint64 // innermost first
	typ  uint32
	data []byte
}

// buildGGUF encodes a GGUF v3 file with 32-byte alignment.
func buildGGUF(kvs []ggufKV, tensors []ggufTensor) []byte {
	le := binary.LittleEndian
	str := func(b []byte, s string) []byte { return append(le.AppendUint64(b, uint64(len(s))), s...) }
	b := []byte("GGUF")
	b = le.AppendUint32(b, 3)
	b = le.AppendUint64(b, uint64(len(tensors)))
	b = le.AppendUint64(b, uint64(len(kvs)))
	for _, kv := range kvs {
		b = str(b, kv.key)
		b = le.AppendUint32(b, kv.typ)
		switch v := kv.val.(type) {
		case uint32:
			b = le.AppendUint32(b, v)
		case float32:
			b = le.AppendUint32(b, math.Float32bits(v))
		case string:
			b = str(b, v)
		case []string:
			b = le.AppendUint32(b, 8)
			b = le.AppendUint64(b, uint64(len(v)))
			for _, s := range v {
				b = str(b, s)
			}
		case []float32:
			b = le.AppendUint32(b, 6)
			b = le.AppendUint64(b, uint64(len(v)))
			for _, x := range v {
				b = le.AppendUint32(b, math.Float32bits(x))
			}
		}
	}
	var off uint64
	var offs []uint64
	for _, tt := range tensors {
		b = str(b, tt.name)
		b = le.AppendUint32(b, uint32(len(tt.dims)))
		for _, d := range tt.dims {
			b = le.AppendUint64(b, d)
		}
		b = le.AppendUint32(b, tt.typ)
		b = le.AppendUint64(b, off)
		offs = append(offs, off)
		off += (uint64(len(tt.data)) + 31) / 32 * 32
	}
	for len(b)%32 != 0 {
		b = append(b, 0)
	}
	base := len(b)
	for i, tt := range tensors {
		for uint64(len(b)-base) < offs[i] {
			b = append(b, 0)
		}
		b = append(b, tt.data...)
	}
	return b
}

// tinyGGUF returns the metadata and tensors of a valid 1-layer llama GGUF
// (dim 32, 2 heads, hidden 32, vocab 4) with F32 tensors.
func tinyGGUF() ([]ggufKV, []ggufTensor) {
	kvs := []ggufKV{
		{"general.architecture", 8, "llama"},
		{"llama.embedding_length", 4, uint32(32)},
		{"llama.feed_forward_length", 4, uint32(32)},
		{"llama.block_count", 4, uint32(1)},
		{"llama.attention.head_count", 4, uint32(2)},
		{"llama.context_length", 4, uint32(16)},
		{"llama.attention.layer_norm_rms_epsilon", 6, float32(1e-5)},
		{"tokenizer.ggml.model", 8, "llama"},
		{"tokenizer.ggml.tokens", 9, []string{"<unk>", "<s>", "</s>", " a"}},
		{"tokenizer.ggml.scores", 9, []float32{0, 0, 0, -1}},
	}
	vec := func(n int) []byte { return make([]byte, 4*n) }
	ts := []ggufTensor{{"token_embd.weight", []uint64{32, 4}, 0, vec(128)}, {"output_norm.weight", []uint64{32}, 0, vec(32)}}
	for _, n := range []string{"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"} {
		ts = append(ts, ggufTensor{"blk.0." + n + ".weight", []uint64{32, 32}, 0, vec(1024)})
	}
	for _, n := range []string{"attn_norm", "ffn_norm"} {
		ts = append(ts, ggufTensor{"blk.0." + n + ".weight", []uint64{32}, 0, vec(32)})
	}
	return kvs, ts
}

// TestConvertBadInput: every malformed input gets a one-line error that
// names the file, the tensor (where there is one) and the problem, and
// nothing appears at the output path.
func TestConvertBadInput(t *testing.T) {
	dir := t.TempDir()
	gpt2 := "../../testdata/reference/hf-gpt2-tiny"
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// hfVariant copies hf-gpt2-tiny's config and tokenizer into a new
	// directory whose model.safetensors has tensors edited by change.
	hfVariant := func(name string, change func([]stTensor) []stTensor) string {
		d := filepath.Join(dir, name)
		for _, f := range []string{"config.json", "vocab.json", "merges.txt"} {
			data, err := os.ReadFile(filepath.Join(gpt2, f))
			if err != nil {
				t.Fatal(err)
			}
			write(filepath.Join(name, f), data)
		}
		writeSafetensors(t, filepath.Join(d, "model.safetensors"), change(readSafetensors(t, filepath.Join(gpt2, "model.safetensors"))))
		return d
	}
	find := func(ts []stTensor, name string) int {
		i := slices.IndexFunc(ts, func(x stTensor) bool { return x.name == name })
		if i < 0 {
			t.Fatalf("no %s", name)
		}
		return i
	}
	missing := hfVariant("missing", func(ts []stTensor) []stTensor {
		return slices.Delete(ts, find(ts, "transformer.h.1.mlp.c_fc.bias"), find(ts, "transformer.h.1.mlp.c_fc.bias")+1)
	})
	wrongShape := hfVariant("shape", func(ts []stTensor) []stTensor {
		i := find(ts, "transformer.h.0.attn.c_attn.weight")
		ts[i].shape = []int64{48, 16} // stored [in, out] = [16, 48]
		return ts
	})
	badType := hfVariant("dtype", func(ts []stTensor) []stTensor {
		i := find(ts, "transformer.h.0.ln_1.weight")
		ts[i].dtype, ts[i].shape = "I16", []int64{16}
		return ts
	})
	unknownArch := hfVariant("arch", func(ts []stTensor) []stTensor { return ts })
	write("arch/config.json", []byte(`{"architectures": ["BertForMaskedLM"], "model_type": "bert"}`))
	lying := hfVariant("lying", func(ts []stTensor) []stTensor { return ts })
	{
		p := filepath.Join(lying, "model.safetensors")
		data, _ := os.ReadFile(p)
		// Point the first tensor's data_offsets past the end of the buffer.
		s := string(data)
		i := strings.Index(s, `"data_offsets":[0,`)
		if i < 0 {
			t.Fatal("no tensor at offset 0")
		}
		s = s[:i] + `"data_offsets":[9,` + s[i+len(`"data_offsets":[0,`):]
		write("lying/model.safetensors", []byte(s))
	}

	kvs, ts := tinyGGUF()
	good := write("good.gguf", buildGGUF(kvs, ts))
	q41 := slices.Clone(ts)
	q41[2] = ggufTensor{"blk.0.attn_q.weight", []uint64{32, 32}, 3, make([]byte, 32*20)} // q4_1
	ggufQ41 := write("q41.gguf", buildGGUF(kvs, q41))
	q4k := slices.Clone(ts)
	q4k[2] = ggufTensor{"blk.0.attn_q.weight", []uint64{32, 32}, 12, make([]byte, 4*144)} // q4_k rows of 32
	ggufQ4K := write("q4k.gguf", buildGGUF(kvs, q4k))
	shape := slices.Clone(ts)
	shape[3].dims = []uint64{32, 16}
	shape[3].data = make([]byte, 4*512)
	ggufShape := write("shape.gguf", buildGGUF(kvs, shape))
	ggufMissing := write("missing.gguf", buildGGUF(kvs, ts[:len(ts)-1]))
	archKVs := slices.Clone(kvs)
	archKVs[0].val = "mamba"
	ggufArch := write("arch.gguf", buildGGUF(archKVs, ts))
	huge := buildGGUF(kvs, ts)
	binary.LittleEndian.PutUint64(huge[8:], 1<<62) // tensor count
	ggufHugeCount := write("hugecount.gguf", huge)
	huge = buildGGUF(kvs, ts)
	binary.LittleEndian.PutUint64(huge[24:], 1<<60) // length of the first key
	ggufHugeString := write("hugestring.gguf", huge)

	if _, stderr, code := llmap(t, "convert", "-o", filepath.Join(dir, "good.llmap"), good); code != 0 {
		t.Fatalf("the unmodified GGUF does not convert: %s", stderr)
	}

	out := filepath.Join(dir, "out.llmap")
	cases := []struct {
		name  string
		input string
		want  []string // all in the one stderr line
	}{
		{"hf missing tensor", missing, []string{"missing", "h.1.mlp.c_fc.bias", "missing"}},
		{"hf wrong shape", wrongShape, []string{"shape", "h.0.attn.c_attn.weight", "shape [48 16], want [16 48]"}},
		{"hf unsupported dtype", badType, []string{"dtype", "h.0.ln_1.weight", "I16"}},
		{"hf unknown architecture", unknownArch, []string{"arch", "BertForMaskedLM", "unknown architecture"}},
		{"hf lying offsets", lying, []string{"lying", "model.safetensors", "offset"}},
		{"gguf unsupported type", ggufQ41, []string{"q41.gguf", "blk.0.attn_q.weight", "q4_1", "q4_k"}},
		{"gguf k-quant rows", ggufQ4K, []string{"q4k.gguf", "blk.0.attn_q.weight", "256"}},
		{"gguf wrong shape", ggufShape, []string{"shape.gguf", "blk.0.attn_k.weight", "shape [16 32], want [32 32]"}},
		{"gguf missing tensor", ggufMissing, []string{"missing.gguf", "blk.0.ffn_norm.weight", "missing"}},
		{"gguf unknown architecture", ggufArch, []string{"arch.gguf", "mamba", "unknown architecture"}},
		{"gguf huge count", ggufHugeCount, []string{"hugecount.gguf", "tensor"}},
		{"gguf huge string", ggufHugeString, []string{"hugestring.gguf", "key"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stderr := expectUserError(t, []string{"convert", "-o", out, c.input}, c.want...)
			t.Log(strings.TrimSpace(stderr))
			if _, err := os.Stat(out); err == nil {
				t.Fatal("a failed conversion left a file at the output path")
			}
		})
	}
}

// readSafetensors reads every tensor of a safetensors file written by the
// reference script (enough for editing test fixtures).
func readSafetensors(t *testing.T, path string) []stTensor {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	body := data[8+n:]
	var out []stTensor
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var info struct {
			DType   string  `json:"dtype"`
			Shape   []int64 `json:"shape"`
			Offsets [2]int  `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &info); err != nil {
			t.Fatal(err)
		}
		out = append(out, stTensor{name, info.DType, info.Shape, body[info.Offsets[0]:info.Offsets[1]]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// logitsOf runs tokens through the .llmap model at path and returns the
// logits of every position.
func logitsOf(t *testing.T, path string, tokens []int) [][]float32 {
	t.Helper()
	m, err := runtime.Open(path, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewState(len(tokens))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float32
	for pos, tok := range tokens {
		l, err := m.Forward(s, tok, pos)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, slices.Clone(l))
	}
	return out
}

// TestConvertGGUFGPT2: hf-gpt2-tiny (checked against torch in runtime's
// tests), written as a GGUF of the gpt2 architecture with llama.cpp's
// metadata keys and tensor names, converts to a model with the same logits.
func TestConvertGGUFGPT2(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.llmap")
	if _, stderr, code := llmap(t, "convert", "--quant", "f32", "-o", ref, "../../testdata/reference/hf-gpt2-tiny"); code != 0 {
		t.Fatal(stderr)
	}
	f, err := format.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	u := func(k string) uint32 { v, _ := f.Meta.U32(k); return v }
	toks, _ := f.Meta.Strings(format.KeyTokenizerTokens)
	merges, _ := f.Meta.Strings(format.KeyTokenizerMerges)
	kvs := []ggufKV{
		{"general.architecture", 8, "gpt2"},
		{"gpt2.embedding_length", 4, u(format.KeyDim)},
		{"gpt2.feed_forward_length", 4, u(format.KeyHiddenDim)},
		{"gpt2.block_count", 4, u(format.KeyNLayers)},
		{"gpt2.attention.head_count", 4, u(format.KeyNHeads)},
		{"gpt2.context_length", 4, u(format.KeyContextLength)},
		{"gpt2.attention.layer_norm_epsilon", 6, float32(1e-5)},
		{"tokenizer.ggml.model", 8, "gpt2"},
		{"tokenizer.ggml.tokens", 9, toks},
		{"tokenizer.ggml.merges", 9, merges},
	}
	var ts []ggufTensor
	for _, ti := range f.Tensors {
		dims := make([]uint64, len(ti.Shape))
		for i, d := range ti.Shape {
			dims[len(dims)-1-i] = uint64(d)
		}
		ts = append(ts, ggufTensor{ti.Name, dims, 0, slices.Clone(f.Bytes(&ti))})
	}
	f.Close()
	src := filepath.Join(dir, "gpt2.gguf")
	if err := os.WriteFile(src, buildGGUF(kvs, ts), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "gguf.llmap")
	if _, stderr, code := llmap(t, "convert", "-o", out, src); code != 0 {
		t.Fatal(stderr)
	}
	tokens := []int{35, 3, 1, 4, 1, 5, 9, 2, 6}
	want, got := logitsOf(t, ref, tokens), logitsOf(t, out, tokens)
	for pos := range want {
		if !slices.Equal(got[pos], want[pos]) {
			t.Fatalf("position %d: logits differ:\n got %v\nwant %v", pos, got[pos], want[pos])
		}
	}
}

// TestConvertHFSharded: hf-llama-tiny split into two shards with an index
// converts to the same model as the single file.
func TestConvertHFSharded(t *testing.T) {
	src := "../../testdata/reference/hf-llama-tiny"
	dir := filepath.Join(t.TempDir(), "sharded")
	os.MkdirAll(dir, 0o755)
	for _, n := range []string{"config.json", "tokenizer.json"} {
		data, _ := os.ReadFile(filepath.Join(src, n))
		os.WriteFile(filepath.Join(dir, n), data, 0o644)
	}
	ts := readSafetensors(t, filepath.Join(src, "model.safetensors"))
	half := len(ts) / 2
	shards := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}
	writeSafetensors(t, filepath.Join(dir, shards[0]), ts[:half])
	writeSafetensors(t, filepath.Join(dir, shards[1]), ts[half:])
	weightMap := map[string]string{}
	for i, x := range ts {
		weightMap[x.name] = shards[min(i/half, 1)]
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
	os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), idx, 0o644)

	a, b := filepath.Join(t.TempDir(), "a.llmap"), filepath.Join(t.TempDir(), "b.llmap")
	for _, c := range [][2]string{{src, a}, {dir, b}} {
		if _, stderr, code := llmap(t, "convert", "-o", c[1], c[0]); code != 0 {
			t.Fatalf("%s: %s", c[0], stderr)
		}
	}
	tokens := []int{1, 40, 34, 7}
	want, got := logitsOf(t, a, tokens), logitsOf(t, b, tokens)
	for pos := range want {
		if !slices.Equal(got[pos], want[pos]) {
			t.Fatalf("position %d differs", pos)
		}
	}
}
