package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/runtime"
)

// Options choose what Run measures.
type Options struct {
	Prompt  []int          // prompt lengths to time as pp N; each > 0
	Gen     []int          // generation lengths to time as tg N; each > 0
	Depth   []int          // context depths: each test runs after a prompt of this many tokens (llama-bench's -d); nil means {0}
	Reps    int            // timed repetitions of each test, after one warm-up
	Threads []int          // thread counts; the model is opened once for each
	KVType  runtime.KVType // the type of the KV cache

	// NoMmap reads the weights into anonymous memory for each thread
	// count (runtime.Options.NoMmap, llama-bench's --mmap 0), so the
	// figures do not depend on how the page cache holds the file.
	NoMmap bool
	// NoRefold leaves the page cache's folios as they are
	// (runtime.Options.NoRefold): a mapped run then measures the cache in
	// the state it finds it.
	NoRefold bool

	// ReadBytes is the buffer of the read-bandwidth measurement;
	// 0 means ReadBytes().
	ReadBytes int64

	// Progress, if set, receives a line before each test.
	Progress func(msg string)

	// SampleMemory, if set, starts following the process's memory before
	// the first open; Run calls the function it returns after the last
	// test, before the bandwidth measurement allocates its buffer, and
	// puts the result in Report.Memory. (cmd/llmap passes one built on
	// memstats.Sampler; the suites here need none.)
	SampleMemory func() (stop func() Memory)

	// Context, if set, stops the run between repetitions when it is
	// cancelled (llmap bench on Ctrl-C): Run then returns the report of
	// what was measured so far, with Interrupted set and no bandwidth
	// figures, together with the context's error.
	Context context.Context
}

// Memory is the process's memory over the tests, in bytes.
type Memory struct {
	PeakRSS     int64  `json:"peak_rss"`     // the kernel's high-water mark (VmHWM)
	PeakAnon    int64  `json:"peak_anon"`    // largest sampled anonymous RSS: heap, KV cache
	PeakFile    int64  `json:"peak_file"`    // largest sampled file-backed RSS: the mapped weights
	MajorFaults uint64 `json:"major_faults"` // page faults that read the disk
	MinorFaults uint64 `json:"minor_faults"` // page faults served from memory
}

// Check reports the first invalid option.
func (o *Options) Check() error {
	switch {
	case len(o.Prompt) == 0 && len(o.Gen) == 0:
		return errors.New("nothing to measure: give -p and/or -n")
	case o.Reps < 1:
		return fmt.Errorf("repetitions must be at least 1, got %d", o.Reps)
	case len(o.Threads) == 0:
		return errors.New("no thread counts")
	}
	for _, n := range append(slices.Clone(o.Prompt), o.Gen...) {
		if n < 1 {
			return fmt.Errorf("token counts must be at least 1, got %d", n)
		}
	}
	for _, d := range o.Depth {
		if d < 0 {
			return fmt.Errorf("depths must be 0 or more, got %d", d)
		}
	}
	for _, t := range o.Threads {
		if t < 1 || t > 1024 {
			return fmt.Errorf("thread counts must be between 1 and 1024, got %d", t)
		}
	}
	return nil
}

// ModelInfo describes the model file.
type ModelInfo struct {
	Path      string         `json:"path"`
	Name      string         `json:"name"`
	Arch      string         `json:"arch"`
	FileBytes int64          `json:"file_bytes"`
	Params    int64          `json:"params"`
	Types     map[string]int `json:"tensor_types"` // tensor type -> number of tensors
	Context   int            `json:"context"`
	KVType    string         `json:"kv_type"`  // the KV cache's type
	KVBytes   int64          `json:"kv_bytes"` // the KV cache of the run's longest test (depth included)
}

// TypesString lists the tensor types, most frequent first: "q8_0 x85, f32 x25".
func (mi ModelInfo) TypesString() string {
	names := make([]string, 0, len(mi.Types))
	for n := range mi.Types {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := mi.Types[names[i]], mi.Types[names[j]]
		return a > b || a == b && names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s x%d", n, mi.Types[n])
	}
	return strings.Join(parts, ", ")
}

