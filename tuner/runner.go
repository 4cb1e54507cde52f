package tuner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/sync/errgroup"

	"github.com/splatbench/splatbench/results"
)

// RecordWriter is where the runner appends one record per finished trial;
// *results.Writer is one.
type RecordWriter interface {
	Append(rec results.Record) error
}

// Runner runs a sweep's trials through an Evaluator and appends one record
// per finished trial, so that everything finished is on disk whatever
// happens next.
type Runner struct {
	// Evaluator runs the trials.
	Evaluator Evaluator
	// Writer receives the records (trials.jsonl).
	Writer RecordWriter
	// Repeats is the number of measured runs per point and prompt (≥ 1).
	Repeats int
	// Warmup is the number of unmeasured runs before them (≥ 0).
	Warmup int
	// Timeout bounds one trial; 0 means no bound.
	Timeout time.Duration
	// Workers is how many point×prompt groups run at once (≥ 1; 0 is 1).
	// The runs of one group are always sequential, warm-ups first.
	Workers int
	// Seed is the seed of repeat 0; repeat k (and warm-up k) use Seed+k.
	// Every point sees the same seeds, so points are compared on the same
	// jobs.
	Seed int64
	// RetryFailed makes a resumed run evaluate again the trials whose
	// earlier record has an error; by default they count as done.
	RetryFailed bool
	// Progress, when not nil, gets a progress bar with count and ETA. Pass
	// nil when the output is not a terminal, and in tests.
	Progress io.Writer
	// Logger gets a warning per failed trial; nil discards.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// RunStats counts what a Run did.
type RunStats struct {
	// Planned is the number of trials in the plan, warm-ups included.
	Planned int
	// Skipped were already done (records given to Run) or belong to a
	// group with nothing left to measure.
	Skipped int
	// Evaluated were run and recorded in this call; Failed of them ended
	// with an error (timeouts included).
	Evaluated int
	Failed    int
}

// group is one run point × prompt: warm-ups, then repeats, in order.
type group struct {
	trials []Trial
}

// Plan lists the trials of a sweep in run order: for each distinct run
// point (see RunPoint) and each prompt, warmup warm-ups then repeats
// measured runs. It is what Run executes, minus what is already done.
func Plan(points []Point, prompts []Prompt, repeats, warmup int, seed int64) []Trial {
	var out []Trial
	for _, g := range planGroups(points, prompts, repeats, warmup, seed) {
		out = append(out, g.trials...)
	}
	return out
}

func planGroups(points []Point, prompts []Prompt, repeats, warmup int, seed int64) []group {
	seen := map[string]bool{}
	var groups []group
	for _, p := range points {
		rp := RunPoint(p)
		if seen[rp.ID] {
			continue
		}
		seen[rp.ID] = true
		for _, pr := range prompts {
			var g group
			for k := range warmup {
				g.trials = append(g.trials, Trial{ID: TrialID(rp, pr.ID, k, true), Point: rp, Prompt: pr, Seed: seed + int64(k), Repeat: k, Warmup: true})
			}
			for k := range repeats {
				g.trials = append(g.trials, Trial{ID: TrialID(rp, pr.ID, k, false), Point: rp, Prompt: pr, Seed: seed + int64(k), Repeat: k})
			}
			groups = append(groups, g)
		}
	}
	return groups
}

// Run evaluates every trial of the plan (see Plan) that prior does not
// already hold, appending a record for each as it finishes. prior is what
// trials.jsonl of a run being resumed contains (nil for a fresh run); a
// trial whose ID is there is not run again (failed ones neither, unless
// RetryFailed). A group whose measured runs are all done is skipped with
// its warm-ups; otherwise its missing warm-ups run first.
//
// A failed or timed-out trial is recorded with its error and the sweep
// goes on. When ctx is cancelled, Run stops starting trials, does not
// record the ones it interrupted (a resumed run does them), and returns
// ctx's error; every finished trial is already on disk. A record that
// cannot be written stops the sweep with that error.
func (r *Runner) Run(ctx context.Context, points []Point, prompts []Prompt, prior []results.Record) (RunStats, error) {
	if r.Evaluator == nil || r.Writer == nil {
		return RunStats{}, errors.New("tune: runner needs an Evaluator and a Writer")
	}
	if r.Repeats < 1 || r.Warmup < 0 {
		return RunStats{}, fmt.Errorf("tune: repeats %d, warmup %d: need repeats ≥ 1 and warmup ≥ 0", r.Repeats, r.Warmup)
	}
	if len(points) == 0 || len(prompts) == 0 {
		return RunStats{}, fmt.Errorf("tune: %d points × %d prompts: %w", len(points), len(prompts), ErrEmptySpace)
	}
	done := map[string]bool{}
	for _, rec := range prior {
		if rec.Kind == results.KindTrial && (rec.OK() || !r.RetryFailed) {
			done[rec.ID] = true
		}
	}
	var stats RunStats
	var todo []group
	for _, g := range planGroups(points, prompts, r.Repeats, r.Warmup, r.Seed) {
		stats.Planned += len(g.trials)
		var left group
		measured := false
		for _, t := range g.trials {
			if !done[t.ID] {
				left.trials = append(left.trials, t)
				measured = measured || !t.Warmup
			}
		}
		if !measured {
			stats.Skipped += len(g.trials)
			continue
		}
		stats.Skipped += len(g.trials) - len(left.trials)
		todo = append(todo, left)
	}
	total := 0
	for _, g := range todo {
		total += len(g.trials)
	}
	bar := r.newBar(total)

	var mu sync.Mutex // guards stats and bar
	groups := make(chan group)
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(groups)
		for _, g := range todo {
			select {
			case groups <- g:
			case <-ectx.Done():
				return nil
			}
		}
		return nil
	})
	for range max(r.Workers, 1) {
		eg.Go(func() error {
			for g := range groups {
				for _, t := range g.trials {
					if ectx.Err() != nil {
						return nil
					}
					rec, recorded, err := r.runOne(ectx, t)
					if err != nil {
						return err
					}
					if !recorded {
						return nil // interrupted by cancellation
					}
					mu.Lock()
					stats.Evaluated++
					if !rec.OK() {
						stats.Failed++
					}
					if bar != nil {
						_ = bar.Add(1)
					}
					mu.Unlock()
				}
			}
			return nil
		})
	}
	err := eg.Wait()
	if bar != nil {
		_ = bar.Exit()
		fmt.Fprintln(r.Progress)
	}
	if err != nil {
		return stats, err
	}
	return stats, ctx.Err()
}

