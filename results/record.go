package results

import (
	"errors"
	"fmt"
	"time"
)

// Record kinds.
const (
	KindTrial = "trial" // one tuning trial (one parameter point, one prompt, one repeat)
	KindBench = "bench" // one timed benchmark iteration
	KindJob   = "job"   // one mining or serving generation job
)

// Record is one line of trials.jsonl: one job with its parameters,
// per-stage timings, scores and outcome.
type Record struct {
	// ID identifies the trial or job; it is stable across reruns so a
	// resumed sweep can skip what is already done.
	ID string `json:"id"`
	// Kind is KindTrial, KindBench or KindJob.
	Kind string `json:"kind"`
	// Params are the knob values of this job (profile overrides).
	Params map[string]any `json:"params,omitempty"`
	// Prompt is the text prompt, or the image path for image-to-3D.
	Prompt string `json:"prompt,omitempty"`
	// Seed is the job's RNG seed.
	Seed int64 `json:"seed"`
	// Repeat numbers repeats of the same point, from 0.
	Repeat int `json:"repeat"`
	// Warmup marks an untimed warm-up job; statistics exclude it.
	Warmup bool `json:"warmup,omitempty"`
	// Stages are the per-stage timings, in pipeline order.
	Stages []StageTiming `json:"stages,omitempty"`
	// TotalSeconds is the wall time of the whole job.
	TotalSeconds float64 `json:"total_seconds"`
	// Scores hold named quality scores ("clip", "psnr", "ssim", ...).
	Scores map[string]float64 `json:"scores,omitempty"`
	// ScoreKind says what produced Scores ("clip", "fidelity", "none").
	ScoreKind string `json:"score_kind,omitempty"`
	// Accepted is the self-check's decision; nil when there was none.
	Accepted *bool `json:"accepted,omitempty"`
	// Caveats are what a reader of this job's numbers must know, one
	// sentence each (models with random weights ran).
	Caveats []string `json:"caveats,omitempty"`
	// Error is the failure, if the job failed; the other fields hold what
	// was measured before it.
	Error string `json:"error,omitempty"`
	// Started is when the job started.
	Started time.Time `json:"started"`
}

// StageTiming is one stage's cost inside a job.
type StageTiming struct {
	Name string `json:"name"`
	// Seconds is wall time.
	Seconds float64 `json:"seconds"`
	// DeviceSeconds is time measured on the device (GPU events); 0 when
	// the stage has no device timer.
	DeviceSeconds float64 `json:"device_seconds,omitempty"`
	// PeakBytes is the peak memory the stage reached (device memory on a
	// GPU, peak RSS on the CPU); 0 when unknown.
	PeakBytes uint64 `json:"peak_bytes,omitempty"`
	// Device names what ran the stage ("cpu", "cuda:0", "ort:CUDAExecutionProvider").
	Device string `json:"device,omitempty"`
	// Reused marks a stage whose output was reused from an earlier job
	// with byte-identical input (a sweep mattes each reference image once);
	// Seconds is then the measured cost of computing that output.
	Reused bool `json:"reused,omitempty"`
}

// OK reports whether the job finished without error.
func (r *Record) OK() bool { return r.Error == "" }

// Stage returns the timing of the named stage, if the record has one.
func (r *Record) Stage(name string) (StageTiming, bool) {
	for _, s := range r.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return StageTiming{}, false
}

// Validate checks the fields every record must have.
func (r *Record) Validate() error {
	var errs []error
	if r.ID == "" {
		errs = append(errs, errors.New("id: empty"))
	}
	switch r.Kind {
	case KindTrial, KindBench, KindJob:
	default:
		errs = append(errs, fmt.Errorf("kind: %q is not trial, bench or job", r.Kind))
	}
	if r.TotalSeconds < 0 {
		errs = append(errs, fmt.Errorf("total_seconds: %v is negative", r.TotalSeconds))
	}
	for i, s := range r.Stages {
		if s.Name == "" {
			errs = append(errs, fmt.Errorf("stages[%d].name: empty", i))
		}
		if s.Seconds < 0 || s.DeviceSeconds < 0 {
			errs = append(errs, fmt.Errorf("stages[%d] (%s): negative time", i, s.Name))
		}
	}
	return errors.Join(errs...)
}