// Result is one test (pp N or tg N) on one thread count.
type Result struct {
	Test    string `json:"test"` // "pp512", "tg128", "tg128 @ d1920"
	Tokens  int    `json:"tokens"`
	Depth   int    `json:"depth"` // tokens already in the context when the test starts
	Threads int    `json:"threads"`

	TokensPerSec float64   `json:"tokens_per_sec"` // mean over the repetitions
	StdDev       float64   `json:"stddev"`         // sample standard deviation of the same
	Samples      []float64 `json:"samples"`        // tokens/s of each repetition

	// FirstToken is the mean time from the start of the test to the first
	// sampled token: the whole prompt for pp, one position for tg.
	FirstToken time.Duration `json:"first_token_ns"`

	// WeightsGBs is the weight bytes read per second (tokens/s times
	// Report.WeightBytesPerToken) and Fraction its share of the read
	// bandwidth on the same number of threads. Only tg has them: a
	// batched prefill reads each weight once per batch, not per token.
	WeightsGBs float64 `json:"weights_gb_per_sec"`
	Fraction   float64 `json:"bandwidth_fraction"`

	// GFLOPs is 2 x parameters x tokens/s / 10^9 (the parameters of
	// ModelInfo.Params, as llama-bench counts them): the arithmetic rate of
	// prompt processing, which is bound by compute, not by memory.
	GFLOPs float64 `json:"gflops"`
}

// Report is everything Run measured.
type Report struct {
	Model ModelInfo `json:"model"`

	// OpenTime is the first runtime.Open; FirstTokenCold the time from
	// the start of that Open to the first sampled token of a one-token
	// prompt, page faults on the weights included.
	OpenTime       time.Duration `json:"open_ns"`
	FirstTokenCold time.Duration `json:"first_token_cold_ns"`

	// Mapped: the weights were read through a mapping of the file, not
	// copied into memory (Options.NoMmap).
	Mapped bool `json:"mapped"`

	// WeightBytesPerToken is what one position reads from the file: every
	// layer tensor, the final norm and the classifier, and one row of
	// each embedding table.
	WeightBytesPerToken int64 `json:"weight_bytes_per_token"`

	// ReadBandwidth[i] is ReadBandwidth's figure for Threads[i], in GB/s.
	Threads       []int     `json:"threads"`
	ReadBandwidth []float64 `json:"read_bandwidth_gb_per_sec"`

	// Memory covers the opens and tests, not the bandwidth measurement;
	// zero without Options.SampleMemory.
	Memory Memory `json:"memory"`

	Results []Result `json:"results"`

	// Interrupted: Options.Context ended the run early; Results holds the
	// tests measured so far (the last one possibly with fewer samples).
	Interrupted bool `json:"interrupted,omitempty"`
}

