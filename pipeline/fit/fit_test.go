package fit

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/splat"
)

var white = [3]float32{1, 1, 1}

// groundTruth is a small fixed scene: n coloured, mostly opaque,
// anisotropic Gaussians inside a ball of radius 0.35.
func groundTruth(n int, seed uint64) *splat.Cloud {
	r := rand.New(rand.NewPCG(seed, 17))
	c := splat.NewCloud(n, 0)
	for i := range n {
		p := randInBall(r, 0.35)
		for a := range 3 {
			c.Pos[3*i+a] = float32(p[a])
			c.LogScale[3*i+a] = float32(math.Log(0.04 + 0.08*r.Float64()))
			c.SH[3*i+a] = (r.Float32()*0.9 + 0.05 - 0.5) / shC0
		}
		for a := range 4 {
			c.Rot[4*i+a] = float32(r.NormFloat64())
		}
		c.OpacityLogit[i] = splat.Logit(0.6 + 0.35*r.Float32())
	}
	return c
}

// renderViews renders the cloud from each camera on white and returns the
// views (straight colour + alpha) and the composited images.
func renderViews(t testing.TB, c *splat.Cloud, cams []splat.Camera) ([]View, []*splat.Image) {
	t.Helper()
	views := make([]View, len(cams))
	ims := make([]*splat.Image, len(cams))
	for i, cam := range cams {
		im, err := splat.Render(context.Background(), c, cam, splat.RenderOptions{Background: white, Mode: splat.ModeClassic, SHDegree: -1})
		if err != nil {
			t.Fatal(err)
		}
		views[i], ims[i] = ViewFromImage(cam, im, white), im
	}
	return views, ims
}

// tinyOptions is a fast schedule for 48–64 px views.
func tinyOptions(iters int) Options {
	o := DefaultOptions()
	o.Iterations = iters
	o.InitCount = 400
	o.Resolution = 0
	o.DensifyFrom, o.DensifyInterval, o.DensifyUntil = 50, 50, iters*3/4
	o.PositionLRMaxSteps = iters
	o.LRPositionInit, o.LRPositionFinal = 2e-3, 2e-5
	o.Workers = 2
	return o
}

// heldOutPSNR renders the fitted cloud from held-out cameras and returns
// the mean PSNR against the ground truth there.
func heldOutPSNR(t testing.TB, fitted, gt *splat.Cloud, cams []splat.Camera) float64 {
	t.Helper()
	_, want := renderViews(t, gt, cams)
	_, got := renderViews(t, fitted, cams)
	sum := 0.0
	for i := range cams {
		sum += PSNR(got[i].RGB, want[i].RGB)
	}
	return sum / float64(len(cams))
}

func TestFitTinyTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		size    int
		iters   int
		init    string
		minPSNR float64
		slow    bool
	}{
		{"sphere init 48px", 48, 150, InitSphere, 30, false},
		{"mask init 48px", 48, 150, InitMask, 30, false},
		{"sphere init 64px long", 64, 600, InitSphere, 30, true},
	}
	gt := groundTruth(12, 1)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.slow && testing.Short() {
				t.Skip("long convergence run")
			}
			cams := splat.OrbitCameras(4, 2.5, -15, 30, tc.size, tc.size)
			views, _ := renderViews(t, gt, cams)
			o := tinyOptions(tc.iters)
			o.InitKind = tc.init
			var first float64
			res, err := Fit(context.Background(), views, o, nil, func(it int, l float64) {
				if it <= len(views) {
					first += l / float64(len(views))
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Iterations != tc.iters {
				t.Errorf("Iterations = %d, want %d", res.Iterations, tc.iters)
			}
			if err := res.Cloud.Validate(); err != nil {
				t.Fatal(err)
			}
			held := []splat.Camera{
				splat.LookAt(splat.OrbitPosition(2.5, 45, -15), [3]float64{}, [3]float64{0, 1, 0}, tc.size, tc.size, 30),
				splat.LookAt(splat.OrbitPosition(2.5, 225, -25), [3]float64{}, [3]float64{0, 1, 0}, tc.size, tc.size, 30),
			}
			psnr := heldOutPSNR(t, res.Cloud, gt, held)
			train := heldOutPSNR(t, res.Cloud, gt, cams)
			t.Logf("loss %.4f → %.4f, %d Gaussians, train PSNR %.2f dB, held-out PSNR %.2f dB (%d densify steps)",
				first, res.FinalLoss, res.Cloud.Len(), train, psnr, len(res.Stats.Densify))
			st := res.Stats
			if n := len(st.Counts); n < 2 || st.Counts[0] != (CountSample{0, o.InitCount}) && tc.init == InitSphere ||
				st.Counts[n-1] != (CountSample{tc.iters, res.Cloud.Len()}) {
				t.Errorf("Stats.Counts = %v, want the init count first and the final count last", st.Counts)
			}
			for _, ev := range st.Densify {
				if ev.After != ev.Before+ev.Cloned+ev.Split-ev.Pruned || ev.Iteration > tc.iters-o.DensifyInterval {
					t.Errorf("densify event %+v inconsistent", ev)
				}
			}
			if !(st.ForwardSeconds > 0 && st.BackwardSeconds > 0 && st.LossSeconds > 0 && st.AdamSeconds > 0) {
				t.Errorf("phase times not recorded: %+v", st)
			}
			if !(res.FinalLoss < first/2) {
				t.Errorf("final loss %v not below half the first cycle's %v", res.FinalLoss, first)
			}
			if psnr < tc.minPSNR {
				t.Errorf("held-out PSNR %.2f dB < floor %.1f dB", psnr, tc.minPSNR)
			}
		})
	}
}

