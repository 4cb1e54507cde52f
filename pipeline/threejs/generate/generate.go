// Package generate turns one prompt picture into a subnet-17 Three.js
// module: the object's matte on a grid in the judge's frame, decomposed
// into parts (a revolved core cut into colour bands as LatheGeometry, the
// rest as ExtrudeGeometry outlines; an asymmetric object as one extruded
// body with colour layers), each part's geometry placed by back-projecting
// the silhouette through the judge's camera, so that the module's render
// lands where the object is in the picture. With a renderer the colours are
// then fitted: render in the canonical scene, compare each part's pixels
// with the picture's, correct the albedo, repeat.
package generate

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"math"
	"sort"
	"time"

	"github.com/splatbench/splatbench/pipeline/imagefile"
	"github.com/splatbench/splatbench/pipeline/threejs/render"
	"github.com/splatbench/splatbench/pipeline/threejs/validate"
)

// Matter removes the background: RGBA out, alpha the object mask
// (pipeline/matte's *Matte is one).
type Matter interface {
	Run(ctx context.Context, img image.Image) (*image.NRGBA, error)
}

// Options are the generator's knobs.
type Options struct {
	Parts         int     // most parts (draw calls); the spec allows 200
	ProfilePoints int     // most points of a lathe profile
	OutlinePoints int     // most points of an extruded outline
	Texture       bool    // lathe bands get gradient DataTextures
	FitIters      int     // colour-fit renders (needs Renderer)
	FitPlacement  bool    // the fit renders also correct the model's scale and position
	Grid          int     // analysis grid side in cells
	SymmetryMin   float64 // mirror IoU from which the object is revolved
	DepthRatio    float64 // extruded body depth / its smaller extent
	Colours       int     // colour clusters of an extruded body
	Roughness     float64
	// derived tolerances (grid cells / world units)
	ProfileTol, OutlineTol, BandColourDist float64

	Matter   Matter              // used when the picture has no alpha
	Renderer *render.Renderer    // colour fit; nil skips it
	Valid    *validate.Validator // final check; nil skips it
}

// DefaultOptions are the tuned defaults.
func DefaultOptions() Options {
	return Options{
		Parts: 12, ProfilePoints: 48, OutlinePoints: 160, Texture: true, FitIters: 4, FitPlacement: true, Grid: 256,
		SymmetryMin: 0.85, DepthRatio: 0.5, Colours: 4, Roughness: 0.8,
		ProfileTol: 0.002, OutlineTol: 1.0, BandColourDist: 0.12,
	}
}

// Info describes a generated module.
type Info struct {
	Mode         string        `json:"mode"`
	Symmetry     float64       `json:"symmetry"`
	Parts        int           `json:"parts"`
	Bytes        int           `json:"bytes"`
	LiteralBytes int           `json:"literalBytes"`
	Scale        float64       `json:"scale"` // < 1 when the picture's object had to shrink into the unit box
	FitRenders   int           `json:"fitRenders"`
	Dropped      int           `json:"dropped"` // grid cells the matte kept that are the picture's background
	RenderTime   time.Duration `json:"renderTime"`
	CheckTime    time.Duration `json:"checkTime"`
	Elapsed      time.Duration `json:"elapsed"`
	// Last render of the module (when a renderer was given).
	Render image.Image `json:"-"`
}

// ErrNoObject is returned when the matte leaves no object.
var ErrNoObject = errors.New("threejs generate: no object in the picture")

// Generate makes the module for img.
func Generate(ctx context.Context, img image.Image, opt Options) ([]byte, Info, error) {
	start := time.Now()
	var info Info
	rgba, matted, err := foreground(ctx, img, opt.Matter)
	if err != nil {
		return nil, info, err
	}
	g := newGrid(rgba, opt.Grid)
	if matted {
		info.Dropped = g.dropBackground(backgroundColour(rgba))
	}
	p := decompose(g, opt)
	if len(p.Parts) == 0 {
		return nil, info, ErrNoObject
	}
	info.Mode, info.Symmetry, info.Parts = p.Mode, p.Symmetry, len(p.Parts)
	info.Scale = fitBox(p.Parts, 0.49)
	for i := range p.Parts {
		p.Parts[i].Colour = albedoGuess(p.Parts[i].Colour)
		for j := range p.Parts[i].Stops {
			p.Parts[i].Stops[j] = albedoGuess(p.Parts[i].Stops[j])
		}
	}
	note := fmt.Sprintf("splatbench threejs: %d parts (%s), fitted to the prompt in the judge's camera", len(p.Parts), p.Mode)
	mod := write(p, note)
	if opt.Renderer != nil {
		for it := 0; it <= opt.FitIters; it++ {
			t0 := time.Now()
			res, err := opt.Renderer.Render(ctx, mod)
			info.RenderTime += time.Since(t0)
			if err != nil {
				return nil, info, fmt.Errorf("threejs generate: render: %w", err)
			}
			info.FitRenders++
			info.Render = res.Image
			if it == opt.FitIters {
				break
			}
			rg := renderGrid(res.Image, g.N)
			fitColours(g, rg, p.Parts)
			if opt.FitPlacement {
				fitPlacement(g, rg, p.Parts)
				info.Scale *= fitBox(p.Parts, 0.49)
			}
			mod = write(p, note)
		}
	}
	info.Bytes = len(mod)
	if opt.Valid != nil {
		t0 := time.Now()
		r, err := opt.Valid.Check(ctx, mod)
		info.CheckTime = time.Since(t0)
		if err != nil {
			return nil, info, err
		}
		info.LiteralBytes = r.LiteralBytes
		if !r.OK() {
			return mod, info, fmt.Errorf("threejs generate: module fails the validator: %w", r.Err())
		}
	}
	info.Elapsed = time.Since(start)
	return mod, info, nil
}

