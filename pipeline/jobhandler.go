package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/jobs"
	"github.com/splatbench/splatbench/prompts"
	"github.com/splatbench/splatbench/tuner"
)

// JobHandler runs queue jobs (package jobs) on this host: one handler per
// worker slot, each pinned to its device. A job's profile comes with the
// job; the host's device and ONNX Runtime library replace the ones in it.
type JobHandler struct {
	b      *Builder
	device string
	ortLib string
	tmpDir string
}

// NewJobHandler returns a handler that builds its pipelines with b on
// device (a profile device setting; "" keeps the job's) and ortLib (""
// keeps the job's). Close removes its temporary files.
func NewJobHandler(b *Builder, device, ortLib string) (*JobHandler, error) {
	tmp, err := os.MkdirTemp("", "splatbench-worker-")
	if err != nil {
		return nil, err
	}
	return &JobHandler{b: b, device: device, ortLib: ortLib, tmpDir: tmp}, nil
}

// Close removes the image-prompt directory.
func (h *JobHandler) Close() { os.RemoveAll(h.tmpDir) }

// JobSlots are a worker's lanes for profile p: one per GPU when p's device
// is auto, cuda or cuda:all and the driver lists GPUs (each lane pinned to
// its cuda:N), else n lanes on p's device (n < 1 counts as 1).
func (b *Builder) JobSlots(p configs.Profile, n int) ([]jobs.Slot, func(), error) {
	devices := []string{}
	switch strings.ToLower(p.Device) {
	case "auto", "cuda", "cuda:all":
		if infos, err := cuda.Discover(b.log); err == nil {
			for _, in := range infos {
				devices = append(devices, fmt.Sprintf("cuda:%d", in.Index))
			}
		} else if p.Device != "auto" {
			return nil, nil, fmt.Errorf("device %s: %w", p.Device, err)
		}
	}
	if len(devices) == 0 {
		for range max(n, 1) {
			devices = append(devices, p.Device)
		}
	}
	var hs []*JobHandler
	closeAll := func() {
		for _, h := range hs {
			h.Close()
		}
	}
	slots := make([]jobs.Slot, len(devices))
	for i, d := range devices {
		h, err := NewJobHandler(b, d, p.OrtLib)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		hs = append(hs, h)
		slots[i] = jobs.Slot{Handler: h, Device: d}
	}
	return slots, closeAll, nil
}

// Handle implements jobs.Handler.
func (h *JobHandler) Handle(ctx context.Context, j jobs.Job) (jobs.Result, error) {
	p := j.Profile
	if h.device != "" {
		p.Device = h.device
	}
	if h.ortLib != "" {
		p.OrtLib = h.ortLib
	}
	pr, cleanup, err := h.prompt(j)
	if err != nil {
		return jobs.Result{}, err
	}
	defer cleanup()
	switch j.Kind {
	case jobs.KindTrial:
		t := tuner.Trial{ID: j.ID, Point: j.Point, Prompt: tuner.Prompt{ID: pr.ID, Text: pr.Text, Image: pr.Image},
			Seed: j.Seed, Repeat: j.Repeat, Warmup: j.Warmup}
		out, err := NewEvaluator(p, h.b).Evaluate(ctx, t)
		return jobs.Result{Stages: out.Stages, TotalSeconds: out.Total.Seconds(), Scores: out.Scores,
			ScoreKind: out.ScoreKind, Accepted: out.Accepted, Caveats: out.Caveats}, err
	case jobs.KindGenerate:
		if err := p.Validate(); err != nil {
			return jobs.Result{}, err
		}
		pl, err := h.b.Build(ctx, p)
		if err != nil {
			return jobs.Result{}, err
		}
		start := time.Now()
		st, timings, err := pl.Run(ctx, Job{ID: j.ID, Prompt: pr, Seed: j.Seed})
		r := jobs.Result{Stages: StageTimings(timings), TotalSeconds: st.Since(start).Seconds(), Caveats: Caveats()}
		if err != nil {
			return r, err
		}
		acc := st.Accepted
		r.Scores, r.ScoreKind, r.Accepted, r.Output, r.Format = st.Scores, st.ScoreKind, &acc, st.Encoded, st.Format
		return r, nil
	}
	return jobs.Result{}, fmt.Errorf("job %s: kind %q", j.ID, j.Kind)
}

// prompt is the job's prompt for the pipeline; an image prompt is written
// to a file, which cleanup removes.
func (h *JobHandler) prompt(j jobs.Job) (prompts.Prompt, func(), error) {
	if len(j.Prompt.Image) == 0 {
		pr := prompts.Text(j.Prompt.Text)
		if j.Prompt.ID != "" {
			pr.ID = j.Prompt.ID
		}
		return pr, func() {}, nil
	}
	ext := filepath.Ext(j.Prompt.ImageName)
	if ext == "" || strings.ContainsAny(ext, `/\`) {
		ext = ".png"
	}
	f, err := os.CreateTemp(h.tmpDir, "prompt-*"+ext)
	if err != nil {
		return prompts.Prompt{}, nil, err
	}
	_, werr := f.Write(j.Prompt.Image)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	cleanup := func() { os.Remove(f.Name()) }
	if werr != nil {
		cleanup()
		return prompts.Prompt{}, nil, fmt.Errorf("job %s: image prompt: %w", j.ID, werr)
	}
	pr := prompts.Image(f.Name())
	if j.Prompt.ID != "" {
		pr.ID = j.Prompt.ID
	}
	return pr, cleanup, nil
}

// QueueRun returns a function with the signature of Pipeline.Run that
// runs each job on the queue instead of here, as a generation job of
// profile p: what serve hands its generations to when many hosts serve.
func QueueRun(c *jobs.Client, p configs.Profile) func(ctx context.Context, job Job) (*State, []Timing, error) {
	return func(ctx context.Context, job Job) (*State, []Timing, error) {
		// Serve's job IDs are not unique across processes or restarts:
		// a random suffix keeps one request from answering another.
		var nonce [8]byte
		_, _ = rand.Read(nonce[:])
		j := jobs.Job{ID: "gen/" + job.ID + "/" + hex.EncodeToString(nonce[:]), Kind: jobs.KindGenerate, Profile: p, Seed: job.Seed,
			Prompt: jobs.Prompt{ID: job.Prompt.ID, Text: job.Prompt.Text}}
		if job.Prompt.Image != "" {
			img, err := os.ReadFile(job.Prompt.Image)
			if err != nil {
				return nil, nil, fmt.Errorf("job %s: image prompt: %w", job.ID, err)
			}
			j.Prompt.Image, j.Prompt.ImageName = img, filepath.Base(job.Prompt.Image)
		}
		r, err := c.Do(ctx, j)
		var timings []Timing
		for _, s := range r.Stages {
			timings = append(timings, Timing{Stage: s.Name, Seconds: s.Seconds, Device: s.Device, Reused: s.Reused})
		}
		if err != nil {
			return nil, timings, err
		}
		st := &State{Job: job, Scores: r.Scores, ScoreKind: r.ScoreKind, Encoded: r.Output, Format: r.Format}
		if r.Accepted != nil {
			st.Accepted = *r.Accepted
		}
		if st.Scores == nil {
			st.Scores = map[string]float64{}
		}
		return st, timings, nil
	}
}
