package bench

// The go test -bench suites. Each benchmark reports the figure that matters
// for it with b.ReportMetric: GB/s of weights and the fraction of the
// memory-read bandwidth measured in this process (frac-of-memread) for
// products and forward passes, tokens/s and ns/token for generation and
// tokenizers. Shapes larger than stories110M are skipped unless
// LLMAP_BENCH_LARGE is set or the -bench pattern names them
// (-bench 'Forward/tinyllama').

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/format/llama2c"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/tokenizer"
)

// modelDir holds the synthetic models, written once per test binary so that
// -count repetitions do not write them again: a temporary directory, or
// $LLMAP_BENCH_MODELS (kept, so that repeated runs reuse the files, as
// compare.sh does).
var modelDir string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, keep := os.Getenv("LLMAP_BENCH_MODELS"), true
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "llmap-bench-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		keep = false
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	modelDir = dir
	code := m.Run()
	if !keep {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

var (
	defaultShapes = []string{"stories260K", "stories15M", "stories110M"}
	largeShapes   = []string{"tinyllama-1.1b", "llama2-7b"}
	benchThreads  = []int{1, 2}
)

// shapesToRun lists the default shapes and the large ones that were asked for.
func shapesToRun() []string {
	shapes := append([]string(nil), defaultShapes...)
	pattern := ""
	if f := flag.Lookup("test.bench"); f != nil {
		pattern = f.Value.String()
	}
	for _, s := range largeShapes {
		if os.Getenv("LLMAP_BENCH_LARGE") != "" || strings.Contains(pattern, s) {
			shapes = append(shapes, s)
		}
	}
	return shapes
}

var synthMu sync.Mutex

// synthPath returns the path of the named shape written with matrices of
// type typ, writing it on first use.
func synthPath(b *testing.B, shape string, typ quant.Type) string {
	b.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	path := filepath.Join(modelDir, shape+"-"+typ.String()+".llmap")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	m, err := convert.Synth(shape, convert.Shapes[shape], 1)
	if err != nil {
		b.Fatal(err)
	}
	if err := convert.Write(path, m, convert.Options{Matrices: typ}); err != nil {
		b.Fatal(err)
	}
	return path
}

var memRead = struct {
	once sync.Once
	bw   map[int]float64
}{}

// memReadBandwidth is the read bandwidth on threads goroutines, measured
// once per process, in bytes per second.
func memReadBandwidth(threads int) float64 {
	memRead.once.Do(func() {
		bw := ReadBandwidth(memReadBytes, benchThreads, 300e6)
		memRead.bw = map[int]float64{}
		for i, t := range benchThreads {
			memRead.bw[t] = bw[i]
		}
	})
	return memRead.bw[threads]
}

// reportWeights reports the weight bytes read per second of b's elapsed
// time and their fraction of the read bandwidth on the same threads.
func reportWeights(b *testing.B, bytesPerOp int64, threads int) {
	s := b.Elapsed().Seconds()
	if s <= 0 {
		return
	}
	rate := float64(bytesPerOp) * float64(b.N) / s
	b.ReportMetric(rate/1e9, "GB/s")
	if bw := memReadBandwidth(threads); bw > 0 {
		b.ReportMetric(rate/bw, "frac-of-memread")
	}
}

// memReadBytes is the buffer of BenchmarkMemRead and of the bandwidth the
// other figures are a fraction of: 1 GiB, far beyond any cache.
const memReadBytes = 1 << 30

// BenchmarkMemRead is the ceiling the other figures are set against: a
// 1 GiB buffer read by one and two goroutines.
func BenchmarkMemRead(b *testing.B) {
	buf, release := readBuffer(memReadBytes / 4)
	defer release()
	for i := range buf {
		buf[i] = float32(i & 1023)
	}
	for _, threads := range benchThreads {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			b.SetBytes(int64(len(buf) * 4))
			for b.Loop() {
				readParallel(buf, threads)
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(len(buf)*4)*float64(b.N)/s/1e9, "GB/s")
		})
	}
}

