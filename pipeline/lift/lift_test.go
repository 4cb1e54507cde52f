package lift

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/splat"
)

func discMask(n int, r float64) Mask {
	m := Mask{W: n, H: n, A: make([]float32, n*n)}
	c := float64(n) / 2
	for y := range n {
		for x := range n {
			if math.Hypot(float64(x)+0.5-c, float64(y)+0.5-c) <= r {
				m.A[y*n+x] = 1
			}
		}
	}
	return m
}

func TestDistanceTransform(t *testing.T) {
	// A 5×3 bar in a 7×5 image: the middle row is 2 from the top and
	// bottom background rows.
	m := Mask{W: 7, H: 5, A: make([]float32, 35)}
	for y := 1; y <= 3; y++ {
		for x := 1; x <= 5; x++ {
			m.A[y*7+x] = 1
		}
	}
	dt := DistanceTransform(m)
	tests := []struct {
		x, y int
		want float32
	}{{0, 0, 0}, {1, 1, 1}, {3, 2, 2}, {1, 2, 1}, {2, 2, 2}, {5, 3, 1}}
	for _, tc := range tests {
		if got := dt[tc.y*7+tc.x]; math.Abs(float64(got-tc.want)) > 1e-6 {
			t.Errorf("dt(%d,%d) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
	// Border pixels count as next to background.
	full := Mask{W: 3, H: 3, A: []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}}
	if got := DistanceTransform(full)[4]; got != 2 {
		t.Errorf("centre of a full 3×3 mask: %v, want 2", got)
	}
}

func TestDistanceTransformBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		m := randomMask(rng, 1+rng.IntN(20), 1+rng.IntN(20))
		dt := DistanceTransform(m)
		for y := range m.H {
			for x := range m.W {
				want := math.Inf(1)
				if !m.In(x, y) {
					want = 0
				}
				for yy := -1; yy <= m.H; yy++ {
					for xx := -1; xx <= m.W; xx++ {
						if !m.In(xx, yy) {
							want = min(want, math.Hypot(float64(xx-x), float64(yy-y)))
						}
					}
				}
				if got := float64(dt[y*m.W+x]); math.Abs(got-want) > 1e-4 {
					t.Fatalf("%dx%d mask, dt(%d,%d) = %v, want %v", m.W, m.H, x, y, got, want)
				}
			}
		}
	}
}

func randomMask(rng *rand.Rand, w, h int) Mask {
	m := Mask{W: w, H: h, A: make([]float32, w*h)}
	for i := range m.A {
		m.A[i] = rng.Float32()
	}
	return m
}

func TestInflateOfADisc(t *testing.T) {
	// A disc inflates to a sphere: half-thickness √(r² − ρ²).
	const n, r = 64, 20.0
	m := discMask(n, r)
	if ax := Axis(Rows(m)); math.Abs(ax-n/2) > 0.01 {
		t.Errorf("axis %v, want %v", ax, n/2)
	}
	inf := Inflate(m, DistanceTransform(m))
	c := n / 2
	for _, x := range []int{c, c + 10, c + 17} {
		rho := float64(x) + 0.5 - n/2
		want := math.Sqrt(r*r - rho*rho)
		if got := float64(inf[c*n+x]); math.Abs(got-want) > 1.6 {
			t.Errorf("at ρ=%.1f: %.2f, want %.2f", rho, got, want)
		}
	}
}

// TestInflateBruteForce holds Inflate to its definition on masks of a
// few random discs and bars: the height of the union of every object
// pixel's inscribed sphere (not only the medial axis's), zero off the
// object.
func TestInflateBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		m := Mask{W: 8 + rng.IntN(32), H: 8 + rng.IntN(32)}
		m.A = make([]float32, m.W*m.H)
		for range 1 + rng.IntN(4) {
			cx, cy, r := rng.Float64()*float64(m.W), rng.Float64()*float64(m.H), 1+rng.Float64()*10
			bar := rng.IntN(2) == 0
			for y := range m.H {
				for x := range m.W {
					dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
					if bar && math.Abs(dx) < r && math.Abs(dy) < r/3 || !bar && dx*dx+dy*dy < r*r {
						m.A[y*m.W+x] = 1
					}
				}
			}
		}
		dt := DistanceTransform(m)
		got := Inflate(m, dt)
		for y := range m.H {
			for x := range m.W {
				want := 0.0
				for qy := range m.H {
					for qx := range m.W {
						r := float64(dt[qy*m.W+qx])
						if s := r*r - float64((qx-x)*(qx-x)+(qy-y)*(qy-y)); dt[y*m.W+x] > 0 && s > 0 {
							want = max(want, math.Sqrt(s))
						}
					}
				}
				if g := float64(got[y*m.W+x]); math.Abs(g-want) > 1e-5*max(1, want) {
					t.Fatalf("%dx%d mask, h(%d,%d) = %v, want %v", m.W, m.H, x, y, g, want)
				}
			}
		}
	}
}

