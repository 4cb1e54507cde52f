package lift_test

import (
	"context"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/lift"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/splat"
)

var (
	liftScenes = flag.String("lift-scenes", "", "comma-separated scenes for TestLiftQuality (default: a CI subset; all: every scene)")
	liftSheets = flag.String("lift-sheets", "", "write 16-view contact sheets of the lifted clouds here")
	liftShape  = flag.String("lift-shape", "", "shape override for TestLiftQuality")
	liftDepth  = flag.Float64("lift-depth", 0, "depth scale override for TestLiftQuality")
	liftSize   = flag.Int("lift-size", 128, "validator view size for TestLiftQuality")
)

// liftScene lifts scene's front view, matted exactly (the render's own
// alpha), and compares it on the validator's views at size.
func liftScene(ctx context.Context, t testing.TB, sc scenes.Scene, opt lift.Options, size int) (imageeval.Result, []*splat.Image, []*splat.Image) {
	t.Helper()
	gt := sc.Build(1, 0)
	cam := imageeval.FrontCamera(256)
	fg, err := imageeval.Cutout(ctx, sc, gt, 256)
	if err != nil {
		t.Fatal(err)
	}
	res, err := lift.Lift(ctx, fg, cam, opt)
	if err != nil {
		t.Fatalf("%s: %v", sc.Name, err)
	}
	lift.Normalize(res.Cloud)
	r, pv, tv, err := imageeval.CompareClouds(ctx, res.Cloud, gt, size)
	if err != nil {
		t.Fatal(err)
	}
	return r, pv, tv
}

// floors are just under the lift's measured 16-view scores at 128 px
// (exact alpha, auto shape, depth scale 1), in the comments.
var floors = map[string]imageeval.Result{
	"red-cube":     {IoU: 0.86, PSNR: 14.7}, // 0.869 14.97 dB
	"blue-sphere":  {IoU: 0.91, PSNR: 18.0}, // 0.921 18.21 dB
	"snowman":      {IoU: 0.92, PSNR: 24.0}, // 0.936 24.34 dB
	"wooden-table": {IoU: 0.49, PSNR: 12.3}, // 0.508 12.55 dB
	"traffic-cone": {IoU: 0.75, PSNR: 15.9}, // 0.768 16.14 dB
}

// TestLiftQuality lifts reference scenes' front views (a CI subset, or
// -lift-scenes all) and compares them with the scenes on the validator's
// views; the default run asserts the floors.
func TestLiftQuality(t *testing.T) {
	names := []string{"red-cube", "blue-sphere", "snowman", "wooden-table", "traffic-cone"}
	if *liftScenes == "all" {
		names = scenes.Names()
	} else if *liftScenes != "" {
		names = strings.Split(*liftScenes, ",")
	}
	opt := lift.DefaultOptions()
	tuned := *liftDepth > 0 || *liftShape != "" || *liftSize != 128
	if *liftDepth > 0 {
		opt.DepthScale = *liftDepth
	}
	if *liftShape != "" {
		opt.Shape = *liftShape
	}
	var sum imageeval.Result
	for _, name := range names {
		sc, err := scenes.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		r, pv, tv := liftScene(t.Context(), t, sc, opt, *liftSize)
		t.Logf("%-18s IoU %.3f PSNR %.2f SSIM %.3f", name, r.IoU, r.PSNR, r.SSIM)
		if f, ok := floors[name]; ok && !tuned && (r.IoU < f.IoU || r.PSNR < f.PSNR) {
			t.Errorf("%s: IoU %.3f PSNR %.2f dB, floors %.2f %.1f dB", name, r.IoU, r.PSNR, f.IoU, f.PSNR)
		}
		sum.IoU += r.IoU
		sum.PSNR += r.PSNR
		sum.SSIM += r.SSIM
		if *liftSheets != "" {
			f, err := os.Create(filepath.Join(*liftSheets, name+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, imageeval.Sheet(append(pv, tv...))); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	n := float64(len(names))
	t.Logf("mean IoU %.3f PSNR %.2f SSIM %.3f", sum.IoU/n, sum.PSNR/n, sum.SSIM/n)
}
