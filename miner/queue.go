package miner

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/miner/bittensor"
	"github.com/splatbench/splatbench/pipeline/jobs"
)

// QueueGenerator is the job queue as the miner's Generator: each task's
// generation is a job that whichever worker (this host's or another's)
// takes runs with the miner's profile. Pulls, cooldowns, self-validation
// and submission stay in the miner; the job ID comes from the task, so a
// task generated again (a redelivery, a restarted miner) is answered by
// its one result.
type QueueGenerator struct {
	c *jobs.Client
	p configs.Profile
}

var _ Generator = (*QueueGenerator)(nil)

// NewQueueGenerator returns a Generator that queues generations of p on c.
func NewQueueGenerator(c *jobs.Client, p configs.Profile) *QueueGenerator {
	return &QueueGenerator{c: c, p: p}
}

// TaskJob is the generation job of task t with profile p. Its ID names the
// task and its prompt, so one task is one job.
func TaskJob(t Task, p configs.Profile) (jobs.Job, error) {
	h := sha256.Sum256([]byte(t.Type + "\x00" + t.Prompt))
	j := jobs.Job{ID: "task/" + t.ID + "/" + hex.EncodeToString(h[:6]), Kind: jobs.KindGenerate, Profile: p,
		Seed: taskSeed(t.ID)}
	if t.Type != bittensor.TaskImage {
		j.Prompt.Text = t.Prompt
		return j, nil
	}
	raw, err := base64.StdEncoding.DecodeString(t.Prompt)
	if err != nil {
		return j, fmt.Errorf("task %s: image prompt: base64: %w", t.ID, err)
	}
	j.Prompt.Image, j.Prompt.ImageName = raw, "task.png"
	if http.DetectContentType(raw) == "image/jpeg" {
		j.Prompt.ImageName = "task.jpg"
	}
	return j, nil
}

// Generate implements Generator.
func (g *QueueGenerator) Generate(ctx context.Context, t Task) (Output, error) {
	j, err := TaskJob(t, g.p)
	if err != nil {
		return Output{}, err
	}
	r, err := g.c.Do(ctx, j)
	if err != nil {
		return Output{}, err
	}
	if r.Format != "spz" {
		return Output{}, fmt.Errorf("task %s: worker %s encoded %q, want spz", t.ID, r.Worker, r.Format)
	}
	score, ok := r.Scores["score"]
	if !ok {
		score = r.Scores["gate"] // as PipelineGenerator: the validity gates alone decide
	}
	out := Output{Data: r.Output, Score: score, Accepted: r.Accepted != nil && *r.Accepted}
	for _, s := range r.Stages {
		out.Timings = append(out.Timings, Timing{Stage: s.Name, Seconds: s.Seconds})
	}
	return out, nil
}
