package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/prompts"
	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/tuner"
)

type tuneOptions struct {
	sweep   string
	sets    []string
	fresh   bool
	retry   bool
	timeout time.Duration
	queue   queueOptions
	// inflight is how many trial groups are on the queue at once (0: see sweepQueue).
	inflight int
	metrics  string
}

func tuneCommand() *command {
	o := &tuneOptions{}
	return &command{
		name:    "tune",
		summary: "sweep knobs over a prompt corpus; Pareto front, profiles, tables, plots, report",
		usage:   "splatbench tune [--sweep SWEEP] [--set knob=value] | splatbench tune compare RUN_A RUN_B",
		long: `Runs every point of a sweep (a preset or a YAML file: knobs, sampling, prompt
corpus, repeats, warm-up, per-trial timeout) over its prompts, records each trial
in trials.jsonl as it finishes, then computes per-point latency percentiles,
scores, acceptance at each threshold and the expected reward rate, and writes
the Pareto front (frontier.md, printed), every trial as CSV, bench.txt, plots,
report.html and the profiles fastest, best-score, best-reward-rate and knee.

Rerunning the same command resumes the last run of the same sweep, profile and
prompts: trials already recorded are not run again (a complete run only gets
its outputs rewritten). --fresh starts a new run.

The score is the validator-style score when score.clip_model is configured, and
otherwise the weight-free fidelity score (novel-view PSNR/SSIM against the
reference scenes' ground truth); with encode.format threejs (--sweep threejs) it
is threejs-proxy, a proxy for subnet 17's VLM judge (docs/threejs.md); every
table says which.

Exit status: 0 success, 1 a run error, 2 bad flags or sweep, 130 interrupted
(finished trials are kept; rerun to resume).

Examples:
  splatbench tune                                  # the embedded default sweep
  splatbench tune --sweep gpu --set matte.model=isnet-medium
  splatbench tune --sweep my-sweep.yaml
  splatbench tune compare runs/A runs/B`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&o.sweep, "sweep", "default", "sweep: a preset name ("+fmt.Sprint(configs.SweepPresetNames())+") or a YAML file")
			fs.StringArrayVar(&o.sets, "set", nil, "override a knob of the sweep's base profile (repeatable)")
			fs.BoolVar(&o.fresh, "fresh", false, "start a new run instead of resuming the last unfinished one")
			fs.BoolVar(&o.retry, "retry-failed", false, "when resuming, run failed trials again")
			fs.DurationVar(&o.timeout, "trial-timeout", 0, "override the sweep's per-trial timeout")
			o.queue.addFlags(fs, true)
			fs.IntVar(&o.inflight, "inflight", 0, "trials on the job queue at once (0: this process's lanes; 16 or the live workers' lanes with external workers)")
			fs.StringVar(&o.metrics, "metrics-listen", "", `address of /metrics with the job queue's metrics ("": off)`)
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 && args[0] == "compare" {
				return runCompare(ctx, e, args[1:])
			}
			if len(args) > 0 {
				return usageErrorf("tune takes no arguments (did you mean tune compare RUN_A RUN_B?)")
			}
			return runTune(ctx, e, o)
		},
	}
}

// tunePlan is a resolved sweep: what runs and the key that identifies it
// for resuming.
type tunePlan struct {
	sweep   configs.Sweep
	base    configs.Profile
	points  []tuner.Point
	prompts []tuner.Prompt
	key     string
}

func planTune(o *tuneOptions, g *globalOptions) (*tunePlan, error) {
	sw, err := configs.ResolveSweep(o.sweep)
	if err != nil {
		return nil, err
	}
	base, err := sw.BaseProfile()
	if err != nil {
		return nil, err
	}
	for _, s := range o.sets {
		if err := base.Set(s); err != nil {
			return nil, fmt.Errorf("--set %s: %w", s, err)
		}
	}
	if g.ortLib != "" {
		base.OrtLib = g.ortLib
	}
	if err := base.Validate(); err != nil {
		return nil, err
	}
	points, err := tuner.Points(sw, base)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", configs.ErrInvalid, err)
	}
	ps, err := sweepPrompts(sw.Prompts)
	if err != nil {
		return nil, err
	}
	if base.Text2Img.Source == "scenes" {
		for _, p := range ps {
			if _, err := scenes.Get(p.Text); err != nil && !p.IsImage() {
				return nil, fmt.Errorf("%w: sweep %s: prompt %q is not a reference scene, and the base profile's text2img.source is scenes: use prompts corpus scenes, or --set text2img.source=flux --set text2img.model=DIR", configs.ErrInvalid, sw.Name, p.Text)
			}
		}
	}
	tp := make([]tuner.Prompt, len(ps))
	for i, p := range ps {
		tp[i] = tuner.Prompt{ID: p.ID, Text: p.Text, Image: p.Image}
	}
	key, err := planKey(sw, base, tp)
	if err != nil {
		return nil, err
	}
	return &tunePlan{sweep: sw, base: base, points: points, prompts: tp, key: key}, nil
}

