// Package lift turns one matted picture of an object into an initial 3D
// Gaussian cloud with a plausible shape, without learned weights: each run
// of silhouette pixels in a row becomes a level, round cross-section about
// a vertical axis, as large as fits the silhouette as the (elevated)
// reference camera sees it, so a body becomes a solid of revolution and a
// handle or a leg a round part as thick as it is wide; a part whose
// silhouette a square prism explains clearly better (a box's corners, the
// V a turned box stands on) becomes that box, and legs stand on one floor
// (parts.go); what no section covers takes the distance transform's
// inflation (the union of the silhouette's inscribed spheres). The front
// takes its colours from the picture, the back the colour of its mirror
// image through the object's middle plane. The fit then refines this
// cloud instead of a blob.
//
// The silhouette analysis (Rows, Axis, DistanceTransform, Inflate) is
// exported for other outputs that need a shape from one picture.
package lift

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"github.com/splatbench/splatbench/internal/resample"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// Shapes for Options.Shape.
const (
	ShapeRevolve = "revolve"
	ShapeInflate = "inflate"
	ShapeAuto    = "auto"
)

// MaxPixels bounds the input image (about a 16k×16k picture); larger
// inputs are refused rather than scanned.
const MaxPixels = 1 << 28

// ErrNoObject is returned when the matte has no object pixel.
var ErrNoObject = errors.New("lift: the matte has no object (no pixel with alpha ≥ 0.5)")

// ErrInvalidOptions is wrapped by every error Options.Validate returns.
var ErrInvalidOptions = errors.New("invalid lift options")

// Options are the lift's knobs.
type Options struct {
	// Shape is ShapeAuto (a cross-section per run of object pixels in a
	// row), ShapeRevolve (one per row, spanning it) or ShapeInflate (none:
	// every pixel takes the inflation).
	Shape string
	// DepthScale stretches every cross-section and half-thickness along
	// the depth axis (1: as round as wide).
	DepthScale float64
	// Resolution is the side of the square working canvas in pixels: the
	// object is framed into it and one Gaussian per pixel and depth step
	// is placed. Cost and count grow with its square.
	Resolution int
	// Fill is the share of the canvas the object's larger side fills
	// after framing (the object's bounding box is centred and scaled).
	// 0 keeps the input's framing (the image scaled to the canvas).
	Fill float64
	// ObjectAlpha is the matte alpha at and above which a pixel is lifted
	// (at least Threshold). Above ½ it leaves out the soft halo a matte
	// puts around the object and background it half keeps; on the 19
	// scenes 0.7 won on some and lost on others (docs/lift.md).
	ObjectAlpha float64
	// Opacity is the initial opacity of every Gaussian.
	Opacity float64
	// BackBlur is the radius, in canvas pixels, of the square over which
	// the object's colours are averaged for the far half, which takes the
	// colour of its mirror image (0: the sharp mirror image). The picture
	// does not show the back: a smooth guess keeps the front's colours at
	// the scale of the blur but not its details (a face, buttons, a
	// checker), which mirrored would stand where the back has none.
	BackBlur int
	// MinGaussians pads the cloud (jittered copies) up to this count, so
	// a tiny or thin object still passes the validator's count gate.
	MinGaussians int
	// SHDegree is the cloud's SH degree (higher bands start at zero).
	SHDegree int
	// Seed makes the padding jitter deterministic.
	Seed uint64
	// Workers bounds the goroutines that fit the cross-sections and the
	// prisms and find the hidden end's sections (0: GOMAXPROCS). The
	// result does not depend on it.
	Workers int
}

// DefaultOptions: auto shape, depth scale 1, a 128-pixel canvas with the
// object filling 70 % of it (the share a reference scene fills in the
// validator's views: extent 1.5 seen from 2.5 at 49.1°), pixels of alpha
// ½ and above lifted, opacity 0.9, the back's colours averaged over 6
// pixels, at least 8000 Gaussians (the validator needs 7000).
func DefaultOptions() Options {
	return Options{Shape: ShapeAuto, DepthScale: 1, Resolution: 128, Fill: 0.7, ObjectAlpha: 0.5, Opacity: 0.9, BackBlur: 6, MinGaussians: 8000}
}

