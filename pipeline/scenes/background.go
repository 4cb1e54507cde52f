package scenes

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// BackgroundKind is a family of textured backgrounds for matting tests.
type BackgroundKind int

// Background kinds.
const (
	Checker  BackgroundKind = iota // two-colour checkerboard, cell 8–40 px
	Noise                          // smooth two-octave value noise between two colours
	Gradient                       // linear gradient between two colours at a random angle
	Stripes                        // two-colour stripes, 6–30 px wide, at a random angle
)

// BackgroundKinds lists every kind.
var BackgroundKinds = []BackgroundKind{Checker, Noise, Gradient, Stripes}

func (k BackgroundKind) String() string {
	switch k {
	case Checker:
		return "checker"
	case Noise:
		return "noise"
	case Gradient:
		return "gradient"
	case Stripes:
		return "stripes"
	}
	return fmt.Sprintf("BackgroundKind(%d)", int(k))
}

// Background is a procedural background; its colours, cell size and angle
// come from Seed, so the same value always draws the same image.
type Background struct {
	Kind BackgroundKind
	Seed int64
}

// Image draws the background at w×h (opaque).
func (b Background) Image(w, h int) *image.NRGBA {
	r := rand.New(rand.NewPCG(uint64(b.Seed), 0x6b67))
	c0, c1 := randColour(r), randColour(r)
	for dist(c0, c1) < 0.35 { // keep the two colours apart so the pattern shows
		c1 = randColour(r)
	}
	cell := 8 + r.Float64()*32
	sn, cs := math.Sincos(r.Float64() * math.Pi)
	shade := b.shader(r, cell, sn, cs, w, h)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			t := shade(float64(x)+0.5, float64(y)+0.5)
			o := out.PixOffset(x, y)
			for c := range 3 {
				out.Pix[o+c] = to8(float32(c0[c]*(1-t) + c1[c]*t))
			}
			out.Pix[o+3] = 255
		}
	}
	return out
}

// shader returns the blend weight 0..1 between the two colours at a pixel.
func (b Background) shader(r *rand.Rand, cell, sn, cs float64, w, h int) func(x, y float64) float64 {
	switch b.Kind {
	case Noise:
		n1 := valueNoise(r.Uint64(), cell*2)
		n2 := valueNoise(r.Uint64(), cell/2)
		return func(x, y float64) float64 { return min(max(0.7*n1(x, y)+0.3*n2(x, y), 0), 1) }
	case Gradient:
		span := math.Abs(float64(w)*cs) + math.Abs(float64(h)*sn)
		cx, cy := float64(w)/2, float64(h)/2
		return func(x, y float64) float64 { return min(max(((x-cx)*cs+(y-cy)*sn)/span+0.5, 0), 1) }
	case Stripes:
		width := cell * 0.75
		return func(x, y float64) float64 { return float64(int64(math.Floor((x*cs+y*sn)/width)) & 1) }
	default: // Checker
		return func(x, y float64) float64 {
			return float64((int64(math.Floor(x/cell)) + int64(math.Floor(y/cell))) & 1)
		}
	}
}

func randColour(r *rand.Rand) vec3 {
	return vec3{0.1 + 0.8*r.Float64(), 0.1 + 0.8*r.Float64(), 0.1 + 0.8*r.Float64()}
}

func dist(a, b vec3) float64 { return a.sub(b).length() }

// valueNoise is smooth noise in 0..1 with features about cell pixels wide:
// hashed lattice values, smoothstep-interpolated.
func valueNoise(seed uint64, cell float64) func(x, y float64) float64 {
	lattice := func(i, j int64) float64 {
		h := seed ^ uint64(i)*0x9e3779b97f4a7c15 ^ uint64(j)*0xc2b2ae3d27d4eb4f
		h ^= h >> 31
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 29
		return float64(h>>11) / (1 << 53)
	}
	return func(x, y float64) float64 {
		fx, fy := x/cell, y/cell
		i, j := math.Floor(fx), math.Floor(fy)
		u, v := fx-i, fy-j
		u, v = u*u*(3-2*u), v*v*(3-2*v)
		a, b := lattice(int64(i), int64(j)), lattice(int64(i)+1, int64(j))
		c, d := lattice(int64(i), int64(j)+1), lattice(int64(i)+1, int64(j)+1)
		return (a*(1-u)+b*u)*(1-v) + (c*(1-u)+d*u)*v
	}
}

// Composite lays a straight-alpha foreground (see Foreground) over the
// background drawn at the foreground's size. It returns the opaque RGB
// composite and the ground-truth mask (the foreground's alpha), which a
// matting stage should recover from the composite.
func Composite(fg *image.NRGBA, bg Background) (*image.NRGBA, *image.Gray) {
	rect := fg.Bounds()
	w, h := rect.Dx(), rect.Dy()
	back := bg.Image(w, h)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	mask := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			f := fg.NRGBAAt(rect.Min.X+x, rect.Min.Y+y)
			a := float64(f.A) / 255
			o := out.PixOffset(x, y)
			for c, v := range []uint8{f.R, f.G, f.B} {
				out.Pix[o+c] = uint8(math.Round(float64(v)*a + float64(back.Pix[o+c])*(1-a)))
			}
			out.Pix[o+3] = 255
			mask.SetGray(x, y, color.Gray{Y: f.A})
		}
	}
	return out, mask
}
