package tokenizer

import (
	"path/filepath"
	"testing"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/gguf"
	"github.com/llmap/llmap/internal/testmodels"
)

// BenchmarkLoad measures building the 128k (LLaMA 3) and 151k (Qwen)
// tokenizers from tokenizer.json, from GGUF metadata and from a .llmap
// file's metadata (opening the file, which decodes the metadata, included).
func BenchmarkLoad(b *testing.B) {
	for _, c := range []struct{ name, hf, gguf string }{
		{"llama3", "hf-tokenizers/llama3", "llama3-random/l3-F16.gguf"},
		{"qwen3", "hf-tokenizers/qwen3", "qwen2-random/qw-F16.gguf"},
	} {
		dir := filepath.Dir(testmodels.Path(b, c.hf+"/tokenizer.json"))
		ggufPath := testmodels.Path(b, c.gguf)
		b.Run(c.name+"/tokenizer.json", func(b *testing.B) {
			for b.Loop() {
				s, err := FromHFDir(dir)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := New(s); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/gguf", func(b *testing.B) {
			for b.Loop() {
				f, err := gguf.Open(ggufPath)
				if err != nil {
					b.Fatal(err)
				}
				s, err := FromGGUF(f)
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := New(s); err != nil {
					b.Fatal(err)
				}
			}
		})
		s, err := FromHFDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "tok.llmap")
		w, err := format.Create(path, s.Metadata(), nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/llmap", func(b *testing.B) {
			for b.Loop() {
				f, err := format.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				s, err := SpecFromMetadata(&f.Meta)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := New(s); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}

// BenchmarkEncode encodes 1 MiB of English-like text (bpeBenchText) with
// each family's tokenizer; cold clears the pre-token cache first.
func BenchmarkEncode(b *testing.B) {
	text := bpeBenchText(1 << 20)
	for _, c := range []struct {
		name string
		tok  func() *Tokenizer
	}{
		{"llama3", func() *Tokenizer { return loadHFTokenizer(b, "llama3") }},
		{"qwen3", func() *Tokenizer { return loadHFTokenizer(b, "qwen3") }},
	} {
		tok := c.tok()
		b.Run(c.name+"/cold", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tok.bpe.cacheMu.Lock()
				clear(tok.bpe.cache)
				tok.bpe.cacheMu.Unlock()
				tok.Encode(text, false, true)
			}
		})
		b.Run(c.name+"/warm", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tok.Encode(text, false, true)
			}
		})
	}
}

// BenchmarkNewBPE measures building the byte-level BPE of LLaMA 3 (128k
// tokens, 280k merges, ignore_merges) from its strings alone.
func BenchmarkNewBPE(b *testing.B) {
	s := loadHFTokenizer(b, "llama3").Spec()
	for b.Loop() {
		if _, err := NewBPEConfig(s.Tokens, s.Merges, BPEConfig{Pretokenizer: s.Pretokenizer, IgnoreMerges: s.IgnoreMerges, Types: s.Types}); err != nil {
			b.Fatal(err)
		}
	}
}