// Validate names the first bad field.
func (o Options) Validate() error {
	bad := func(field string, v any, why string) error {
		return fmt.Errorf("%w: %s = %v: %s", ErrInvalidOptions, field, v, why)
	}
	switch {
	case o.Shape != ShapeRevolve && o.Shape != ShapeInflate && o.Shape != ShapeAuto:
		return bad("Shape", o.Shape, "must be revolve, inflate or auto")
	case !(o.DepthScale > 0 && o.DepthScale <= 10):
		return bad("DepthScale", o.DepthScale, "must be in (0, 10]")
	case o.Resolution < 16 || o.Resolution > 1024:
		return bad("Resolution", o.Resolution, "must be in 16..1024")
	case !(o.Fill >= 0 && o.Fill <= 1):
		return bad("Fill", o.Fill, "must be in [0, 1] (0 keeps the framing)")
	case !(o.ObjectAlpha >= Threshold && o.ObjectAlpha <= 1):
		return bad("ObjectAlpha", o.ObjectAlpha, "must be in [0.5, 1]")
	case !(o.Opacity > 0 && o.Opacity < 1):
		return bad("Opacity", o.Opacity, "must be in (0, 1)")
	case o.BackBlur < 0 || o.BackBlur > o.Resolution:
		return bad("BackBlur", o.BackBlur, "must be in 0..Resolution")
	case o.Workers < 0:
		return bad("Workers", o.Workers, "must be ≥ 0 (0: GOMAXPROCS)")
	case o.MinGaussians < 0 || o.MinGaussians > 1_000_000:
		return bad("MinGaussians", o.MinGaussians, "must be in 0..1000000")
	case o.SHDegree < 0 || o.SHDegree > splat.MaxSHDegree:
		return bad("SHDegree", o.SHDegree, fmt.Sprintf("must be in 0..%d", splat.MaxSHDegree))
	}
	return nil
}

// Result is a lifted cloud and the reference view it was lifted from.
type Result struct {
	Cloud *splat.Cloud
	// View is the framed picture on the working canvas (straight alpha)
	// and Camera the reference camera at the canvas size: the fit's view 0.
	View   *image.NRGBA
	Camera splat.Camera
	// Depth is the reference camera's viewing direction (unit, world):
	// the direction one picture cannot constrain.
	Depth [3]float64
	// Spacing is the world distance between neighbouring samples.
	Spacing float64
	// Notes name the fallbacks taken (object touching the border, tiny
	// object upscaled, components dropped, count padded).
	Notes []string

	g      view // Camera's geometry, made once: DepthRange runs per Gaussian per fit step
	mask   Mask
	lo, hi []float32 // depth span of the samples seen at each canvas pixel
	dlo    float64   // the whole cloud's depth span
	dhi    float64
}

// DepthRange is the lifted slab at world point p: the interval of signed
// offsets along Depth (from the plane through the origin) that the
// samples seen at the canvas pixel p projects to span, or the whole
// cloud's interval where p projects to a pixel without samples. It is the
// anchor the fit's shape regulariser keeps centres in
// (fit.ShapeOptions.DepthRange). It only reads r, so it may run on many
// goroutines at once.
func (r *Result) DepthRange(p [3]float64) (lo, hi float64) {
	if i := r.g.pixel(p, r.mask.W, r.mask.H); i >= 0 && r.lo[i] <= r.hi[i] {
		return float64(r.lo[i]), float64(r.hi[i])
	}
	return r.dlo, r.dhi
}

