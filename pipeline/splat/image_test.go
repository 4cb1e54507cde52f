package splat

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestImageNRGBA(t *testing.T) {
	t.Parallel()
	im := &Image{Width: 2, Height: 1,
		RGB:   []float32{-0.5, 0.5, 1.5, 0.2, 1, 0},
		Alpha: []float32{1, 0.25},
		Depth: []float32{0, 0},
	}
	got := im.NRGBA()
	want := []uint8{0, 128, 255, 255, 51, 255, 0, 64}
	if diff := cmp.Diff(want, got.Pix); diff != "" {
		t.Errorf("NRGBA pixels (-want +got):\n%s", diff)
	}
	if op := im.Opaque(); op.Pix[7] != 255 || op.Pix[4] != 51 {
		t.Errorf("Opaque: %v", op.Pix)
	}
}

func TestContactSheet(t *testing.T) {
	t.Parallel()
	solid := func(w, h int, c uint8) *image.NRGBA {
		im := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i := range im.Pix {
			im.Pix[i] = c
		}
		return im
	}
	tests := []struct {
		name   string
		views  []*image.NRGBA
		cols   int
		gap    int
		w, h   int
		probes map[image.Point]color.NRGBA
	}{
		{"empty", nil, 4, 5, 0, 0, nil},
		{"duel grid 2x2", []*image.NRGBA{solid(10, 10, 10), solid(10, 10, 20), solid(10, 10, 30), solid(10, 10, 40)}, 2, 5, 25, 25,
			map[image.Point]color.NRGBA{{0, 0}: {10, 10, 10, 10}, {12, 3}: {0, 0, 0, 255}, {15, 0}: {20, 20, 20, 20}, {24, 24}: {40, 40, 40, 40}}},
		{"ragged last row", []*image.NRGBA{solid(4, 3, 1), solid(4, 3, 2), solid(4, 3, 3)}, 2, 1, 9, 7,
			map[image.Point]color.NRGBA{{5, 4}: {0, 0, 0, 255}, {0, 4}: {3, 3, 3, 3}}},
		{"cols clamped", []*image.NRGBA{solid(3, 3, 9)}, 0, 2, 3, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ContactSheet(tt.views, tt.cols, tt.gap)
			if got.Bounds().Dx() != tt.w || got.Bounds().Dy() != tt.h {
				t.Fatalf("size %v, want %d×%d", got.Bounds(), tt.w, tt.h)
			}
			for p, want := range tt.probes {
				if c := got.NRGBAAt(p.X, p.Y); c != want {
					t.Errorf("pixel %v = %v, want %v", p, c, want)
				}
			}
		})
	}
}

// TestRenderBatchMatchesRender: the view-parallel batch path and the
// tile-parallel single path give bit-identical images.
func TestRenderBatchMatchesRender(t *testing.T) {
	t.Parallel()
	c := randomCloud(rand.New(rand.NewPCG(8, 8)), 400, 1, 0.6, 0.05)
	cams := OrbitCameras(3, 2.5, -15, 49.1, 70, 50)
	opt := RenderOptions{Background: [3]float32{1, 1, 1}, Mode: ModeGsplat, SHDegree: -1, Workers: 2}
	batch, err := RenderBatch(context.Background(), c, cams, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, cam := range cams {
		one, err := Render(context.Background(), c, cam, RenderOptions{Background: opt.Background, Mode: opt.Mode, SHDegree: -1, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(one.RGB, batch[i].RGB) || !slices.Equal(one.Alpha, batch[i].Alpha) || !slices.Equal(one.Depth, batch[i].Depth) {
			t.Errorf("view %d: batch and single render differ", i)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	good := LookAt([3]float64{0, 0, 2}, [3]float64{}, [3]float64{0, 1, 0}, 8, 8, 50)
	bad := good
	bad.Fx = 0
	c := axesScene()
	broken := c.Clone()
	broken.SH = broken.SH[:5]
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		c    *Cloud
		cam  Camera
		mode Mode
		is   error
	}{
		{"zero focal", ctx, c, bad, ModeClassic, ErrBadCamera},
		{"short SH", ctx, broken, good, ModeClassic, ErrInvalidCloud},
		{"nil cloud", ctx, nil, good, ModeClassic, ErrInvalidCloud},
		{"cancelled", cancelled, c, good, ModeClassic, context.Canceled},
	}
	for _, tt := range tests {
		if _, err := Render(tt.ctx, tt.c, tt.cam, RenderOptions{Mode: tt.mode}); !errors.Is(err, tt.is) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.is)
		}
	}
	if _, err := Render(ctx, c, good, RenderOptions{Mode: Mode(7)}); err == nil {
		t.Error("unknown mode accepted")
	}
	_, tr, err := Forward(ctx, c, good, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := NewGrads(c)
	if err := Backward(ctx, tr, make([]float32, 5), nil, g); err == nil {
		t.Error("Backward accepted a dRGB of the wrong size")
	}
	if err := Backward(ctx, tr, make([]float32, 3*64), make([]float32, 3), g); err == nil {
		t.Error("Backward accepted a dAlpha of the wrong size")
	}
	if err := Backward(ctx, tr, make([]float32, 3*64), nil, NewGrads(NewCloud(2, 0))); err == nil {
		t.Error("Backward accepted gradients of another cloud")
	}
}

// TestBackwardStats: MeanNDC and Visible are filled, accumulate over calls,
// and Zero clears them.
func TestBackwardStats(t *testing.T) {
	t.Parallel()
	c := gradScene(21, 3, 0)
	cam := LookAt([3]float64{0.3, 0.4, 2.2}, [3]float64{}, [3]float64{0, 1, 0}, 24, 20, 50)
	_, tr, err := Forward(context.Background(), c, cam, RenderOptions{Mode: ModeClassic})
	if err != nil {
		t.Fatal(err)
	}
	d := make([]float32, 3*24*20)
	for i := range d {
		d[i] = float32(i%5) - 2
	}
	g := NewGrads(c)
	for range 2 {
		if err := Backward(context.Background(), tr, d, nil, g); err != nil {
			t.Fatal(err)
		}
	}
	once := NewGrads(c)
	if err := Backward(context.Background(), tr, d, nil, once); err != nil {
		t.Fatal(err)
	}
	for i := range c.Len() {
		if !g.Visible[i] || once.MeanNDC[i] <= 0 {
			t.Errorf("Gaussian %d: visible %v, MeanNDC %v", i, g.Visible[i], once.MeanNDC[i])
		}
		if r := g.MeanNDC[i] / once.MeanNDC[i]; r < 1.999 || r > 2.001 {
			t.Errorf("Gaussian %d: two calls accumulated %v×, want 2×", i, r)
		}
	}
	g.Zero()
	if slices.ContainsFunc(g.Pos, func(v float32) bool { return v != 0 }) || slices.Contains(g.Visible, true) {
		t.Error("Zero left values behind")
	}
}
