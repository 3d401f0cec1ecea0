package serve

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/internal/memstats"
	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/runtime"
)

// BenchmarkStreams measures continuous batching through the HTTP server:
// N clients each stream `rounds` completions of `reply` tokens one after
// the other from a stories110M-shaped Q8_0 model (random weights; the
// classifier rows of BOS and EOS zeroed so that every reply runs to its
// length). It reports the aggregate generated tokens/s over all clients,
// and the time to first token of every request (queueing and prompt
// included) as p50 and p99. Compare streams=8 with streams=1 in one run:
//
//	go test ./runtime/serve -run '^$' -bench Streams -benchtime 1x
func BenchmarkStreams(b *testing.B) {
	const reply, rounds = 96, 3
	shape := convert.Shapes["stories110M"]
	src, err := convert.Synth("stories110M", shape, 11)
	if err != nil {
		b.Fatal(err)
	}
	for i := range src.Tensors {
		if src.Tensors[i].Name == "output.weight" {
			row := src.Tensors[i].Row
			src.Tensors[i].Row = func(r int, dst []float32) {
				if r == 1 || r == 2 {
					clear(dst)
					return
				}
				row(r, dst)
			}
		}
	}
	path := filepath.Join(b.TempDir(), "s110.llmap")
	if err := convert.Write(path, src, convert.Options{Matrices: quant.Q8_0}); err != nil {
		b.Fatal(err)
	}
	m, err := runtime.Open(path, runtime.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	warmUp(b, m)
	for _, streams := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			s := New(Config{Parallel: streams, Context: 512})
			if err := s.Load(m); err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(s.Mux())
			defer ts.Close()
			var tokens int
			var ttft []time.Duration
			var elapsed, cpu time.Duration
			for b.Loop() {
				c0 := cpuTime()
				t0 := time.Now()
				var mu sync.Mutex
				var wg sync.WaitGroup
				for c := range streams {
					wg.Go(func() {
						for r := range rounds {
							body := fmt.Sprintf(`{"prompt":"Client %d asks question %d of the model","max_tokens":%d,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}`, c, r, reply)
							start := time.Now()
							resp, err := http.Post(ts.URL+"/v1/completions", "application/json", strings.NewReader(body))
							if err != nil {
								b.Error(err)
								return
							}
							sc := bufio.NewScanner(resp.Body)
							n, first := 0, time.Duration(0)
							for sc.Scan() {
								line := sc.Text()
								if first == 0 && strings.HasPrefix(line, "data: ") {
									first = time.Since(start)
								}
								if i := strings.Index(line, `"completion_tokens":`); i >= 0 {
									fmt.Sscan(line[i+len(`"completion_tokens":`):], &n)
								}
							}
							resp.Body.Close()
							mu.Lock()
							tokens += n
							ttft = append(ttft, first)
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				elapsed += time.Since(t0)
				cpu += cpuTime() - c0
			}
			slices.Sort(ttft)
			b.ReportMetric(float64(tokens)/elapsed.Seconds(), "tokens/s")
			b.ReportMetric(float64(tokens)/cpu.Seconds(), "tokens/cpu-s")
			b.ReportMetric(ttft[len(ttft)/2].Seconds()*1000, "ttft-p50-ms")
			b.ReportMetric(ttft[min(len(ttft)-1, len(ttft)*99/100)].Seconds()*1000, "ttft-p99-ms")
			b.ReportMetric(float64(tokens)/float64(b.N), "tokens/op")
		})
	}
}

// warmUp brings m to the state every run of the benchmark should find
// it in: its mapping faulted in and, for a file just written (as the
// benchmark's is), its pages refolded into 2 MiB pages, which the model
// does in the background after its first token (docs/memory.md). Without
// it the one-stream run, which comes first, pays for both (a few hundred
// milliseconds of a one-second run) and the runs after it do not, which
// flatters the ratio of eight streams to one.
func warmUp(b *testing.B, m *runtime.Model) {
	s, err := m.NewSession(64)
	if err != nil {
		b.Fatal(err)
	}
	for _, err := range s.Generate(context.Background(), runtime.Request{Tokens: []int{1}, MaxTokens: 16}) {
		if err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.WaitRefold(ctx); err != nil {
		b.Fatal(err)
	}
	ps := m.PagingStats()
	b.Logf("warm-up: %d of %d bytes cached in small pages refolded in %v", ps.RefoldBytes, ps.SmallBytes, ps.RefoldTime)
}

// cpuTime is the CPU time this process (server and clients) has used.
func cpuTime() time.Duration { return memstats.CPUTime() }