// Lift makes the initial cloud from img (straight alpha: the matte's
// output) seen by cam, the reference camera (its size may differ from
// img's; its field of view is what counts). The object's middle plane
// passes through the point cam looks at along its axis, at cam's distance
// from the world origin.
func Lift(ctx context.Context, img *image.NRGBA, cam splat.Camera, opt Options) (*Result, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if img == nil {
		return nil, fmt.Errorf("lift: no image")
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("lift: empty image %dx%d", b.Dx(), b.Dy())
	}
	if b.Dx()*b.Dy() > MaxPixels {
		return nil, fmt.Errorf("lift: image %dx%d is over %d pixels", b.Dx(), b.Dy(), MaxPixels)
	}
	if cam.Width <= 0 || cam.Height <= 0 || !(cam.Fx > 0) || !(cam.Fy > 0) {
		return nil, fmt.Errorf("lift: camera %dx%d, focal %v×%v", cam.Width, cam.Height, cam.Fx, cam.Fy)
	}
	res := &Result{}
	box, touches := bbox(img)
	if box.Empty() {
		return nil, ErrNoObject
	}
	if touches != "" {
		res.Notes = append(res.Notes, "the object touches the image border ("+touches+"): it may be cut off; lifted as seen")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := opt.Resolution
	view, k := frame(img, box, n, opt.Fill)
	if bw, bh := box.Dx(), box.Dy(); opt.Fill > 0 && max(bw, bh) < n/8 {
		res.Notes = append(res.Notes, fmt.Sprintf("the object is only %dx%d pixels: upscaled %.1f× to the canvas", bw, bh, k))
	}
	res.View = view
	res.Camera = scaleCamera(cam, n)
	m := Mask{W: n, H: n, A: make([]float32, n*n)}
	for i := range m.A {
		if a := float32(view.Pix[4*i+3]) / 255; a >= float32(opt.ObjectAlpha) {
			m.A[i] = a
		}
	}
	if dropped := keepMain(m); dropped > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("dropped %d small matte fragments", dropped))
		for i, a := range m.A {
			if a == 0 {
				view.Pix[4*i+3] = 0
			}
		}
	}
	col := fillColours(view, m)
	back := col
	if opt.BackBlur > 0 {
		back = blurColours(col, m, opt.BackBlur)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cloud, s, err := place(ctx, m, col, back, res.Camera, opt)
	if err != nil {
		return nil, err
	}
	spacing := s.g.px
	if cloud.Len() < opt.MinGaussians && cloud.Len() > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d samples: padded to %d with jittered copies", cloud.Len(), opt.MinGaussians))
		cloud = pad(cloud, opt.MinGaussians, spacing, opt.Seed)
	}
	if cloud.Len() == 0 {
		return nil, ErrNoObject
	}
	res.Cloud, res.Spacing, res.Depth = cloud, spacing, s.g.depth
	res.g, res.mask, res.lo, res.hi = s.g, m, s.lo, s.hi
	res.dlo, res.dhi = math.Inf(1), math.Inf(-1)
	for i := range s.lo {
		if s.lo[i] <= s.hi[i] {
			res.dlo, res.dhi = min(res.dlo, float64(s.lo[i])), max(res.dhi, float64(s.hi[i]))
		}
	}
	return res, nil
}

// bbox returns the bounding box of img's object pixels and which image
// borders the object touches ("" when none).
func bbox(img *image.NRGBA) (image.Rectangle, string) {
	b := img.Bounds()
	x0, y0, x1, y1 := b.Max.X, b.Max.Y, b.Min.X, b.Min.Y
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := img.Pix[(y-b.Min.Y)*img.Stride:]
		for x := range b.Dx() {
			if row[4*x+3] >= 128 {
				x0, x1 = min(x0, b.Min.X+x), max(x1, b.Min.X+x+1)
				y0, y1 = min(y0, y), max(y1, y+1)
			}
		}
	}
	r := image.Rect(x0, y0, x1, y1)
	if x0 >= x1 || y0 >= y1 {
		return image.Rectangle{}, ""
	}
	var sides []string
	if x0 == b.Min.X {
		sides = append(sides, "left")
	}
	if x1 == b.Max.X {
		sides = append(sides, "right")
	}
	if y0 == b.Min.Y {
		sides = append(sides, "top")
	}
	if y1 == b.Max.Y {
		sides = append(sides, "bottom")
	}
	s := ""
	for i, v := range sides {
		if i > 0 {
			s += ", "
		}
		s += v
	}
	return r, s
}

