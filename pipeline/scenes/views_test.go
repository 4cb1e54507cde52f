package scenes

import (
	"context"
	"image"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/pipeline/splat"
)

func angleBetween(a, b [3]float64) float64 {
	va, vb := vec3(a), vec3(b)
	c := va.dot(vb) / (va.length() * vb.length())
	return math.Acos(min(max(c, -1), 1)) * 180 / math.Pi
}

func TestCameraSets(t *testing.T) {
	t.Parallel()
	tests := []struct{ train, held int }{{8, 4}, {16, 8}, {24, 6}, {3, 16}, {64, 16}}
	for _, tc := range tests {
		train, held := TrainViews(tc.train, 64), HeldOutViews(tc.held, 64)
		if len(train) != tc.train || len(held) != tc.held {
			t.Fatalf("got %d/%d cameras, want %d/%d", len(train), len(held), tc.train, tc.held)
		}
		for _, c := range append(append([]splat.Camera{}, train...), held...) {
			p := c.Position()
			if r := vec3(p).length(); math.Abs(r-ViewRadius) > 1e-9 {
				t.Fatalf("camera at radius %v, want %v", r, ViewRadius)
			}
			if c.Width != 64 || c.Height != 64 {
				t.Fatalf("camera %dx%d, want 64x64", c.Width, c.Height)
			}
		}
		// Held-out views are novel: at least 9° from every training view.
		for j, h := range held {
			for i, tr := range train {
				if a := angleBetween(h.Position(), tr.Position()); a < 9 {
					t.Errorf("%d/%d: held-out %d is %.1f° from train %d", tc.train, tc.held, j, a, i)
				}
			}
		}
	}
}

// TestRenderNoHoles renders scenes and checks that inside the silhouette
// (alpha ≥ 0.5, eroded by one pixel) the surface is opaque: no holes
// between Gaussians.
func TestRenderNoHoles(t *testing.T) {
	t.Parallel()
	names := []string{"red-cube", "striped-cylinder", "snowman"}
	if !testing.Short() {
		names = Names()
	}
	cams := append(TrainViews(2, 96), HeldOutViews(1, 96)...)
	opt := splat.RenderOptions{Background: [3]float32{1, 1, 1}, Mode: splat.ModeGsplat, Workers: 1}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, _ := Get(name)
			ims, err := s.Views(context.Background(), s.Build(2, 0), cams, opt)
			if err != nil {
				t.Fatal(err)
			}
			for v, im := range ims {
				inside, thin := 0, 0
				w := im.Width
				for y := 1; y < im.Height-1; y++ {
					for x := 1; x < w-1; x++ {
						o := y*w + x
						if min(im.Alpha[o], im.Alpha[o-1], im.Alpha[o+1], im.Alpha[o-w], im.Alpha[o+w]) < 0.5 {
							continue
						}
						inside++
						if im.Alpha[o] < 0.95 {
							thin++
						}
					}
				}
				if inside < 200 {
					t.Errorf("view %d: only %d pixels inside the silhouette", v, inside)
				}
				if frac := float64(thin) / float64(inside); frac > 0.01 {
					t.Errorf("view %d: %.1f%% of the silhouette has alpha < 0.95", v, 100*frac)
				}
			}
		})
	}
}

func TestForegroundAndComposite(t *testing.T) {
	t.Parallel()
	// A 2×1 render over grey: pixel 0 is opaque red, pixel 1 is 50% blue.
	bgCol := [3]float32{0.5, 0.5, 0.5}
	im := &splat.Image{Width: 2, Height: 1,
		RGB:   []float32{1, 0, 0, 0.25, 0.25, 0.75},
		Alpha: []float32{1, 0.5},
		Depth: []float32{1, 1},
	}
	fg := Foreground(im, bgCol)
	want := []uint8{255, 0, 0, 255, 0, 0, 255, 128}
	if diff := cmp.Diff(want, fg.Pix); diff != "" {
		t.Fatalf("Foreground pixels (-want +got):\n%s", diff)
	}
	bg := Background{Kind: Checker, Seed: 5}
	back := bg.Image(2, 1)
	comp, mask := Composite(fg, bg)
	if got := comp.NRGBAAt(0, 0); got.R != 255 || got.G != 0 || got.B != 0 || got.A != 255 {
		t.Errorf("opaque pixel composited to %v, want opaque red", got)
	}
	b := back.NRGBAAt(1, 0)
	wantB := uint8(math.Round(255*128.0/255 + float64(b.B)*(1-128.0/255)))
	if got := comp.NRGBAAt(1, 0); got.B != wantB || got.A != 255 {
		t.Errorf("half-transparent pixel blue = %d, want %d", got.B, wantB)
	}
	if diff := cmp.Diff([]uint8{255, 128}, mask.Pix); diff != "" {
		t.Errorf("mask (-want +got):\n%s", diff)
	}
}

func TestBackgrounds(t *testing.T) {
	t.Parallel()
	for _, k := range BackgroundKinds {
		t.Run(k.String(), func(t *testing.T) {
			t.Parallel()
			a := Background{Kind: k, Seed: 1}.Image(64, 48)
			if !cmp.Equal(a.Pix, Background{Kind: k, Seed: 1}.Image(64, 48).Pix) {
				t.Error("same seed, different images")
			}
			if cmp.Equal(a.Pix, Background{Kind: k, Seed: 2}.Image(64, 48).Pix) {
				t.Error("seeds 1 and 2 drew the same image")
			}
			if spread := channelSpread(a); spread < 30 {
				t.Errorf("colour spread %d, want a visible pattern", spread)
			}
		})
	}
	if s := BackgroundKind(9).String(); s != "BackgroundKind(9)" {
		t.Errorf("unknown kind prints %q", s)
	}
}

// channelSpread is the largest range of any one channel over the image.
func channelSpread(im *image.NRGBA) int {
	best := 0
	for c := range 3 {
		lo, hi := 255, 0
		for i := c; i < len(im.Pix); i += 4 {
			lo, hi = min(lo, int(im.Pix[i])), max(hi, int(im.Pix[i]))
		}
		best = max(best, hi-lo)
	}
	return best
}
