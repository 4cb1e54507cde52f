package jobs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/tuner"
)

// Kind says what a job asks of a worker.
type Kind string

const (
	// KindTrial is a tuning trial: Point applied to Profile, one run,
	// timings and scores back (no output file).
	KindTrial Kind = "trial"
	// KindGenerate is a generation (a mining task, a serve request): one
	// run of Profile, the encoded file back.
	KindGenerate Kind = "generate"
)

// Stream, subject and bucket names. Every process that shares a server
// uses the same ones.
const (
	JobsStream    = "SPLAT_JOBS"
	ResultsStream = "SPLAT_RESULTS"
	DeadStream    = "SPLAT_DEAD"
	ConsumerName  = "workers"
	WorkersBucket = "splat-workers"
	BlobBucket    = "splat-blobs"

	jobsPrefix    = "splat.jobs."
	resultsPrefix = "splat.results."
	deadPrefix    = "splat.dead."
	headerJobID   = "Splat-Job-Id"
	headerReason  = "Splat-Dead-Reason"
)

// Prompt is what a job generates from: a text, or an image's file bytes.
// An image larger than the inline limit travels through the object store
// (ImageRef names the object) instead of inside the message.
type Prompt struct {
	ID   string `json:"id,omitempty"`
	Text string `json:"text,omitempty"`
	// Image is an image prompt's file (PNG, JPEG, ...); ImageName is its
	// original name, whose extension the worker keeps.
	Image     []byte `json:"image,omitempty"`
	ImageName string `json:"image_name,omitempty"`
	ImageRef  string `json:"image_ref,omitempty"`
}

// Job is one unit of work on the queue. Its ID is the de-duplication key:
// two jobs with one ID are one job (the stream drops the second within its
// duplicate window, and a worker never runs a job whose result exists).
type Job struct {
	ID      string          `json:"id"`
	Kind    Kind            `json:"kind"`
	Profile configs.Profile `json:"profile"`
	// Point is a trial's knob values; the worker applies them to Profile.
	Point  tuner.Point `json:"point,omitzero"`
	Prompt Prompt      `json:"prompt"`
	Seed   int64       `json:"seed"`
	// Repeat and Warmup describe a trial (informational on the worker).
	Repeat int  `json:"repeat,omitempty"`
	Warmup bool `json:"warmup,omitempty"`
	// Deadline bounds the job: a worker runs it under this deadline and
	// drops it, with an error result, when it is already past.
	Deadline  time.Time `json:"deadline,omitzero"`
	Submitted time.Time `json:"submitted"`
}

// Result is what a worker sends back for one job.
type Result struct {
	JobID string `json:"job_id"`
	Kind  Kind   `json:"kind"`
	// Worker, Host and Device say who ran it; Attempt is the delivery that
	// produced it (1 unless a worker died or let go of it before).
	Worker  string `json:"worker"`
	Host    string `json:"host,omitempty"`
	Device  string `json:"device,omitempty"`
	Attempt int    `json:"attempt"`

	Stages       []results.StageTiming `json:"stages,omitempty"`
	TotalSeconds float64               `json:"total_seconds"`
	Scores       map[string]float64    `json:"scores,omitempty"`
	ScoreKind    string                `json:"score_kind,omitempty"`
	Accepted     *bool                 `json:"accepted,omitempty"`
	// Caveats are the worker's: models with random weights ran there.
	Caveats []string `json:"caveats,omitempty"`

	// Output is the encoded file (generation jobs) and Format its kind;
	// OutputRef names it in the object store when it was too large to
	// ride in the message (Client.Do fetches it into Output).
	Output    []byte `json:"output,omitempty"`
	OutputRef string `json:"output_ref,omitempty"`
	Format    string `json:"format,omitempty"`

	// Error is the job's failure ("" on success).
	Error string `json:"error,omitempty"`

	// Submitted is the client's clock when the job was published; the
	// rest are the worker's clock.
	Submitted time.Time `json:"submitted"`
	Received  time.Time `json:"received"`
	Finished  time.Time `json:"finished"`
}

// Err is Result.Error as an error (nil on success).
func (r Result) Err() error {
	if r.Error == "" {
		return nil
	}
	return &JobError{JobID: r.JobID, Msg: r.Error}
}

// JobError is a job that ran and failed (or was dead-lettered or expired)
// on a worker.
type JobError struct {
	JobID string
	Msg   string
}

func (e *JobError) Error() string { return fmt.Sprintf("job %s: %s", e.JobID, e.Msg) }

// token is a subject-safe name for a job ID: IDs carry '.', '|', spaces.
func token(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:16])
}

func jobSubject(k Kind) string       { return jobsPrefix + string(k) }
func resultSubject(id string) string { return resultsPrefix + token(id) }
func deadSubject(k Kind) string      { return deadPrefix + string(k) }

// ErrBadMessage marks a message on the queue that is not a job or result
// this version understands.
var ErrBadMessage = errors.New("bad message")

// decodeJob parses a job message; subject names it in errors.
func decodeJob(subject string, data []byte) (Job, error) {
	var j Job
	if err := json.Unmarshal(data, &j); err != nil {
		return j, fmt.Errorf("%w: %s: job: %w", ErrBadMessage, subject, err)
	}
	if j.ID == "" {
		return j, fmt.Errorf("%w: %s: job has no id", ErrBadMessage, subject)
	}
	switch j.Kind {
	case KindTrial, KindGenerate:
	default:
		return j, fmt.Errorf("%w: %s: job %s: kind %q: want %q or %q", ErrBadMessage, subject, j.ID, j.Kind, KindTrial, KindGenerate)
	}
	return j, nil
}

// decodeResult parses a result message; subject names it in errors.
func decodeResult(subject string, data []byte) (Result, error) {
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("%w: %s: result: %w", ErrBadMessage, subject, err)
	}
	if r.JobID == "" {
		return r, fmt.Errorf("%w: %s: result has no job id", ErrBadMessage, subject)
	}
	return r, nil
}