// benchMatrix returns a rows x cols matrix of type typ filled by repeating
// 16 rows of normal random values encoded with the reference quantiser, in
// memory advised into 2 MiB pages as a model's mapping is (hugeBytes), and
// the function that releases that memory.
func benchMatrix(b *testing.B, typ quant.Type, rows, cols int) (quant.Matrix, func()) {
	rb, err := typ.RowBytes(int64(cols))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const seedRows = 16
	x := make([]float32, seedRows*cols)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	seed := make([]byte, seedRows*int(rb))
	if err := quant.QuantizeRef(typ, seed, x); err != nil {
		b.Fatal(err)
	}
	data, release := hugeBytes(rows * int(rb))
	for off := 0; off < len(data); off += copy(data[off:], seed) {
	}
	m, err := quant.NewMatrix(typ, rows, cols, data)
	if err != nil {
		release()
		b.Fatal(err)
	}
	return m, release
}

// BenchmarkForward times one forward position of each synthetic shape at
// every tensor type: decoding speed without sampling. Positions cycle over
// 0..127, so attention stays a small part of the work.
func BenchmarkForward(b *testing.B) {
	for _, shape := range shapesToRun() {
		for _, typ := range quant.Types() {
			for _, threads := range benchThreads {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", shape, typ, threads), func(b *testing.B) {
					m := openModel(b, synthPath(b, shape, typ), threads)
					s, err := m.NewState(128)
					if err != nil {
						b.Fatal(err)
					}
					perToken := WeightBytesPerToken(m)
					pos, tok := 0, 1
					for b.Loop() {
						if _, err := m.Forward(s, tok, pos); err != nil {
							b.Fatal(err)
						}
						pos = (pos + 1) % s.Context()
						tok = (tok*31 + 7) % m.Config.VocabSize
					}
					reportTokens(b, 1)
					reportWeights(b, perToken, threads)
				})
			}
		}
	}
}

// BenchmarkPrefill times a 64-token prompt through prefill (Model.Prefill),
// the entry point llmap bench's pp tests use.
func BenchmarkPrefill(b *testing.B) {
	const n = 64
	for _, shape := range []string{"stories15M", "stories110M"} {
		for _, typ := range []quant.Type{quant.F32, quant.Q8_0} {
			for _, threads := range benchThreads {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", shape, typ, threads), func(b *testing.B) {
					m := openModel(b, synthPath(b, shape, typ), threads)
					s, err := m.NewState(n)
					if err != nil {
						b.Fatal(err)
					}
					tokens := make([]int, n)
					for i := range tokens {
						tokens[i] = (i*131 + 5) % m.Config.VocabSize
					}
					for b.Loop() {
						if _, err := prefill(m, s, tokens); err != nil {
							b.Fatal(err)
						}
					}
					reportTokens(b, n)
				})
			}
		}
	}
}

// BenchmarkGenerate is the figure docs/benchmarks.md compares with
// llama2.c's run.c: 256 positions of a stories110M-shaped model through
// Model.Generate with run.c's default sampling (temperature 1, top-p 0.9),
// as tokens/s counted the way run.c counts them.
func BenchmarkGenerate(b *testing.B) {
	for _, typ := range []quant.Type{quant.F32, quant.Q8_0} {
		for _, threads := range benchThreads {
			b.Run(fmt.Sprintf("stories110M/%s/threads=%d", typ, threads), func(b *testing.B) {
				m := openModel(b, synthPath(b, "stories110M", typ), threads)
				s, err := m.NewState(256)
				if err != nil {
					b.Fatal(err)
				}
				var seconds float64
				var positions int
				seed := uint64(1)
				for b.Loop() {
					sampler := runtime.NewSampler(m.Config.VocabSize, 1, 0.9, 0, runtime.NewRNG(seed))
					seed++
					st, err := m.Generate(s, runtime.Generation{Steps: 256, Sampler: sampler}, func([]byte) error { return nil })
					if err != nil {
						b.Fatal(err)
					}
					seconds += st.Decode.Seconds()
					positions += st.Positions - st.PromptTokens
				}
				if seconds > 0 {
					b.ReportMetric(float64(positions)/seconds, "tokens/s")
				}
			})
		}
	}
}

