package orchestrator

import (
	"context"
	"errors"
	"sync"

	"github.com/splatbench/splatbench/pipeline/threejs/proxy"
	"github.com/splatbench/splatbench/pipeline/threejs/render"
	"github.com/splatbench/splatbench/pipeline/threejs/validate"
)

// Validator is what the round needs of the local Three.js validator
// (*validate.Validator).
type Validator interface {
	Check(ctx context.Context, src []byte) (validate.Report, error)
}

// Renderer is what the round needs of the canonical renderer
// (*render.Renderer).
type Renderer interface {
	Render(ctx context.Context, src []byte) (*render.Result, error)
}

// Checker validates every returned module and, when Renderer is set,
// renders the ones that pass and scores the render against the prompt with
// pipeline/threejs/proxy (a proxy for the judge, not its score). The
// renderer's frame must be the prompts' size.
type Checker struct {
	Validator Validator
	Renderer  Renderer // optional: renders are slow on a CPU
	Workers   int      // validations at once (each runs a node process)
}

func (c *Checker) run(ctx context.Context, mods []moduleSrc, rep *Report) {
	work := make(chan moduleSrc)
	var wg sync.WaitGroup
	for range max(1, c.Workers) {
		wg.Go(func() {
			for m := range work {
				c.one(ctx, m)
			}
		})
	}
	for _, m := range mods {
		work <- m
	}
	close(work)
	wg.Wait()
}

// one fills m.rec: passed, or the rule codes it broke; a validator that
// could not run is a check error, not a verdict on the module.
func (c *Checker) one(ctx context.Context, m moduleSrc) {
	r, err := c.Validator.Check(ctx, m.src)
	if err != nil {
		m.rec.CheckError = clip(err.Error(), 300)
		return
	}
	for _, f := range r.Failures {
		m.rec.Rules = append(m.rec.Rules, f.Rule)
	}
	if !r.OK() {
		m.rec.Outcome, m.rec.Reason = OutcomeRuleFailed, clip(r.Failures[0].String(), 300)
		return
	}
	m.rec.Outcome = OutcomePassed
	if c.Renderer == nil {
		return
	}
	res, err := c.Renderer.Render(ctx, m.src)
	if errors.Is(err, render.ErrRenderRun) {
		m.rec.Rules = append(m.rec.Rules, validate.RenderRunFailed)
		m.rec.Outcome, m.rec.Reason = OutcomeRuleFailed, clip(err.Error(), 300)
		return
	}
	if err != nil {
		m.rec.CheckError = clip(err.Error(), 300)
		return
	}
	if m.prompt.Object == nil {
		return
	}
	sc, err := proxy.Compare(m.prompt.Object, res.Image)
	if err != nil {
		m.rec.CheckError = clip(err.Error(), 300)
		return
	}
	m.rec.Proxy = &sc
}
