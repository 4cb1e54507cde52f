package miner

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the miner's Prometheus series. Per-validator series carry
// the labels uid and hotkey.
type metrics struct {
	pulled, submitted, failed, released *prometheus.CounterVec
	skipped                             *prometheus.CounterVec // + reason
	refused                             *prometheus.CounterVec
	cooldownWait                        *prometheus.CounterVec
	latency                             *prometheus.HistogramVec // + method
	requestFailures                     *prometheus.CounterVec   // + method
	validatorScore                      *prometheus.HistogramVec
	selfScore                           prometheus.Histogram
	generateSeconds                     prometheus.Histogram
	queueDepth, workersBusy, held       prometheus.Gauge
	clockOffset                         *prometheus.GaugeVec
}

const namespace = "splatbench_miner"

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	vl := []string{"uid", "hotkey"}
	counter := func(name, help string, extra ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help},
			append(append([]string{}, vl...), extra...))
	}
	scoreBuckets := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1}
	m := &metrics{
		pulled:          counter("tasks_pulled_total", "Tasks received from PullTask."),
		submitted:       counter("tasks_submitted_total", "SubmitResults calls answered by the validator.", "outcome"),
		failed:          counter("tasks_failed_total", "Tasks whose submission failed (transport or no feedback)."),
		released:        counter("tasks_released_total", "Held tasks given up without an answered submission."),
		skipped:         counter("tasks_skipped_total", "Tasks submitted empty instead of a result.", "reason"),
		refused:         counter("pull_refusals_total", "PullTask answers without a task (cooldown or unregistered)."),
		cooldownWait:    counter("cooldown_wait_seconds_total", "Time a validator loop waited for a cooldown or back-off."),
		requestFailures: counter("request_failures_total", "Failed PullTask/SubmitResults requests.", "method"),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
			Name: "request_duration_seconds", Help: "PullTask/SubmitResults latency.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12)}, append(append([]string{}, vl...), "method")),
		validatorScore: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
			Name: "validator_score", Help: "Validators' task fidelity scores of submitted results.",
			Buckets: scoreBuckets}, vl),
		selfScore: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace,
			Name: "self_check_score", Help: "Self-check scores of generated results.", Buckets: scoreBuckets}),
		generateSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace,
			Name: "generate_seconds", Help: "Generation wall time.",
			Buckets: prometheus.ExponentialBuckets(0.5, 2, 12)}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace,
			Name: "queue_depth", Help: "Tasks waiting for a worker."}),
		workersBusy: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace,
			Name: "workers_busy", Help: "Workers generating."}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace,
			Name: "tasks_held", Help: "Tasks pulled and not yet submitted or released."}),
		clockOffset: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace,
			Name: "validator_clock_offset_seconds", Help: "Estimated validator clock minus miner clock " +
				"(a lower bound; cooldowns are converted with it)."}, vl),
	}
	for _, c := range []prometheus.Collector{m.pulled, m.submitted, m.failed, m.released, m.skipped,
		m.refused, m.cooldownWait, m.requestFailures, m.latency, m.validatorScore, m.selfScore,
		m.generateSeconds, m.queueDepth, m.workersBusy, m.held, m.clockOffset} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("miner metrics: %w", err)
		}
	}
	return m, nil
}

func labels(v Validator) prometheus.Labels {
	return prometheus.Labels{"uid": strconv.Itoa(v.UID), "hotkey": v.Hotkey}
}

func with(l prometheus.Labels, k, val string) prometheus.Labels {
	out := make(prometheus.Labels, len(l)+1)
	for a, b := range l {
		out[a] = b
	}
	out[k] = val
	return out
}
