package serve

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series, all named llmap_*.
type metrics struct {
	requests  *prometheus.CounterVec   // by endpoint and status code
	duration  *prometheus.HistogramVec // by endpoint
	ttft      prometheus.Histogram
	generated prometheus.Counter
	prompt    prometheus.Counter
	cached    prometheus.Counter
	refused   prometheus.Counter
	queue     prometheus.Gauge
	active    prometheus.Gauge
	seqs      prometheus.Gauge
	kvBytes   prometheus.Gauge
	rate      rateWindow
}

func newMetrics(reg *prometheus.Registry, s *Server) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "llmap_requests_total",
			Help: "HTTP requests answered, by endpoint and status code."}, []string{"endpoint", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "llmap_request_duration_seconds",
			Help: "Time from a request's arrival to the end of its response.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14)},
			[]string{"endpoint"}),
		ttft: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "llmap_time_to_first_token_seconds",
			Help:    "Time from a generation request's arrival to its first sampled token, queueing and prompt included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		generated: prometheus.NewCounter(prometheus.CounterOpts{Name: "llmap_generated_tokens_total",
			Help: "Tokens sampled, over all requests."}),
		prompt: prometheus.NewCounter(prometheus.CounterOpts{Name: "llmap_prompt_tokens_total",
			Help: "Prompt tokens of the requests served."}),
		cached: prometheus.NewCounter(prometheus.CounterOpts{Name: "llmap_prompt_tokens_cached_total",
			Help: "Prompt tokens reused from a sequence's KV cache instead of being run."}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "llmap_requests_refused_total",
			Help: "Generation requests refused with 503 because the queue was full."}),
		queue: prometheus.NewGauge(prometheus.GaugeOpts{Name: "llmap_queue_length",
			Help: "Requests waiting for a free sequence."}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "llmap_active_sequences",
			Help: "Sequences generating now."}),
		seqs: prometheus.NewGauge(prometheus.GaugeOpts{Name: "llmap_sequences",
			Help: "Sequences the server generates at once (--parallel)."}),
		kvBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "llmap_kv_cache_bytes",
			Help: "Memory of the sequences' KV caches, allocated at start."}),
	}
	rate := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "llmap_tokens_per_second",
		Help: "Tokens sampled per second over the last 10 seconds, over all requests."}, m.rate.perSecond)
	reg.MustRegister(m.requests, m.duration, m.ttft, m.generated, m.prompt, m.cached, m.refused,
		m.queue, m.active, m.seqs, m.kvBytes, rate,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) capacity(seqs int, kv int64) {
	m.seqs.Set(float64(seqs))
	m.kvBytes.Set(float64(kv))
}

// token counts one sampled token.
func (m *metrics) token() {
	m.generated.Inc()
	m.rate.add(time.Now())
}

// rateWindow counts events in one-second buckets over the last
// rateSeconds seconds.
type rateWindow struct {
	mu      sync.Mutex
	buckets [rateSeconds]struct {
		sec int64
		n   int64
	}
}

const rateSeconds = 10

func (r *rateWindow) add(t time.Time) {
	sec := t.Unix()
	r.mu.Lock()
	b := &r.buckets[sec%rateSeconds]
	if b.sec != sec {
		b.sec, b.n = sec, 0
	}
	b.n++
	r.mu.Unlock()
}

// perSecond is the mean rate over the complete seconds of the window.
func (r *rateWindow) perSecond() float64 {
	now := time.Now().Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for _, b := range r.buckets {
		if b.sec < now && b.sec >= now-rateSeconds {
			n += b.n
		}
	}
	return float64(n) / rateSeconds
}
