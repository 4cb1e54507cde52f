package pipeline

import (
	"context"
	"image"
	"image/color"
	"testing"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/prompts"
)

func blobPicture(n int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := n / 4; y < 3*n/4; y++ {
		for x := n / 3; x < 2*n/3; x++ {
			img.SetNRGBA(x, y, color.NRGBA{200, 40, 40, 255})
		}
	}
	return img
}

// TestLiftStageModes: auto lifts a lone picture (and reframes view 0),
// lifts a picture with a multi-view model's views without reframing (so
// they still agree) and relaxes the regularisers for them, skips the
// scenes' posed views; off never lifts.
func TestLiftStageModes(t *testing.T) {
	p := configs.DefaultProfile()
	p.Lift.Resolution = 32
	cams := scenes.TrainViews(3, 32)
	tests := []struct {
		name      string
		mode      string
		views     int
		posed     bool
		wantLift  bool
		wantShape bool // depth regularisers in the fit
	}{
		{"image prompt", "auto", 1, false, true, true},
		{"multi-view model", "auto", 3, false, true, false},
		{"scene views", "auto", 3, true, false, false},
		{"scene views, always", "always", 3, true, true, false},
		{"off", "off", 1, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &State{Job: Job{Prompt: prompts.Text("x"), Seed: 1}, Scores: map[string]float64{}, PosedViews: tc.posed}
			st.RGBA = blobPicture(64)
			for i := range tc.views {
				st.Views = append(st.Views, viewFromNRGBA(cams[i], blobPicture(32)))
			}
			before := append([]float32(nil), st.Views[0].Alpha...)
			s := liftStage{mode: tc.mode, opt: LiftOptions(p)}
			if err := s.Run(context.Background(), st); err != nil {
				t.Fatal(err)
			}
			if got := st.Lift != nil; got != tc.wantLift {
				t.Fatalf("lifted %v, want %v", got, tc.wantLift)
			}
			if st.Lift == nil {
				return
			}
			same := true
			for i, a := range st.Views[0].Alpha {
				same = same && a == before[i]
			}
			if reframed := !same; reframed != (tc.views == 1) {
				t.Errorf("view 0 reframed %v, want %v", reframed, tc.views == 1)
			}
			// The picture's object is 32 of 64 rows: framed to 70 % of
			// the 32-pixel canvas alone, kept at half with other views.
			rows := 0
			for y := range 32 {
				for x := range 32 {
					if st.Lift.View.Pix[4*(y*32+x)+3] >= 128 {
						rows++
						break
					}
				}
			}
			if want := map[bool]int{true: 22, false: 16}[tc.views == 1]; rows < want-1 || rows > want+1 {
				t.Errorf("lifted canvas: object %d rows tall, want %d", rows, want)
			}
			opt := liftFit(fit.DefaultOptions(), p.Lift, st.Lift, len(st.Views))
			if opt.Init == nil || (opt.Shape.DepthRange != nil) != tc.wantShape || opt.Shape.MaxAnisotropy != p.Lift.MaxAnisotropy {
				t.Errorf("fit options: init %v, depth range %v, anisotropy %v", opt.Init != nil, opt.Shape.DepthRange != nil, opt.Shape.MaxAnisotropy)
			}
			if err := opt.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}
