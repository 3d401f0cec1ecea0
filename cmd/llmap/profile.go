package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // serves /debug/pprof on --pprof
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"

	"github.com/spf13/pflag"
)

// profileFlags are the profiling flags shared by run, bench, convert and
// perplexity.
type profileFlags struct {
	cpu, mem, trace, addr string

	stops []func() error
}

func (p *profileFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile to `FILE` (go tool pprof)")
	fl.StringVar(&p.mem, "memprofile", "", "write a heap profile to `FILE` at the end")
	fl.StringVar(&p.trace, "trace", "", "write an execution trace to `FILE` (go tool trace)")
	fl.StringVar(&p.addr, "pprof", "", "serve net/http/pprof on `ADDR` while the command runs (e.g. localhost:6060; a bare :PORT listens on loopback)")
}

// check refuses profile outputs that would overwrite what the command
// reads (llmap run m.llmap --cpuprofile m.llmap would truncate the model).
func (p *profileFlags) check(reads readSet) error {
	for _, o := range []struct{ flag, path string }{{"--cpuprofile", p.cpu}, {"--memprofile", p.mem}, {"--trace", p.trace}} {
		if o.path == "" {
			continue
		}
		if err := checkWritable(o.flag, o.path, reads); err != nil {
			return err
		}
	}
	return nil
}

// start begins the requested profiles. stop must be called even if start fails.
func (p *profileFlags) start() error {
	if p.cpu != "" {
		f, err := os.Create(p.cpu)
		if err != nil {
			return fmt.Errorf("--cpuprofile %s: %w", p.cpu, unwrapPathError(err))
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		p.stops = append(p.stops, func() error { pprof.StopCPUProfile(); return f.Close() })
	}
	if p.trace != "" {
		f, err := os.Create(p.trace)
		if err != nil {
			return fmt.Errorf("--trace %s: %w", p.trace, unwrapPathError(err))
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			return fmt.Errorf("--trace: %w", err)
		}
		p.stops = append(p.stops, func() error { trace.Stop(); return f.Close() })
	}
	if p.addr != "" {
		addr := p.addr
		if host, _, err := net.SplitHostPort(addr); err == nil && host == "" {
			addr = "127.0.0.1" + addr
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("--pprof: %w", err)
		}
		fmt.Fprintf(os.Stderr, "llmap: serving pprof on http://%s/debug/pprof/\n", ln.Addr())
		srv := &http.Server{Handler: http.DefaultServeMux}
		go srv.Serve(ln)
		p.stops = append(p.stops, srv.Close)
	}
	if p.mem != "" {
		path := p.mem
		p.stops = append(p.stops, func() error {
			f, err := os.Create(path)
			if err != nil {
				return fmt.Errorf("--memprofile %s: %w", path, unwrapPathError(err))
			}
			runtime.GC()
			if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		})
	}
	return nil
}

// stop ends the profiles in reverse order and returns the first error.
func (p *profileFlags) stop() error {
	var first error
	for i := len(p.stops) - 1; i >= 0; i-- {
		if err := p.stops[i](); err != nil && first == nil {
			first = err
		}
	}
	p.stops = nil
	return first
}

// withProfile runs fn between start and stop.
func (p *profileFlags) run(fn func() error) error {
	err := p.start()
	if err == nil {
		err = fn()
	}
	if serr := p.stop(); err == nil {
		err = serr
	}
	return err
}
