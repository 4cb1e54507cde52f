package cuda

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// TestDeviceColumnsInFitState keeps the device fit's column names in step
// with pipeline/fit's state: every column the device holds must exist
// there, and every column the device holds maps to a buffer.
func TestDeviceColumnsInFitState(t *testing.T) {
	t.Parallel()
	hs := fit.NewHostState(splat.NewCloud(3, 1))
	if err := checkColumns(hs); err != nil {
		t.Fatal(err)
	}
	f := &gpuFitter{}
	for _, name := range deviceColumns {
		if f.column(name) == nil {
			t.Errorf("column %q has no device buffer", name)
		}
	}
	if f.column("noSuchColumn") != nil {
		t.Error("an unknown column got a device buffer")
	}
}

// TestLossFromSums checks the assembly of fit's weighted loss terms from
// the kernels' per-slot sums.
func TestLossFromSums(t *testing.T) {
	t.Parallel()
	opt := fit.DefaultOptions()
	opt.LambdaDSSIM, opt.LambdaAlpha = 0.2, 0.5
	tests := []struct {
		name  string
		sums  []float64
		w, h  int
		batch int
		opt   fit.Options
		want  fit.Loss
	}{
		{"one view", []float64{0.9 * 12, 0.6, 0.4}, 2, 2, 1, opt,
			fit.Loss{L1: 0.8 * 0.6 / 12, DSSIM: 0.2 * 0.1, Alpha: 0.5 * 0.4 / 4}},
		{"two views averaged", []float64{12, 0, 0, 0, 12, 4}, 2, 2, 2, opt,
			fit.Loss{L1: 0.8 * 12 / 12 / 2, DSSIM: 0.2 * 1 / 2, Alpha: 0.5 * 4 / 4 / 2}},
		{"no D-SSIM term", []float64{3, 6, 1}, 2, 2, 1, func() fit.Options { o := opt; o.LambdaDSSIM = 0; return o }(),
			fit.Loss{L1: 6.0 / 12, Alpha: 0.5 / 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.want.Total = tt.want.L1 + tt.want.DSSIM + tt.want.Alpha
			got := lossFromSums(tt.sums, tt.opt, tt.w, tt.h, tt.batch)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("loss (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLossWeights checks the gradient coefficients against fit's loss:
// (1−λd)/(3WH), −λd/(3WH) and λa/(WH), divided by the batch.
func TestLossWeights(t *testing.T) {
	t.Parallel()
	opt := fit.DefaultOptions()
	l1g, ssimK, alphaG := lossWeights(opt, 16, 8, 2)
	n3 := 3.0 * 16 * 8
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"l1", float64(l1g), (1 - opt.LambdaDSSIM) / n3 / 2},
		{"ssim", float64(ssimK), -opt.LambdaDSSIM / n3 / 2},
		{"alpha", float64(alphaG), opt.LambdaAlpha / (n3 / 3) / 2},
	} {
		if math.Abs(c.got-c.want) > 1e-7*math.Abs(c.want) {
			t.Errorf("%s weight %g, want %g", c.name, c.got, c.want)
		}
	}
}

// TestFitRefusesAreaPrior: the device fit has no area prior, so it refuses
// the option before touching the device instead of ignoring it.
func TestFitRefusesAreaPrior(t *testing.T) {
	t.Parallel()
	cam := splat.OrbitCameras(1, 2.2, -20, 0, 16, 16)[0]
	c := splat.NewCloud(1, 0)
	c.Rot[0] = 1
	im, err := splat.Render(context.Background(), c, cam, splat.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opt := fit.DefaultOptions()
	opt.AreaPriorWeight = 0.1
	var d Device // never reached: the options are checked first
	_, err = d.Fit(context.Background(), []fit.View{fit.ViewFromImage(cam, im, [3]float32{1, 1, 1})}, opt, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "AreaPriorWeight") {
		t.Fatalf("err = %v, want the area prior refused", err)
	}
}

// TestShapeColumns keeps keepShape's transfers in step with fit.KeepShape:
// it must change no column outside shapeWrites, and its result must not
// depend on any column outside shapeReads (those stay on the device).
func TestShapeColumns(t *testing.T) {
	t.Parallel()
	const n = 200
	// Two clouds equal in the columns KeepShape reads, different in the rest.
	states := [2]*fit.HostState{}
	for k := range states {
		rng := rand.New(rand.NewPCG(1, 2))
		other := rand.New(rand.NewPCG(uint64(k+3), 4))
		hs := fit.NewHostState(splat.NewCloud(n, 3))
		for _, c := range hs.Columns() {
			src := other
			if slices.Contains(shapeReads, c.Name) {
				src = rng
			}
			for i := range *c.Data {
				(*c.Data)[i] = float32(src.NormFloat64())
			}
		}
		states[k] = hs
	}
	anchor := slices.Clone(states[0].Cloud().Pos)
	for i := range anchor {
		anchor[i] += 0.5
	}
	shape := fit.ShapeOptions{
		Depth: [3]float64{0, 0, 1}, MaxAnisotropy: 2, MaxDepthSigma: 0.3,
		DepthRange: func(p [3]float64) (float64, float64) { return -0.5 + 0.1*p[0], 0.5 }, AnchorBand: 0.05,
		Anchor: anchor, AnchorRadius: 0.4, MinOpacity: 0.4,
	}
	before := map[string][]float32{}
	for _, c := range states[0].Columns() {
		before[c.Name] = slices.Clone(*c.Data)
	}
	for _, hs := range states {
		fit.KeepShape(hs.Cloud(), shape, 0)
	}
	cols := [2][]fit.StateColumn{states[0].Columns(), states[1].Columns()}
	for i, c := range cols[0] {
		changed := !slices.Equal(before[c.Name], *c.Data)
		if wrote := slices.Contains(shapeWrites, c.Name); changed != wrote {
			t.Errorf("column %s: KeepShape changed it %v, in shapeWrites %v", c.Name, changed, wrote)
		}
		if slices.Contains(shapeWrites, c.Name) && !slices.Equal(*c.Data, *cols[1][i].Data) {
			t.Errorf("column %s after KeepShape depends on a column outside shapeReads %v", c.Name, shapeReads)
		}
	}
}
