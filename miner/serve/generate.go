package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// output is a finished generation: the PLY file and what the response
// headers report about it.
type output struct {
	buf      *bytes.Buffer // PLY bytes; pooled, see release
	splats   int
	seconds  float64
	scores   map[string]float64
	kind     string // ScoreKind
	accepted bool
	cloud    *splat.Cloud      // what the PLY encodes (the job's; not copied)
	timings  []pipeline.Timing // the stages' times
}

// maxPooledBuffer keeps one huge PLY from pinning its buffer forever.
const maxPooledBuffer = 64 << 20

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// release returns the output's buffer to the pool; the bytes must not be
// used afterwards.
func (o *output) release() {
	if o == nil || o.buf == nil {
		return
	}
	if o.buf.Cap() <= maxPooledBuffer {
		o.buf.Reset()
		bufPool.Put(o.buf)
	}
	o.buf = nil
}

// genError is a failed generation; reason labels the failure metric.
type genError struct {
	reason string
	err    error
}

func (e *genError) Error() string { return e.err.Error() }
func (e *genError) Unwrap() error { return e.err }

// generate runs the generator on job and turns its cloud into a PLY that
// passes the validator's gates (docs/protocol.md §3.3, §4.2). A panic in
// the generator is an error, never a crash.
func (s *Server) generate(ctx context.Context, job pipeline.Job, log *slog.Logger) (*output, error) {
	s.metrics.generationCount.Inc()
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	start := time.Now()
	st, timings, err := s.callGenerator(ctx, job)
	for _, t := range timings {
		s.metrics.stage.WithLabelValues(t.Stage).Observe(t.Seconds)
	}
	out, err := s.finishOutput(ctx, st, err)
	secs := time.Since(start).Seconds()
	s.avgGen.add(secs)
	if err != nil {
		var ge *genError
		reason := "error"
		if errors.As(err, &ge) {
			reason = ge.reason
		}
		s.metrics.failures.WithLabelValues(reason).Inc()
		log.Error("generation failed", "reason", reason, "seconds", secs, "err", err)
		return nil, err
	}
	out.seconds, out.timings = secs, timings
	s.metrics.generation.Observe(secs)
	log.Info("generation done", "seconds", secs, "splats", out.splats, "bytes", out.buf.Len(),
		"score", out.scores["score"], "score_kind", out.kind, "accepted", out.accepted)
	return out, nil
}

func (s *Server) callGenerator(ctx context.Context, job pipeline.Job) (st *pipeline.State, timings []pipeline.Timing, err error) {
	defer func() {
		if p := recover(); p != nil {
			st, err = nil, &genError{reason: "panic", err: fmt.Errorf("generator panicked: %v", p)}
		}
	}()
	return s.gen.Generate(ctx, job)
}

func (s *Server) finishOutput(ctx context.Context, st *pipeline.State, err error) (*output, error) {
	var ge *genError
	switch {
	case errors.As(err, &ge):
		return nil, err
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		return nil, &genError{reason: "timeout", err: err}
	case err != nil && errors.Is(err, context.Canceled):
		return nil, &genError{reason: "canceled", err: err}
	case err != nil:
		return nil, &genError{reason: "error", err: err}
	case ctx.Err() != nil:
		return nil, &genError{reason: "timeout", err: ctx.Err()}
	case st == nil || st.Cloud == nil:
		return nil, &genError{reason: "no_cloud", err: errors.New("the generator returned no Gaussian cloud")}
	}
	if g := splat.CheckGate(st.Cloud); !g.OK {
		return nil, &genError{reason: "gate", err: fmt.Errorf("the cloud fails the validator's gates: %s", strings.Join(g.Reasons, "; "))}
	}
	buf := bufPool.Get().(*bytes.Buffer)
	out := &output{buf: buf, splats: st.Cloud.Len(), scores: st.Scores, kind: st.ScoreKind, accepted: st.Accepted, cloud: st.Cloud}
	if err := splat.WritePLY(buf, st.Cloud); err != nil {
		out.release()
		return nil, &genError{reason: "encode", err: fmt.Errorf("writing PLY: %w", err)}
	}
	if g := splat.CheckPLYGate(buf.Bytes()); !g.OK {
		out.release()
		return nil, &genError{reason: "encode", err: fmt.Errorf("the PLY fails the SPZ encoder's header gate: %s", strings.Join(g.Reasons, "; "))}
	}
	return out, nil
}
