package generate

import (
	"context"
	"errors"
	"image"
	"testing"
)

// FuzzGenerate: any small RGBA picture gives a module or an error, never a
// panic (no renderer, no validator: the decomposition and the writer).
func FuzzGenerate(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0}, uint8(8))
	f.Add([]byte{255, 0, 0, 255, 0, 0, 255, 255, 10, 10, 10, 0}, uint8(16))
	disc := make([]byte, 24*24*4)
	for y := range 24 {
		for x := range 24 {
			if (x-12)*(x-12)+(y-12)*(y-12) < 64 {
				copy(disc[4*(y*24+x):], []byte{200, 40, 40, 255})
			}
		}
	}
	f.Add(disc, uint8(24))
	f.Fuzz(func(t *testing.T, pix []byte, side uint8) {
		n := int(side%48) + 1
		im := image.NewNRGBA(image.Rect(0, 0, n, n))
		copy(im.Pix, pix)
		opt := DefaultOptions()
		opt.Grid = 32
		mod, _, err := Generate(context.Background(), im, opt)
		if err != nil && !errors.Is(err, ErrNoObject) && len(mod) == 0 {
			// an opaque picture without a matte is a plain error
			return
		}
		if err == nil && len(mod) == 0 {
			t.Fatal("no module and no error")
		}
	})
}
