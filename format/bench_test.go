package format

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmap/llmap/quant"
)

// benchModel is a header shaped like a small llama: a 32000-token
// vocabulary and 12 blocks of 9 tensors, with tiny shapes so the data stays
// small (only the header matters for NewFile).
func benchModel(b *testing.B) ([]byte, int) {
	var m Metadata
	tokens := make([]string, 32000)
	scores := make([]float32, len(tokens))
	for i := range tokens {
		tokens[i] = fmt.Sprintf("tok%d", i)
		scores[i] = float32(-i)
	}
	m.Set(KeyTokenizerTokens, Strings(tokens))
	m.Set(KeyTokenizerScores, F32s(scores))
	rng := rand.New(rand.NewPCG(7, 8))
	var ts []testTensor
	for l := range 12 {
		for _, s := range []string{"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_down", "ffn_up"} {
			ts = append(ts, makeTensor(b, rng, BlockTensor(l, s+".weight"), quant.Q8_0, 2, 64))
		}
	}
	data := buildBytes(b, &m, ts)
	return data, len(ts)
}

func BenchmarkNewFile(b *testing.B) {
	data, n := benchModel(b)
	b.SetBytes(int64(le.Uint64(data[offDataOffset:])))
	b.ReportAllocs()
	for b.Loop() {
		f, err := NewFile(data)
		if err != nil || len(f.Tensors) != n {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteOpenVerify64MiB(b *testing.B) {
	const size = 64 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "big.llmap")
	specs := []TensorSpec{{"w", quant.F32, []int64{size / 4 / 1024, 1024}}}
	b.Run("Write", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			w, err := Create(path, nil, specs)
			if err != nil {
				b.Fatal(err)
			}
			if err := w.WriteTensor("w", bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	if _, err := os.Stat(path); err != nil {
		b.Skip("no file written")
	}
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			f, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("Verify", func(b *testing.B) {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(size)
		for b.Loop() {
			if err := f.Verify(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