// frame draws img onto an n×n transparent canvas: with fill > 0 the object
// box is centred and scaled so its larger side is fill·n; with fill 0 the
// whole image is scaled to fit. It returns the canvas and the scale.
func frame(img *image.NRGBA, box image.Rectangle, n int, fill float64) (*image.NRGBA, float64) {
	canvas := image.NewNRGBA(image.Rect(0, 0, n, n))
	src := img.Bounds()
	if fill > 0 {
		// A margin of a few pixels around the box keeps the soft edge.
		src = box
	}
	k := float64(n) / float64(max(src.Dx(), src.Dy()))
	if fill > 0 {
		k = fill * float64(n) / float64(max(src.Dx(), src.Dy()))
		pad := int(math.Ceil(2 / k))
		src = image.Rect(src.Min.X-pad, src.Min.Y-pad, src.Max.X+pad, src.Max.Y+pad).Intersect(img.Bounds())
	}
	// Centre of the object box maps to the canvas centre.
	cx, cy := float64(box.Min.X+box.Max.X)/2, float64(box.Min.Y+box.Max.Y)/2
	if fill == 0 {
		cx, cy = float64(src.Min.X+src.Max.X)/2, float64(src.Min.Y+src.Max.Y)/2
	}
	dx0 := float64(n)/2 + (float64(src.Min.X)-cx)*k
	dy0 := float64(n)/2 + (float64(src.Min.Y)-cy)*k
	dst := image.Rect(int(math.Round(dx0)), int(math.Round(dy0)),
		int(math.Round(dx0+float64(src.Dx())*k)), int(math.Round(dy0+float64(src.Dy())*k)))
	if dst.Dx() < 1 {
		dst.Max.X = dst.Min.X + 1
	}
	if dst.Dy() < 1 {
		dst.Max.Y = dst.Min.Y + 1
	}
	// Premultiplied scaling keeps background colour out of the edges.
	m := resample.CatmullRom.Scale(img, src, dst.Dx(), dst.Dy(), 0).NRGBA()
	vis := dst.Intersect(canvas.Bounds())
	for y := vis.Min.Y; y < vis.Max.Y; y++ {
		copy(canvas.Pix[canvas.PixOffset(vis.Min.X, y):canvas.PixOffset(vis.Max.X, y)],
			m.Pix[m.PixOffset(vis.Min.X-dst.Min.X, y-dst.Min.Y):])
	}
	return canvas, k
}

// scaleCamera returns cam at n×n with the same vertical field of view and
// the principal point at the centre.
func scaleCamera(cam splat.Camera, n int) splat.Camera {
	k := float64(n) / float64(cam.Height)
	cam.Width, cam.Height = n, n
	cam.Fx, cam.Fy = cam.Fy*k, cam.Fy*k
	cam.Cx, cam.Cy = float64(n)/2, float64(n)/2
	return cam
}

// keepMain zeroes every 4-connected object component smaller than a tenth
// of the largest (matte speckles) and returns how many it dropped.
func keepMain(m Mask) int {
	label := make([]int32, len(m.A))
	var sizes []int
	stack := []int{}
	for i := range m.A {
		if label[i] != 0 || m.A[i] < Threshold {
			continue
		}
		id := int32(len(sizes) + 1)
		size := 0
		stack = append(stack[:0], i)
		label[i] = id
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			x, y := p%m.W, p/m.W
			for _, q := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if m.In(q[0], q[1]) {
					j := q[1]*m.W + q[0]
					if label[j] == 0 {
						label[j] = id
						stack = append(stack, j)
					}
				}
			}
		}
		sizes = append(sizes, size)
	}
	biggest := 0
	for _, s := range sizes {
		biggest = max(biggest, s)
	}
	dropped := 0
	keep := make([]bool, len(sizes))
	for i, s := range sizes {
		keep[i] = 10*s >= biggest
		if !keep[i] {
			dropped++
		}
	}
	for i, l := range label {
		if l == 0 || !keep[l-1] {
			m.A[i] = 0
		}
	}
	return dropped
}