func openModel(b *testing.B, path string, threads int) *runtime.Model {
	b.Helper()
	m, err := runtime.Open(path, runtime.Options{Threads: threads})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// reportTokens reports tokens/s and ns/token for tokensPerOp tokens an op.
func reportTokens(b *testing.B, tokensPerOp int) {
	s := b.Elapsed().Seconds()
	tokens := float64(tokensPerOp) * float64(b.N)
	if s > 0 && tokens > 0 {
		b.ReportMetric(tokens/s, "tokens/s")
		b.ReportMetric(s*1e9/tokens, "ns/token")
	}
}

// BenchmarkTokenizer encodes and decodes English text with LLaMA's 32000
// piece SentencePiece vocabulary and GPT-2's byte-level BPE.
func BenchmarkTokenizer(b *testing.B) {
	story, err := os.ReadFile(testmodels.Path(b, "stories260K/expected_t0.0_n256.txt"))
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat(string(story)+"\n", 8) // about 4.5 kB

	tokData, err := os.ReadFile(testmodels.Path(b, "llama2c-tokenizer-32k/tokenizer.bin"))
	if err != nil {
		b.Fatal(err)
	}
	lt, err := llama2c.ReadTokenizer(tokData, 32000)
	if err != nil {
		b.Fatal(err)
	}
	sp, err := tokenizer.NewSentencePiece(lt.Pieces, lt.Scores, 1, 2)
	if err != nil {
		b.Fatal(err)
	}
	enc, err := os.ReadFile(testmodels.Path(b, "gpt2-tokenizer/encoder.json"))
	if err != nil {
		b.Fatal(err)
	}
	merges, err := os.ReadFile(testmodels.Path(b, "gpt2-tokenizer/vocab.bpe"))
	if err != nil {
		b.Fatal(err)
	}
	tokens, mergeList, err := tokenizer.LoadGPT2Files(enc, merges)
	if err != nil {
		b.Fatal(err)
	}
	bpe, err := tokenizer.NewBPE(tokens, mergeList)
	if err != nil {
		b.Fatal(err)
	}
	tokenizers := []struct {
		name   string
		encode func(string) []int
		piece  func(prev, id int) []byte
	}{
		{"llama-spm-32k", func(s string) []int { return sp.Encode(s, true, false) }, sp.Piece},
		{"gpt2-bpe-50k", bpe.Encode, func(_, id int) []byte { return bpe.TokenBytes(id) }},
	}
	for _, tk := range tokenizers {
		ids := tk.encode(text)
		b.Run(tk.name+"/encode", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tk.encode(text)
			}
			reportTokens(b, len(ids))
		})
		b.Run(tk.name+"/decode", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			n := 0
			for b.Loop() {
				for i := 1; i < len(ids); i++ {
					n += len(tk.piece(ids[i-1], ids[i]))
				}
			}
			reportTokens(b, len(ids)-1)
			sinkInt += n
		})
	}
}

var sinkInt int

// BenchmarkOpen opens a stories110M-shaped f32 file (537 MB): format.Open
// maps it and parses the header; runtime.Open also builds the weight views,
// the tokenizer and the worker pool. Neither should read the weights.
func BenchmarkOpen(b *testing.B) {
	shapes := []string{"stories110M"}
	for _, s := range shapesToRun() {
		if s == "tinyllama-1.1b" || s == "llama2-7b" {
			shapes = append(shapes, s)
		}
	}
	for _, shape := range shapes {
		path := synthPath(b, shape, quant.F32)
		b.Run("format/"+shape, func(b *testing.B) {
			for b.Loop() {
				f, err := format.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
		b.Run("runtime/"+shape, func(b *testing.B) {
			for b.Loop() {
				m, err := runtime.Open(path, runtime.Options{Threads: 1})
				if err != nil {
					b.Fatal(err)
				}
				m.Close()
			}
		})
	}
}
