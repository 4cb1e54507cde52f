package pod

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Prompt is one item of POST /generate.
type Prompt struct {
	Stem     string `json:"stem"`
	ImageURL string `json:"image_url"`
}

// GenerateRequest is POST /generate's body.
type GenerateRequest struct {
	Prompts []Prompt `json:"prompts"`
	Seed    int64    `json:"seed"`
}

// stemRE is what a stem may be: the subnet's are lowercase alphanumeric; a
// few more characters are allowed, but never a path separator, a dot or a
// leading underscore, so "{stem}.js" is one plain ZIP entry and never
// "_failed.json".
var stemRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// ErrBadBatch is wrapped by every refusal of a malformed batch (400).
var ErrBadBatch = errors.New("bad batch")

// check validates the batch's structure and returns its key: the sorted
// stems. A bad image URL is not an error here: that prompt fails alone.
func (r GenerateRequest) check(maxPrompts int) (string, error) {
	if len(r.Prompts) == 0 {
		return "", fmt.Errorf("%w: prompts is empty", ErrBadBatch)
	}
	if len(r.Prompts) > maxPrompts {
		return "", fmt.Errorf("%w: %d prompts, at most %d", ErrBadBatch, len(r.Prompts), maxPrompts)
	}
	stems := make([]string, len(r.Prompts))
	for i, p := range r.Prompts {
		if !stemRE.MatchString(p.Stem) {
			return "", fmt.Errorf("%w: prompts[%d].stem %q: want 1-128 letters, digits, '_' or '-', not starting with '_' or '-'", ErrBadBatch, i, clip(p.Stem, 40))
		}
		stems[i] = p.Stem
	}
	slices.Sort(stems)
	for i := 1; i < len(stems); i++ {
		if stems[i] == stems[i-1] {
			return "", fmt.Errorf("%w: stem %q appears twice", ErrBadBatch, stems[i])
		}
	}
	return strings.Join(stems, "\n"), nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// batch is one accepted POST /generate. Its counters and outcomes are
// guarded by Server.mu; zip is set once, when it completes.
type batch struct {
	key     string
	prompts []Prompt
	seed    int64
	total   int
	start   time.Time

	done     int
	failed   int
	modules  map[string][]byte
	failures map[string]string
	finished bool
	zip      []byte
}

// accept applies POST /generate to the state machine. It returns the
// accepted count, or the status that refuses the batch (409).
func (s *Server) accept(req GenerateRequest, key string) (accepted int, refused string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wantReplaceLocked() {
		return 0, Replace
	}
	switch s.phase {
	case WarmingUp:
		return 0, WarmingUp
	case Generating, Complete:
		if s.cur.key == key { // a retry: the same set of stems
			return s.cur.total, ""
		}
		if s.phase == Generating {
			return 0, Generating
		}
	}
	if s.closed {
		return 0, WarmingUp
	}
	b := &batch{
		key: key, prompts: req.Prompts, seed: req.Seed, total: len(req.Prompts), start: time.Now(),
		modules: map[string][]byte{}, failures: map[string]string{},
	}
	s.cur, s.phase, s.started = b, Generating, true
	s.log.Info("batch accepted", "prompts", b.total, "seed", b.seed)
	s.wg.Add(1)
	go s.run(b)
	return b.total, ""
}

// item is a downloaded prompt on its way to a worker.
type item struct {
	stem string
	img  image.Image
}

// run generates b: downloads (Options.Downloads at once) feed one worker
// per generator. Whatever happens, every stem ends in exactly one of
// modules or failures and the pod turns complete.
func (s *Server) run(b *batch) {
	defer s.wg.Done()
	defer func() {
		if r := recover(); r != nil { // a bug of ours: fail what is left, stay up
			s.log.Error("batch crashed; failing its unfinished prompts", "panic", fmt.Sprint(r))
		}
		s.finish(b)
	}()
	// bctx ends the batch's downloads: at shutdown, or when no worker
	// is left to take their images.
	bctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	items := make(chan item)
	var dl sync.WaitGroup
	sem := make(chan struct{}, s.opts.Downloads)
	for _, p := range b.prompts {
		dl.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-bctx.Done():
				s.record(b, p.Stem, nil, s.cancelReason())
				return
			}
			// The slot is held until a worker takes the image, so at
			// most Downloads decoded images wait in memory.
			defer func() { <-sem }()
			img, err := s.fetch(bctx, p)
			if err != nil {
				s.log.Warn("prompt image failed", "stem", p.Stem, "err", err)
				s.record(b, p.Stem, nil, err.Error())
				return
			}
			select {
			case items <- item{p.Stem, img}:
			case <-bctx.Done():
				s.record(b, p.Stem, nil, s.cancelReason())
			}
		})
	}
	var work sync.WaitGroup
	for w := range s.gens {
		work.Go(func() {
			for it := range items {
				if !s.generate(s.ctx, b, w, it) {
					return // its generator is stuck past the deadline
				}
			}
		})
	}
	go func() { dl.Wait(); close(items) }()
	work.Wait()
	cancel() // every worker gave up: fail the prompts still waiting
	dl.Wait()
}

