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
	liftScenes = flag.String("lift-scenes", "", "comma-separated scenes for TestLiftQuality (default or all: every scene)")
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
	splat.CentreAndScale(res.Cloud, splat.ValidatorExtent)
	r, pv, tv, err := imageeval.CompareClouds(ctx, res.Cloud, gt, size)
	if err != nil {
		t.Fatal(err)
	}
	return r, pv, tv
}

// floors are just under the lift's measured 16-view scores at 128 px
// (exact alpha, auto shape, depth scale 1), in the comments; meanFloor is
// under the mean over all 19 scenes (0.851, 17.53 dB).
var (
	floors = map[string]imageeval.Result{
		"red-cube":         {IoU: 0.93, PSNR: 18.9}, // 0.944 19.18 dB
		"sphere-on-box":    {IoU: 0.88, PSNR: 17.8}, // 0.893 18.09 dB
		"checkered-cube":   {IoU: 0.91, PSNR: 12.3}, // 0.923 12.59 dB
		"box-stack":        {IoU: 0.83, PSNR: 12.0}, // 0.848 12.24 dB
		"blue-sphere":      {IoU: 0.92, PSNR: 19.1}, // 0.938 19.43 dB
		"snowman":          {IoU: 0.82, PSNR: 19.6}, // 0.834 19.95 dB
		"wooden-table":     {IoU: 0.60, PSNR: 13.8}, // 0.621 14.11 dB
		"traffic-cone":     {IoU: 0.74, PSNR: 15.9}, // 0.754 16.21 dB
		"chess-pawn":       {IoU: 0.89, PSNR: 18.3}, // 0.905 18.64 dB
		"striped-cylinder": {IoU: 0.89, PSNR: 17.0}, // 0.904 17.33 dB
	}
	meanFloor = imageeval.Result{IoU: 0.84, PSNR: 17.2}
)

// TestLiftQuality lifts the reference scenes' front views (all of them,
// or -lift-scenes) and compares them with the scenes on the validator's
// views; the default run asserts the floors.
func TestLiftQuality(t *testing.T) {
	names := scenes.Names()
	if *liftScenes != "" && *liftScenes != "all" {
		names = strings.Split(*liftScenes, ",")
	}
	opt := lift.DefaultOptions()
	tuned := *liftDepth > 0 || *liftShape != "" || *liftSize != 128 || len(names) != len(scenes.Names())
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
		if f, ok := floors[name]; ok && *liftDepth == 0 && *liftShape == "" && *liftSize == 128 && (r.IoU < f.IoU || r.PSNR < f.PSNR) {
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
	m := imageeval.Result{IoU: sum.IoU / n, PSNR: sum.PSNR / n, SSIM: sum.SSIM / n}
	t.Logf("mean IoU %.3f PSNR %.2f SSIM %.3f", m.IoU, m.PSNR, m.SSIM)
	if !tuned && (m.IoU < meanFloor.IoU || m.PSNR < meanFloor.PSNR) {
		t.Errorf("mean IoU %.3f PSNR %.2f dB, floors %.2f %.1f dB", m.IoU, m.PSNR, meanFloor.IoU, meanFloor.PSNR)
	}
}