func TestInflateKeepsThinPartsThin(t *testing.T) {
	// A disc with a 3-pixel-wide arm: inflation keeps the arm 1.5 pixels
	// thick and the disc as thick as it is wide.
	const n = 64
	m := discMask(n, 14)
	for y := 31; y < 34; y++ {
		for x := 45; x < 62; x++ {
			m.A[y*n+x] = 1
		}
	}
	inf := Inflate(m, DistanceTransform(m))
	if got := inf[32*n+55]; got > 2.5 {
		t.Errorf("arm half-thickness %v, want ≤ 2.5", got)
	}
	if got := inf[32*n+32]; got < 12 {
		t.Errorf("disc half-thickness %v, want ≥ 12", got)
	}
}

func TestSectionsOfABall(t *testing.T) {
	// Each level section of a ball seen from above must get the ball's
	// own radius at its height, √(r² − y²), and no section may hang below
	// or rise above the ball by more than a few spacings.
	const n, r = 128, 0.5
	g, m := solidView(n, ballHit(r, [3]float64{}))
	secs, _ := choose(t, g, m)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, sc := range secs {
		if sc.rad == 0 {
			continue
		}
		y := sc.a[1]
		lo, hi = min(lo, y), max(hi, y)
		if math.Abs(y) < 0.9*r {
			if want := math.Sqrt(r*r - y*y); math.Abs(sc.rad-want) > 2*g.px {
				t.Errorf("section at height %.3f: radius %.3f, want %.3f", y, sc.rad, want)
			}
		}
	}
	if lo < -r-3*g.px || hi > r+3*g.px {
		t.Errorf("sections span heights %.3f..%.3f, ball %v..%v (spacing %.3f)", lo, hi, -r, r, g.px)
	}
	// The hidden underside (seen from above, nothing shows it) goes with
	// the hidden cone: measured −0.385, that is 0.77 r; the top stays.
	if lo > -0.7*r || hi < 0.9*r {
		t.Errorf("sections span heights %.3f..%.3f: more of the ball's ends is missing than the hidden underside", lo, hi)
	}
}

func TestRows(t *testing.T) {
	m := Mask{W: 6, H: 3, A: []float32{
		0, 1, 1, 1, 0, 0,
		1, 0, 0, 1, 1, 0,
		0, 0, 0, 0, 0, 0,
	}}
	rows := Rows(m)
	want := []Row{{1, 3, 1}, {0, 4, 2}, {6, -1, 0}}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	if rows[0].HalfWidth() != 1.5 || rows[0].Centre() != 2.5 || rows[2].HalfWidth() != 0 {
		t.Errorf("row 0 half-width %v centre %v", rows[0].HalfWidth(), rows[0].Centre())
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
	}{
		{"shape", func(o *Options) { o.Shape = "cube" }},
		{"depth", func(o *Options) { o.DepthScale = 0 }},
		{"depth NaN", func(o *Options) { o.DepthScale = math.NaN() }},
		{"resolution", func(o *Options) { o.Resolution = 4 }},
		{"fill", func(o *Options) { o.Fill = 1.5 }},
		{"opacity", func(o *Options) { o.Opacity = 1 }},
		{"back blur", func(o *Options) { o.BackBlur = 200 }},
		{"object alpha", func(o *Options) { o.ObjectAlpha = 0.3 }},
		{"count", func(o *Options) { o.MinGaussians = -1 }},
	} {
		o := DefaultOptions()
		tc.edit(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: %v, want ErrInvalidOptions", tc.name, err)
		}
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
}

func frontCamera(n int) splat.Camera {
	eye := splat.OrbitPosition(2.5/1.5, 0, -15)
	return splat.LookAt(eye, [3]float64{}, [3]float64{0, 1, 0}, n, n, splat.ValidatorFOVDeg)
}

func picture(n int, draw func(x, y int) (color.NRGBA, bool)) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			if c, ok := draw(x, y); ok {
				img.SetNRGBA(x, y, c)
			}
		}
	}
	return img
}