// foreground returns the picture with the object's alpha: its own when it
// has any transparency, else the matte's.
func foreground(ctx context.Context, img image.Image, m Matter) (*image.NRGBA, bool, error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, false, errors.New("threejs generate: empty picture")
	}
	n := image.NewNRGBA(b)
	draw.Draw(n, b, img, b.Min, draw.Src)
	opaque := true
	for i := 3; i < len(n.Pix); i += 4 {
		if n.Pix[i] < 250 {
			opaque = false
			break
		}
	}
	if !opaque {
		return n, false, nil
	}
	if m == nil {
		return nil, false, errors.New("threejs generate: the picture is opaque and no matte was given")
	}
	out, err := m.Run(ctx, img)
	if err != nil {
		return nil, false, fmt.Errorf("threejs generate: matte: %w", err)
	}
	return out, true, nil
}

// albedoGuess is the first albedo for an observed colour: the canonical
// lights and tone mapping return roughly this fraction of the albedo on
// the parts that face the camera; the fit corrects it.
func albedoGuess(c [3]float64) [3]float64 {
	for k := range 3 {
		c[k] = math.Min(1, c[k]/0.75)
	}
	return c
}

// fitBox scales every part about the origin so that its bounds fit in
// ±half (the spec's unit box with a margin); returns the factor (1 when
// nothing had to move).
func fitBox(parts []part, half float64) float64 {
	ext := 0.0
	for _, p := range parts {
		switch p.Kind {
		case Lathe:
			for _, q := range p.Pts {
				ext = math.Max(ext, math.Max(math.Abs(p.X)+q[0], math.Abs(p.Z)+q[0]))
				ext = math.Max(ext, math.Abs(q[1]))
			}
		case Torus:
			ext = math.Max(ext, math.Abs(p.X)+p.W+p.D)
			ext = math.Max(ext, math.Max(math.Abs(p.Y), math.Abs(p.Z))+p.W+p.D)
		case Box:
			r := (p.W*math.Abs(math.Cos(p.RotY)) + p.D*math.Abs(math.Sin(p.RotY))) / 2
			ext = math.Max(ext, math.Max(math.Abs(p.X)+r, math.Abs(p.Z)+r))
			ext = math.Max(ext, math.Abs(p.Y)+p.H/2)
		case Extrude:
			for _, q := range p.Pts {
				ext = math.Max(ext, math.Max(math.Abs(q[0]), math.Abs(q[1])))
			}
			ext = math.Max(ext, math.Max(math.Abs(p.Z0), math.Abs(p.Z0+p.Depth)))
		}
	}
	if ext <= half {
		return 1
	}
	s := half / ext
	for i := range parts {
		p := &parts[i]
		for j := range p.Pts {
			p.Pts[j][0] *= s
			p.Pts[j][1] *= s
		}
		for _, h := range p.Holes {
			for j := range h {
				h[j][0] *= s
				h[j][1] *= s
			}
		}
		p.X *= s
		p.Y *= s
		p.Z *= s
		p.W *= s
		p.H *= s
		p.D *= s
		p.Z0 *= s
		p.Depth *= s
		p.Bevel *= s
	}
	return s
}

// fitColours compares each part's pixels in the render with the prompt's
// (linear RGB, over the part's cells where the render shows the object)
// and scales its albedo by the ratio.
func fitColours(g *grid, rg rgrid, parts []part) {
	for i := range parts {
		p := &parts[i]
		var want, got [3]float64
		var cnt float64
		for _, c := range p.Cells {
			if !g.In[c] || rg.bg[c] {
				continue
			}
			for k := range 3 {
				want[k] += g.Lin[c][k]
				got[k] += rg.lin[c][k]
			}
			cnt++
		}
		if cnt < 4 {
			continue
		}
		var r [3]float64
		for k := range 3 {
			r[k] = math.Max(0.1, math.Min(10, (want[k]+1e-3)/(got[k]+1e-3)))
		}
		p.Colour = scaleHue(p.Colour, r)
		for j := range p.Stops {
			p.Stops[j] = scaleHue(p.Stops[j], r)
		}
	}
}

type rgrid struct {
	lin [][3]float64
	bg  []bool
}

