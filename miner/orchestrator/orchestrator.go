// Package orchestrator drives a running pod service (the competition's
// batch pod API) as the subnet's orchestrator does: /health until it
// answers, /status until ready, then the round's prompts in batches of 32
// (POST /generate, /status polled until complete, GET /results), with
// retries where the subnet retries and the faults it meets injected on
// purpose. It serves the prompt images itself over loopback, accounts for
// every stem, checks every returned module with the local Three.js
// validator (and renders it, when a renderer is given) and writes a round
// report: failures by rule code, proxy scores, time per batch, /status
// latency.
package orchestrator

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/splatbench/splatbench/results"
)

// Config is one local round.
type Config struct {
	// Pod is the pod's base URL, e.g. http://127.0.0.1:10006.
	Pod string
	// Token, when set, is sent as a bearer token (the pod must not care).
	Token string
	// Prompts are the round's prompts, in order.
	Prompts []PromptImage
	// BatchSize is the subnet's 32.
	BatchSize int
	// Seed is the round's seed.
	Seed int64
	// Replacements is the replacements_remaining each /status poll says.
	Replacements int
	// PollInterval is the subnet's ~10 s.
	PollInterval time.Duration
	// RequestTimeout bounds one request (a /results download included).
	RequestTimeout time.Duration
	// StatusFailures consecutive failed polls declare the pod dead.
	StatusFailures int
	// WarmupTimeout bounds /health and /status until ready (4 h live).
	WarmupTimeout time.Duration
	// BatchTimeout bounds one batch from POST to its results.
	BatchTimeout time.Duration
	// MaxZipBytes caps a results download (the subnet's ~32 MB).
	MaxZipBytes int64
	// Verify re-posts each finished batch and downloads its results again:
	// the pod must stay complete and send the same bytes.
	Verify bool
	// Faults are injected into this round.
	Faults Faults
	// Check validates and scores the returned modules; nil skips it.
	Check *Checker
	Log   *slog.Logger
}

// DefaultConfig is the subnet's orchestrator: batches of 32, a poll every
// 10 s, 3 replacements left, 4 h to get ready, 2 h for the 4 batches.
func DefaultConfig() Config {
	return Config{
		BatchSize: 32, Seed: 42, Replacements: 3,
		PollInterval: 10 * time.Second, RequestTimeout: 5 * time.Minute, StatusFailures: 6,
		WarmupTimeout: 4 * time.Hour, BatchTimeout: 2 * time.Hour, MaxZipBytes: 64 << 20,
	}
}

// Run plays one round against cfg.Pod and returns its report. An error is a
// round that could not finish (the pod never got ready, died, asked for a
// replacement, refused a batch); the report then holds what finished.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.BatchSize < 1 || cfg.PollInterval <= 0 || cfg.RequestTimeout <= 0 || cfg.StatusFailures < 1 {
		return nil, errors.New("orchestrator: BatchSize, PollInterval, RequestTimeout and StatusFailures must be positive")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if _, err := url.Parse(cfg.Pod); err != nil || !strings.HasPrefix(cfg.Pod, "http") {
		return nil, fmt.Errorf("orchestrator: pod URL %q: want http://host:port", cfg.Pod)
	}
	imgs, err := startImageServer(cfg.Prompts, cfg.Faults)
	if err != nil {
		return nil, err
	}
	defer imgs.close()
	ft := &faultTransport{
		base: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}, token: cfg.Token,
		dropGenerate: cfg.Faults.DropGenerate, cutResults: cfg.Faults.CutResults, slowPoll: cfg.Faults.SlowPoll,
	}
	defer ft.base.(*http.Transport).CloseIdleConnections()
	o := &orch{cfg: cfg, imgs: imgs, ft: ft, client: &http.Client{Transport: ft}, log: cfg.Log}
	rep := newReport(cfg)
	start := time.Now()
	err = o.round(ctx, rep)
	rep.Seconds = time.Since(start).Seconds()
	ft.mu.Lock()
	rep.Faults = FaultsReport{DroppedGenerate: ft.dropped, CutResults: ft.cut, SlowPollMs: float64(cfg.Faults.SlowPoll) / 1e6,
		Missing: cfg.Faults.Missing, Bombs: cfg.Faults.Bombs}
	rep.Status = latency(ft.statusLat)
	ft.mu.Unlock()
	rep.finish()
	if err != nil {
		rep.Error = err.Error()
	}
	return rep, err
}

