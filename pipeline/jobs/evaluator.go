package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/tuner"
)

// Evaluator is the queue as the tuner's Evaluator: each trial becomes a
// trial job (the base profile, the point, the prompt, the seed), run by
// whichever worker takes it. The sweep's state stays in the tuner.
type Evaluator struct {
	c    *Client
	base configs.Profile
	ns   string
}

var _ tuner.Evaluator = (*Evaluator)(nil)

// NewEvaluator returns an Evaluator whose jobs apply each point to base.
// ns scopes the job IDs: a resumed sweep must pass the same ns (its run),
// so that trials finished while it was away are found, not run again;
// another sweep passes another.
func NewEvaluator(c *Client, base configs.Profile, ns string) *Evaluator {
	return &Evaluator{c: c, base: base, ns: ns}
}

// TrialJob is the job that runs trial t of a sweep scoped by ns.
func TrialJob(ns string, base configs.Profile, t tuner.Trial) (Job, error) {
	j := Job{ID: "trial/" + ns + "/" + t.ID, Kind: KindTrial, Profile: base, Point: t.Point,
		Prompt: Prompt{ID: t.Prompt.ID, Text: t.Prompt.Text}, Seed: t.Seed, Repeat: t.Repeat, Warmup: t.Warmup}
	if t.Prompt.Image != "" {
		img, err := os.ReadFile(t.Prompt.Image)
		if err != nil {
			return j, fmt.Errorf("trial %s: image prompt: %w", t.ID, err)
		}
		j.Prompt.Image, j.Prompt.ImageName = img, filepath.Base(t.Prompt.Image)
	}
	return j, nil
}

// Evaluate implements tuner.Evaluator.
func (e *Evaluator) Evaluate(ctx context.Context, t tuner.Trial) (tuner.Outcome, error) {
	j, err := TrialJob(e.ns, e.base, t)
	if err != nil {
		return tuner.Outcome{}, err
	}
	r, err := e.c.Do(ctx, j)
	var je *JobError
	if err != nil && !errors.As(err, &je) {
		return tuner.Outcome{}, err
	}
	out := tuner.Outcome{Stages: r.Stages, Total: time.Duration(r.TotalSeconds * float64(time.Second)),
		Scores: r.Scores, ScoreKind: r.ScoreKind, Accepted: r.Accepted, Caveats: r.Caveats}
	if je != nil {
		return out, errors.New(je.Msg)
	}
	return out, nil
}