func (r *Runner) newBar(total int) *progressbar.ProgressBar {
	if r.Progress == nil || total == 0 {
		return nil
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(r.Progress),
		progressbar.OptionSetDescription("tune"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetItsString("trials"),
	)
}

// runOne evaluates one trial and appends its record. recorded is false
// when ctx was cancelled under it (nothing is written); err is a write
// failure.
func (r *Runner) runOne(ctx context.Context, t Trial) (rec results.Record, recorded bool, err error) {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	tctx, cancel := ctx, context.CancelFunc(func() {})
	if r.Timeout > 0 {
		tctx, cancel = context.WithTimeout(ctx, r.Timeout)
	}
	start := now()
	out, evalErr := r.evaluate(tctx, t)
	wall := now().Sub(start)
	timedOut := errors.Is(tctx.Err(), context.DeadlineExceeded)
	cancel()
	if evalErr != nil && ctx.Err() != nil {
		return rec, false, nil
	}
	rec = results.Record{
		ID:        t.ID,
		Kind:      results.KindTrial,
		Params:    t.Point.Values,
		Prompt:    promptText(t.Prompt),
		Seed:      t.Seed,
		Repeat:    t.Repeat,
		Warmup:    t.Warmup,
		Stages:    out.Stages,
		Scores:    out.Scores,
		ScoreKind: out.ScoreKind,
		Accepted:  out.Accepted,
		Caveats:   out.Caveats,
		Started:   start.UTC(),
	}
	rec.TotalSeconds = out.Total.Seconds()
	if out.Total <= 0 {
		rec.TotalSeconds = wall.Seconds()
	}
	if evalErr != nil {
		if timedOut {
			rec.Error = fmt.Sprintf("timed out after %v: %v", r.Timeout, evalErr)
		} else {
			rec.Error = evalErr.Error()
		}
		r.logger().Warn("trial failed", "trial", t.ID, "err", rec.Error)
	}
	if err := r.Writer.Append(rec); err != nil {
		return rec, false, fmt.Errorf("tune: trial %s: %w", t.ID, err)
	}
	return rec, true, nil
}

// evaluate calls the Evaluator, turning a panic into an error so one bad
// trial does not end the sweep.
func (r *Runner) evaluate(ctx context.Context, t Trial) (out Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("evaluator panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return r.Evaluator.Evaluate(ctx, t)
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// promptText is what a record stores as its prompt: the text, or for an
// image prompt its path.
func promptText(p Prompt) string {
	if p.Image != "" {
		return p.Image
	}
	return p.Text
}