// TestLiftBadInput: every bad or odd input is an error or a stated
// fallback, never a crash.
func TestLiftBadInput(t *testing.T) {
	red := color.NRGBA{200, 30, 30, 255}
	ctx := context.Background()
	cam := frontCamera(128)
	opt := DefaultOptions()
	opt.Resolution = 48
	tests := []struct {
		name    string
		img     *image.NRGBA
		wantErr error
		note    string
	}{
		{"all background", picture(64, func(x, y int) (color.NRGBA, bool) { return color.NRGBA{}, false }), ErrNoObject, ""},
		{"one pixel", picture(64, func(x, y int) (color.NRGBA, bool) { return red, x == 30 && y == 40 }), nil, "upscaled"},
		{"touches the border", picture(64, func(x, y int) (color.NRGBA, bool) { return red, x < 20 }), nil, "touches the image border (left, top, bottom)"},
		{"fully opaque", picture(64, func(x, y int) (color.NRGBA, bool) { return red, true }), nil, "touches"},
		{"speckles", picture(64, func(x, y int) (color.NRGBA, bool) {
			return red, (x > 20 && x < 40 && y > 20 && y < 40) || (x == 5 && y == 5)
		}), nil, "dropped 1 small matte fragments"},
		{"empty image", image.NewNRGBA(image.Rect(0, 0, 0, 0)), nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Lift(ctx, tc.img, cam, opt)
			if tc.name == "empty image" {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Cloud.Len() < opt.MinGaussians {
				t.Errorf("%d Gaussians, want ≥ %d", res.Cloud.Len(), opt.MinGaussians)
			}
			if g := splat.CheckGate(res.Cloud); !g.OK {
				t.Errorf("gate: %v", g.Reasons)
			}
			found := false
			for _, n := range res.Notes {
				found = found || contains(n, tc.note)
			}
			if !found {
				t.Errorf("notes %q, want one with %q", res.Notes, tc.note)
			}
		})
	}
	huge := &image.NRGBA{Rect: image.Rect(0, 0, 1<<15, 1<<14)} // no pixels allocated: refused on size alone
	if _, err := Lift(ctx, huge, cam, opt); err == nil || !contains(err.Error(), "over") {
		t.Errorf("huge image: %v, want an over-size error", err)
	}
	ctxDone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Lift(ctxDone, picture(32, func(x, y int) (color.NRGBA, bool) { return red, x > 8 && x < 20 }), cam, opt); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestLiftFrontViewMatchesSilhouette: rendered from the reference camera,
// the lifted cloud covers the picture's silhouette and little else, in
// the picture's colours; from the side and back it is still there (no
// holes) and coloured, not grey.
func TestLiftFrontViewMatchesSilhouette(t *testing.T) {
	const n = 64
	img := picture(n, func(x, y int) (color.NRGBA, bool) {
		d := math.Hypot(float64(x)-32, float64(y)-36)
		return color.NRGBA{40, 60, 220, 255}, d < 16 || (x > 28 && x < 36 && y > 8 && y < 24)
	})
	cam := frontCamera(n)
	opt := DefaultOptions()
	opt.Resolution = n
	opt.Fill = 0
	res, err := Lift(context.Background(), img, cam, opt)
	if err != nil {
		t.Fatal(err)
	}
	ropt := splat.RenderOptions{Background: [3]float32{1, 1, 1}, SHDegree: 0}
	front, err := splat.Render(context.Background(), res.Cloud, res.Camera, ropt)
	if err != nil {
		t.Fatal(err)
	}
	inter, union := 0, 0
	for i := range n * n {
		a, b := front.Alpha[i] >= 0.5, img.Pix[4*i+3] >= 128
		if a && b {
			inter++
		}
		if a || b {
			union++
		}
	}
	// The depth axis is level while the camera looks 15° down, so the
	// solid shows a little of its top and bottom: not an exact match.
	if iou := float64(inter) / float64(union); iou < 0.7 {
		t.Errorf("front-view IoU with the silhouette %.3f, want ≥ 0.7", iou)
	}
	for _, az := range []float64{90, 180, 270} {
		eye := splat.OrbitPosition(2.5/1.5, az, -15)
		side := splat.LookAt(eye, [3]float64{}, [3]float64{0, 1, 0}, n, n, splat.ValidatorFOVDeg)
		im, err := splat.Render(context.Background(), res.Cloud, side, ropt)
		if err != nil {
			t.Fatal(err)
		}
		covered, bluish := 0, 0
		for i := range n * n {
			if im.Alpha[i] >= 0.5 {
				covered++
				if im.RGB[3*i+2] > im.RGB[3*i]+0.3 {
					bluish++
				}
			}
		}
		if covered < n*n/20 || bluish < covered*9/10 {
			t.Errorf("azimuth %v: %d pixels covered, %d of them blue", az, covered, bluish)
		}
		// A solid object: every covered row is one run (no gaps inside).
		for y := range n {
			runs, prev := 0, false
			for x := range n {
				in := im.Alpha[y*n+x] >= 0.5
				if in && !prev {
					runs++
				}
				prev = in
			}
			if runs > 1 {
				t.Errorf("azimuth %v, row %d: %d runs (a gap)", az, y, runs)
				break
			}
		}
	}
}

// solidView draws the silhouette of a solid, given as a ray test (camera
// centre o, unit direction d), as the reference scenes' front camera
// sees it on an n×n canvas.
func solidView(n int, hit func(o, d [3]float64) bool) (view, Mask) {
	g := newView(scenes.TrainViews(1, n)[0])
	m := Mask{W: n, H: n, A: make([]float32, n*n)}
	for y := range n {
		for x := range n {
			if hit(g.o, g.ray(float64(x)+0.5, float64(y)+0.5)) {
				m.A[y*n+x] = 1
			}
		}
	}
	return g, m
}

// cube returns the half-sizes of a cube of half-size h.
func cube(h float64) [3]float64 { return [3]float64{h, h, h} }

// boxHit is the ray test of a box of half-sizes h about centre at,
// turned by turn radians about the vertical (slabs).
func boxHit(h [3]float64, turn float64, at [3]float64) func(o, d [3]float64) bool {
	s, c := math.Sincos(turn)
	local := func(v [3]float64) [3]float64 { return [3]float64{c*v[0] - s*v[2], v[1], s*v[0] + c*v[2]} }
	return func(o, d [3]float64) bool {
		o, d = local([3]float64{o[0] - at[0], o[1] - at[1], o[2] - at[2]}), local(d)
		t0, t1 := math.Inf(-1), math.Inf(1)
		for k := range 3 {
			if d[k] == 0 {
				if math.Abs(o[k]) > h[k] {
					return false
				}
				continue
			}
			a, b := (-h[k]-o[k])/d[k], (h[k]-o[k])/d[k]
			t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
		}
		return t0 <= t1 && t1 > 0
	}
}

// cylinderHit is the ray test of an upright cylinder of radius r and
// half-height h about the origin.
func cylinderHit(r, h float64) func(o, d [3]float64) bool {
	return func(o, d [3]float64) bool {
		// The ray's stretch inside the infinite cylinder, then the slab.
		a := d[0]*d[0] + d[2]*d[2]
		b := o[0]*d[0] + o[2]*d[2]
		c := o[0]*o[0] + o[2]*o[2] - r*r
		disc := b*b - a*c
		if a == 0 || disc < 0 {
			return false
		}
		t0, t1 := (-b-math.Sqrt(disc))/a, (-b+math.Sqrt(disc))/a
		y0, y1 := (-h-o[1])/d[1], (h-o[1])/d[1]
		t0, t1 = max(t0, min(y0, y1)), min(t1, max(y0, y1))
		return t0 <= t1 && t1 > 0
	}
}

func TestBoxOrCylinder(t *testing.T) {
	// A box seen from above stands on a V or shows its top's corners: it
	// must become one square prism of the box's size, height and turn; a
	// cylinder of the same width must stay round sections.
	const n = 128
	for _, tc := range []struct {
		name string
		hit  func(o, d [3]float64) bool
		box  bool
		turn float64 // degrees, modulo 90
	}{
		{"box turned 25°", boxHit(cube(0.4), 25*math.Pi/180, [3]float64{}), true, 25},
		{"box turned 60°", boxHit(cube(0.4), 60*math.Pi/180, [3]float64{}), true, 60},
		{"box face on", boxHit(cube(0.4), 0, [3]float64{}), true, 0},
		{"cylinder", cylinderHit(0.45, 0.4), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, m := solidView(n, tc.hit)
			_, boxes := choose(t, g, m)
			if !tc.box {
				if len(boxes) != 0 {
					t.Fatalf("%d boxes, want none", len(boxes))
				}
				return
			}
			if len(boxes) != 1 {
				t.Fatalf("%d boxes, want 1", len(boxes))
			}
			b := boxes[0]
			if math.Abs(b.s-0.4) > 0.05 || math.Abs(b.hi-0.4) > 0.06 || math.Abs(b.lo+0.4) > 0.06 || math.Abs(b.x) > 0.03 {
				t.Errorf("prism half-size %.3f, heights %.3f..%.3f, axis at %.3f; want 0.4, -0.4..0.4, 0", b.s, b.lo, b.hi, b.x)
			}
			turn := b.o.turn * 180 / math.Pi
			t.Logf("prism half-size %.3f, heights %.3f..%.3f, axis %.3f, turned %.1f°", b.s, b.lo, b.hi, b.x, turn)
			if d := math.Mod(math.Abs(turn-tc.turn), 90); min(d, 90-d) > 10 {
				t.Errorf("turned %.0f°, want %.0f°", turn, tc.turn)
			}
		})
	}
}

