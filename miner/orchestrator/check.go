package orchestrator

import (
	"context"
	"errors"
	"image"
	"sync"

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
// renders the ones that pass and scores the render against the prompt.
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
	iou, colour := Proxy(m.prompt.Image, res.Image)
	m.rec.ProxyIoU, m.rec.ProxyColour = &iou, &colour
}

// Proxy compares a render (the judge's frame on its grey 0x808080
// background) with the prompt image (an object with alpha, or on a plain
// backdrop whose colour is the top-left pixel): the silhouettes'
// intersection over union, and the colour agreement inside their
// intersection (1 − mean absolute difference). A stand-in for the VLM
// judge, not its score.
func Proxy(prompt, render image.Image) (iou, colour float64) {
	pb, rb := prompt.Bounds(), render.Bounds()
	if pb.Empty() || rb.Empty() {
		return 0, 0
	}
	bg := rgb8(prompt, pb.Min.X, pb.Min.Y)
	_, _, _, a := prompt.At(pb.Min.X, pb.Min.Y).RGBA()
	alpha := a < 0x8000 // a transparent corner: the mask is the alpha
	grey := [3]int{128, 128, 128}
	var inter, union int
	var diff float64
	for y := pb.Min.Y; y < pb.Max.Y; y++ {
		ry := rb.Min.Y + (y-pb.Min.Y)*rb.Dy()/pb.Dy()
		for x := pb.Min.X; x < pb.Max.X; x++ {
			rx := rb.Min.X + (x-pb.Min.X)*rb.Dx()/pb.Dx()
			pc, rc := rgb8(prompt, x, y), rgb8(render, rx, ry)
			inP, inR := far(pc, bg), far(rc, grey)
			if alpha {
				_, _, _, a := prompt.At(x, y).RGBA()
				inP = a >= 0x8000
			}
			if inP || inR {
				union++
			}
			if inP && inR {
				inter++
				for k := range 3 {
					diff += float64(abs(pc[k] - rc[k]))
				}
			}
		}
	}
	if union == 0 {
		return 0, 0
	}
	iou = float64(inter) / float64(union)
	if inter > 0 {
		colour = 1 - diff/float64(3*255*inter)
	}
	return iou, colour
}

func rgb8(im image.Image, x, y int) [3]int {
	r, g, b, _ := im.At(x, y).RGBA()
	return [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
}

// far: some channel differs by more than 24 of 255.
func far(a, b [3]int) bool {
	return abs(a[0]-b[0]) > 24 || abs(a[1]-b[1]) > 24 || abs(a[2]-b[2]) > 24
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