// fillColours returns straight RGB per pixel in 0..1: pixels with alpha ≥
// 0.9 keep their colour; every other pixel (the soft edge, where the matte
// mixes in background, and the background, where a revolved sample may
// land within the outline's one-pixel slack) takes the colour of the
// nearest such pixel (breadth-first, 8-connected), or its own when there
// is none.
func fillColours(view *image.NRGBA, m Mask) []float32 {
	n := m.W * m.H
	col := make([]float32, 3*n)
	done := make([]bool, n)
	var queue []int
	for i := range n {
		if view.Pix[4*i+3] >= 230 {
			for c := range 3 {
				col[3*i+c] = float32(view.Pix[4*i+c]) / 255
			}
			done[i] = true
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		x, y := p%m.W, p/m.W
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				xx, yy := x+dx, y+dy
				if xx < 0 || yy < 0 || xx >= m.W || yy >= m.H {
					continue
				}
				j := yy*m.W + xx
				if done[j] {
					continue
				}
				copy(col[3*j:3*j+3], col[3*p:3*p+3])
				done[j] = true
				queue = append(queue, j)
			}
		}
	}
	for i := range n {
		if !done[i] {
			for c := range 3 {
				col[3*i+c] = float32(view.Pix[4*i+c]) / 255
			}
		}
	}
	return col
}

// shC0 is the degree-0 SH constant: RGB = 0.5 + shC0·dc.
const shC0 = 0.28209479177387814

// pad appends jittered copies (uniform within half a spacing) of random
// Gaussians until the cloud has n.
func pad(c *splat.Cloud, n int, spacing float64, seed uint64) *splat.Cloud {
	rng := rand.New(rand.NewPCG(seed, 0x11f7))
	m := c.Len()
	out := splat.NewCloud(n, c.SHDegree)
	copy(out.Pos, c.Pos)
	copy(out.LogScale, c.LogScale)
	copy(out.Rot, c.Rot)
	copy(out.OpacityLogit, c.OpacityLogit)
	copy(out.SH, c.SH)
	k := 3 * c.K()
	for i := m; i < n; i++ {
		j := rng.IntN(m)
		for a := range 3 {
			out.Pos[3*i+a] = c.Pos[3*j+a] + float32((rng.Float64()-0.5)*spacing)
			out.LogScale[3*i+a] = c.LogScale[3*j+a]
		}
		copy(out.Rot[4*i:4*i+4], c.Rot[4*j:4*j+4])
		out.OpacityLogit[i] = c.OpacityLogit[j]
		copy(out.SH[k*i:k*i+k], c.SH[k*j:k*j+k])
	}
	return out
}

// blurColours returns, per pixel, the mean of col over the object pixels
// within the (2r+1)² square about it (col where there are none), by
// summed-area tables.
func blurColours(col []float32, m Mask, r int) []float32 {
	w, h := m.W, m.H
	// sat[c][(y)*(w+1)+x]: sums over rows < y, columns < x; c 3 is the count.
	var sat [4][]float64
	for c := range sat {
		sat[c] = make([]float64, (w+1)*(h+1))
	}
	for y := range h {
		for x := range w {
			i, j := y*w+x, (y+1)*(w+1)+x+1
			var v [4]float64
			if m.In(x, y) {
				v = [4]float64{float64(col[3*i]), float64(col[3*i+1]), float64(col[3*i+2]), 1}
			}
			for c := range sat {
				sat[c][j] = v[c] + sat[c][j-1] + sat[c][j-w-1] - sat[c][j-w-2]
			}
		}
	}
	out := make([]float32, len(col))
	for y := range h {
		y0, y1 := max(0, y-r), min(h, y+r+1)
		for x := range w {
			x0, x1 := max(0, x-r), min(w, x+r+1)
			box := func(c int) float64 {
				t := sat[c]
				return t[y1*(w+1)+x1] - t[y0*(w+1)+x1] - t[y1*(w+1)+x0] + t[y0*(w+1)+x0]
			}
			i := y*w + x
			n := box(3)
			if n < 0.5 {
				copy(out[3*i:3*i+3], col[3*i:3*i+3])
				continue
			}
			for c := range 3 {
				out[3*i+c] = float32(box(c) / n)
			}
		}
	}
	return out
}