// sweepPrompts loads the sweep's corpora: "scenes" (the reference scenes'
// prompts), "default" (the embedded text corpus) or prompt files, then
// samples Count of them with Seed.
func sweepPrompts(sp configs.Prompts) ([]prompts.Prompt, error) {
	var all []prompts.Prompt
	for _, c := range sp.Corpus {
		switch c {
		case "scenes":
			for _, s := range scenes.All() {
				all = append(all, prompts.Text(s.Prompt))
			}
		case "default":
			all = append(all, prompts.Default()...)
		case "scene-images":
			ps, err := imageeval.WriteScenePrompts(context.Background(), filepath.Join(ort.CacheDir(), "scene-images"), 512)
			if err != nil {
				return nil, fmt.Errorf("prompts corpus scene-images: %w", err)
			}
			all = append(all, ps...)
		default:
			ps, err := prompts.Load(c)
			if err != nil {
				return nil, err
			}
			all = append(all, ps...)
		}
	}
	return prompts.Sample(all, sp.Count, uint64(sp.Seed)), nil
}

// planKey identifies a sweep: same sweep, base profile and prompts, same key.
func planKey(sw configs.Sweep, base configs.Profile, ps []tuner.Prompt) (string, error) {
	b, err := json.Marshal(struct {
		Sweep   configs.Sweep
		Base    configs.Profile
		Prompts []tuner.Prompt
	}{sw, base, ps})
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8]), nil
}

// findResumable returns the newest tune run under out with key: rerunning
// a command finishes its sweep, or only rewrites the outputs when it was
// complete.
func findResumable(out, key string) (*results.Run, error) {
	dirs, _ := filepath.Glob(filepath.Join(out, "*-tune*"))
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		m, err := results.ReadMetaFile(filepath.Join(d, results.MetaFile))
		if err != nil {
			continue // another version's or a broken run: never resumed silently
		}
		if m.Device["sweep_key"] == key {
			return results.Open(d)
		}
	}
	return nil, nil
}

func runTune(ctx context.Context, e *env, o *tuneOptions) error {
	plan, err := planTune(o, e.global)
	if err != nil {
		return err
	}
	b := pipeline.NewBuilder(e.log, plan.base.OrtLib)
	defer b.Close()
	b.ReuseOutputs(4 * len(plan.prompts))

	var run *results.Run
	if !o.fresh {
		if run, err = findResumable(e.global.out, plan.key); err != nil {
			return err
		}
	}
	var meta results.Meta
	var prior []results.Record
	if run != nil {
		if meta, err = run.ReadMeta(); err != nil {
			return err
		}
		recs, warns, err := run.ReadRecords()
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		for _, w := range warns {
			e.log.Warn("skipping unreadable record; the trial will run again", "err", w)
		}
		prior = recs
		e.log.Info("resuming", "run", run.Dir(), "records", len(prior))
	} else {
		if run, err = results.Create(e.global.out, "tune", time.Now()); err != nil {
			return err
		}
		meta = newMeta(ctx, e, "tune", plan.base, b)
		meta.Device["sweep_key"] = plan.key
		if raw, err := json.Marshal(plan.sweep); err == nil {
			meta.Sweep = raw
		}
		if err := run.WriteMeta(meta); err != nil {
			return err
		}
	}
	w, err := run.AppendRecords()
	if err != nil {
		return err
	}
	defer w.Close()

	timeout := o.timeout
	if timeout == 0 {
		timeout = time.Duration(plan.sweep.TrialTimeout)
	}
	// Trials run as jobs on the queue: an embedded server with in-process
	// workers unless --nats names one; the run directory scopes job ids.
	qc, err := o.queue.open(ctx, e, "splatbench tune", "tune-"+storeKey(plan.key))
	if err != nil {
		return err
	}
	defer qc.Close()
	eval, inflight, stopQueue, err := o.queue.sweepQueue(ctx, e, qc, b, plan.base, filepath.Base(run.Dir()), len(prior) > 0, plan.sweep.Workers, o.inflight, o.metrics)
	if err != nil {
		return err
	}
	defer stopQueue()
	r := &tuner.Runner{
		Evaluator:   eval,
		Writer:      w,
		Repeats:     plan.sweep.Repeats,
		Warmup:      plan.sweep.Warmup,
		Timeout:     timeout,
		Workers:     inflight,
		Seed:        plan.sweep.Seed,
		RetryFailed: o.retry,
		Logger:      e.log,
	}
	if isTerminal(e.stderr) {
		r.Progress = e.stderr
	}
	fmt.Fprintf(e.stderr, "tune: %d points x %d prompts -> %s\n", len(plan.points), len(plan.prompts), run.Dir())
	stats, runErr := r.Run(ctx, plan.points, plan.prompts, prior)
	e.log.Info("sweep", "evaluated", stats.Evaluated, "failed", stats.Failed, "skipped", stats.Skipped, "err", runErr)
	if c := pipeline.Caveats(); len(c) > 0 { // a resumed run that ran nothing keeps its first part's
		meta.Caveats = c
	}
	if runErr == nil {
		meta.End = time.Now().UTC()
		if err := run.WriteMeta(meta); err != nil {
			return err
		}
	}
	// Outputs are written for what finished, also after an interrupt.
	if err := writeTuneOutputs(ctx, e, run, plan, meta); err != nil && runErr == nil {
		return err
	}
	return runErr
}
