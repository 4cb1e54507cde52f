package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/prompts"
	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/tuner"
)

// pipelineEvaluator runs tuner trials in-process: the trial's knob values
// applied to the base profile, the pipeline built (models shared through
// the Builder) and one job run.
type pipelineEvaluator struct {
	base    configs.Profile
	builder *pipeline.Builder
	log     *slog.Logger
}

var _ tuner.Evaluator = (*pipelineEvaluator)(nil)

func (ev *pipelineEvaluator) profile(pt tuner.Point) (configs.Profile, error) {
	p := ev.base
	for k, v := range pt.Values {
		if err := p.SetValue(k, v); err != nil {
			return p, fmt.Errorf("point %s: %w", pt.ID, err)
		}
	}
	return p, p.Validate()
}

func (ev *pipelineEvaluator) Evaluate(ctx context.Context, t tuner.Trial) (tuner.Outcome, error) {
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
	st, timings, err := pl.Run(ctx, pipeline.Job{ID: t.ID, Prompt: pr, Seed: t.Seed})
	// A reused stage's output was computed by an earlier job; the job's
	// latency counts what computing it cost, as the stage timing does.
	total := time.Since(start)
	for _, tm := range timings {
		if tm.Reused {
			total += time.Duration(tm.Seconds * float64(time.Second))
		}
	}
	out := tuner.Outcome{Total: total, Stages: stageTimings(timings)}
	if st != nil {
		out.Scores, out.ScoreKind = st.Scores, st.ScoreKind
		if st.ScoreKind != "" {
			acc := st.Accepted
			out.Accepted = &acc
		}
	}
	return out, err
}

func stageTimings(ts []pipeline.Timing) []results.StageTiming {
	out := make([]results.StageTiming, len(ts))
	for i, t := range ts {
		out[i] = results.StageTiming{Name: t.Stage, Seconds: t.Seconds, Device: t.Device, Reused: t.Reused}
	}
	return out
}
