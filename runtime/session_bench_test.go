package runtime

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/internal/memstats"
	"github.com/llmap/llmap/quant"
)

// BenchmarkSessions measures continuous batching in the library, without
// HTTP: N sessions of a stories110M-shaped Q8_0 model (random weights, BOS
// and EOS never chosen) generate 96 tokens each at the same time, decoded
// together by the scheduler. tokens/s is the aggregate over all sessions;
// compare sessions=8 with sessions=1 in one run:
//
//	go test ./runtime -run '^$' -bench Sessions -benchtime 2x
func BenchmarkSessions(b *testing.B) {
	const reply = 96
	src, err := convert.Synth("stories110M", convert.Shapes["stories110M"], 11)
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
	m, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	// One generation first, and the refold it starts (the file was just
	// written, so its pages are cached small): otherwise the first run,
	// sessions=1, pays for both and flatters the ratio of 8 to 1.
	warm, err := m.NewSession(64)
	if err != nil {
		b.Fatal(err)
	}
	for _, err := range warm.Generate(context.Background(), Request{Tokens: []int{1}, MaxTokens: 16}) {
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := m.WaitRefold(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			sessions := make([]*Session, n)
			for i := range sessions {
				if sessions[i], err = m.NewSession(256); err != nil {
					b.Fatal(err)
				}
			}
			tokens := 0
			var elapsed, cpu time.Duration
			for b.Loop() {
				c0 := cpuTime()
				t0 := time.Now()
				var wg sync.WaitGroup
				for i, s := range sessions {
					wg.Go(func() {
						s.Reset()
						prompt := []int{1, 100 + i, 200 + i, 300 + i}
						for _, err := range s.Generate(context.Background(), Request{Tokens: prompt, MaxTokens: reply}) {
							if err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed += time.Since(t0)
				cpu += cpuTime() - c0
				tokens += n * reply
			}
			b.ReportMetric(float64(tokens)/elapsed.Seconds(), "tokens/s")
			b.ReportMetric(float64(tokens)/cpu.Seconds(), "tokens/cpu-s")
		})
	}
}

// cpuTime is the CPU time this process has used (user + system): a
// measure of work that the other processes of a busy machine do not skew
// as they skew wall time.
func cpuTime() time.Duration { return memstats.CPUTime() }
