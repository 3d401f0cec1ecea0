package tokenizer

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/llmap/llmap/format/gguf"
)

// ggufKV is one GGUF metadata entry for ggufBytes: a key and a value of
// type string, bool, uint32, int32, []string, []int32 or []float32.
type ggufKV struct {
	key string
	val any
}

// ggufBytes encodes a GGUF v3 file with the given metadata and no tensors.
func ggufBytes(kvs ...ggufKV) []byte {
	le := binary.LittleEndian
	b := append([]byte(gguf.Magic), 3, 0, 0, 0)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint64(b, uint64(len(kvs)))
	str := func(b []byte, s string) []byte { return append(le.AppendUint64(b, uint64(len(s))), s...) }
	for _, kv := range kvs {
		b = str(b, kv.key)
		switch v := kv.val.(type) {
		case string:
			b = str(le.AppendUint32(b, 8), v)
		case bool:
			b = le.AppendUint32(b, 7)
			if v {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		case uint32:
			b = le.AppendUint32(le.AppendUint32(b, 4), v)
		case int32:
			b = le.AppendUint32(le.AppendUint32(b, 5), uint32(v))
		case []string:
			b = le.AppendUint64(le.AppendUint32(le.AppendUint32(b, 9), 8), uint64(len(v)))
			for _, s := range v {
				b = str(b, s)
			}
		case []int32:
			b = le.AppendUint64(le.AppendUint32(le.AppendUint32(b, 9), 5), uint64(len(v)))
			for _, x := range v {
				b = le.AppendUint32(b, uint32(x))
			}
		case []float32:
			b = le.AppendUint64(le.AppendUint32(le.AppendUint32(b, 9), 6), uint64(len(v)))
			for _, x := range v {
				b = le.AppendUint32(b, math.Float32bits(x))
			}
		default:
			panic("ggufBytes: unsupported value")
		}
	}
	return b
}

// tinyByteTokens returns GPT-2's 256 byte tokens followed by extra.
func tinyByteTokens(extra ...string) []string {
	var tokens []string
	for _, r := range bpeByteToRune {
		tokens = append(tokens, string(r))
	}
	return append(tokens, extra...)
}

// tinyGGUF is a gpt2-model vocabulary with "ab" and "<|im_end|>" and the
// given extra or replacement entries (a later key wins).
func tinyGGUF(extra ...ggufKV) []ggufKV {
	tokens := tinyByteTokens("ab", "<|im_end|>")
	types := make([]int32, len(tokens))
	for i := range types {
		types[i] = TypeNormal
	}
	types[len(types)-1] = TypeControl
	kvs := []ggufKV{
		{"tokenizer.ggml.model", "gpt2"},
		{"tokenizer.ggml.pre", "qwen2"},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.merges", []string{"a b"}},
		{"tokenizer.ggml.eos_token_id", uint32(257)},
		{"tokenizer.chat_template", "{{ x }}"},
		{"tokenizer.chat_template.rag", "{{ docs }}"},
	}
	for _, e := range extra {
		replaced := false
		for i := range kvs {
			if kvs[i].key == e.key {
				kvs[i], replaced = e, true
			}
		}
		if !replaced {
			kvs = append(kvs, e)
		}
	}
	return kvs
}

func specFromGGUFBytes(data []byte) (*Spec, error) {
	f, err := gguf.NewFile(data)
	if err != nil {
		return nil, err
	}
	return FromGGUF(f)
}

func TestFromGGUFTiny(t *testing.T) {
	s, err := specFromGGUFBytes(ggufBytes(tinyGGUF()...))
	if err != nil {
		t.Fatal(err)
	}
	if s.Pretokenizer != PreQwen2 || s.AddBOS || s.BOS != -1 || s.EOS != 257 || s.EOT != 257 ||
		s.ChatTemplate != "{{ x }}" || s.ChatTemplates["rag"] != "{{ docs }}" {
		t.Errorf("spec %+v", s)
	}
	tok, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("ab<|im_end|>", true, true); len(got) != 2 || got[0] != 256 || got[1] != 257 {
		t.Errorf("Encode = %v", got)
	}
}

// TestBadGGUF: each broken tokenizer gives an error that says which key is
// wrong; none panics.
func TestBadGGUF(t *testing.T) {
	for _, c := range []struct {
		kv   ggufKV
		want string
	}{
		{ggufKV{"tokenizer.ggml.model", "bert"}, `tokenizer.ggml.model = "bert"`},
		{ggufKV{"tokenizer.ggml.model", uint32(1)}, "tokenizer.ggml.model: missing or not a string"},
		{ggufKV{"tokenizer.ggml.pre", "deepseek-llm"}, `tokenizer.ggml.pre = "deepseek-llm": pre-tokenizer not supported`},
		{ggufKV{"tokenizer.ggml.tokens", []string{}}, "tokenizer.ggml.tokens: empty"},
		{ggufKV{"tokenizer.ggml.tokens", []int32{1}}, "tokenizer.ggml.tokens: missing or not an array of strings"},
		{ggufKV{"tokenizer.ggml.token_type", []int32{1}}, "tokenizer.ggml.token_type: want 258 int32 values"},
		{ggufKV{"tokenizer.ggml.merges", "a b"}, "tokenizer.ggml.merges: missing"},
		{ggufKV{"tokenizer.ggml.eos_token_id", uint32(258)}, "tokenizer.ggml.eos_token_id = 258: not a token id"},
		{ggufKV{"tokenizer.ggml.add_bos_token", true}, "tokenizer.ggml.bos_token_id: missing, and the qwen2 tokenizer adds BOS"},
		{ggufKV{"tokenizer.ggml.add_bos_token", "yes"}, "tokenizer.ggml.add_bos_token = \"yes\": not a bool"},
		{ggufKV{"tokenizer.chat_template", uint32(3)}, "tokenizer.chat_template: not a string"},
	} {
		_, err := specFromGGUFBytes(ggufBytes(tinyGGUF(c.kv)...))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s = %v: error %v, want one line with %q", c.kv.key, c.kv.val, err, c.want)
		}
	}
	// A merge of unknown tokens loads, and New rejects it.
	s, err := specFromGGUFBytes(ggufBytes(tinyGGUF(ggufKV{"tokenizer.ggml.merges", []string{"x yz"}})...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(s); err == nil || !strings.Contains(err.Error(), `unknown token "yz"`) {
		t.Errorf("New with a bad merge: %v", err)
	}
}

// TestBadTokenizerJSON: broken tokenizer.json directories give one-line
// errors naming the file at fault.
func TestBadTokenizerJSON(t *testing.T) {
	good := tinyTokenizerJSON("", "", "")
	for _, c := range []struct {
		name  string
		files map[string]string
		file  string // the file the error must name
		want  string
	}{
		{"truncated", map[string]string{"tokenizer.json": good[:len(good)/2]}, "tokenizer.json", "unexpected end of JSON input"},
		{"syntax", map[string]string{"tokenizer.json": "{\n\"model\": ]"}, "tokenizer.json", "line 2, column"},
		{"not an object", map[string]string{"tokenizer.json": "[1, 2]"}, "tokenizer.json", "the document is a JSON array, want an object"},
		{"no model", map[string]string{"tokenizer.json": `{"added_tokens": []}`}, "tokenizer.json", `no "model"`},
		{"unigram", map[string]string{"tokenizer.json": tinyTokenizerJSON(`{"type": "Unigram", "vocab": [["a", 0.0]]}`, "", "")}, "tokenizer.json", `model type "Unigram" is not supported`},
		{"wordpiece", map[string]string{"tokenizer.json": tinyTokenizerJSON(`{"type": "WordPiece", "vocab": {"a": 0}}`, "", "")}, "tokenizer.json", `model type "WordPiece"`},
		{"no merges", map[string]string{"tokenizer.json": tinyTokenizerJSON(`{"type": "BPE", "vocab": {"a": 0}}`, "[]", "")}, "tokenizer.json", `no "merges"`},
		{"no vocab", map[string]string{"tokenizer.json": tinyTokenizerJSON(`{"type": "BPE", "merges": []}`, "[]", "")}, "tokenizer.json", `no "vocab"`},
		{"merges of numbers", map[string]string{"tokenizer.json": tinyTokenizerJSON(`{"type": "BPE", "vocab": {"a": 0}, "merges": [1]}`, "[]", "")}, "tokenizer.json", "model merges: want"},
		{"merge triple", map[string]string{"tokenizer.json": tinyTokenizerJSON(`{"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "a", "a"]]}`, "[]", "")}, "tokenizer.json", "3 parts, want 2"},
		{"sparse ids", map[string]string{"tokenizer.json": tinyTokenizerJSON(`{"type": "BPE", "vocab": {"a": 0, "b": 5}, "merges": []}`, "[]", "")}, "tokenizer.json", "ids must be"},
		{"shared id", map[string]string{"tokenizer.json": tinyTokenizerJSON(`{"type": "BPE", "vocab": {"a": 0, "b": 0, "c": 1}, "merges": []}`, `[{"id": 2, "content": "x"}]`, "")}, "tokenizer.json", "have the same id 0"},
		{"negative id", map[string]string{"tokenizer.json": tinyTokenizerJSON(`{"type": "BPE", "vocab": {"a": 0, "b": -1}, "merges": []}`, "[]", "")}, "tokenizer.json", "has id -1"},
		{"added over vocab", map[string]string{"tokenizer.json": tinyTokenizerJSON("", `[{"id": 3, "content": "<s>", "special": true}]`, "")}, "tokenizer.json", `added token "<s>" has id 3`},
		{"added without id", map[string]string{"tokenizer.json": tinyTokenizerJSON("", `[{"content": "<s>"}]`, "")}, "tokenizer.json", "has no id"},
		{"dropout", map[string]string{"tokenizer.json": tinyTokenizerJSON(`{"type": "BPE", "dropout": 0.1, "vocab": {"a": 0}, "merges": []}`, "[]", "")}, "tokenizer.json", "dropout"},
		{"other pre-tokenizer", map[string]string{"tokenizer.json": strings.Replace(good, `"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}`,
			`"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\p{N}+"}, "behavior": "Isolated"}, {"type": "ByteLevel", "use_regex": false}]}`, 1)},
			"tokenizer.json", "byte-level pre-tokenizer"},
		{"prefix space", map[string]string{"tokenizer.json": strings.Replace(good, `"add_prefix_space": false`, `"add_prefix_space": true`, 1)}, "tokenizer.json", "is not supported"},
		{"NFKC", map[string]string{"tokenizer.json": strings.Replace(good, `"normalizer": null`, `"normalizer": {"type": "NFKC"}`, 1)}, "tokenizer.json", `normalizer {"type":"NFKC"`},
		{"whitespace pre-tokenizer", map[string]string{"tokenizer.json": strings.Replace(good, `{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}`, `{"type": "Whitespace"}`, 1)}, "tokenizer.json", "neither byte-level nor SentencePiece-style"},
		{"config syntax", map[string]string{"tokenizer.json": good, "tokenizer_config.json": `{"bos_token": }`}, "tokenizer_config.json", "invalid character"},
		{"bos not a token", map[string]string{"tokenizer.json": good, "tokenizer_config.json": `{"bos_token": "<|nope|>"}`}, "tokenizer_config.json", `bos_token "<|nope|>" is not a token`},
		{"bos added but none", map[string]string{"tokenizer.json": good, "tokenizer_config.json": `{"add_bos_token": true}`}, "tokenizer.json", "no BOS token is named"},
		{"template type", map[string]string{"tokenizer.json": good, "tokenizer_config.json": `{"chat_template": 7}`}, "tokenizer_config.json", "chat_template is neither"},
		{"config.json", map[string]string{"tokenizer.json": good, "config.json": `[`}, "config.json", "unexpected end of JSON input"},
		{"bos id out of range", map[string]string{"tokenizer.json": good, "config.json": `{"bos_token_id": 999}`}, "config.json", "bos_token_id 999 is not a token id"},
		{"eos list out of range", map[string]string{"tokenizer.json": good, "generation_config.json": `{"eos_token_id": [1, -2]}`}, "generation_config.json", "eos_token_id -2 is not a token id"},
	} {
		dir := writeHFDir(t, c.files)
		_, err := FromHFDir(dir)
		if err == nil || !strings.Contains(err.Error(), dir+"/"+c.file+":") || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming %s with %q", c.name, err, c.file, c.want)
		}
	}
	if _, err := FromHFDir(t.TempDir()); !errors.Is(err, ErrNoTokenizerJSON) {
		t.Errorf("empty directory: %v, want ErrNoTokenizerJSON", err)
	}
}

// FuzzFromGGUF: any GGUF bytes give a Spec or an error, never a panic, and
// a Spec that New accepts encodes without panicking.
func FuzzFromGGUF(f *testing.F) {
	f.Add(ggufBytes(tinyGGUF()...))
	f.Add(ggufBytes(tinyGGUF(ggufKV{"tokenizer.ggml.pre", "llama-bpe"}, ggufKV{"tokenizer.ggml.bos_token_id", uint32(256)})...))
	f.Add(ggufBytes(tinyGGUF(ggufKV{"tokenizer.ggml.model", "llama"}, ggufKV{"tokenizer.ggml.scores", make([]float32, 258)})...))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := specFromGGUFBytes(data)
		if err != nil {
			return
		}
		fuzzEncode(t, s)
	})
}