type orch struct {
	cfg    Config
	imgs   *imageServer
	ft     *faultTransport
	client *http.Client
	log    *slog.Logger
}

func (o *orch) round(ctx context.Context, rep *Report) error {
	wctx, cancel := context.WithTimeout(ctx, o.cfg.WarmupTimeout)
	defer cancel()
	if err := o.waitHealth(wctx); err != nil {
		return err
	}
	if _, err := o.waitStatus(wctx, nil, Ready, Complete); err != nil {
		return err
	}
	for i := 0; i*o.cfg.BatchSize < len(o.cfg.Prompts); i++ {
		end := min((i+1)*o.cfg.BatchSize, len(o.cfg.Prompts))
		br, err := o.batch(ctx, i, o.cfg.Prompts[i*o.cfg.BatchSize:end], rep)
		rep.Batches = append(rep.Batches, br)
		if err != nil {
			return fmt.Errorf("orchestrator: batch %d: %w", i, err)
		}
	}
	return nil
}

// waitHealth polls /health until 200.
func (o *orch) waitHealth(ctx context.Context) error {
	for {
		code, _, err := o.do(ctx, http.MethodGet, "/health", nil)
		if err == nil && code == http.StatusOK {
			return nil
		}
		if err := sleep(ctx, o.cfg.PollInterval); err != nil {
			return fmt.Errorf("orchestrator: %s/health never answered 200 (last: %d %v): %w", o.cfg.Pod, code, err, ctx.Err())
		}
	}
}

// Pod statuses.
const (
	WarmingUp  = "warming_up"
	Ready      = "ready"
	Generating = "generating"
	Complete   = "complete"
	Replace    = "replace"
)

// ErrReplace is a pod that asked for a new pod: locally there is none to
// deploy, so the round ends.
var ErrReplace = errors.New("the pod asked to be replaced")

type statusBody struct {
	Status   string          `json:"status"`
	Progress *int            `json:"progress"`
	Total    *int            `json:"total"`
	Payload  json.RawMessage `json:"payload"`
}

// waitStatus polls /status every PollInterval until it says one of want;
// StatusFailures failed polls in a row mean the pod is dead.
func (o *orch) waitStatus(ctx context.Context, br *BatchReport, want ...string) (statusBody, error) {
	fails := 0
	var lastErr error
	for {
		st, err := o.status(ctx)
		if br != nil {
			br.Polls++
		}
		switch {
		case err != nil:
			fails++
			lastErr = err
			if fails >= o.cfg.StatusFailures {
				return st, fmt.Errorf("orchestrator: /status failed %d times in a row, the pod is dead: %w", fails, lastErr)
			}
		case st.Status == Replace:
			return st, fmt.Errorf("orchestrator: %w (payload %s)", ErrReplace, st.Payload)
		default:
			fails = 0
			for _, w := range want {
				if st.Status == w {
					return st, nil
				}
			}
		}
		if err := sleep(ctx, o.cfg.PollInterval); err != nil {
			return st, fmt.Errorf("orchestrator: waiting for %v (last %q, %v): %w", want, st.Status, lastErr, err)
		}
	}
}

func (o *orch) status(ctx context.Context) (statusBody, error) {
	var st statusBody
	code, body, err := o.do(ctx, http.MethodGet, "/status?replacements_remaining="+strconv.Itoa(o.cfg.Replacements), nil)
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("/status: HTTP %d", code)
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("/status: %w", err)
	}
	switch st.Status {
	case WarmingUp, Ready, Generating, Complete, Replace:
	default:
		return st, fmt.Errorf("/status: unknown status %q", clip(st.Status, 40))
	}
	return st, nil
}

// do sends one request within RequestTimeout and reads at most
// MaxZipBytes of the answer.
func (o *orch) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, o.cfg.Pod+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	limit := o.cfg.MaxZipBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if int64(len(b)) > limit {
		return resp.StatusCode, nil, fmt.Errorf("%s: answer over %d bytes", path, limit)
	}
	return resp.StatusCode, b, nil
}