// TestFitResamples fits 64² views at Resolution 32: the views are
// resampled, not rejected.
func TestFitResamples(t *testing.T) {
	t.Parallel()
	gt := groundTruth(6, 2)
	views, _ := renderViews(t, gt, splat.OrbitCameras(2, 2.5, -15, 30, 64, 64))
	o := tinyOptions(20)
	o.Resolution = 32
	res, err := Fit(context.Background(), views, o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations != 20 || views[0].Camera.Width != 64 {
		t.Errorf("Iterations %d, caller's view now %d wide", res.Iterations, views[0].Camera.Width)
	}
}

// TestFitRandomBackground checks that the fit converges with random
// backgrounds and that both backgrounds are used.
func TestFitRandomBackground(t *testing.T) {
	t.Parallel()
	gt := groundTruth(6, 2)
	views, _ := renderViews(t, gt, splat.OrbitCameras(2, 2.5, -15, 30, 32, 32))
	o := tinyOptions(60)
	o.RandomBackground = true
	var first, last float64
	res, err := Fit(context.Background(), views, o, nil, func(it int, l float64) {
		if it <= 10 {
			first += l / 10
		}
		if it > 50 {
			last += l / 10
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !(last < first/2) {
		t.Errorf("mean loss of the last 10 iterations %v not below half the first 10's %v", last, first)
	}
	if res.Iterations != 60 {
		t.Errorf("Iterations = %d", res.Iterations)
	}
	// Both backgrounds are used: the inverted targets get made.
	rng := rand.New(rand.NewPCG(1, 1))
	targets := []*target{newTarget(views[0], o.Background, 1), newTarget(views[1], o.Background, 1)}
	f := newFitter(newState(initSphere(50, 0.5, 0, rng)), views, targets, 32*32, o, rng, slog.New(slog.DiscardHandler))
	var st Stats
	for it := 1; it <= 20; it++ {
		if _, err := f.step(context.Background(), it, &st); err != nil {
			t.Fatal(err)
		}
	}
	if f.inverted[0] == nil || f.inverted[1] == nil {
		t.Error("20 iterations with RandomBackground never used the inverted background of some view")
	}
}

func TestFitCancel(t *testing.T) {
	t.Parallel()
	gt := groundTruth(6, 2)
	views, _ := renderViews(t, gt, splat.OrbitCameras(2, 2.5, -15, 30, 32, 32))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := tinyOptions(100000)
	var start time.Time
	res, err := Fit(ctx, views, o, nil, func(it int, _ float64) {
		if it == 5 {
			start = time.Now()
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Fit took %v to return after cancel", d)
	}
	if res == nil || res.Iterations != 5 || res.Cloud == nil || math.IsNaN(res.FinalLoss) {
		t.Fatalf("result after cancel = %+v, want 5 iterations and a cloud", res)
	}
	if err := res.Cloud.Validate(); err != nil {
		t.Error(err)
	}
}

func TestFitRejectsBadInput(t *testing.T) {
	t.Parallel()
	cam := splat.OrbitCameras(1, 2.5, 0, 30, 8, 8)[0]
	good := View{Camera: cam, RGB: make([]float32, 3*64), Alpha: make([]float32, 64)}
	o := tinyOptions(3)
	tests := []struct {
		name  string
		views []View
		opt   Options
	}{
		{"no views", nil, o},
		{"short RGB", []View{{Camera: cam, RGB: make([]float32, 10), Alpha: make([]float32, 64)}}, o},
		{"short alpha", []View{{Camera: cam, RGB: make([]float32, 192), Alpha: make([]float32, 3)}}, o},
		{"alpha out of range", []View{{Camera: cam, RGB: make([]float32, 192), Alpha: append(make([]float32, 63), 2)}}, o},
		{"bad options", []View{good}, func() Options { o := o; o.InitCount = 0; return o }()},
		{"empty mask for mask init", []View{good}, func() Options { o := o; o.InitKind = InitMask; return o }()},
	}
	for _, tc := range tests {
		if res, err := Fit(context.Background(), tc.views, tc.opt, nil, nil); err == nil {
			t.Errorf("%s: Fit succeeded (%d Gaussians), want an error", tc.name, res.Cloud.Len())
		}
	}
}
