// Package pipeline owns the job model of splatbench and the Pipeline that
// carries a job through its stages (text2img, matte, views, fit, score,
// encode), timing each one. The stages themselves live in the
// subpackages; Build wires them from a configs.Profile.
package pipeline

import (
	"context"
	"fmt"
	"image"
	"log/slog"
	"time"

	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/lift"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/prompts"
)

// Job is one generation request.
type Job struct {
	ID     string
	Prompt prompts.Prompt
	Seed   int64
}

// State is what a job carries from stage to stage. Each stage reads what
// earlier stages left and fills its own fields.
type State struct {
	Job Job
	// Image is the text2img output (or the image prompt), RGB.
	Image *image.NRGBA
	// RGBA is the matte output: Image's colours with the predicted alpha.
	RGBA *image.NRGBA
	// Views are the posed RGBA views the fit stage trains on; view 0 is the
	// reference view.
	Views []fit.View
	// PosedViews is set by a source whose views 1..K−1 are posed views of
	// the object (the reference scenes' stand-in for a multi-view model):
	// lift.mode auto does not lift them.
	PosedViews bool
	// Lift is the lift stage's output (nil when it did not lift): the fit
	// starts from its cloud and keeps its shape.
	Lift *lift.Result
	// Truth holds ground truth when the image source has it (reference
	// scenes): used by the weight-free fidelity score.
	Truth *Truth
	// Cloud is the fitted Gaussian cloud.
	Cloud *splat.Cloud
	// FitStats are the fit's counts and phase times (on a GPU, the phases'
	// CUDA-event times).
	FitStats fit.Stats
	// Scores are named scores ("score" is the one compared with the
	// threshold) and ScoreKind says what "score" is: "fidelity" or "validator".
	Scores    map[string]float64
	ScoreKind string
	// Accepted is whether the self-check passed the profile's threshold.
	Accepted bool
	// Encoded is the output file (PLY, SPZ or a Three.js module) and
	// Format its kind.
	Encoded []byte
	Format  string
	// ModuleRender is the Three.js module's render in the judge's scene
	// when the encode stage made one of the final module (its colour fit).
	ModuleRender image.Image
	// Rules are the validator's rule codes a Three.js module broke.
	Rules []string
	// Untimed is wall time the stages spent only because splatbench is
	// measuring (drawing ground truth: a scene prompt's held-out views, a
	// corpus picture's recognition and 16 validator views; scoring a
	// picture's job against its truth): no miner's job does it, so Run
	// leaves it out of the stage's time and Since out of the job's.
	Untimed time.Duration
}

// Since is the wall time from start less the state's untimed work: a
// job's latency as a miner would see it.
func (s *State) Since(start time.Time) time.Duration {
	d := time.Since(start)
	if s != nil {
		d -= s.Untimed
	}
	return d
}

// Truth is ground truth for held-out views.
type Truth struct {
	Cameras []splat.Camera
	Views   []*splat.Image
	// Mask is the reference view's true foreground mask, when known.
	Mask *image.Gray
	// Validator marks truth seen as the validator sees it (imageeval.Views:
	// normalised, 16 cameras, gsplat): the prediction is rendered the same
	// way and also scored by mask IoU.
	Validator bool
}

// Stage is one step of the pipeline.
type Stage interface {
	// Name is the stage's name in records and tables ("matte", "fit", ...).
	Name() string
	// Run advances s; it must honour ctx.
	Run(ctx context.Context, s *State) error
}

// Timing is one stage's measured cost in one job.
type Timing struct {
	Stage   string
	Seconds float64
	// Device names what ran the stage ("cpu", "cuda:0", "ort:cpu", ...).
	Device string
	// Reused is set when the stage reused the output of an earlier job
	// with byte-identical input; Seconds is then what computing it cost.
	Reused bool
}

// reuser is implemented by stages that can reuse earlier outputs: after
// Run, Reused reports whether the last run did and what computing it cost.
type reuser interface {
	Reused(s *State) (seconds float64, ok bool)
}

// deviceNamer is implemented by stages that know where they ran.
type deviceNamer interface{ Device() string }

// Pipeline runs stages in order.
type Pipeline struct {
	stages []Stage
	log    *slog.Logger
}

// New returns a pipeline of the given stages.
func New(log *slog.Logger, stages ...Stage) *Pipeline {
	return &Pipeline{stages: stages, log: log}
}

// Stages returns the stage names in order.
func (p *Pipeline) Stages() []string {
	names := make([]string, len(p.stages))
	for i, s := range p.stages {
		names[i] = s.Name()
	}
	return names
}

// Run carries job through every stage. It returns the state reached and
// the timings of the stages that finished, also on error.
func (p *Pipeline) Run(ctx context.Context, job Job) (*State, []Timing, error) {
	s := &State{Job: job, Scores: map[string]float64{}}
	var timings []Timing
	for _, st := range p.stages {
		if err := ctx.Err(); err != nil {
			return s, timings, err
		}
		stageStarting(ctx, st.Name())
		start, untimed := time.Now(), s.Untimed
		err := st.Run(ctx, s)
		t := Timing{Stage: st.Name(), Seconds: (time.Since(start) - (s.Untimed - untimed)).Seconds(), Device: StageDevice(st)}
		if r, ok := st.(reuser); ok {
			if secs, reused := r.Reused(s); reused {
				t.Seconds, t.Reused = secs, true
			}
		}
		if err != nil {
			return s, timings, fmt.Errorf("stage %s: %w", st.Name(), err)
		}
		timings = append(timings, t)
		p.log.Debug("stage done", "job", job.ID, "stage", t.Stage, "seconds", t.Seconds)
	}
	return s, timings, nil
}

// Prepare runs the stages before the one named stage and returns the state
// they produced with that stage, so it can be run (and timed) on its own,
// repeatedly. Stages are idempotent on a prepared state.
func (p *Pipeline) Prepare(ctx context.Context, job Job, stage string) (*State, Stage, error) {
	s := &State{Job: job, Scores: map[string]float64{}}
	for _, st := range p.stages {
		if st.Name() == stage {
			return s, st, nil
		}
		if err := st.Run(ctx, s); err != nil {
			return s, nil, fmt.Errorf("stage %s: %w", st.Name(), err)
		}
	}
	return nil, nil, fmt.Errorf("pipeline has no stage %q (stages: %v)", stage, p.Stages())
}

// StageDevice says where a stage runs ("cpu" unless it knows better).
func StageDevice(st Stage) string {
	if d, ok := st.(deviceNamer); ok {
		return d.Device()
	}
	return "cpu"
}

// Caveats are what every reader of this process's numbers must know, one
// sentence each: that models with random weights ran
// (ort.Runtime.RandomWeightsCaveat). They hold once the models loaded.
func Caveats() []string {
	rt, err := ort.Current()
	if err != nil {
		return nil // no model ran through ONNX Runtime
	}
	if c := rt.RandomWeightsCaveat(); c != "" {
		return []string{c}
	}
	return nil
}
