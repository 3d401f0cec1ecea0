package web

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/llmap/llmap/internal/testmodels/stories"
	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/serve"
)

// startServer serves stories260K with the explorer on a loopback port
// and returns its URL; the server stops when the test ends.
func startServer(t *testing.T) string {
	t.Helper()
	srv, _ := newServer(t, serve.Config{Model: "stories260K", Parallel: 2, Context: 512}, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln, time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// newServer opens stories260K and returns a loaded server with the
// explorer registered.
func newServer(t testing.TB, sc serve.Config, ec Config) (*serve.Server, *runtime.Model) {
	t.Helper()
	m := storiesOpen(t)
	srv := serve.New(sc)
	Register(srv, ec)
	if err := srv.Load(m); err != nil {
		t.Fatal(err)
	}
	return srv, m
}

// storiesOpen converts and opens stories260K, closed when the test ends.
// Its KV cache is float32, as the float64 reference's (/api/context's
// attention weights are held to 1e-4 of it; an f16 cache moves them by up
// to 5e-4, the cache types' accuracy is runtime/explore's TestKVCacheAccuracy).
func storiesOpen(t testing.TB) *runtime.Model {
	t.Helper()
	m, err := runtime.Open(stories.Convert(t), runtime.Options{Threads: 2, KVType: runtime.KVF32})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
