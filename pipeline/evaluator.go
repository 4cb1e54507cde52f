package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/prompts"
	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/tuner"
)

// Evaluator runs tuner trials in-process: the trial's knob values applied
// to the base profile, the pipeline built (models shared through the
// Builder) and one job run. It is the pipeline seen through the tuner's
// interface; the tuner itself never imports this package.
type Evaluator struct {
	base    configs.Profile
	builder *Builder
}

var _ tuner.Evaluator = (*Evaluator)(nil)

// NewEvaluator returns an Evaluator that applies each trial's point to
// base and builds its pipelines with b. It is safe for concurrent use as
// far as b is.
func NewEvaluator(base configs.Profile, b *Builder) *Evaluator {
	return &Evaluator{base: base, builder: b}
}

// profile is the base profile with pt's knob values applied and validated.
func (ev *Evaluator) profile(pt tuner.Point) (configs.Profile, error) {
	p := ev.base
	for k, v := range pt.Values {
		if err := p.SetValue(k, v); err != nil {
			return p, fmt.Errorf("point %s: %w", pt.ID, err)
		}
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("point %s: %w", pt.ID, err)
	}
	return p, nil
}

// Evaluate implements tuner.Evaluator.
func (ev *Evaluator) Evaluate(ctx context.Context, t tuner.Trial) (tuner.Outcome, error) {
	p, err := ev.profile(t.Point)
	if err != nil {
		return tuner.Outcome{}, err
	}
	pl, err := ev.builder.Build(ctx, p)
	if err != nil {
		return tuner.Outcome{}, err
	}
	pr := prompts.Prompt{ID: t.Prompt.ID, Text: t.Prompt.Text, Image: t.Prompt.Image}
	start := time.Now()
	st, timings, err := pl.Run(ctx, Job{ID: t.ID, Prompt: pr, Seed: t.Seed})
	// A reused stage's output was computed by an earlier job; the job's
	// latency counts what computing it cost, as the stage timing does.
	total := st.Since(start)
	for _, tm := range timings {
		if tm.Reused {
			total += time.Duration(tm.Seconds * float64(time.Second))
		}
	}
	out := tuner.Outcome{Total: total, Stages: StageTimings(timings), Caveats: Caveats()}
	if st != nil {
		out.Scores, out.ScoreKind = st.Scores, st.ScoreKind
		if st.ScoreKind != "" {
			acc := st.Accepted
			out.Accepted = &acc
		}
	}
	return out, err
}

// StageTimings converts a job's timings to the run records' form.
func StageTimings(ts []Timing) []results.StageTiming {
	out := make([]results.StageTiming, len(ts))
	for i, t := range ts {
		out[i] = results.StageTiming{Name: t.Stage, Seconds: t.Seconds, Device: t.Device, Reused: t.Reused}
	}
	return out
}