// retry calls f up to 5 times with a doubling wait, while it says retry.
func (o *orch) retry(ctx context.Context, what string, f func() (retry bool, err error)) (int, error) {
	wait := o.cfg.PollInterval / 4
	var err error
	for attempt := 1; ; attempt++ {
		var again bool
		again, err = f()
		if err == nil || !again || attempt == 5 {
			return attempt, err
		}
		o.log.Warn("retrying", "what", what, "attempt", attempt, "err", err)
		if e := sleep(ctx, wait); e != nil {
			return attempt, errors.Join(err, e)
		}
		wait *= 2
	}
}

type promptJSON struct {
	Stem     string `json:"stem"`
	ImageURL string `json:"image_url"`
}

// batch runs one batch: POST (retried), polls until complete, downloads
// the results (retried), accounts for every stem, checks the modules.
func (o *orch) batch(ctx context.Context, index int, prompts []PromptImage, rep *Report) (br BatchReport, err error) {
	br = BatchReport{Index: index, Prompts: len(prompts)}
	start := time.Now()
	defer func() { br.Seconds = time.Since(start).Seconds() }()
	ctx, cancel := context.WithTimeout(ctx, o.cfg.BatchTimeout)
	defer cancel()
	req := struct {
		Prompts []promptJSON `json:"prompts"`
		Seed    int64        `json:"seed"`
	}{Seed: o.cfg.Seed}
	for _, p := range prompts {
		req.Prompts = append(req.Prompts, promptJSON{Stem: p.Stem, ImageURL: o.imgs.url(p.Stem)})
	}
	body, _ := json.Marshal(req)
	var accepted int
	br.GenerateAttempts, err = o.retry(ctx, "POST /generate", func() (bool, error) {
		code, b, err := o.do(ctx, http.MethodPost, "/generate", body)
		switch {
		case err != nil:
			return true, err
		case code == http.StatusOK:
			var a struct{ Accepted int }
			if err := json.Unmarshal(b, &a); err != nil {
				return false, fmt.Errorf("POST /generate: %w", err)
			}
			accepted = a.Accepted
			return false, nil
		case code == http.StatusConflict:
			var r struct {
				Detail        string `json:"detail"`
				CurrentStatus string `json:"current_status"`
			}
			_ = json.Unmarshal(b, &r)
			return r.CurrentStatus == WarmingUp, fmt.Errorf("POST /generate: 409 %q, current_status %q", r.Detail, r.CurrentStatus)
		default:
			return code >= 500, fmt.Errorf("POST /generate: HTTP %d: %s", code, clip(string(b), 200))
		}
	})
	if err != nil {
		return br, err
	}
	if accepted != len(prompts) {
		return br, fmt.Errorf("POST /generate accepted %d of %d prompts", accepted, len(prompts))
	}
	genStart := time.Now()
	if _, err := o.waitStatus(ctx, &br, Complete); err != nil {
		return br, err
	}
	br.GenerateSeconds = time.Since(genStart).Seconds()
	zipData, attempts, err := o.results(ctx)
	br.ResultsAttempts = attempts
	if err != nil {
		return br, err
	}
	br.ZipBytes = len(zipData)
	if o.cfg.Verify {
		br.Idempotent, err = o.verify(ctx, body, zipData)
		if err != nil {
			return br, err
		}
	}
	modules, err := o.account(zipData, prompts, index, rep, &br)
	if err != nil {
		return br, err
	}
	if o.cfg.Check != nil {
		cstart := time.Now()
		o.cfg.Check.run(ctx, modules, rep)
		br.CheckSeconds = time.Since(cstart).Seconds()
	}
	o.log.Info("batch done", "batch", index, "modules", br.Modules, "pod_failed", br.PodFailed,
		"seconds", time.Since(start).Seconds())
	return br, nil
}

// results downloads the ZIP, again when a download breaks off.
func (o *orch) results(ctx context.Context) ([]byte, int, error) {
	var data []byte
	attempts, err := o.retry(ctx, "GET /results", func() (bool, error) {
		code, b, err := o.do(ctx, http.MethodGet, "/results", nil)
		switch {
		case err != nil:
			return true, fmt.Errorf("GET /results: %w", err)
		case code != http.StatusOK:
			return code >= 500, fmt.Errorf("GET /results: HTTP %d: %s", code, clip(string(b), 200))
		}
		data = b
		return false, nil
	})
	return data, attempts, err
}

