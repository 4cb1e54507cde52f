package scenes

import (
	"context"
	"flag"
	"image"
	"image/png"
	"os"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

var sheet = flag.String("sheet", "", "write a contact sheet of every scene (4 views each) to this PNG path")

// TestContactSheet renders every scene from 4 training views into one PNG
// for people to look at. It runs only with -sheet.
func TestContactSheet(t *testing.T) {
	if *sheet == "" {
		t.Skip("no -sheet path")
	}
	ctx := context.Background()
	cams := TrainViews(4, 160)
	opt := splat.RenderOptions{Background: [3]float32{1, 1, 1}, Mode: splat.ModeGsplat}
	var tiles []*image.NRGBA
	for _, s := range All() {
		ims, err := s.Views(ctx, nil, cams, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range ims {
			tiles = append(tiles, im.Opaque())
		}
	}
	f, err := os.Create(*sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, splat.ContactSheet(tiles, 8, 2)); err != nil {
		t.Fatal(err)
	}
}
