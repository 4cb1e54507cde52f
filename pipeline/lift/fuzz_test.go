package lift

import (
	"context"
	"image"
	"testing"
)

// FuzzLift lifts random small mattes: never a panic; an error only for
// a matte without object; otherwise a non-empty cloud with finite values.
func FuzzLift(f *testing.F) {
	f.Add(uint8(8), uint8(8), []byte{0, 255, 255, 0, 255, 255})
	f.Add(uint8(1), uint8(1), []byte{255})
	f.Add(uint8(3), uint8(17), []byte{})
	f.Add(uint8(16), uint8(2), []byte{128, 127, 200, 1})
	f.Fuzz(func(t *testing.T, w, h uint8, alpha []byte) {
		W, H := 1+int(w)%24, 1+int(h)%24
		img := image.NewNRGBA(image.Rect(0, 0, W, H))
		for i := range W * H {
			if len(alpha) > 0 {
				img.Pix[4*i+3] = alpha[i%len(alpha)]
				img.Pix[4*i] = alpha[(i+1)%len(alpha)]
			}
		}
		opt := DefaultOptions()
		opt.Resolution, opt.MinGaussians = 16, 50
		res, err := Lift(context.Background(), img, frontCamera(32), opt)
		if err != nil {
			if err != ErrNoObject {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if res.Cloud.Len() < 50 {
			t.Fatalf("%d Gaussians", res.Cloud.Len())
		}
		for i, v := range res.Cloud.Pos {
			if v != v || v > 1e6 || v < -1e6 {
				t.Fatalf("Pos[%d] = %v", i, v)
			}
		}
		lo, hi := res.DepthRange([3]float64{0, 0, 0})
		if !(lo <= hi) {
			t.Fatalf("depth range %v..%v", lo, hi)
		}
	})
}