// ballHit is the ray test of a ball of radius r about centre at.
func ballHit(r float64, at [3]float64) func(o, d [3]float64) bool {
	return func(o, d [3]float64) bool {
		oc := [3]float64{o[0] - at[0], o[1] - at[1], o[2] - at[2]}
		b := dot(d, oc)
		return b*b-(dot(oc, oc)-r*r) >= 0 && -b > 0
	}
}

func TestBallOnBox(t *testing.T) {
	// The sphere-on-box scene's shapes, drawn analytically: the box must
	// become one square prism turned as it is, the ball stay round.
	box := boxHit(cube(0.3), 20*math.Pi/180, [3]float64{0, -0.25, 0})
	ball := ballHit(0.3, [3]float64{0, 0.3, 0})
	g, m := solidView(128, func(o, d [3]float64) bool { return box(o, d) || ball(o, d) })
	secs, boxes := choose(t, g, m)
	if len(boxes) != 1 {
		t.Fatalf("%d boxes, want 1", len(boxes))
	}
	b := boxes[0]
	turn := b.o.turn * 180 / math.Pi
	t.Logf("prism half-size %.3f, heights %.3f..%.3f, turned %.0f°", b.s, b.lo, b.hi, turn)
	if d := math.Mod(math.Abs(turn-20), 90); min(d, 90-d) > 10 || math.Abs(b.s-0.3) > 0.05 || math.Abs(b.lo+0.55) > 0.06 {
		t.Errorf("prism half-size %.3f, bottom %.3f, turned %.0f°; want 0.3, -0.55, 20°", b.s, b.lo, turn)
	}
	round := 0
	for _, sc := range secs {
		if sc.rad > 0 && sc.a[1] > 0.2 {
			round++
			if want := math.Sqrt(max(0, 0.09-(sc.a[1]-0.3)*(sc.a[1]-0.3))); sc.a[1] > 0.3 && math.Abs(sc.rad-want) > 3*g.px {
				t.Errorf("ball section at height %.3f: radius %.3f, want %.3f", sc.a[1], sc.rad, want)
			}
		}
	}
	if round < 20 {
		t.Errorf("%d round sections above the box, want the ball's", round)
	}
}