// renderGrid box-filters a render to n×n linear RGB and marks the cells
// that are the grey background.
func renderGrid(im image.Image, n int) rgrid {
	rgba := imagefile.NRGBA(im)
	r := rgrid{lin: make([][3]float64, n*n), bg: make([]bool, n*n)}
	side := rgba.Bounds().Dx()
	for y := range n {
		for x := range n {
			var c [3]float64
			var cnt, grey float64
			for yy := y * side / n; yy < (y+1)*side/n; yy++ {
				for xx := x * side / n; xx < (x+1)*side/n; xx++ {
					p := rgba.Pix[yy*rgba.Stride+4*xx:]
					if p[0] == 128 && p[1] == 128 && p[2] == 128 {
						grey++
					}
					for k := range 3 {
						c[k] += srgbToLinear(float64(p[k]) / 255)
					}
					cnt++
				}
			}
			i := y*n + x
			for k := range 3 {
				r.lin[i][k] = c[k] / cnt
			}
			r.bg[i] = grey > cnt/2
		}
	}
	return r
}

// scaleHue multiplies c by r per channel and, where a channel would pass
// 1, scales the whole colour down instead of clipping that channel (which
// would shift the hue).
func scaleHue(c, r [3]float64) [3]float64 {
	m := 0.0
	for k := range 3 {
		c[k] *= r[k]
		m = math.Max(m, c[k])
	}
	for k := range 3 {
		if m > 1 {
			c[k] /= m
		}
		c[k] = math.Max(0.005, c[k])
	}
	return c
}

// fitPlacement moves and scales the whole model so that its rendered
// silhouette's box matches the prompt's: the back-projection puts each
// part on the plane z = 0, and what stands in front of it (a box's near
// corner, a lathe's front) renders larger and off-centre; the render shows
// by how much.
func fitPlacement(g *grid, rg rgrid, parts []part) {
	box := func(in func(i int) bool) (x0, y0, x1, y1 float64, ok bool) {
		n := g.N
		a, b, c, d := n, n, -1, -1
		for i := range n * n {
			if in(i) {
				x, y := i%n, i/n
				a, b, c, d = min(a, x), min(b, y), max(c, x+1), max(d, y+1)
			}
		}
		return float64(a), float64(b), float64(c), float64(d), c >= 0
	}
	px0, py0, px1, py1, ok1 := box(func(i int) bool { return g.In[i] })
	rx0, ry0, rx1, ry1, ok2 := box(func(i int) bool { return !rg.bg[i] })
	if !ok1 || !ok2 {
		return
	}
	s := math.Sqrt((px1 - px0) / (rx1 - rx0) * (py1 - py0) / (ry1 - ry0))
	s = math.Max(0.8, math.Min(1.25, s))
	n := float64(g.N)
	cpx, cpy := toPlane((px0+px1)/2/n, (py0+py1)/2/n, 0)
	crx, cry := toPlane((rx0+rx1)/2/n, (ry0+ry1)/2/n, 0)
	if math.Abs(s-1) < 0.005 && math.Hypot(cpx-crx, cpy-cry) < 0.002 {
		return
	}
	mx := func(x float64) float64 { return cpx + s*(x-crx) }
	my := func(y float64) float64 { return cpy + s*(y-cry) }
	for i := range parts {
		p := &parts[i]
		switch p.Kind {
		case Lathe:
			for j := range p.Pts {
				p.Pts[j] = [2]float64{s * p.Pts[j][0], my(p.Pts[j][1])}
			}
			p.X, p.Z = mx(p.X), s*p.Z
		case Box, Torus:
			p.X, p.Y, p.Z = mx(p.X), my(p.Y), s*p.Z
			p.W, p.H, p.D = s*p.W, s*p.H, s*p.D
		case Extrude:
			for j := range p.Pts {
				p.Pts[j] = [2]float64{mx(p.Pts[j][0]), my(p.Pts[j][1])}
			}
			for _, h := range p.Holes {
				for j := range h {
					h[j] = [2]float64{mx(h[j][0]), my(h[j][1])}
				}
			}
			p.Z0, p.Depth, p.Bevel = s*p.Z0, s*p.Depth, s*p.Bevel
		}
	}
}

// backgroundColour is the picture's background (linear RGB): the median of
// its border pixels, per channel.
func backgroundColour(im *image.NRGBA) [3]float64 {
	b := im.Bounds()
	var ch [3][]float64
	add := func(x, y int) {
		p := im.Pix[(y-b.Min.Y)*im.Stride+4*(x-b.Min.X):]
		for k := range 3 {
			ch[k] = append(ch[k], srgbToLinear(float64(p[k])/255))
		}
	}
	for x := b.Min.X; x < b.Max.X; x++ {
		add(x, b.Min.Y)
		add(x, b.Max.Y-1)
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		add(b.Min.X, y)
		add(b.Max.X-1, y)
	}
	var c [3]float64
	for k := range 3 {
		sort.Float64s(ch[k])
		c[k] = ch[k][len(ch[k])/2]
	}
	return c
}
