package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/tuner"
)

// writeTuneOutputs aggregates the run's records and writes the Pareto
// table (printed too), CSVs, bench.txt, plots, profiles and report.html.
func writeTuneOutputs(ctx context.Context, e *env, run *results.Run, plan *tunePlan, meta results.Meta) error {
	recs, warns, err := run.ReadRecords()
	if err != nil {
		return err
	}
	for _, w := range warns {
		e.log.Warn("unreadable record left out", "err", w)
	}
	cfg := meta.BenchConfig("github.com/splatbench/splatbench/tuner")
	out, err := tuner.WriteOutputs(run, tuner.OutputOptions{
		Base:        plan.base,
		Points:      plan.points,
		Records:     recs,
		Objectives:  plan.sweep.Objectives,
		Aggregate:   aggregateOptions(plan),
		Meta:        meta,
		BenchConfig: cfg,
		Text:        e.stdout,
		Logger:      e.log,
		Splats:      tuneSplats(ctx, e, run, plan.prompts),
		ViewerDir:   reportViewerDir,
	})
	if out != nil {
		for _, w := range out.Warnings {
			e.log.Warn("tune output", "warning", w)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nreport:   %s\nprofiles: %s\n", run.Path(tuner.ReportFile), filepath.Join(run.Dir(), "profiles"))
	return nil
}

func aggregateOptions(plan *tunePlan) tuner.AggregateOptions {
	return tuner.AggregateOptions{
		Threshold: plan.base.Score.Threshold,
		Reward:    tuner.DefaultRewardModel(max(1, plan.sweep.Workers), max(1, plan.sweep.Validators)),
	}
}

// runCompare prints two tune runs side by side with ratios.
func runCompare(_ context.Context, e *env, args []string) error {
	if len(args) != 2 {
		return usageErrorf("tune compare takes two run directories")
	}
	var runs [2]*results.Run
	for i, dir := range args {
		r, err := results.Open(dir)
		if err != nil {
			return err
		}
		if _, err := r.ReadMeta(); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		runs[i] = r
	}
	t, err := tuner.Compare(runs[0], runs[1], tuner.AggregateOptions{Reward: tuner.DefaultRewardModel(1, 1)})
	if err != nil {
		return err
	}
	return t.WriteText(e.stdout)
}