func TestCrumbUnderBox(t *testing.T) {
	// A matte's crumb just under a box's lowest corner must not get a
	// section: it would stand on the middle plane far under the box.
	g, m := solidView(128, boxHit(cube(0.4), 25*math.Pi/180, [3]float64{}))
	bottom := 0
	for i, a := range m.A {
		if a > 0 {
			bottom = max(bottom, i/m.W)
		}
	}
	var cx int
	for x := range m.W {
		if m.A[bottom*m.W+x] > 0 {
			cx = x
			break
		}
	}
	for y := bottom + 2; y <= bottom+3; y++ {
		for x := cx; x < cx+4; x++ {
			m.A[y*m.W+x] = 1
		}
	}
	secs, boxes := choose(t, g, m)
	if len(boxes) != 1 {
		t.Fatalf("%d boxes, want 1", len(boxes))
	}
	for _, sc := range secs {
		if sc.rad > 0 && sc.a[1] < boxes[0].lo-2*g.px {
			t.Errorf("section at height %.3f under the box's bottom %.3f (row %d)", sc.a[1], boxes[0].lo, sc.y)
		}
	}
}

func TestLegsOnAFloor(t *testing.T) {
	// The wooden table's shapes drawn analytically: a top on four legs
	// 0.26 in front of and behind its middle. Seen from above the back
	// legs end higher in the picture; their sections must stand behind
	// the middle plane and the front legs' in front of it.
	solids := []func(o, d [3]float64) bool{boxHit([3]float64{0.5, 0.03, 0.32}, 0, [3]float64{0, 0.2, 0})}
	for _, x := range []float64{-0.44, 0.44} {
		for _, z := range []float64{-0.26, 0.26} {
			solids = append(solids, boxHit([3]float64{0.03, 0.22, 0.03}, 0, [3]float64{x, -0.05, z}))
		}
	}
	g, m := solidView(128, func(o, d [3]float64) bool {
		for _, s := range solids {
			if s(o, d) {
				return true
			}
		}
		return false
	})
	secs, _ := choose(t, g, m)
	var front, back int
	for _, sc := range secs {
		if sc.rad == 0 || sc.a[1] > 0.1 {
			continue
		}
		// The camera looks along +depth: the front is negative depth.
		switch z := dot(sc.a, g.depth); {
		case math.Abs(z+0.26) < 0.08:
			front++
		case math.Abs(z-0.26) < 0.08:
			back++
		default:
			t.Errorf("leg section at height %.3f, depth %.3f: want ±0.26", sc.a[1], z)
		}
	}
	t.Logf("front %d back %d", front, back)
	if front < 20 || back < 20 {
		t.Errorf("%d leg sections in front, %d behind, want both", front, back)
	}
}

