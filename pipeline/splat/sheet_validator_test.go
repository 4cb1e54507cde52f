package splat

import (
	"context"
	"testing"
)

// TestValidatorSheetMatchesRender: the sheet's first cell is the validator
// render of view 0, and the cloud is left as it was.
func TestValidatorSheetMatchesRender(t *testing.T) {
	c := NewCloud(64, 0)
	for i := range 64 {
		c.Pos[3*i] = float32(i%4) * 0.3
		c.Pos[3*i+1] = float32(i/4%4) * 0.3
		c.Pos[3*i+2] = float32(i/16) * 0.3
		for k := range 3 {
			c.LogScale[3*i+k] = -2.5
		}
		c.OpacityLogit[i] = 3
		c.SH[3*i] = 1.5
	}
	before := c.Clone()
	sheet, err := ValidatorSheet(context.Background(), c, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.Pos {
		if c.Pos[i] != before.Pos[i] {
			t.Fatalf("Pos[%d] changed: %v -> %v", i, before.Pos[i], c.Pos[i])
		}
	}
	n := c.Clone()
	NormalizeForValidator(n)
	cams := ValidatorCameras()
	imgs, err := RenderBatch(context.Background(), n, cams[:1], RenderOptions{Background: [3]float32{1, 1, 1}, Mode: ModeGsplat})
	if err != nil {
		t.Fatal(err)
	}
	want := imgs[0].Opaque()
	w, h := want.Bounds().Dx(), want.Bounds().Dy()
	if got := sheet.Bounds(); got.Dx() != 4*w+12 || got.Dy() != 4*h+12 {
		t.Fatalf("sheet %v, want %dx%d", got, 4*w+12, 4*h+12)
	}
	diff, obj := 0, 0
	for y := range h {
		for x := range w {
			if sheet.NRGBAAt(x, y) != want.NRGBAAt(x, y) {
				diff++
			}
			if p := want.NRGBAAt(x, y); p.R < 250 || p.G < 250 || p.B < 250 {
				obj++
			}
		}
	}
	if diff != 0 || obj == 0 {
		t.Errorf("cell 0 differs from the view-0 render at %d pixels; %d object pixels", diff, obj)
	}
}
