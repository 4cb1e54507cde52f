package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Workers lists the workers whose heartbeat entries are live, by ID.
func (q *Queue) Workers(ctx context.Context) ([]WorkerInfo, error) {
	keys, err := q.workers.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: bucket %s: %w", WorkersBucket, err)
	}
	var out []WorkerInfo
	for _, k := range keys {
		e, err := q.workers.Get(ctx, k)
		if err != nil {
			continue // expired between the listing and the read
		}
		var in WorkerInfo
		if err := json.Unmarshal(e.Value(), &in); err != nil {
			return nil, fmt.Errorf("jobs: bucket %s: key %s: %w", WorkersBucket, k, err)
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b WorkerInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Stats is the queue's state as the server sees it.
type Stats struct {
	// Pending jobs wait for a worker; InFlight are held by one, unacked;
	// Redelivering of those are on their second or later delivery.
	Pending      uint64
	InFlight     int
	Redelivering int
	// Dead is the number of dead-lettered jobs kept.
	Dead uint64
	// Results is the number of results kept.
	Results uint64
}

// Stats asks the server for the queue's counts.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	ci, err := q.cons.Info(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("jobs: consumer %s: %w", ConsumerName, err)
	}
	st := Stats{Pending: ci.NumPending, InFlight: ci.NumAckPending, Redelivering: ci.NumRedelivered}
	if si, err := q.dead.Info(ctx); err == nil {
		st.Dead = si.State.Msgs
	}
	if si, err := q.results.Info(ctx); err == nil {
		st.Results = si.State.Msgs
	}
	return st, nil
}

// Collector exports the queue's depth, in-flight jobs, redeliveries,
// dead letters and every live worker's throughput, read from the server
// at each scrape, so every process that registers one (tune, mine, serve,
// worker) shows the same picture.
type Collector struct {
	q                                             *Queue
	pending, inflight, redelivering, dead, up     *prometheus.Desc
	workerDone, workerFailed, workerBusy, workerS *prometheus.Desc
}

// NewCollector returns a Collector for q.
func NewCollector(q *Queue) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("splatbench_jobs_"+name, help, labels, nil)
	}
	return &Collector{q: q,
		pending:      d("queue_depth", "Jobs waiting for a worker."),
		inflight:     d("in_flight", "Jobs held by a worker and not yet answered."),
		redelivering: d("redelivering", "In-flight jobs on their second or later delivery."),
		dead:         d("dead_letters", "Jobs in the dead-letter stream."),
		up:           d("queue_up", "1 when the queue's server answered this scrape."),
		workerDone:   d("worker_done_total", "Jobs a worker finished without error.", "worker", "host"),
		workerFailed: d("worker_failed_total", "Jobs a worker answered with an error.", "worker", "host"),
		workerBusy:   d("worker_busy", "Jobs a worker is running now.", "worker", "host"),
		workerS:      d("worker_job_seconds_total", "Summed run time of a worker's finished jobs.", "worker", "host"),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pending, c.inflight, c.redelivering, c.dead, c.up,
		c.workerDone, c.workerFailed, c.workerBusy, c.workerS} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := c.q.Stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(c.inflight, prometheus.GaugeValue, float64(st.InFlight))
	ch <- prometheus.MustNewConstMetric(c.redelivering, prometheus.GaugeValue, float64(st.Redelivering))
	ch <- prometheus.MustNewConstMetric(c.dead, prometheus.GaugeValue, float64(st.Dead))
	ws, err := c.q.Workers(ctx)
	if err != nil {
		return
	}
	for _, w := range ws {
		ch <- prometheus.MustNewConstMetric(c.workerDone, prometheus.CounterValue, float64(w.Done), w.ID, w.Host)
		ch <- prometheus.MustNewConstMetric(c.workerFailed, prometheus.CounterValue, float64(w.Failed), w.ID, w.Host)
		ch <- prometheus.MustNewConstMetric(c.workerBusy, prometheus.GaugeValue, float64(w.Busy), w.ID, w.Host)
		ch <- prometheus.MustNewConstMetric(c.workerS, prometheus.CounterValue, w.JobSeconds, w.ID, w.Host)
	}
}

// WorkerMetrics are one process's worker counters: jobs by kind and
// outcome, redeliveries taken, jobs running, and how long jobs waited in
// the queue and ran.
type WorkerMetrics struct{ m *workerMetrics }

type workerMetrics struct {
	outcomes    *prometheus.CounterVec
	redelivers  prometheus.Counter
	runningG    prometheus.Gauge
	wait, total *prometheus.HistogramVec
}

// NewWorkerMetrics registers the worker counters on reg.
func NewWorkerMetrics(reg prometheus.Registerer) *WorkerMetrics {
	buckets := prometheus.ExponentialBuckets(0.001, 4, 12) // 1 ms .. ~70 min
	m := &workerMetrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "splatbench_worker_jobs_total",
			Help: "Jobs this process's worker answered, by kind and outcome (done, failed, expired, dead, duplicate, handed-back)."},
			[]string{"kind", "outcome"}),
		redelivers: prometheus.NewCounter(prometheus.CounterOpts{Name: "splatbench_worker_redeliveries_total",
			Help: "Deliveries this worker got that were not a job's first."}),
		runningG: prometheus.NewGauge(prometheus.GaugeOpts{Name: "splatbench_worker_running",
			Help: "Jobs running in this worker now."}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "splatbench_worker_queue_wait_seconds",
			Help: "From a job's submission to a worker taking it (the clocks of two hosts).", Buckets: buckets}, []string{"kind"}),
		total: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "splatbench_worker_job_seconds",
			Help: "A job's run time on the worker.", Buckets: buckets}, []string{"kind"}),
	}
	reg.MustRegister(m.outcomes, m.redelivers, m.runningG, m.wait, m.total)
	return &WorkerMetrics{m: m}
}

func (m *workerMetrics) outcome(k Kind, o string) {
	if m != nil {
		m.outcomes.WithLabelValues(string(k), o).Inc()
	}
}

func (m *workerMetrics) redelivered() {
	if m != nil {
		m.redelivers.Inc()
	}
}

func (m *workerMetrics) running(d float64) {
	if m != nil {
		m.runningG.Add(d)
	}
}

func (m *workerMetrics) observe(k Kind, r Result) {
	if m == nil {
		return
	}
	if !r.Submitted.IsZero() {
		m.wait.WithLabelValues(string(k)).Observe(max(0, r.Received.Sub(r.Submitted).Seconds()))
	}
	m.total.WithLabelValues(string(k)).Observe(r.TotalSeconds)
}
