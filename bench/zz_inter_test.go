package bench

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/llmap/llmap/quant"
	"github.com/llmap/llmap/runtime"
)

func zzRead(buf []uint64, threads int) {
	var wg sync.WaitGroup
	share := (len(buf)/threads + 7) &^ 7
	sums := make([]uint64, threads)
	for i := range threads {
		lo := min(i*share, len(buf))
		hi := min(lo+share, len(buf))
		wg.Go(func() { sums[i] = readSum(buf[lo:hi]) })
	}
	wg.Wait()
	readSink += sums[0]
}

func TestZZInterleave(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("ROUNDS"))
	if rounds == 0 {
		t.Skip()
	}
	threads, _ := strconv.Atoi(os.Getenv("THREADS"))
	buf := make([]uint64, 1<<30/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	typs := []quant.Type{quant.Q8_0, quant.Q4_0, quant.Q2_K, quant.Q3_K, quant.Q4_K, quant.Q5_K, quant.Q6_K}
	ms := map[quant.Type]quant.Matrix{}
	vs := map[quant.Type]*quant.Vec{}
	b := &testing.B{}
	for _, typ := range typs {
		rb, _ := typ.RowBytes(4096)
		rows := int((256<<20 + rb - 1) / rb)
		ms[typ] = benchMatrix(b, typ, rows, 4096)
		x := make([]float32, 4096)
		for i := range x {
			x[i] = float32(i%7) - 3
		}
		v := quant.NewVec(4096)
		v.Set(x, typ)
		vs[typ] = v
	}
	p := runtime.NewPool(threads)
	defer p.Close()
	best := map[string]float64{}
	for range rounds {
		t0 := time.Now()
		zzRead(buf, threads)
		best["memread"] = max(best["memread"], float64(len(buf)*8)/time.Since(t0).Seconds())
		for _, typ := range typs {
			m := ms[typ]
			out := make([]float32, m.Rows)
			for range 3 {
				t0 := time.Now()
				p.MatVec(out, m, vs[typ])
				best[typ.String()] = max(best[typ.String()], float64(len(m.Data))/time.Since(t0).Seconds())
			}
		}
	}
	fmt.Printf("threads=%d rounds=%d memread %.1f GB/s\n", threads, rounds, best["memread"]/1e9)
	for _, typ := range typs {
		fmt.Printf("  %-5s %5.1f GB/s %4.0f%%\n", typ, best[typ.String()]/1e9, 100*best[typ.String()]/best["memread"])
	}
}
