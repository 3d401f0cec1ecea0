package bench

import (
	"fmt"
	"testing"

	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/runtime"
)

// This file is apart from suite_test.go because it needs quant.Batch and
// runtime.Pool.MatMul: make bench-compare copies the suite over older refs,
// and this file only over refs that have them (bench/compare.sh).

// BenchmarkMatVec times one matrix-vector product through the runtime's
// worker pool, as decoding runs it (quant.MatMul with one prepared vector:
// the one-vector kernels where a type has them, else its rows kernel), at
// LLaMA-7B's attention (4096x4096) and feed-forward (11008x4096) shapes,
// GPT-2's classifier (50257x768), and a 4096-column matrix of ReadBytes()
// bytes in every type (256 MiB, or twice the last-level cache where that is
// larger: 960 MiB on the Xeon VMs), which is the figure to hold against the
// memory-read bandwidth. Matrices and the bandwidth's buffer are both on
// 2 MiB pages where the kernel gives them (hugeBytes), as a model's weights.
func BenchmarkMatVec(b *testing.B) {
	big := ReadBytes()
	for _, typ := range quant.Types() {
		rb, _ := typ.RowBytes(4096)
		bigRows := int((big + rb - 1) / rb)
		for _, sh := range [][2]int{{4096, 4096}, {11008, 4096}, {50257, 768}, {bigRows, 4096}} {
			rows, cols := sh[0], sh[1]
			name := fmt.Sprintf("%s/%dx%d", typ, rows, cols)
			if rows == bigRows {
				name = fmt.Sprintf("%s/%dMiB", typ, big>>20)
			}
			// The matrix is made inside the shape's benchmark, so a -bench
			// pattern that skips the shape does not build it.
			b.Run(name, func(b *testing.B) {
				m, release := benchMatrix(b, typ, rows, cols)
				defer release()
				for _, threads := range benchThreads {
					b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
						x := make([]float32, cols)
						for i := range x {
							x[i] = float32(i%7) - 3
						}
						v := quant.NewBatch(1, cols)
						v.Set([][]float32{x}, typ)
						outs := [][]float32{make([]float32, rows)}
						p := runtime.NewPool(threads)
						defer p.Close()
						b.SetBytes(int64(len(m.Data)))
						for b.Loop() {
							p.MatMul(outs, m, v)
						}
						reportWeights(b, int64(len(m.Data)), threads)
						b.ReportMetric(2*float64(rows)*float64(cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			})
		}
	}
}
