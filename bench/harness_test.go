package bench

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmap/llmap/format"
	"github.com/llmap/llmap/format/arch"
	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/runtime"
)

func TestMeanStdDev(t *testing.T) {
	// The sample standard deviation of 2, 4, 4, 4, 5, 5, 7, 9 is sqrt(32/7).
	m, sd := meanStdDev([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	if m != 5 || math.Abs(sd-math.Sqrt(32.0/7)) > 1e-12 {
		t.Errorf("meanStdDev = %g, %g; want 5, %g", m, sd, math.Sqrt(32.0/7))
	}
	if m, sd := meanStdDev([]float64{3}); m != 3 || sd != 0 {
		t.Errorf("one value: %g, %g", m, sd)
	}
}

func TestReadBandwidth(t *testing.T) {
	bw := ReadBandwidth(8<<20, []int{1, 2}, 0)
	for i, b := range bw {
		// Anything from a slow VM to a server reads 8 MiB at 0.1-1000 GB/s.
		if !(b > 1e8 && b < 1e12) {
			t.Errorf("threads=%d: %g bytes/s is implausible", i+1, b)
		}
	}
	buf := make([]float32, 1001)
	for i := range buf {
		buf[i] = float32(i)
	}
	if got := readSum(buf); got != 1000*1001/2 {
		t.Errorf("readSum = %g, want %d", got, 1000*1001/2)
	}
	if ReadBytes() < DefaultReadBytes {
		t.Errorf("ReadBytes() = %d, below %d", ReadBytes(), DefaultReadBytes)
	}
}

// synthModel writes a small random LLaMA model of type typ into dir.
func synthModel(t testing.TB, dir string, s arch.Config, typ quant.Type) string {
	t.Helper()
	m, err := convert.Synth("tiny", s, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tiny-"+typ.String()+".llmap")
	if err := convert.Write(path, m, convert.Options{Matrices: typ}); err != nil {
		t.Fatal(err)
	}
	return path
}

var tinyShape = arch.Config{Dim: 64, HiddenDim: 128, NLayers: 2, NHeads: 4, NKVHeads: 2, VocabSize: 300, ContextLength: 64}

// TestWeightBytesPerToken checks the count against the tensor directory:
// every tensor is read once per token except the embedding, of which one row is.
func TestWeightBytesPerToken(t *testing.T) {
	for _, typ := range quant.Types() {
		path := synthModel(t, t.TempDir(), tinyShape, typ)
		m, err := runtime.Open(path, runtime.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for _, ti := range m.File().Tensors {
			if ti.Name == format.TensorTokenEmbd {
				rb, _ := ti.Type.RowBytes(ti.Shape[1])
				want += rb
				continue
			}
			want += ti.Size
		}
		if got := WeightBytesPerToken(m); got != want {
			t.Errorf("%s: WeightBytesPerToken = %d, want %d", typ, got, want)
		}
		m.Close()
	}
}

func TestRun(t *testing.T) {
	path := synthModel(t, t.TempDir(), tinyShape, quant.Q8_0)
	var lines []string
	r, err := Run(path, Options{Prompt: []int{8, 16}, Gen: []int{4}, Reps: 2, Threads: []int{1, 2},
		ReadBytes: 4 << 20, Progress: func(s string) { lines = append(lines, s) },
		SampleMemory: func() func() Memory { return func() Memory { return Memory{PeakRSS: 7} } }})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 6 || len(lines) != 7 {
		t.Fatalf("%d results and %d progress lines, want 6 and 7", len(r.Results), len(lines))
	}
	wantTests := []string{"pp8", "pp16", "tg4", "pp8", "pp16", "tg4"}
	for i, res := range r.Results {
		if res.Test != wantTests[i] || res.Threads != 1+i/3 || len(res.Samples) != 2 {
			t.Errorf("result %d: %s on %d threads with %d samples", i, res.Test, res.Threads, len(res.Samples))
		}
		if !(res.TokensPerSec > 0) || res.FirstToken <= 0 || (res.Fraction > 0) != (res.Test == "tg4") {
			t.Errorf("result %d: %+v", i, res)
		}
		if m, _ := meanStdDev(res.Samples); m != res.TokensPerSec {
			t.Errorf("result %d: mean %g of samples %v, reported %g", i, m, res.Samples, res.TokensPerSec)
		}
		if want := 2 * float64(r.Model.Params) * res.TokensPerSec / 1e9; res.GFLOPs != want {
			t.Errorf("result %d: %g GFLOP/s, want 2 x %d parameters x %g tokens/s", i, res.GFLOPs, r.Model.Params, res.TokensPerSec)
		}
	}
	fi, _ := os.Stat(path)
	if r.Model.FileBytes != fi.Size() || r.Model.Name != "tiny" || r.Model.Types["q8_0"] != 2*7+1+1 {
		t.Errorf("model info %+v (file %d bytes)", r.Model, fi.Size())
	}
	if r.Memory.PeakRSS != 7 {
		t.Errorf("Memory = %+v, want what SampleMemory's stop returned", r.Memory)
	}
	if r.OpenTime <= 0 || r.FirstTokenCold < r.OpenTime || len(r.ReadBandwidth) != 2 {
		t.Errorf("open %v, first token %v, bandwidth %v", r.OpenTime, r.FirstTokenCold, r.ReadBandwidth)
	}

	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != 6 || back.Results[2].TokensPerSec != r.Results[2].TokensPerSec {
		t.Errorf("JSON round trip lost results: %s", js.String())
	}
	var cs bytes.Buffer
	if err := r.WriteCSV(&cs); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cs).ReadAll()
	if err != nil || len(recs) != 7 || len(recs[1]) != len(CSVHeader) || recs[3][4] != "tg4" {
		t.Errorf("CSV: %v %q", err, recs)
	}
	var tb bytes.Buffer
	if err := r.WriteTable(&tb); err != nil {
		t.Fatal(err)
	}
	table := tb.String()
	if strings.Count(table, "\n| ") != 8 || !strings.Contains(table, "| tg4  |       2 |") {
		t.Errorf("table:\n%s", table)
	}
}

func TestRunErrors(t *testing.T) {
	path := synthModel(t, t.TempDir(), tinyShape, quant.F32)
	for _, o := range []Options{
		{Reps: 1, Threads: []int{1}},
		{Prompt: []int{4}, Reps: 0, Threads: []int{1}},
		{Prompt: []int{-1}, Reps: 1, Threads: []int{1}},
		{Prompt: []int{4}, Reps: 1},
		{Prompt: []int{4}, Reps: 1, Threads: []int{0}},
	} {
		if _, err := Run(path, o); err == nil {
			t.Errorf("Run(%+v) succeeded", o)
		}
	}
	_, err := Run(path, Options{Prompt: []int{65}, Reps: 1, Threads: []int{1}})
	if err == nil || !strings.Contains(err.Error(), "context of 64 positions") {
		t.Errorf("prompt longer than the context: %v", err)
	}
	_, err = Run(path, Options{Gen: []int{8}, Depth: []int{57}, Reps: 1, Threads: []int{1}})
	if err == nil || !strings.Contains(err.Error(), "context of 64 positions") {
		t.Errorf("depth and generation longer than the context: %v", err)
	}
	if _, err := Run(path, Options{Gen: []int{8}, Depth: []int{-1}, Reps: 1, Threads: []int{1}}); err == nil {
		t.Error("negative depth: no error")
	}
	if _, err := Run(filepath.Join(t.TempDir(), "missing.llmap"), Options{Gen: []int{1}, Reps: 1, Threads: []int{1}}); err == nil {
		t.Error("missing file: no error")
	}
}

// TestRunDepth runs each test after a context of -d tokens, as llama-bench
// does: the names say the depth, and generation at the deepest position
// the context allows works.
func TestRunDepth(t *testing.T) {
	path := synthModel(t, t.TempDir(), tinyShape, quant.Q8_0)
	r, err := Run(path, Options{Prompt: []int{4}, Gen: []int{3}, Depth: []int{0, 61 - 4}, Reps: 1, Threads: []int{1},
		ReadBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		test  string
		depth int
	}{{"pp4", 0}, {"tg3", 0}, {"pp4 @ d57", 57}, {"tg3 @ d57", 57}}
	if len(r.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(r.Results), len(want))
	}
	for i, w := range want {
		if res := r.Results[i]; res.Test != w.test || res.Depth != w.depth || !(res.TokensPerSec > 0) {
			t.Errorf("result %d: %s at depth %d, %g tokens/s; want %s at %d", i, res.Test, res.Depth, res.TokensPerSec, w.test, w.depth)
		}
	}
}

// TestGenerateAllocsPerToken checks that the phase labels Generate sets
// cost no allocation per token: a longer generation allocates no more.
func TestGenerateAllocsPerToken(t *testing.T) {
	path := synthModel(t, t.TempDir(), tinyShape, quant.F32)
	m, err := runtime.Open(path, runtime.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewState(64)
	if err != nil {
		t.Fatal(err)
	}
	allocs := func(steps int) float64 {
		return testing.AllocsPerRun(5, func() {
			// A fixed seed, at which this model samples neither BOS nor EOS.
			sampler := runtime.NewSampler(m.Config.VocabSize, 1, 0, 0, runtime.NewRNG(7))
			st, err := m.Generate(s, runtime.Generation{Prompt: "ab", Steps: steps, Sampler: sampler}, func([]byte) error { return nil })
			if err != nil || st.Positions != steps {
				t.Fatalf("Generate: %+v, %v; want %d positions", st, err, steps)
			}
		})
	}
	if short, long := allocs(8), allocs(48); long > short {
		t.Errorf("Generate allocates %v times for 8 positions, %v for 48", short, long)
	}
}
