package orchestrator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/splatbench/splatbench/pipeline/threejs/proxy"
	"github.com/splatbench/splatbench/results/atomicfile"
)

// Outcomes of a prompt.
const (
	OutcomePassed     = "passed"      // returned and passed the validator
	OutcomeReturned   = "returned"    // returned, not checked (or the check could not run)
	OutcomeRuleFailed = "rule_failed" // returned, broke a rule: loses every duel
	OutcomePodFailed  = "pod_failed"  // in _failed.json
	OutcomeMissing    = "missing"     // in neither place
	OutcomeDuplicate  = "duplicate"   // in both places
)

// Report is one local round.
type Report struct {
	Pod        string          `json:"pod"`
	Started    time.Time       `json:"started"`
	Seconds    float64         `json:"seconds"`
	Error      string          `json:"error,omitempty"`
	Total      int             `json:"prompts"`
	BatchSize  int             `json:"batch_size"`
	PollMs     float64         `json:"poll_interval_ms"`
	Checked    bool            `json:"checked"`
	Rendered   bool            `json:"rendered"`
	Counts     Counts          `json:"counts"`
	RuleCodes  map[string]int  `json:"rule_codes"`  // modules failing each rule code
	PodReasons map[string]int  `json:"pod_reasons"` // _failed.json reasons, by their first clause
	Proxy      ProxyReport     `json:"proxy"`
	Status     LatencyReport   `json:"status_latency"`
	Faults     FaultsReport    `json:"faults"`
	Batches    []BatchReport   `json:"batches"`
	Prompts    []*PromptReport `json:"per_prompt"`
}

// Counts are the prompts by outcome; Failed is every prompt that loses
// (pod failures, rule failures, missing, duplicate).
type Counts struct {
	Passed     int `json:"passed"`
	Returned   int `json:"returned_unchecked"`
	RuleFailed int `json:"rule_failed"`
	PodFailed  int `json:"pod_failed"`
	Missing    int `json:"missing"`
	Duplicate  int `json:"duplicate"`
	Failed     int `json:"failed"`
	CheckError int `json:"check_errors"`
}

// BatchReport is one batch.
type BatchReport struct {
	Index            int      `json:"index"`
	Prompts          int      `json:"prompts"`
	Seconds          float64  `json:"seconds"`
	GenerateSeconds  float64  `json:"generate_seconds"`
	CheckSeconds     float64  `json:"check_seconds"`
	GenerateAttempts int      `json:"generate_attempts"`
	ResultsAttempts  int      `json:"results_attempts"`
	Polls            int      `json:"polls"`
	ZipBytes         int      `json:"zip_bytes"`
	Modules          int      `json:"modules"`
	PodFailed        int      `json:"pod_failed"`
	Missing          int      `json:"missing"`
	Duplicates       int      `json:"duplicates"`
	Unexpected       []string `json:"unexpected,omitempty"`
	Idempotent       bool     `json:"idempotent_verified"`
}

// PromptReport is one prompt's outcome.
type PromptReport struct {
	Stem       string       `json:"stem"`
	Name       string       `json:"name"`
	Batch      int          `json:"batch"`
	Outcome    string       `json:"outcome"`
	Reason     string       `json:"reason,omitempty"`
	Rules      []string     `json:"rules,omitempty"`
	Bytes      int          `json:"bytes,omitempty"`
	CheckError string       `json:"check_error,omitempty"`
	Proxy      *proxy.Score `json:"proxy,omitempty"`
}

// ProxyReport averages the proxy scores over the rendered modules.
type ProxyReport struct {
	Rendered   int     `json:"rendered"`
	MeanProxy  float64 `json:"mean_proxy"`
	MeanIoU    float64 `json:"mean_iou"`
	MeanSSIM   float64 `json:"mean_ssim"`
	MeanDeltaE float64 `json:"mean_delta_e"`
}

