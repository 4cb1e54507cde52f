package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/prompts"
)

// Response headers of a successful generation, beside the PLY body.
const (
	HeaderSeed     = "X-Seed"               // the seed used (drawn when the request asked for a random one)
	HeaderSplats   = "X-Splat-Count"        // Gaussians in the PLY
	HeaderSeconds  = "X-Generation-Seconds" // generation and encoding, queueing excluded
	HeaderScore    = "X-Score"              // the self-check score, when the pipeline has one
	HeaderKind     = "X-Score-Kind"         // what X-Score is: "fidelity" or "validator"; "none" (gates only, no X-Score)
	HeaderAccepted = "X-Accepted"           // whether the score passed the profile's threshold
)

// StatusClientClosed is logged and counted when the client went away
// before its generation finished (nginx's convention; nothing is sent).
const StatusClientClosed = 499

// handleText serves POST /generate/: form field prompt (and an optional
// seed) → PLY bytes.
func (s *Server) handleText(w http.ResponseWriter, r *http.Request) {
	prompt, seedField, err := s.readTextForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	seed, err := seedFrom(seedField)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	job := pipeline.Job{ID: w.Header().Get(HeaderRequestID), Prompt: prompts.Text(prompt), Seed: seed}
	s.run(w, r, job, nil)
}

// handleImage serves POST /generate: multipart file prompt_image_file and
// form field seed → PLY stream.
func (s *Server) handleImage(w http.ResponseWriter, r *http.Request) {
	up, err := s.readImageForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	seed, err := seedFrom(up.seed)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	path, cleanup, err := s.saveImage(up, s.logFrom(r.Context()))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	job := pipeline.Job{ID: w.Header().Get(HeaderRequestID), Prompt: prompts.Image(path), Seed: seed}
	s.run(w, r, job, cleanup)
}

// saveImage writes an uploaded image where the pipeline can read it as an
// image prompt; cleanup removes it.
func (s *Server) saveImage(up *upload, log *slog.Logger) (string, func(), error) {
	ext := ".png"
	if up.format == "jpeg" {
		ext = ".jpg"
	}
	f, err := os.CreateTemp(s.opts.TempDir, "splatbench-prompt-*"+ext)
	if err != nil {
		return "", nil, fmt.Errorf("saving the image prompt: %w", err)
	}
	path := f.Name()
	cleanup := func() {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("removing image prompt", "path", path, "err", err)
		}
	}
	_, werr := f.Write(up.data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		cleanup()
		return "", nil, fmt.Errorf("saving the image prompt %s: %w", path, werr)
	}
	return path, cleanup, nil
}

// run queues job, waits for it within RequestTimeout and writes the PLY
// or the error.
func (s *Server) run(w http.ResponseWriter, r *http.Request, job pipeline.Job, cleanup func()) {
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	log := s.logFrom(ctx)
	log.Info("generation requested", "prompt", job.Prompt.String(), "seed", job.Seed)
	t := newTask(ctx, job, log, cleanup)
	if err := s.submit(t); err != nil {
		t.finish(result{err: err})
		s.refuse(w, err, log)
		return
	}
	var res result
	select {
	case res = <-t.done:
	case <-ctx.Done():
		res.err = ctx.Err()
	}
	if res.err != nil {
		s.failGeneration(ctx, w, r, res.err)
		return
	}
	defer res.out.release()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(res.out.buf.Len()))
	h.Set(HeaderSeed, strconv.FormatInt(job.Seed, 10))
	h.Set(HeaderSplats, strconv.Itoa(res.out.splats))
	h.Set(HeaderSeconds, strconv.FormatFloat(res.out.seconds, 'f', 3, 64))
	if res.out.kind != "" {
		// Kind "none": only the validity gates judged it; there is no score.
		if score, ok := res.out.scores["score"]; ok {
			h.Set(HeaderScore, strconv.FormatFloat(score, 'f', 4, 64))
		}
		h.Set(HeaderKind, res.out.kind)
		h.Set(HeaderAccepted, strconv.FormatBool(res.out.accepted))
	}
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(res.out.buf.Bytes()); err != nil {
		log.Warn("writing the PLY", "err", err)
	}
}

// fail answers bad input with its 4xx, anything else with 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ie *inputError
	if errors.As(err, &ie) {
		s.logFrom(r.Context()).Info("bad request", "code", ie.code, "err", ie.msg)
		writeError(w, ie.code, ie.msg)
		return
	}
	s.logFrom(r.Context()).Error("request failed", "err", err)
	writeError(w, http.StatusInternalServerError, err.Error())
}

// failGeneration answers a generation that did not produce a PLY: 504 past
// the deadline, 503 at shutdown, nothing (499) when the client left, 500
// with the reason otherwise.
func (s *Server) failGeneration(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errShuttingDown):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case errors.Is(err, pipeline.ErrCannotGenerate):
		writeError(w, http.StatusUnprocessableEntity, err.Error())
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil:
		writeError(w, http.StatusGatewayTimeout, fmt.Sprintf("generation did not finish within %v", s.opts.RequestTimeout))
	case r.Context().Err() != nil:
		w.WriteHeader(StatusClientClosed)
	default:
		writeError(w, http.StatusInternalServerError, "generation failed: "+err.Error())
	}
}
