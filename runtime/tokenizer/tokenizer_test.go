package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/internal/testmodels"
)

// addedTokenIDs reads the added_tokens of hf-tokenizers/NAME/tokenizer.json:
// content -> id, and content -> special.
func addedTokenIDs(t *testing.T, name string) (map[string]int, map[string]bool) {
	t.Helper()
	raw, err := os.ReadFile(testmodels.Path(t, "hf-tokenizers/"+name+"/tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tj struct {
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
	}
	if err := json.Unmarshal(raw, &tj); err != nil {
		t.Fatal(err)
	}
	ids, special := map[string]int{}, map[string]bool{}
	for _, a := range tj.AddedTokens {
		ids[a.Content], special[a.Content] = a.ID, a.Special
	}
	return ids, special
}

// TestSpecialTokensInText: an added token written in the text is that
// token, and the text around it is encoded as if it stood alone (Hugging
// Face splits added tokens out first). Without parseSpecial, control
// tokens are text and user-defined ones are still matched.
func TestSpecialTokensInText(t *testing.T) {
	for _, c := range []struct {
		name  string
		texts []string // pieces; those in added_tokens are tokens
	}{
		{"llama3", []string{"<|begin_of_text|>", "<|start_header_id|>", "user", "<|end_header_id|>", "\n\nHello!", "<|eot_id|>", "<|start_header_id|>", "assistant", "<|end_header_id|>", "\n\n"}},
		{"qwen3", []string{"<|im_start|>", "user\nWhat is 12+30?", "<|im_end|>", "\n", "<|im_start|>", "assistant\n", "<think>", "\n\n", "</think>", "\n\n42", "<|im_end|>"}},
	} {
		ids, special := addedTokenIDs(t, c.name)
		tok := loadHFTokenizer(t, c.name)
		var want, wantOrdinary []int
		var text, pending string
		flush := func() {
			wantOrdinary = append(wantOrdinary, tok.Encode(pending, false, false)...)
			pending = ""
		}
		for _, p := range c.texts {
			text += p
			id, added := ids[p]
			if !added {
				want = append(want, tok.Encode(p, false, true)...)
				pending += p
				continue
			}
			want = append(want, id)
			if special[p] {
				pending += p
			} else {
				flush()
				wantOrdinary = append(wantOrdinary, id)
			}
		}
		flush()
		if got := tok.Encode(text, false, true); !slices.Equal(got, want) {
			t.Errorf("%s: Encode(%q):\n got %v\nwant %v", c.name, text, got, want)
		}
		got := tok.Encode(text, false, false)
		if !slices.Equal(got, wantOrdinary) {
			t.Errorf("%s: Encode(%q) without special tokens:\n got %v\nwant %v", c.name, text, got, wantOrdinary)
		}
		if dec := string(tok.Decode(got)); dec != text {
			t.Errorf("%s: decoded %q", c.name, dec)
		}
	}
}

// TestBOSRules: each source's BOS, EOS, EOT, end-of-generation set and
// whether prompts start with BOS, as the files state them or as llama.cpp
// defaults them.
func TestBOSRules(t *testing.T) {
	for _, c := range []struct {
		name          string
		tok           func() *Tokenizer
		bos, eos, eot int
		addBOS        bool
		eog           []int
	}{
		// tokenizer_config.json names bos and eos; the post-processor adds
		// nothing and there is no add_bos_token: LLaMA 3's default adds BOS.
		{"hf llama3", func() *Tokenizer { return loadHFTokenizer(t, "llama3") }, 128000, 128001, 128009, true, []int{128001, 128009}},
		// add_bos_token false, bos_token null, eos_token <|im_end|>.
		{"hf qwen3", func() *Tokenizer { return loadHFTokenizer(t, "qwen3") }, -1, 151645, 151645, false, []int{151643, 151645}},
		{"gguf llama-bpe", func() *Tokenizer { return loadGGUFTokenizer(t, "llama3-random/l3-F16.gguf") }, 128000, 128001, 128009, true, []int{128001, 128009}},
		{"gguf qwen2", func() *Tokenizer { return loadGGUFTokenizer(t, "qwen2-random/qw-F16.gguf") }, 151643, 151645, 151645, false, []int{151643, 151645}},
		// gpt-2 names bos 50256 but no add_bos_token: GPT-2 adds none.
		{"gguf gpt-2", func() *Tokenizer { return loadGGUFTokenizer(t, "llamacpp-vocab/ggml-vocab-gpt-2.gguf") }, 50256, 50256, 50256, false, []int{50256}},
		{"gguf llama spm", func() *Tokenizer { return loadGGUFTokenizer(t, "llamacpp-vocab/ggml-vocab-llama-spm.gguf") }, 1, 2, -1, true, []int{2}},
	} {
		tok := c.tok()
		if tok.BOS() != c.bos || tok.EOS() != c.eos || tok.EOT() != c.eot || tok.AddBOS() != c.addBOS || !slices.Equal(tok.EOG(), c.eog) {
			t.Errorf("%s: BOS %d EOS %d EOT %d AddBOS %v EOG %v, want %d %d %d %v %v", c.name,
				tok.BOS(), tok.EOS(), tok.EOT(), tok.AddBOS(), tok.EOG(), c.bos, c.eos, c.eot, c.addBOS, c.eog)
		}
		for _, id := range c.eog {
			if !tok.IsEOG(id) {
				t.Errorf("%s: IsEOG(%d) false", c.name, id)
			}
		}
		ids := tok.Encode("Hi", true, true)
		if starts := len(ids) > 0 && ids[0] == c.bos; starts != c.addBOS {
			t.Errorf("%s: Encode(\"Hi\", addBOS) = %v", c.name, ids)
		}
		if got := tok.Encode("Hi", false, true); len(got) == 0 || got[0] == c.bos && c.bos >= 0 {
			t.Errorf("%s: Encode(\"Hi\") without BOS = %v", c.name, got)
		}
	}
}

// TestChatTemplateCarried: the chat template reaches the Spec, and the
// .llmap metadata, byte for byte as tokenizer_config.json and the GGUF
// file (made from the same tokenizer_config.json) hold it.
func TestChatTemplateCarried(t *testing.T) {
	for _, c := range []struct{ hf, gguf string }{
		{"llama3", "llama3-random/l3-F16.gguf"},
		{"qwen3", "qwen2-random/qw-F16.gguf"},
	} {
		raw, err := os.ReadFile(testmodels.Path(t, "hf-tokenizers/"+c.hf+"/tokenizer_config.json"))
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			ChatTemplate string `json:"chat_template"`
		}
		if err := json.Unmarshal(raw, &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.ChatTemplate == "" {
			t.Fatalf("%s: no chat_template", c.hf)
		}
		for name, tok := range map[string]*Tokenizer{"hf " + c.hf: loadHFTokenizer(t, c.hf), c.gguf: loadGGUFTokenizer(t, c.gguf)} {
			if tok.ChatTemplate() != cfg.ChatTemplate {
				t.Errorf("%s: chat template differs from tokenizer_config.json's (%d bytes, want %d)", name, len(tok.ChatTemplate()), len(cfg.ChatTemplate))
			}
		}
	}
}

// writeHFDir writes files into a new temporary directory.
func writeHFDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tinyTokenizerJSON is a byte-level BPE over "a", "b", "ab" with the 256
// byte tokens, GPT-2's pre-tokenizer, and the given parts spliced in.
func tinyTokenizerJSON(model, added, post string) string {
	var vocab []string
	for b := range 256 {
		r := bpeByteToRune[b]
		q, _ := json.Marshal(string(r))
		vocab = append(vocab, string(q)+": "+strings.TrimSpace(jsonInt(b)))
	}
	vocab = append(vocab, `"ab": 256`, `"<s>": 257`)
	if model == "" {
		model = `{"type": "BPE", "vocab": {` + strings.Join(vocab, ", ") + `}, "merges": ["a b"]}`
	}
	if added == "" {
		added = `[{"id": 257, "content": "<s>", "special": true}]`
	}
	if post == "" {
		post = "null"
	}
	return `{"version": "1.0", "added_tokens": ` + added + `, "normalizer": null,
	"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
	"post_processor": ` + post + `, "decoder": {"type": "ByteLevel"}, "model": ` + model + `}`
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestHFBOSSources: where a tokenizer.json directory's BOS rule comes from,
// in llama.cpp's converter's order: tokenizer_config.json's add_bos_token,
// then the post-processor's template, then the family's default.
func TestHFBOSSources(t *testing.T) {
	template := `{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]}`
	noBOSTemplate := `{"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}]}]}`
	for _, c := range []struct {
		name   string
		files  map[string]string
		bos    int
		addBOS bool
	}{
		{"gpt2 default", map[string]string{"tokenizer.json": tinyTokenizerJSON("", "", "")}, -1, false},
		{"template adds <s>", map[string]string{"tokenizer.json": tinyTokenizerJSON("", "", template)}, 257, true},
		{"template in a sequence adds nothing", map[string]string{"tokenizer.json": tinyTokenizerJSON("", "", noBOSTemplate), "config.json": `{"bos_token_id": 257}`}, 257, false},
		{"add_bos_token beats the template", map[string]string{"tokenizer.json": tinyTokenizerJSON("", "", template), "tokenizer_config.json": `{"add_bos_token": false}`}, 257, false},
		{"add_bos_token with bos_token object", map[string]string{"tokenizer.json": tinyTokenizerJSON("", "", ""), "tokenizer_config.json": `{"add_bos_token": true, "bos_token": {"content": "<s>"}}`}, 257, true},
		{"config.json id list", map[string]string{"tokenizer.json": tinyTokenizerJSON("", "", ""), "config.json": `{"bos_token_id": [257, 3]}`}, 257, false},
	} {
		s, err := FromHFDir(writeHFDir(t, c.files))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if s.BOS != c.bos || s.AddBOS != c.addBOS {
			t.Errorf("%s: BOS %d AddBOS %v, want %d %v", c.name, s.BOS, s.AddBOS, c.bos, c.addBOS)
		}
	}
}

// TestHFMergeForms: merges as "a b" strings and as ["a", "b"] pairs give
// the same tokenizer; chat templates in the list form and in
// chat_template.jinja are carried.
func TestHFMergeForms(t *testing.T) {
	pairs := strings.Replace(tinyTokenizerJSON("", "", ""), `"merges": ["a b"]`, `"merges": [["a", "b"]]`, 1)
	for name, files := range map[string]map[string]string{
		"strings": {"tokenizer.json": tinyTokenizerJSON("", "", ""), "chat_template.jinja": "{{ messages }}"},
		"pairs": {"tokenizer.json": pairs, "tokenizer_config.json": `{"chat_template": [
			{"name": "default", "template": "{{ messages }}"}, {"name": "tool_use", "template": "{{ tools }}"}]}`},
	} {
		s, err := FromHFDir(writeHFDir(t, files))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(s.Merges, []string{"a b"}) || s.ChatTemplate != "{{ messages }}" {
			t.Errorf("%s: merges %q, chat template %q", name, s.Merges, s.ChatTemplate)
		}
		if name == "pairs" && s.ChatTemplates["tool_use"] != "{{ tools }}" {
			t.Errorf("named templates %v", s.ChatTemplates)
		}
		s2, err := SpecFromMetadata(s.Metadata())
		if err != nil {
			t.Fatal(err)
		}
		if s2.ChatTemplate != s.ChatTemplate || len(s2.ChatTemplates) != len(s.ChatTemplates) || s2.ChatTemplates["tool_use"] != s.ChatTemplates["tool_use"] {
			t.Errorf("%s: templates lost in the metadata: %q %v", name, s2.ChatTemplate, s2.ChatTemplates)
		}
		tok, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Encode("ab<s>a", false, true); !slices.Equal(got, []int{256, 257, 'a'}) {
			t.Errorf("%s: Encode = %v", name, got)
		}
	}
}

// TestNFC: Qwen's normalizer composes "e" + U+0301 into "é" before
// encoding, as Hugging Face does; a tokenizer without it keeps the two.
func TestNFC(t *testing.T) {
	qwen := loadHFTokenizer(t, "qwen3")
	composed, decomposed := "caf\u00e9", "cafe\u0301"
	if got, want := qwen.Encode(decomposed, false, true), qwen.Encode(composed, false, true); !slices.Equal(got, want) {
		t.Errorf("NFC: %v, want %v", got, want)
	}
	llama := loadHFTokenizer(t, "llama3")
	if got, want := llama.Encode(decomposed, false, true), llama.Encode(composed, false, true); slices.Equal(got, want) {
		t.Errorf("LLaMA 3 has no normalizer, but %q and %q encode alike: %v", decomposed, composed, got)
	}
}

// TestOldGPT2Metadata: a .llmap written before tokenizer.pre and the
// token types existed still reads as GPT-2, with "<|endoftext|>" special.
func TestOldGPT2Metadata(t *testing.T) {
	tok := loadGPT2BPE(t)
	s := &Spec{Model: ModelBPE, Tokens: tok.tokens, BOS: -1, EOS: tok.EOT(), EOT: -1}
	var merges []string
	raw, err := os.ReadFile(testmodels.Path(t, "gpt2-tokenizer/vocab.bpe"))
	if err != nil {
		t.Fatal(err)
	}
	_, merges, err = LoadGPT2Files([]byte(`{"a": 0}`), raw)
	if err != nil {
		t.Fatal(err)
	}
	s.Merges = merges
	m := &format.Metadata{}
	full := s.Metadata()
	for _, k := range full.Keys() {
		if v, _ := full.Get(k); !slices.Contains([]string{format.KeyTokenizerPre, format.KeyTokenizerIgnoreMerges, format.KeyTokenizerEOTID, format.KeyTokenizerEOGIDs}, k) {
			m.Set(k, v)
		}
	}
	old, err := SpecFromMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	if old.Pretokenizer != PreGPT2 || old.AddBOS || old.EOS != 50256 || !slices.Equal(old.EOG, []int{50256}) {
		t.Errorf("old GPT-2 metadata: %+v", old)
	}
	nt, err := New(old)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := nt.Encode("Hi<|endoftext|>", true, true), append(tok.Encode("Hi"), 50256); !slices.Equal(got, want) {
		t.Errorf("Encode = %v", got)
	}
}
