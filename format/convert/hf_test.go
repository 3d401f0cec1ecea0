package convert

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/runtime/tokenizer"
)

const referenceDir = "../../testdata/reference"

// TestRoPERowPermutation: hfRoPERow is a permutation within each head that
// puts HF's rotate-half partners (j, j+hs/2) on adjacent rows (2i, 2i+1).
func TestRoPERowPermutation(t *testing.T) {
	for _, hs := range []int{2, 4, 8, 64} {
		const heads = 3
		seen := make([]bool, heads*hs)
		for r := 0; r < heads*hs; r++ {
			src := hfRoPERow(r, hs)
			if src/hs != r/hs {
				t.Fatalf("hs %d: row %d comes from another head (%d)", hs, r, src)
			}
			if seen[src] {
				t.Fatalf("hs %d: source row %d used twice", hs, src)
			}
			seen[src] = true
			if r%2 == 1 && src != hfRoPERow(r-1, hs)+hs/2 {
				t.Fatalf("hs %d: rows %d,%d are not a rotate-half pair", hs, r-1, r)
			}
		}
	}
}

// TestOpenHFGPT2 checks the transposition of Conv1D weights against the
// raw safetensors bytes: row r, column j of attn_qkv is element (j, r) of
// c_attn.weight.
func TestOpenHFGPT2(t *testing.T) {
	for _, dir := range []string{filepath.Join(referenceDir, "hf-gpt2-tiny"), testmodels.Path(t, "tiny-gpt2-random-lmbuddy")} {
		h, err := OpenHF(dir, HFOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var qkv *Tensor
		for i := range h.Model.Tensors {
			if h.Model.Tensors[i].Name == "blk.0.attn_qkv.weight" {
				qkv = &h.Model.Tensors[i]
			}
		}
		if qkv == nil || qkv.Raw != nil {
			t.Fatalf("%s: attn_qkv missing or not transposed", dir)
		}
		name := "transformer.h.0.attn.c_attn.weight"
		src, ok := h.set.Tensor(name)
		if !ok {
			name = "h.0.attn.c_attn.weight"
			src, _ = h.set.Tensor(name)
		}
		data, _ := h.set.TensorData(src)
		typ, _ := src.Type()
		in, out := int(src.Shape[0]), int(src.Shape[1])
		if !slices.Equal(qkv.Shape, []int64{int64(out), int64(in)}) {
			t.Fatalf("shape %v", qkv.Shape)
		}
		row := make([]float32, in)
		for r := 0; r < out; r++ {
			qkv.Row(r, row)
			for j := 0; j < in; j++ {
				var want float32
				switch typ {
				case quant.F32:
					want = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(j*out+r):]))
				case quant.F16:
					want = quant.FP16ToFP32(binary.LittleEndian.Uint16(data[2*(j*out+r):]))
				}
				if row[j] != want {
					t.Fatalf("%s (%d,%d) = %v, want %v", dir, r, j, row[j], want)
				}
			}
		}
		if s, _ := h.Model.Meta.Bool(format.KeySharedClassifier); !s {
			t.Errorf("%s: GPT-2 classifier not shared", dir)
		}
		h.Close()
	}
}