func TestBlurColours(t *testing.T) {
	// A 4×1 object, red | red | blue | blue, beside background pixels
	// of another colour, which must not count.
	m := Mask{W: 6, H: 1, A: []float32{0, 1, 1, 1, 1, 0}}
	red, blue, grey := []float32{1, 0, 0}, []float32{0, 0, 1}, []float32{0.5, 0.5, 0.5}
	var col []float32
	for _, c := range [][]float32{grey, red, red, blue, blue, grey} {
		col = append(col, c...)
	}
	for _, tc := range []struct {
		r    int
		x    int
		want []float32
	}{
		{0, 1, red},                          // no blur
		{1, 1, red},                          // red, red (the background left of it does not count)
		{1, 2, []float32{2. / 3, 0, 1. / 3}}, // red, red, blue
		{2, 3, []float32{0.5, 0, 0.5}},       // all four
		{1, 0, []float32{1, 0, 0}},           // background pixel: its object neighbour
		{3, 5, []float32{1. / 3, 0, 2. / 3}}, // red, blue, blue
	} {
		got := blurColours(col, m, tc.r)[3*tc.x : 3*tc.x+3]
		if !cmp.Equal(got, tc.want, cmpopts.EquateApprox(0, 1e-6)) {
			t.Errorf("r %d, pixel %d: %v, want %v", tc.r, tc.x, got, tc.want)
		}
	}
}

func TestHandles(t *testing.T) {
	// A mug's silhouette: a body (columns 40..80) with a handle on the
	// right that is its own run in rows 45..75 (columns 90..95) and
	// merges into the body in rows 40..44 and 76..80. Those rows'
	// sections must keep the body's right edge, the body's own rows stay.
	const n = 128
	g := newView(scenes.TrainViews(1, n)[0])
	m := Mask{W: n, H: n, A: make([]float32, n*n)}
	for y := 20; y <= 100; y++ {
		for x := 40; x <= 80; x++ {
			m.A[y*n+x] = 1
		}
		switch {
		case y >= 40 && y <= 44 || y >= 76 && y <= 80:
			for x := 81; x <= 95; x++ {
				m.A[y*n+x] = 1
			}
		case y > 44 && y < 76:
			for x := 90; x <= 95; x++ {
				m.A[y*n+x] = 1
			}
		}
	}
	in := grown(m)
	secs, err := fitSections(t.Context(), g, m, in, ShapeAuto, circle(1), 0)
	if err != nil {
		t.Fatal(err)
	}
	g.handles(m, in, secs)
	for _, sc := range secs {
		wantR := 80
		if sc.l >= 90 {
			wantR = 95 // the handle's own run
		}
		if sc.r != wantR || sc.rad == 0 {
			t.Errorf("row %d: section %d..%d radius %.3f, want right edge %d", sc.y, sc.l, sc.r, sc.rad, wantR)
		}
	}
}

// choose is chooseSections for the auto shape at depth scale 1 on
// GOMAXPROCS goroutines.
func choose(t testing.TB, g view, m Mask) ([]section, []prism) {
	t.Helper()
	secs, boxes, err := chooseSections(t.Context(), g, m, ShapeAuto, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	return secs, boxes
}
