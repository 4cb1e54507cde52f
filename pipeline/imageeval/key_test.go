package imageeval_test

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/matte"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/score"
)

// TestMatteKey mattes reference scenes' front views on their corpus
// backdrops with the default profile's network (ISNet small) and compares
// the matte's object (alpha ½) with the render's own alpha, without and
// with matte.Key: on stripes and on grey the network keeps backdrop or
// loses parts, and the key must win them back. Floors are just under the
// measured IoUs (in the comments).
func TestMatteKey(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ISNet on three 512-pixel pictures")
	}
	ctx := t.Context()
	b := pipeline.NewBuilder(slog.New(slog.DiscardHandler), "")
	defer b.Close()
	p := configs.DefaultProfile()
	m, err := b.Matte(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		scene      string
		keyedFloor float64
	}{
		{"traffic-cone", 0.96}, // stripes: network 0.567, keyed 0.973
		{"lamp", 0.96},         // plain grey: network 0.707, keyed 0.974
		{"red-mushroom", 0.98}, // gradient: network 0.990, keyed 0.994
	}
	for _, tc := range tests {
		sc, err := scenes.Get(tc.scene)
		if err != nil {
			t.Fatal(err)
		}
		bd := imageeval.PromptBackdrop(slices.Index(scenes.Names(), sc.Name))
		img, gt, err := imageeval.Prompt(ctx, sc, imageeval.PromptSeed, 512, bd)
		if err != nil {
			t.Fatal(err)
		}
		cut, err := imageeval.Cutout(ctx, sc, gt, 512)
		if err != nil {
			t.Fatal(err)
		}
		rgba, err := m.Run(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		keyed, k, err := matte.KeyedMatte{Matte: m, Tolerance: p.Matte.KeyTolerance, Fill: p.Matte.KeyFill}.RunKeyed(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		truth := alphas(cut.Pix)
		net, err := score.MaskIoU(alphas(rgba.Pix), truth, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		key, err := score.MaskIoU(alphas(keyed.Pix), truth, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s on %s: matte IoU %.3f, keyed %.3f (%+v)", sc.Name, bd, net, key, k)
		if key < tc.keyedFloor || key < net {
			t.Errorf("%s: keyed matte IoU %.3f (network %.3f), floor %.2f", sc.Name, key, net, tc.keyedFloor)
		}
	}
}

func alphas(pix []uint8) []float32 {
	a := make([]float32, len(pix)/4)
	for i := range a {
		a[i] = float32(pix[4*i+3]) / 255
	}
	return a
}