// FuzzTokenizerJSON: likewise for tokenizer.json contents.
func FuzzTokenizerJSON(f *testing.F) {
	f.Add([]byte(tinyTokenizerJSON("", "", "")))
	f.Add([]byte(tinyTokenizerJSON("", "", `{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}]}`)))
	f.Add([]byte(`{"model": {"type": "BPE", "byte_fallback": true, "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3, "a": 4, "▁a": 5}, "merges": [["▁", "a"]]}}`))
	f.Add([]byte(`{"normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, {"type": "ByteLevel"}]}, "model": {"vocab": {"a": 0}, "merges": []}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := specFromTokenizerJSON(data, nil)
		if err != nil {
			return
		}
		fuzzEncode(t, s)
	})
}

// fuzzEncode builds s (an error is fine) and checks that encoding yields
// in-range ids and, through the metadata, the same Spec.
func fuzzEncode(t *testing.T, s *Spec) {
	s2, err := SpecFromMetadata(s.Metadata())
	if err != nil {
		t.Fatalf("a loaded Spec does not survive its metadata: %v", err)
	}
	tok, err := New(s2)
	if err != nil {
		return
	}
	for _, text := range []string{"", "ab a\xff 12 <s><|im_end|>", strings.Join(s.Tokens[:min(len(s.Tokens), 20)], " ")} {
		for _, id := range tok.Encode(text, true, true) {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("Encode(%q): id %d out of range", text, id)
			}
		}
	}
}
