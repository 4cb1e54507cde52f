package miner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Miner schedules pulls, generation and submissions over a set of
// validators. Create it with New and start it with Run.
type Miner struct {
	opts   Options
	client Client
	gen    Generator
	signer Signer
	log    *slog.Logger
	met    *metrics

	// queue carries pulled tasks to the workers; slots bounds it (a loop
	// takes a slot before it pulls, a worker frees it when it takes the
	// task). submitq carries generated results to the submitters: each
	// validator has at most one task in flight, so it never fills.
	queue   chan *job
	slots   chan struct{}
	submitq chan *job

	mu      sync.Mutex
	st      *state
	static  map[string]bool // statically blacklisted hotkeys
	started bool
}

// job is one held task on its way through the workers and submitters.
type job struct {
	v       Validator
	log     *slog.Logger
	task    Task
	results string // base64 SPZ, "" for an empty submission
	done    chan struct{}
}

// New checks opts and loads the state file. reg receives the miner's
// metrics; log its structured logs.
func New(opts Options, client Client, gen Generator, signer Signer, log *slog.Logger, reg prometheus.Registerer) (*Miner, error) {
	if client == nil || gen == nil || signer == nil || log == nil || reg == nil {
		return nil, errors.New("miner: client, generator, signer, logger and registerer are all required")
	}
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("miner options: %w", err)
	}
	st, err := loadState(opts.StateFile)
	if err != nil {
		return nil, err
	}
	met, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	m := &Miner{
		opts: opts, client: client, gen: gen, signer: signer, log: log, met: met, st: st,
		queue:   make(chan *job, opts.QueueSize),
		slots:   make(chan struct{}, opts.QueueSize),
		submitq: make(chan *job, len(opts.Validators)),
		static:  map[string]bool{},
	}
	for _, v := range opts.Validators {
		if slices.Contains(opts.Blacklist.UIDs, v.UID) || slices.Contains(opts.Blacklist.Hotkeys, v.Hotkey) {
			m.static[v.Hotkey] = true
		}
		vs := st.Validators[v.Hotkey]
		if vs == nil {
			vs = &valState{Hotkey: v.Hotkey}
			st.Validators[v.Hotkey] = vs
		}
		vs.UID = v.UID
		if vs.Held != nil {
			met.held.Inc()
		}
	}
	return m, nil
}

// Run mines until ctx ends: it stops pulling, lets in-flight generations
// and submissions run for Options.ShutdownGrace, leaves every unfinished
// task held in the state file, and returns once all its goroutines have.
func (m *Miner) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("miner: Run called twice")
	}
	m.started = true
	m.mu.Unlock()

	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var graceTimer *time.Timer
	stopGrace := context.AfterFunc(ctx, func() {
		if m.opts.ShutdownGrace == 0 {
			cancelWork()
			return
		}
		m.mu.Lock()
		graceTimer = time.AfterFunc(m.opts.ShutdownGrace, cancelWork)
		m.mu.Unlock()
	})
	defer func() {
		stopGrace()
		m.mu.Lock()
		if graceTimer != nil {
			graceTimer.Stop()
		}
		m.mu.Unlock()
	}()

	start := m.opts.Now()
	m.log.Info("mining", "validators", len(m.opts.Validators), "workers", m.opts.Workers,
		"queue", m.opts.QueueSize, "threshold", m.opts.Threshold)
	var loops, workers, submitters sync.WaitGroup
	for _, v := range m.opts.Validators {
		if m.static[v.Hotkey] {
			m.log.Info("validator blacklisted by options", "uid", v.UID, "hotkey", v.Hotkey)
			continue
		}
		loops.Go(func() { m.loop(ctx, v, start) })
	}
	for range m.opts.Workers {
		workers.Go(func() { m.worker(ctx, work) })
	}
	for range m.opts.Submitters {
		submitters.Go(func() { m.submitter(work) })
	}
	<-ctx.Done()
	m.log.Info("stopping: no more pulls; in-flight tasks finish or stay held", "grace", m.opts.ShutdownGrace)
	loops.Wait()
	workers.Wait()
	close(m.submitq)
	submitters.Wait()
	m.mu.Lock()
	m.save()
	m.mu.Unlock()
	m.log.Info("stopped", "held", m.Stats().Held)
	return nil
}

// save persists the state; m.mu must be held. A failed save is logged and
// mining goes on (the next change tries again).
func (m *Miner) save() {
	if err := m.st.save(m.opts.StateFile); err != nil {
		m.log.Error("saving state", "err", err)
	}
}

// vstate returns v's state; m.mu must be held.
func (m *Miner) vstate(v Validator) *valState { return m.st.Validators[v.Hotkey] }

// Stats is a snapshot of the miner's counters and per-validator state.
type Stats struct {
	// Counters are summed over the configured validators.
	Counters
	Held       int              `json:"held"`
	Validators []ValidatorStats `json:"validators"`
}

// ValidatorStats is one validator's part of Stats.
type ValidatorStats struct {
	Validator
	Counters
	CooldownUntil    time.Time `json:"cooldown_until"`
	NextPull         time.Time `json:"next_pull"`
	Violations       int       `json:"cooldown_violations"`
	Blacklisted      bool      `json:"blacklisted"`
	BlacklistedUntil time.Time `json:"blacklisted_until"`
	Holding          string    `json:"holding,omitempty"` // held task id
	// MeanScore is the mean validator score of accepted results.
	MeanScore float64 `json:"mean_score"`
	// ClockOffset is the estimated validator clock minus the miner's, in
	// seconds (a lower bound; 0 until something was learnt).
	ClockOffset float64 `json:"clock_offset_s"`
}

// Stats returns a snapshot; it is safe to call while Run runs.
func (m *Miner) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	var s Stats
	for _, v := range m.opts.Validators {
		vs := m.vstate(v)
		x := ValidatorStats{Validator: v, Counters: vs.Counters, NextPull: vs.NextPull,
			Violations: vs.Violations, BlacklistedUntil: vs.BlacklistedUntil,
			Blacklisted: m.static[v.Hotkey] || vs.BlacklistedUntil.After(now),
			ClockOffset: vs.clock.lower().Seconds()}
		if vs.CooldownUntil > 0 {
			x.CooldownUntil = time.Unix(vs.CooldownUntil, 0)
		}
		if vs.Held != nil {
			x.Holding = vs.Held.Task.ID
			s.Held++
		}
		if vs.Accepted > 0 {
			x.MeanScore = vs.ScoreSum / float64(vs.Accepted)
		}
		s.Counters.add(vs.Counters)
		s.Validators = append(s.Validators, x)
	}
	return s
}