func TestOpenHFLlama(t *testing.T) {
	h, err := OpenHF(filepath.Join(referenceDir, "hf-llama-tiny"), HFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.DType != quant.BF16 {
		t.Errorf("DType %s, want bf16", h.DType)
	}
	for k, want := range map[string]uint32{format.KeyNHeads: 4, format.KeyNKVHeads: 2, format.KeyVocabSize: 62} {
		if v, _ := h.Model.Meta.U32(k); v != want {
			t.Errorf("%s = %d, want %d", k, v, want)
		}
	}
	if v, _ := h.Model.Meta.F32(format.KeyRopeBase); v != 1000 {
		t.Errorf("rope base %v", v)
	}
	toks, _ := h.Model.Meta.Strings(format.KeyTokenizerTokens)
	scores, _ := h.Model.Meta.F32s(format.KeyTokenizerScores)
	// "▁the" became " the"; it is made by the third merge ("▁t" "he"),
	// after "▁" "t" (rank 0) and "h" "e" (rank 1).
	i := slices.Index(toks, " the")
	if i < 0 || scores[i] != -2 {
		t.Errorf(`" the" at %d with score %v, want score -2`, i, scores[i])
	}
}

// TestFromGGUFVocabOnly: a vocabulary-only GGUF has a tokenizer but no
// model; FromGGUF says what is missing.
func TestFromGGUFVocabOnly(t *testing.T) {
	p := testmodels.Path(t, "llamacpp-vocab/ggml-vocab-gpt-2.gguf")
	f, err := gguf.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := FromGGUF(f, p); err == nil {
		t.Fatal("a vocabulary-only GGUF converted")
	} else {
		t.Log(err)
	}
	meta, err := TokenizerFromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	toks, _ := meta.Strings(format.KeyTokenizerTokens)
	merges, _ := meta.Strings(format.KeyTokenizerMerges)
	eos, _ := meta.I32(format.KeyTokenizerEOSID)
	if len(toks) != 50257 || len(merges) != 50000 || eos != 50256 {
		t.Errorf("%d tokens, %d merges, eos %d", len(toks), len(merges), eos)
	}
}

func TestLoadTokenizerKinds(t *testing.T) {
	for _, c := range []struct {
		path, kind string
		n          int
	}{
		{testmodels.Path(t, "stories260K/tok512.bin"), format.TokenizerLlama, 512},
		{testmodels.Path(t, "gpt2-tokenizer/encoder.json"), format.TokenizerGPT2, 50257},
		{testmodels.Path(t, "llamacpp-vocab/ggml-vocab-llama-spm.gguf"), format.TokenizerLlama, 32000},
		{testmodels.Path(t, "tiny-gpt2-random-lmbuddy"), format.TokenizerGPT2, 21},
		{filepath.Join(referenceDir, "hf-llama-tiny"), format.TokenizerLlama, 62},
	} {
		meta, err := LoadTokenizer(c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		kind, _ := meta.String(format.KeyTokenizerKind)
		toks, _ := meta.Strings(format.KeyTokenizerTokens)
		if kind != c.kind || len(toks) != c.n {
			t.Errorf("%s: kind %q with %d tokens, want %q with %d", c.path, kind, len(toks), c.kind, c.n)
		}
	}
}

// FuzzSentencePieceModel: the protobuf reader returns errors, never panics.
func FuzzSentencePieceModel(f *testing.F) {
	f.Add([]byte{0x0a, 0x09, 0x0a, 0x01, 'a', 0x15, 0, 0, 0x80, 0xbf, 0x18, 0x01})
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		pieces, scores, types, err := parseSentencePieceModel(data)
		if err == nil && (len(pieces) != len(scores) || len(pieces) != len(types)) {
			t.Fatal("lengths differ")
		}
	})
}

// TestConvertedTokenizerIDs: the tokenizer.* metadata convert writes for
// the LLaMA 3 and Qwen vocabularies (from GGUF files and from Hugging Face
// directories whose tokenizer.json wins over vocab.json + merges.txt)
// encodes the reference prompts of expected.json to the listed ids, made by
// Hugging Face tokenizers, BOS included exactly where the model adds one.
func TestConvertedTokenizerIDs(t *testing.T) {
	for _, c := range []struct{ source, expected string }{
		{"llama3-random/l3-F16.gguf", "llama3-random/expected.json"},
		{"qwen2-random/qw-F16.gguf", "qwen2-random/expected.json"},
		{"hf-tokenizers/llama3", "llama3-random/expected.json"},
		{"hf-tokenizers/qwen3", "qwen2-random/expected.json"},
	} {
		meta, err := LoadTokenizer(testmodels.Path(t, c.source))
		if err != nil {
			t.Fatalf("%s: %v", c.source, err)
		}
		spec, err := tokenizer.SpecFromMetadata(meta)
		if err != nil {
			t.Fatalf("%s: %v", c.source, err)
		}
		tok, err := tokenizer.New(spec)
		if err != nil {
			t.Fatalf("%s: %v", c.source, err)
		}
		raw, err := os.ReadFile(testmodels.Path(t, c.expected))
		if err != nil {
			t.Fatal(err)
		}
		var exp struct {
			Prompts []struct {
				Text string `json:"text"`
				IDs  []int  `json:"ids"`
			} `json:"prompts"`
		}
		if err := json.Unmarshal(raw, &exp); err != nil {
			t.Fatal(err)
		}
		for _, p := range exp.Prompts {
			got := tok.Encode(p.Text, spec.AddBOS, true)
			if !slices.Equal(got, p.IDs) {
				t.Errorf("%s: %q encodes to %v, want %v", c.source, p.Text, got, p.IDs)
			}
		}
		if spec.ChatTemplate == "" {
			t.Errorf("%s: the chat template was not carried into the metadata", c.source)
		}
	}
}