// verify re-posts the finished batch and downloads its results again.
func (o *orch) verify(ctx context.Context, body, first []byte) (bool, error) {
	code, b, err := o.do(ctx, http.MethodPost, "/generate", body)
	if err != nil || code != http.StatusOK {
		return false, fmt.Errorf("verify: re-posting the finished batch: %d %s %v", code, clip(string(b), 200), err)
	}
	st, err := o.status(ctx)
	if err != nil {
		return false, fmt.Errorf("verify: %w", err)
	}
	if st.Status != Complete {
		return false, fmt.Errorf("verify: a retried POST /generate restarted the batch (status %q)", st.Status)
	}
	again, _, err := o.results(ctx)
	if err != nil {
		return false, fmt.Errorf("verify: %w", err)
	}
	if !bytes.Equal(first, again) {
		return false, errors.New("verify: a second GET /results sent different bytes")
	}
	return true, nil
}

// moduleSrc is one returned module on its way to the checker.
type moduleSrc struct {
	prompt PromptImage
	src    []byte
	rec    *PromptReport
}

// account reads the ZIP and puts every stem of the batch in exactly one
// outcome: a module, a pod failure, missing, or in both places (counted a
// failure, as the subnet counts it).
func (o *orch) account(data []byte, prompts []PromptImage, batch int, rep *Report, br *BatchReport) ([]moduleSrc, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("results ZIP: %w", err)
	}
	want := map[string]bool{}
	for _, p := range prompts {
		want[p.Stem] = true
	}
	mods := map[string][]byte{}
	failed := map[string]string{}
	for _, f := range zr.File {
		if f.Method != zip.Deflate && f.Method != zip.Store {
			return nil, fmt.Errorf("results ZIP: %s: compression method %d", f.Name, f.Method)
		}
		b, err := readEntry(f, 2<<20)
		if err != nil {
			return nil, fmt.Errorf("results ZIP: %s: %w", f.Name, err)
		}
		if f.Name == "_failed.json" {
			if err := json.Unmarshal(b, &failed); err != nil {
				return nil, fmt.Errorf("results ZIP: _failed.json: %w", err)
			}
			continue
		}
		stem, ok := strings.CutSuffix(f.Name, ".js")
		if !ok || !want[stem] {
			br.Unexpected = append(br.Unexpected, f.Name)
			continue
		}
		mods[stem] = b
	}
	for st := range failed {
		if !want[st] {
			br.Unexpected = append(br.Unexpected, "_failed.json:"+st)
		}
	}
	var out []moduleSrc
	for _, p := range prompts {
		rec := &PromptReport{Stem: p.Stem, Name: p.Name, Batch: batch}
		src, hasMod := mods[p.Stem]
		reason, hasFail := failed[p.Stem]
		switch {
		case hasMod && hasFail:
			rec.Outcome, rec.Reason = OutcomeDuplicate, "in both the ZIP and _failed.json: "+reason
			br.Duplicates++
		case hasMod:
			rec.Outcome, rec.Bytes = OutcomeReturned, len(src)
			br.Modules++
			out = append(out, moduleSrc{prompt: p, src: src, rec: rec})
		case hasFail:
			rec.Outcome, rec.Reason = OutcomePodFailed, reason
			br.PodFailed++
		default:
			rec.Outcome, rec.Reason = OutcomeMissing, "in neither the ZIP nor _failed.json"
			br.Missing++
		}
		rep.Prompts = append(rep.Prompts, rec)
	}
	return out, nil
}

func readEntry(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("over %d bytes uncompressed", limit)
	}
	return b, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// latency summarises /status round trips in milliseconds.
func latency(secs []float64) LatencyReport {
	ms := make([]float64, len(secs))
	for i, s := range secs {
		ms[i] = s * 1e3
	}
	s := results.Summarize(ms)
	if s.N == 0 {
		return LatencyReport{}
	}
	return LatencyReport{N: s.N, P50Ms: s.P50, P99Ms: s.P99, MaxMs: s.Max}
}