// Run opens the model at path once per thread count and times each test.
func Run(path string, opts Options) (*Report, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	r := &Report{Threads: slices.Clone(opts.Threads)}
	var stopMemory func() Memory
	if opts.SampleMemory != nil {
		stopMemory = opts.SampleMemory()
		defer func() {
			if stopMemory != nil {
				stopMemory()
			}
		}()
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	for ti, threads := range opts.Threads {
		t0 := time.Now()
		m, err := runtime.Open(path, runtime.Options{Threads: threads, KVType: opts.KVType, NoMmap: opts.NoMmap, NoRefold: opts.NoRefold})
		if err != nil {
			return nil, err
		}
		openTime := time.Since(t0)
		err = runThreads(ctx, r, m, path, threads, ti == 0, t0, openTime, opts, progress)
		m.Close()
		if err != nil && ctx.Err() != nil {
			r.Interrupted = true
			if stopMemory != nil {
				r.Memory = stopMemory()
				stopMemory = nil
			}
			return r, err
		}
		if err != nil {
			return nil, err
		}
	}
	if stopMemory != nil {
		r.Memory = stopMemory()
		stopMemory = nil
	}
	bytes := opts.ReadBytes
	if bytes <= 0 {
		bytes = ReadBytes()
	}
	progress("measuring the memory read bandwidth")
	bw := ReadBandwidth(bytes, opts.Threads, 500*time.Millisecond)
	r.ReadBandwidth = make([]float64, len(bw))
	for i, b := range bw {
		r.ReadBandwidth[i] = b / 1e9
	}
	for i := range r.Results {
		res := &r.Results[i]
		if !strings.HasPrefix(res.Test, "tg") {
			continue
		}
		res.WeightsGBs = res.TokensPerSec * float64(r.WeightBytesPerToken) / 1e9
		if k := slices.Index(r.Threads, res.Threads); k >= 0 && r.ReadBandwidth[k] > 0 {
			res.Fraction = res.WeightsGBs / r.ReadBandwidth[k]
		}
	}
	return r, nil
}

// runThreads runs every test on a model opened with the given threads.
func runThreads(ctx context.Context, r *Report, m *runtime.Model, path string, threads int, first bool, t0 time.Time,
	openTime time.Duration, opts Options, progress func(string)) error {
	c := &m.Config
	depths := opts.Depth
	if len(depths) == 0 {
		depths = []int{0}
	}
	testLen, depth := slices.Max(append(slices.Clone(opts.Prompt), opts.Gen...)), slices.Max(depths)
	longest := testLen + depth
	if longest > c.ContextLength {
		if depth > 0 {
			return fmt.Errorf("%s: %d tokens (a depth of %d and a test of %d) do not fit the model's context of %d positions",
				path, longest, depth, testLen, c.ContextLength)
		}
		return fmt.Errorf("%s: %d tokens do not fit the model's context of %d positions", path, longest, c.ContextLength)
	}
	s, err := m.NewState(longest)
	if err != nil {
		return err
	}
	sampler := runtime.NewSampler(c.VocabSize, 0, 0, 0, runtime.NewRNG(1))
	if first {
		r.Model = modelInfo(m, path)
		r.Model.KVType = s.KVType().String()
		r.Model.KVBytes, _ = m.StateBytes(s.Context())
		r.OpenTime = openTime
		r.Mapped = m.File().Mapped()
		r.WeightBytesPerToken = WeightBytesPerToken(m)
		logits, err := prefill(m, s, []int{max(m.Tokenizer.BOS(), 0)})
		if err != nil {
			return err
		}
		sampler.Sample(logits)
		r.FirstTokenCold = time.Since(t0)
	}
	rng := rand.New(rand.NewPCG(uint64(threads), 42))
	tokens := make([]int, longest)
	for i := range tokens {
		tokens[i] = rng.IntN(c.VocabSize)
	}
	type test struct {
		kind     string
		n, depth int
	}
	var tests []test
	for _, d := range depths {
		for _, n := range opts.Prompt {
			tests = append(tests, test{"pp", n, d})
		}
		for _, n := range opts.Gen {
			tests = append(tests, test{"tg", n, d})
		}
	}
	filled := 0 // the depth whose context the state holds
	for _, tc := range tests {
		res := Result{Test: fmt.Sprintf("%s%d", tc.kind, tc.n), Tokens: tc.n, Depth: tc.depth, Threads: threads}
		if tc.depth > 0 {
			res.Test += fmt.Sprintf(" @ d%d", tc.depth)
		}
		progress(fmt.Sprintf("%s, %d threads: warm-up and %d repetitions", res.Test, threads, opts.Reps))
		var firstSum time.Duration
		// Label the test's samples in a CPU profile (--cpuprofile):
		// go tool pprof -tagfocus phase=prefill separates pp from tg.
		phase := "decode"
		if tc.kind == "pp" {
			phase = "prefill"
		}
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("phase", phase, "test", res.Test)))
		if tc.depth > 0 && filled != tc.depth {
			// The context the test starts from, not timed. Tests only
			// write positions from their depth on, so it stays valid
			// for every repetition and every test of this depth.
			if _, err := prefill(m, s, tokens[:tc.depth]); err != nil {
				return err
			}
			filled = tc.depth
		}
		for rep := -1; rep < opts.Reps; rep++ {
			if err := ctx.Err(); err != nil {
				pprof.SetGoroutineLabels(context.Background())
				if len(res.Samples) > 0 { // the repetitions measured so far
					res.TokensPerSec, res.StdDev = meanStdDev(res.Samples)
					res.FirstToken = firstSum / time.Duration(len(res.Samples))
					r.Results = append(r.Results, res)
				}
				return err
			}
			var elapsed, firstTok time.Duration
			var err error
			if tc.kind == "pp" {
				elapsed, firstTok, err = timePrompt(m, s, sampler, tokens[tc.depth:tc.depth+tc.n], tc.depth)
			} else {
				elapsed, firstTok, err = timeGeneration(m, s, sampler, tokens[tc.depth], tc.n, tc.depth)
			}
			if err != nil {
				return err
			}
			if rep < 0 {
				continue // warm-up
			}
			res.Samples = append(res.Samples, float64(tc.n)/elapsed.Seconds())
			firstSum += firstTok
		}
		pprof.SetGoroutineLabels(context.Background())
		res.TokensPerSec, res.StdDev = meanStdDev(res.Samples)
		res.GFLOPs = 2 * float64(r.Model.Params) * res.TokensPerSec / 1e9
		res.FirstToken = firstSum / time.Duration(opts.Reps)
		r.Results = append(r.Results, res)
	}
	return nil
}

