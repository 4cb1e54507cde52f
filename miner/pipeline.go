package miner

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/http"
	"os"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/miner/bittensor"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/prompts"
)

// PipelineGenerator is the pipeline as the miner's Generator: one pipeline
// per worker, handed out through a channel so concurrent generations never
// share one.
var _ Generator = (*PipelineGenerator)(nil)

type PipelineGenerator struct {
	pool   chan *pipeline.Pipeline
	tmpDir string // image prompts are written here for the pipeline to read
}

// NewPipelineGenerator builds n pipelines of profile p with b (which must
// outlive the generator). Close removes its temporary files.
func NewPipelineGenerator(ctx context.Context, b *pipeline.Builder, p configs.Profile, n int) (*PipelineGenerator, error) {
	tmp, err := os.MkdirTemp("", "splatbench-mine-")
	if err != nil {
		return nil, err
	}
	g := &PipelineGenerator{pool: make(chan *pipeline.Pipeline, n), tmpDir: tmp}
	for range n {
		pl, err := b.Build(ctx, p)
		if err != nil {
			g.Close()
			return nil, err
		}
		g.pool <- pl
	}
	return g, nil
}

// Close removes the image-prompt directory.
func (g *PipelineGenerator) Close() { os.RemoveAll(g.tmpDir) }

// taskSeed derives a job seed from the task id, so a regenerated task
// starts from the same seed. (The CPU fit is not bit-reproducible: its
// backward pass sums worker partials in no fixed order. The miner keeps
// generated results on disk, so a restart never regenerates one.)
func taskSeed(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64() >> 1)
}

// jobPrompt turns a task into a pipeline prompt; image tasks carry the
// base64 image file, which is written to a file for the pipeline.
func (g *PipelineGenerator) jobPrompt(t Task) (prompts.Prompt, func(), error) {
	if t.Type != bittensor.TaskImage {
		return prompts.Text(t.Prompt), func() {}, nil
	}
	raw, err := base64.StdEncoding.DecodeString(t.Prompt)
	if err != nil {
		return prompts.Prompt{}, nil, fmt.Errorf("task %s: image prompt: base64: %w", t.ID, err)
	}
	ext := ".png"
	if http.DetectContentType(raw) == "image/jpeg" {
		ext = ".jpg"
	}
	f, err := os.CreateTemp(g.tmpDir, "task-*"+ext)
	if err != nil {
		return prompts.Prompt{}, nil, err
	}
	_, werr := f.Write(raw)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	cleanup := func() { os.Remove(f.Name()) }
	if werr != nil {
		cleanup()
		return prompts.Prompt{}, nil, fmt.Errorf("task %s: image prompt: %w", t.ID, werr)
	}
	return prompts.Image(f.Name()), cleanup, nil
}

// Generate implements Generator.
func (g *PipelineGenerator) Generate(ctx context.Context, t Task) (Output, error) {
	prompt, cleanup, err := g.jobPrompt(t)
	if err != nil {
		return Output{}, err
	}
	defer cleanup()
	var pl *pipeline.Pipeline
	select {
	case pl = <-g.pool:
	case <-ctx.Done():
		return Output{}, ctx.Err()
	}
	defer func() { g.pool <- pl }()
	st, timings, err := pl.Run(ctx, pipeline.Job{ID: t.ID, Prompt: prompt, Seed: taskSeed(t.ID)})
	if err != nil {
		return Output{}, err
	}
	if st.Format != "spz" {
		return Output{}, fmt.Errorf("task %s: pipeline encoded %q, want spz", t.ID, st.Format)
	}
	score, ok := st.Scores["score"]
	if !ok {
		// Nothing could score it (an image prompt with neither ground truth
		// nor CLIP): the validity gates alone decide, as in serve.
		score = st.Scores["gate"]
	}
	out := Output{Data: st.Encoded, Score: score, Accepted: st.Accepted}
	for _, tm := range timings {
		out.Timings = append(out.Timings, Timing{Stage: tm.Stage, Seconds: tm.Seconds})
	}
	return out, nil
}
