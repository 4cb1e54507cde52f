package scenes

import (
	"context"
	"testing"

	"github.com/splatbench/splatbench/pipeline/score"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// TestResampledSceneFidelity scores a scene rebuilt with another seed (a
// different sampling of the same surfaces) against the reference views on
// held-out cameras: a faithful reconstruction must score well, and the
// validator-style consistency SSIM of the reference must be high.
func TestResampledSceneFidelity(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("renders 2×4 views at 128 px")
	}
	ctx := context.Background()
	s, _ := Get("sphere-on-box")
	cams := HeldOutViews(4, 128)
	opt := splat.RenderOptions{Background: [3]float32{1, 1, 1}, Mode: splat.ModeGsplat}
	ref, err := s.Views(ctx, s.Build(1, 0), cams, opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Views(ctx, s.Build(2, 0), cams, opt)
	if err != nil {
		t.Fatal(err)
	}
	var a, b [][]float32
	for i := range ref {
		a, b = append(a, got[i].RGB), append(b, ref[i].RGB)
	}
	f, err := score.CompareViews(ctx, a, b, 128, 128)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resampled sphere-on-box: PSNR %.2f dB, SSIM %.4f, score %.3f", f.PSNR, f.SSIM, f.Score)
	if f.PSNR < 28 || f.SSIM < 0.95 {
		t.Errorf("resampled scene fidelity %+v, want PSNR ≥ 28 dB and SSIM ≥ 0.95", f)
	}
}