// prefill runs the prompt tokens through the model from position 0 and
// returns the logits after the last.
func prefill(m *runtime.Model, s *runtime.State, tokens []int) ([]float32, error) {
	return prefillAt(m, s, tokens, 0)
}

// prefillAt runs the prompt tokens through the model from position pos0:
// the one place prompt processing happens, so that pp always measures the
// runtime's own entry point.
func prefillAt(m *runtime.Model, s *runtime.State, tokens []int, pos0 int) ([]float32, error) {
	return m.Prefill(s, tokens, pos0)
}

// timePrompt times prefill of tokens at positions pos0.. followed by
// sampling one token: the elapsed time is the prompt's; the first-token
// time adds the sampling.
func timePrompt(m *runtime.Model, s *runtime.State, sampler *runtime.Sampler, tokens []int, pos0 int) (elapsed, first time.Duration, err error) {
	t0 := time.Now()
	logits, err := prefillAt(m, s, tokens, pos0)
	if err != nil {
		return 0, 0, err
	}
	elapsed = time.Since(t0)
	sampler.Sample(logits)
	return elapsed, time.Since(t0), nil
}

// timeGeneration generates n tokens from start at positions pos0..: each
// position runs the model and samples (greedily) the token fed to the next.
func timeGeneration(m *runtime.Model, s *runtime.State, sampler *runtime.Sampler, start, n, pos0 int) (elapsed, first time.Duration, err error) {
	t0 := time.Now()
	tok := start
	for i := range n {
		logits, err := m.Forward(s, tok, pos0+i)
		if err != nil {
			return 0, 0, err
		}
		tok = sampler.Sample(logits)
		if i == 0 {
			first = time.Since(t0)
		}
	}
	return time.Since(t0), first, nil
}

// meanStdDev returns the mean and the sample standard deviation (0 for one value).
func meanStdDev(x []float64) (mean, sd float64) {
	if len(x) == 0 {
		return 0, 0
	}
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	if len(x) < 2 {
		return mean, 0
	}
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(x)-1))
}

// modelInfo collects the model's name, size and tensor types.
func modelInfo(m *runtime.Model, path string) ModelInfo {
	f := m.File()
	mi := ModelInfo{Path: path, Arch: m.Config.Arch, FileBytes: f.Size(), Types: map[string]int{},
		Context: m.Config.ContextLength}
	if name, err := f.Meta.String(format.KeyName); err == nil && name != "" {
		mi.Name = name
	} else {
		mi.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		mi.Types[t.Type.String()]++
		mi.Params += t.NumElements()
	}
	return mi
}

// WeightBytesPerToken is the number of bytes of weights one forward
// position reads: all tensors of every layer, the final norm, the
// classifier, and one row of the token (and, for GPT-2, position)
// embedding. A shared classifier is the embedding table, read in full.
// It is counted from the file's tensor directory, so it holds for every
// family (fused tensors included) without knowing the runtime's fields.
func WeightBytesPerToken(m *runtime.Model) int64 {
	f := m.File()
	_, hasClassifier := f.Tensor(format.TensorOutput)
	var n int64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		switch t.Name {
		case format.TensorTokenEmbd, format.TensorPositionEmbd:
			row, _ := t.Type.RowBytes(t.Shape[len(t.Shape)-1])
			n += row
			if t.Name == format.TensorTokenEmbd && !hasClassifier {
				n += t.Size
			}
		default:
			n += t.Size
		}
	}
	return n
}
