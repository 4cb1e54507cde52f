package tuner

import (
	"context"
	"fmt"
	"time"

	"github.com/splatbench/splatbench/results"
)

// Prompt is what one trial generates from: a text prompt or an image
// prompt (a path). ID is stable across runs (the prompts package derives
// it from the content) and is part of every trial ID.
type Prompt struct {
	ID    string
	Text  string
	Image string
}

// Trial is one job of a sweep: one point, one prompt, one seed. It is the
// unit that crosses the Evaluator boundary, so it holds only plain data
// that a remote worker can be sent.
type Trial struct {
	// ID is deterministic: see TrialID.
	ID string
	// Point holds the knob values to apply to the base profile.
	Point  Point
	Prompt Prompt
	Seed   int64
	// Repeat numbers measured runs from 0; warm-ups number their own
	// runs from 0 too and have Warmup set.
	Repeat int
	Warmup bool
}

// Outcome is what an Evaluator measured for one trial.
type Outcome struct {
	// Stages are the per-stage timings in pipeline order.
	Stages []results.StageTiming
	// Total is the job's wall time; zero means "not measured", and the
	// runner then records its own wall-clock time around Evaluate.
	Total time.Duration
	// Scores are named scores; ScoreKey ("score") is the one compared with
	// the acceptance threshold.
	Scores map[string]float64
	// ScoreKind says what Scores["score"] is: ScoreValidator when a CLIP
	// model is configured, ScoreFidelity for the weight-free score.
	ScoreKind string
	// Accepted is the evaluator's own self-check verdict at the profile's
	// threshold, if it made one; the tuner recomputes acceptance from the
	// score at each point's threshold and uses Accepted only for records
	// without a score.
	Accepted *bool
	// Caveats are what a reader of this trial's numbers must know (models
	// with random weights ran); results.Record.Caveats.
	Caveats []string
}

// Score names and kinds, as the pipeline writes them.
const (
	ScoreKey       = "score"
	ScoreValidator = "validator"
	ScoreFidelity  = "fidelity"
)

// Evaluator runs one trial. It must honour ctx: the runner cancels it at
// the per-trial timeout and when the sweep is stopped. It is the only way
// trials reach the pipeline, so an implementation may run them in-process
// or hand them to workers on other hosts; it must be safe for concurrent
// use when the runner has more than one worker.
type Evaluator interface {
	Evaluate(ctx context.Context, t Trial) (Outcome, error)
}

// EvaluatorFunc adapts a function to Evaluator.
type EvaluatorFunc func(ctx context.Context, t Trial) (Outcome, error)

// Evaluate calls f.
func (f EvaluatorFunc) Evaluate(ctx context.Context, t Trial) (Outcome, error) { return f(ctx, t) }

// TrialID is the deterministic ID of a trial: "<point>|<prompt>|r<k>" for
// measured repeat k, "<point>|<prompt>|w<k>" for warm-up k. The point is
// the run point (see RunPoint), so points that differ only in analysis
// knobs share their trials.
func TrialID(runPoint Point, promptID string, repeat int, warmup bool) string {
	kind := "r"
	if warmup {
		kind = "w"
	}
	return fmt.Sprintf("%s|%s|%s%d", runPoint.ID, promptID, kind, repeat)
}

// AnalysisKnobs are knobs that do not change what a trial generates, only
// how its result is judged: score.threshold decides accept or skip after
// the score is known. Points that differ only in these share one set of
// trials, and aggregation applies each point's value afterwards, so a
// threshold sweep costs no extra generation.
var AnalysisKnobs = []string{ThresholdKnob}

// ThresholdKnob is the profile path of the self-check threshold.
const ThresholdKnob = "score.threshold"

// RunPoint is p without its analysis knobs: the settings a trial runs with.
func RunPoint(p Point) Point { return p.Without(AnalysisKnobs...) }
