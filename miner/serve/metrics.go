package serve

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's Prometheus collectors, all under
// splatbench_serve_*.
type metrics struct {
	requests        *prometheus.CounterVec   // route, code
	latency         *prometheus.HistogramVec // route
	queueDepth      prometheus.Gauge
	inFlight        prometheus.Gauge
	failures        *prometheus.CounterVec // reason
	generation      prometheus.Histogram
	stage           *prometheus.HistogramVec // stage
	ready           prometheus.Gauge
	gatherer        prometheus.Gatherer // nil when the Registerer is not one
	generationCount prometheus.Counter
}

// latencyBuckets span a cached health check (1 ms) to a slow generation
// (the deadline is typically 30-120 s).
var latencyBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60, 120}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "splatbench", "serve"
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "request_duration_seconds",
			Help: "HTTP request latency by route, queueing included.", Buckets: latencyBuckets,
		}, []string{"route"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "queue_depth",
			Help: "Accepted generation requests waiting for a worker.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "in_flight_generations",
			Help: "Generations running now.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "generation_failures_total",
			Help: "Failed generations by reason (error, panic, timeout, canceled, no_cloud, gate, encode).",
		}, []string{"reason"}),
		generation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "generation_seconds",
			Help: "Wall time of successful generations, encoding included.", Buckets: latencyBuckets,
		}),
		generationCount: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "generations_total",
			Help: "Generations started, warm-up included.",
		}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "stage_seconds",
			Help: "Wall time of each pipeline stage the generator reports.", Buckets: latencyBuckets,
		}, []string{"stage"}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "ready",
			Help: "1 once the warm-up job has run and until shutdown begins.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.queueDepth, m.inFlight,
		m.failures, m.generation, m.generationCount, m.stage, m.ready} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("serve: registering metrics: %w", err)
		}
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.gatherer = g
	}
	return m, nil
}
