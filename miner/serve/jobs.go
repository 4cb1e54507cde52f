package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/prompts"
)

// The job-status API, for the web page and any client that would rather
// poll than hold a request open:
//
//	POST /jobs               form prompt or file prompt_image_file (+ seed) → 202 {id, url, ...}
//	GET  /jobs/{id}          the job's status (JSON, jobStatus)
//	GET  /jobs/{id}/model.ply, /model.spz, /sheet.png   its output, once done
//
// A job goes through the same queue, workers, deadline (RequestTimeout,
// queueing included) and 429 as the generation endpoints. Finished jobs
// are kept, oldest dropped first, up to Options.KeptJobs.
const (
	routeJobSubmit = "POST /jobs"
	routeJobStatus = "GET /jobs/{id}"
	routeJobFile   = "GET /jobs/{id}/{file}"
)

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// JobTiming is one finished stage in a job's status.
type JobTiming struct {
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
	Device  string  `json:"device,omitempty"`
	Reused  bool    `json:"reused,omitempty"`
}

// JobStatus is what GET /jobs/{id} answers.
type JobStatus struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Prompt string `json:"prompt"`
	Seed   int64  `json:"seed"`
	State  string `json:"state"`
	// Position is the job's place in the queue while queued (1: next).
	Position int `json:"position,omitempty"`
	// Stage is the stage running now; Stages those started so far.
	Stage  string   `json:"stage,omitempty"`
	Stages []string `json:"stages,omitempty"`
	// Done: the stage timings, the generation's seconds (queueing
	// excluded), the Gaussian count and the self-check.
	Timings   []JobTiming `json:"timings,omitempty"`
	Seconds   float64     `json:"seconds,omitempty"`
	Splats    int         `json:"splats,omitempty"`
	Score     *float64    `json:"score,omitempty"`
	ScoreKind string      `json:"score_kind,omitempty"`
	Accepted  *bool       `json:"accepted,omitempty"`
	// Files names the output's URLs once done.
	Files map[string]string `json:"files,omitempty"`
	// Failed: the HTTP status the synchronous API would have answered,
	// and the reason in words.
	Code  int    `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
}

// job is one submitted job and what became of it.
type job struct {
	id     string
	prompt string
	seed   int64
	seq    uint64 // its place in the order of submission

	mu       sync.Mutex
	state    string
	stages   []string
	out      *jobOutput
	code     int
	err      string
	finished time.Time

	// Made on first request, kept once made.
	fileMu sync.Mutex
	files  map[string][]byte
}

// jobOutput is a finished job's result, copied out of the pooled buffer.
type jobOutput struct {
	ply      []byte
	cloud    *splat.Cloud
	timings  []pipeline.Timing
	seconds  float64
	scores   map[string]float64
	kind     string
	accepted bool
}

// jobTable holds submitted jobs: those not finished, and the newest kept
// finished ones.
type jobTable struct {
	mu   sync.Mutex
	keep int
	byID map[string]*job
	done []*job // finished, oldest first
}

func (jt *jobTable) add(j *job) {
	jt.mu.Lock()
	defer jt.mu.Unlock()
	jt.byID[j.id] = j
}

func (jt *jobTable) get(id string) *job {
	jt.mu.Lock()
	defer jt.mu.Unlock()
	return jt.byID[id]
}

func (jt *jobTable) remove(j *job) {
	jt.mu.Lock()
	defer jt.mu.Unlock()
	delete(jt.byID, j.id)
}

// finished records that j finished and drops the oldest finished jobs
// beyond keep.
func (jt *jobTable) finished(j *job) {
	jt.mu.Lock()
	defer jt.mu.Unlock()
	jt.done = append(jt.done, j)
	for len(jt.done) > jt.keep {
		delete(jt.byID, jt.done[0].id)
		jt.done[0] = nil
		jt.done = jt.done[1:]
	}
}

// handleJobSubmit serves POST /jobs: a text prompt (URL-encoded or
// multipart) or an image (multipart), and a seed; 202 with the status.
func (s *Server) handleJobSubmit(w http.ResponseWriter, r *http.Request) {
	// A fresh id, not the request's: a client's X-Request-Id could name
	// another client's job.
	id := requestID("")
	log := s.logFrom(r.Context()).With("job", id)
	in, err := s.readJobForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	seed, err := seedFrom(in.seed)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pj := pipeline.Job{ID: id, Prompt: prompts.Text(in.prompt), Seed: seed}
	var cleanup func()
	shown := in.prompt
	if in.image != nil {
		path, c, err := s.saveImage(in.image, log)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pj.Prompt, cleanup = prompts.Image(path), c
		shown = "image " + in.image.filename
	}
	j := &job{id: id, prompt: shown, seed: seed, state: JobQueued}
	// The job outlives the request: its deadline runs from now.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.opts.RequestTimeout)
	ctx = pipeline.WithStageHook(ctx, j.startStage)
	t := newTask(ctx, pj, log, cleanup)
	t.onStart = j.start
	log.Info("job submitted", "prompt", pj.Prompt.String(), "seed", seed)
	s.jobs.add(j)
	seq, err := s.submitSeq(t)
	if err != nil {
		cancel()
		s.jobs.remove(j)
		t.finish(result{err: err})
		s.refuse(w, err, log)
		return
	}
	j.seq = seq
	go s.awaitJob(ctx, cancel, j, t)
	w.Header().Set("Location", jobURL(id))
	writeJSON(w, http.StatusAccepted, s.jobStatus(j))
}

// awaitJob waits for t (or its deadline) and records the outcome in j.
func (s *Server) awaitJob(ctx context.Context, cancel context.CancelFunc, j *job, t *task) {
	defer cancel()
	var res result
	select {
	case res = <-t.done:
	case <-ctx.Done():
		res.err = ctx.Err()
	}
	j.mu.Lock()
	j.finished = time.Now()
	if res.err != nil {
		j.state = JobFailed
		switch {
		case errors.Is(res.err, errShuttingDown):
			j.code, j.err = http.StatusServiceUnavailable, res.err.Error()
		case errors.Is(res.err, pipeline.ErrCannotGenerate):
			j.code, j.err = http.StatusUnprocessableEntity, res.err.Error()
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			j.code, j.err = http.StatusGatewayTimeout, fmt.Sprintf("generation did not finish within %v", s.opts.RequestTimeout)
		default:
			j.code, j.err = http.StatusInternalServerError, "generation failed: "+res.err.Error()
		}
	} else {
		o := res.out
		j.state = JobDone
		j.out = &jobOutput{ply: bytes.Clone(o.buf.Bytes()), cloud: o.cloud, timings: o.timings,
			seconds: o.seconds, scores: o.scores, kind: o.kind, accepted: o.accepted}
		o.release()
	}
	j.mu.Unlock()
	if res.err != nil && res.out != nil {
		res.out.release()
	}
	s.jobs.finished(j)
}

func (j *job) start() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state == JobQueued {
		j.state = JobRunning
	}
}

func (j *job) startStage(stage string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stages = append(j.stages, stage)
}

func jobURL(id string) string { return "/jobs/" + id }

// jobStatus snapshots j.
func (s *Server) jobStatus(j *job) JobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := JobStatus{ID: j.id, URL: jobURL(j.id), Prompt: j.prompt, Seed: j.seed, State: j.state,
		Stages: append([]string(nil), j.stages...), Code: j.code, Error: j.err}
	switch j.state {
	case JobQueued:
		st.Position = max(1, int(j.seq-s.dequeued.Load()))
	case JobRunning:
		if n := len(j.stages); n > 0 {
			st.Stage = j.stages[n-1]
		}
	case JobDone:
		o := j.out
		for _, t := range o.timings {
			st.Timings = append(st.Timings, JobTiming{Stage: t.Stage, Seconds: t.Seconds, Device: t.Device, Reused: t.Reused})
		}
		st.Seconds, st.Splats, st.ScoreKind = o.seconds, o.cloud.Len(), o.kind
		if o.kind != "" {
			if v, ok := o.scores["score"]; ok {
				st.Score = &v
			}
			acc := o.accepted
			st.Accepted = &acc
		}
		st.Files = map[string]string{}
		for _, f := range jobFiles {
			st.Files[f.kind] = jobURL(j.id) + "/" + f.name
		}
	}
	return st
}

// handleJobStatus serves GET /jobs/{id}.
func (s *Server) handleJobStatus(w http.ResponseWriter, r *http.Request) {
	j := s.jobs.get(r.PathValue("id"))
	if j == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q (finished jobs are kept until %d newer ones finish)", clip(r.PathValue("id")), s.opts.KeptJobs))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.jobStatus(j))
}

// jobFile is one downloadable output of a finished job.
type jobFile struct {
	name, kind, contentType string
	make                    func(ctx context.Context, o *jobOutput) ([]byte, error)
}

var jobFiles = []jobFile{
	{"model.ply", "ply", "application/octet-stream", func(_ context.Context, o *jobOutput) ([]byte, error) { return o.ply, nil }},
	{"model.spz", "spz", "application/octet-stream", func(_ context.Context, o *jobOutput) ([]byte, error) {
		return splat.Encode(o.cloud, splat.FormatSPZ)
	}},
	{"sheet.png", "sheet", "image/png", func(ctx context.Context, o *jobOutput) ([]byte, error) {
		sheet, err := splat.ValidatorSheet(ctx, o.cloud, 4)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		err = png.Encode(&b, sheet)
		return b.Bytes(), err
	}},
}

// handleJobFile serves GET /jobs/{id}/{file}: the PLY, the SPZ (encoded on
// first request) and the validator's 16-view contact sheet (rendered on
// first request).
func (s *Server) handleJobFile(w http.ResponseWriter, r *http.Request) {
	j := s.jobs.get(r.PathValue("id"))
	if j == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q", clip(r.PathValue("id"))))
		return
	}
	name := r.PathValue("file")
	var f *jobFile
	for i := range jobFiles {
		if jobFiles[i].name == name {
			f = &jobFiles[i]
		}
	}
	if f == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("job %s has no file %q (model.ply, model.spz, sheet.png)", j.id, clip(name)))
		return
	}
	j.mu.Lock()
	state, out := j.state, j.out
	j.mu.Unlock()
	if state != JobDone {
		writeError(w, http.StatusConflict, fmt.Sprintf("job %s is %s: no %s", j.id, state, name))
		return
	}
	data, err := j.file(r.Context(), f, out)
	if err != nil {
		s.logFrom(r.Context()).Error("job file", "job", j.id, "file", name, "err", err)
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("job %s: making %s: %v", j.id, name, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if f.kind != "sheet" {
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "splatbench-"+j.id+"."+f.kind))
	}
	_, _ = w.Write(data)
}

// file returns f of out, made once (an error is not kept).
func (j *job) file(ctx context.Context, f *jobFile, out *jobOutput) ([]byte, error) {
	j.fileMu.Lock()
	defer j.fileMu.Unlock()
	if b, ok := j.files[f.name]; ok {
		return b, nil
	}
	b, err := f.make(ctx, out)
	if err != nil {
		return nil, err
	}
	if j.files == nil {
		j.files = map[string][]byte{}
	}
	j.files[f.name] = b
	return b, nil
}

// refuse answers a submission the queue did not take: 429 with
// Retry-After when full, 503 at shutdown.
func (s *Server) refuse(w http.ResponseWriter, err error, log *slog.Logger) {
	if errors.Is(err, errQueueFull) {
		secs := int(retryAfter(s.avgGen.value(), s.opts.Workers).Seconds())
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		log.Warn("rejected: queue full", "retry_after", secs)
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("%v (%d running, %d queued); retry in %d s",
			err, s.opts.Workers, s.opts.QueueSize, secs))
		return
	}
	writeError(w, http.StatusServiceUnavailable, err.Error())
}