func (s *Server) cancelReason() string {
	if s.ctx.Err() != nil {
		return "cancelled: the pod is shutting down"
	}
	return "not generated: every worker's generation was stuck past its deadline"
}

// stuckGrace is how long past PromptTimeout a generator that ignores its
// context is waited for before its worker gives up on it.
var stuckGrace = 5 * time.Second

// generate runs one prompt on worker w and records its outcome. The call
// holds the worker's generator until it returns, even past its deadline:
// a generator that ignores its context is abandoned after stuckGrace (the
// prompt fails, the worker leaves this batch) and the next batch's worker
// waits for it. It reports whether the worker may go on.
func (s *Server) generate(ctx context.Context, b *batch, w int, it item) bool {
	g := s.gens[w]
	s.busy[w].Lock()
	pctx, cancel := context.WithTimeout(ctx, s.opts.PromptTimeout)
	type result struct {
		src []byte
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		defer s.busy[w].Unlock()
		defer cancel()
		src, err := safeGenerate(pctx, g, it.img, it.stem, b.seed)
		done <- result{src, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(s.opts.PromptTimeout + stuckGrace):
		s.log.Error("generator stuck past its deadline; worker leaves the batch", "stem", it.stem, "worker", w)
		s.record(b, it.stem, nil, fmt.Sprintf("generation timeout after %v (generator did not stop)", s.opts.PromptTimeout))
		return false
	}
	src, err := res.src, res.err
	switch {
	case err != nil && errors.Is(pctx.Err(), context.DeadlineExceeded):
		err = fmt.Errorf("generation timeout after %v: %w", s.opts.PromptTimeout, err)
	case err == nil && len(src) == 0:
		err = errors.New("generator returned an empty module")
	case err == nil && len(src) > s.opts.MaxModuleBytes:
		err = fmt.Errorf("module is %d bytes, over the limit of %d", len(src), s.opts.MaxModuleBytes)
	}
	if err != nil {
		s.log.Warn("generation failed", "stem", it.stem, "worker", w, "err", err)
		s.record(b, it.stem, nil, "generation failed: "+err.Error())
		return true
	}
	s.log.Debug("generated", "stem", it.stem, "worker", w, "bytes", len(src), "seconds", time.Since(start).Seconds())
	s.record(b, it.stem, src, "")
	return true
}

// record stores one stem's outcome, once.
func (s *Server) record(b *batch, stem string, src []byte, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.finished {
		return
	}
	if _, ok := b.modules[stem]; ok {
		return
	}
	if _, ok := b.failures[stem]; ok {
		return
	}
	if src != nil {
		b.modules[stem] = src
	} else {
		b.failures[stem] = clip(reason, 300)
		b.failed++
	}
	b.done++
}

// finish fails every stem without an outcome, builds the ZIP once and
// turns the pod complete.
func (s *Server) finish(b *batch) {
	for _, p := range b.prompts {
		s.record(b, p.Stem, nil, "not generated: internal error")
	}
	s.mu.Lock()
	b.finished = true // a late outcome (an abandoned generator's) is dropped
	modules, failures := b.modules, b.failures
	s.mu.Unlock()
	data, err := buildZip(modules, failures)
	if err != nil { // cannot happen with in-memory writers; fail loudly but stay up
		s.log.Error("building the results ZIP", "err", err)
		all := map[string]string{}
		for _, p := range b.prompts {
			all[p.Stem] = "results archive failed"
		}
		data, _ = buildZip(nil, all)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b.zip = data
	s.phase = Complete
	s.log.Info("batch complete", "prompts", b.total, "failed", b.failed, "zip_bytes", len(data),
		"seconds", time.Since(b.start).Seconds())
}

// buildZip writes {stem}.js per module, in stem order, then _failed.json
// when anything failed; Deflate, no timestamps, so the same outcomes give
// the same bytes.
func buildZip(modules map[string][]byte, failures map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	stems := make([]string, 0, len(modules))
	for st := range modules {
		stems = append(stems, st)
	}
	slices.Sort(stems)
	add := func(name string, data []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	for _, st := range stems {
		if err := add(st+".js", modules[st]); err != nil {
			return nil, err
		}
	}
	if len(failures) > 0 {
		js, err := json.MarshalIndent(failures, "", "  ") // keys sorted
		if err != nil {
			return nil, err
		}
		if err := add(FailedName, js); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// FailedName is the failure manifest's name in the results ZIP.
const FailedName = "_failed.json"

// results returns the completed batch's ZIP, or the status that refuses it.
func (s *Server) results() ([]byte, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wantReplaceLocked() {
		return nil, Replace
	}
	if s.phase != Complete {
		return nil, s.phase
	}
	return s.cur.zip, ""
}