// LatencyReport is the pod's /status round trip as the orchestrator saw it
// (without injected delays).
type LatencyReport struct {
	N     int     `json:"n"`
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

// FaultsReport is what was injected.
type FaultsReport struct {
	DroppedGenerate int      `json:"dropped_generate_answers"`
	CutResults      int      `json:"cut_results_downloads"`
	SlowPollMs      float64  `json:"slow_poll_ms"`
	Missing         []string `json:"missing_images,omitempty"`
	Bombs           []string `json:"image_bombs,omitempty"`
}

func newReport(cfg Config) *Report {
	r := &Report{
		Pod: cfg.Pod, Started: time.Now().UTC(), Total: len(cfg.Prompts), BatchSize: cfg.BatchSize,
		PollMs:  float64(cfg.PollInterval) / 1e6,
		Checked: cfg.Check != nil && cfg.Check.Validator != nil, Rendered: cfg.Check != nil && cfg.Check.Renderer != nil,
		RuleCodes: map[string]int{}, PodReasons: map[string]int{},
	}
	return r
}

// finish counts the outcomes.
func (r *Report) finish() {
	var sum proxy.Score
	for _, p := range r.Prompts {
		switch p.Outcome {
		case OutcomePassed:
			r.Counts.Passed++
		case OutcomeReturned:
			r.Counts.Returned++
		case OutcomeRuleFailed:
			r.Counts.RuleFailed++
		case OutcomePodFailed:
			r.Counts.PodFailed++
			reason, _, _ := strings.Cut(p.Reason, ":")
			r.PodReasons[reason]++
		case OutcomeMissing:
			r.Counts.Missing++
		case OutcomeDuplicate:
			r.Counts.Duplicate++
		}
		if p.CheckError != "" {
			r.Counts.CheckError++
		}
		for _, rule := range slices.Compact(slices.Sorted(slices.Values(p.Rules))) {
			r.RuleCodes[rule]++
		}
		if p.Proxy != nil {
			r.Proxy.Rendered++
			sum.Proxy += p.Proxy.Proxy
			sum.IoU += p.Proxy.IoU
			sum.SSIM += p.Proxy.SSIM
			sum.DeltaE += p.Proxy.DeltaE
		}
	}
	r.Counts.Failed = r.Counts.RuleFailed + r.Counts.PodFailed + r.Counts.Missing + r.Counts.Duplicate
	if n := float64(r.Proxy.Rendered); n > 0 {
		r.Proxy.MeanProxy, r.Proxy.MeanIoU, r.Proxy.MeanSSIM, r.Proxy.MeanDeltaE = sum.Proxy/n, sum.IoU/n, sum.SSIM/n, sum.DeltaE/n
	}
}

// Accounted reports whether every prompt of the round ended in exactly one
// place, with nothing unexpected in any archive.
func (r *Report) Accounted() bool {
	if len(r.Prompts) != r.Total || r.Counts.Missing > 0 || r.Counts.Duplicate > 0 {
		return false
	}
	for _, b := range r.Batches {
		if len(b.Unexpected) > 0 {
			return false
		}
	}
	return true
}

// Write puts report.json and report.md in dir.
func (r *Report) Write(dir string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "report.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("orchestrator: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "report.md"), r.Markdown(), 0o644); err != nil {
		return fmt.Errorf("orchestrator: %w", err)
	}
	return nil
}

// Markdown is the report for people.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Local round against %s\n\n", r.Pod)
	fmt.Fprintf(&b, "%d prompts in batches of %d, %.1f s in all (started %s).", r.Total, r.BatchSize, r.Seconds, r.Started.Format(time.RFC3339))
	if r.Error != "" {
		fmt.Fprintf(&b, " **The round did not finish:** %s.", r.Error)
	}
	c := r.Counts
	fmt.Fprintf(&b, "\n\n| passed | rule failed | pod failed | missing | duplicate | unchecked | check errors |\n|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d | %d |\n\n", c.Passed, c.RuleFailed, c.PodFailed, c.Missing, c.Duplicate, c.Returned, c.CheckError)
	if !r.Checked {
		b.WriteString("No validator ran: returned modules are unchecked.\n\n")
	}
	writeCounts(&b, "Failures by rule code", "rule code", r.RuleCodes)
	writeCounts(&b, "Pod failures (_failed.json) by reason", "reason", r.PodReasons)
	b.WriteString("## Batches\n\n| batch | prompts | modules | pod failed | seconds | generating s | check s | POST tries | results tries | polls | ZIP bytes | idempotent |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, bt := range r.Batches {
		fmt.Fprintf(&b, "| %d | %d | %d | %d | %.1f | %.1f | %.1f | %d | %d | %d | %d | %v |\n", bt.Index, bt.Prompts, bt.Modules, bt.PodFailed,
			bt.Seconds, bt.GenerateSeconds, bt.CheckSeconds, bt.GenerateAttempts, bt.ResultsAttempts, bt.Polls, bt.ZipBytes, bt.Idempotent)
	}
	fmt.Fprintf(&b, "\n/status round trip (%d polls every %.0f ms): p50 %.2f ms, p99 %.2f ms, max %.2f ms.\n\n", r.Status.N, r.PollMs, r.Status.P50Ms, r.Status.P99Ms, r.Status.MaxMs)
	if r.Rendered {
		fmt.Fprintf(&b, "Proxy score (pipeline/threejs/proxy: a stand-in for the VLM judge, not its score) over %d rendered modules: proxy %.3f, mask IoU %.3f, SSIM %.3f, ΔE %.1f.\n\n",
			r.Proxy.Rendered, r.Proxy.MeanProxy, r.Proxy.MeanIoU, r.Proxy.MeanSSIM, r.Proxy.MeanDeltaE)
	}
	f := r.Faults
	fmt.Fprintf(&b, "Faults injected: %d dropped /generate answers, %d /results cut mid-stream, polls slowed by %.0f ms, %d image URLs answering 404, %d image bombs.\n",
		f.DroppedGenerate, f.CutResults, f.SlowPollMs, len(f.Missing), len(f.Bombs))
	return b.Bytes()
}

func writeCounts(b *bytes.Buffer, title, col string, m map[string]int) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(b, "## %s\n\n| %s | prompts |\n|---|---|\n", title, col)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(b, "| %s | %d |\n", k, m[k])
	}
	b.WriteString("\n")
}
