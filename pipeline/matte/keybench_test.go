package matte

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// productPicture draws a w×h matte (straight alpha) like the one ISNet
// gives for a product photo: a near-flat light backdrop (a faint gradient
// and ±2 of noise) of which the network kept a halo round the object, a
// soft grey shadow under the object that the network
// half kept, and the object: a shaded orange body with a soft edge, a
// thin dark stem the network half saw (alpha 60), a blue side part it
// lost whole (alpha 0) and a hole in a handle that shows the backdrop
// (alpha 200). seed moves the noise.
func productPicture(w, h int, seed uint32) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	s := float64(min(w, h))
	cx, cy, r := float64(w)*0.5, float64(h)*0.55, s*0.25
	for y := range h {
		for x := range w {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			g := 240 - 10*fy/float64(h)
			n := float64(hash(uint32(x), uint32(y), seed)%5) - 2
			c := [3]float64{g + n, g + n, g - 3 + n}
			a := 0.0
			// Shadow: an ellipse under the body, darker, its left half kept.
			if dx, dy := (fx-cx)/(1.2*r), (fy-(cy+r))/(0.25*r); dx*dx+dy*dy <= 1 {
				for k := range c {
					c[k] *= 0.75
				}
				if fx < cx {
					a = 150
				}
			}
			dx, dy := (fx-cx)/r, (fy-cy)/r
			d := math.Sqrt(dx*dx + dy*dy)
			switch {
			case d <= 1: // body: Lambert-ish shading, soft edge
				shade := 0.4 + 0.6*max(0, -0.5*dx-0.6*dy+0.62*math.Sqrt(max(0, 1-d*d)))
				c = [3]float64{230 * shade, 120 * shade, 20 * shade}
				a = min(255, (1-d)*r*100)
			case fx > cx-0.03*r && fx < cx+0.03*r && fy > cy-1.6*r && fy < cy: // stem
				c, a = [3]float64{70, 40, 20}, 60
			case fx > cx+0.95*r && fx < cx+1.4*r && fy > cy-0.2*r && fy < cy+0.2*r: // side part, lost
				c, a = [3]float64{50, 60, 170}, 0
			case d <= 1.08: // a halo of backdrop the network kept
				a = 170
			}
			// Handle: a ring left of the body; its hole shows the backdrop.
			if hx, hy := (fx-(cx-1.15*r))/(0.3*r), (fy-cy)/(0.4*r); hx*hx+hy*hy <= 1 {
				if hx*hx+hy*hy >= 0.5 {
					c, a = [3]float64{200, 100, 15}, 255
				} else if a == 0 {
					a = 200
				}
			}
			img.SetNRGBA(x, y, color.NRGBA{clamp8(c[0]), clamp8(c[1]), clamp8(c[2]), clamp8(a)})
		}
	}
	return img
}

// busyPicture is scene's busy backdrop (gradient, checker, noise) with the
// sphere as the matte's object, alpha 255 on it and 0 elsewhere.
func busyPicture(w, h int, seed uint32) *image.NRGBA {
	img, fg := scene(w, h, seed)
	for i, f := range fg {
		if !f {
			img.Pix[4*i+3] = 0
		}
	}
	return img
}

// blobPicture is a picture of many small flat patches of a few colours
// (some close to each other) and alphas, for floods of many pieces; the
// border has only the two light colours, mostly alpha 0, so that the key
// is usually trusted.
func blobPicture(w, h int, seed uint32) *image.NRGBA {
	cols := []color.NRGBA{{240, 240, 235, 0}, {236, 238, 240, 0}, {60, 70, 160, 0}, {230, 120, 20, 0}, {90, 90, 90, 0}, {10, 10, 12, 0}}
	alphas := []uint8{0, 0, 0, 20, 30, 100, 127, 128, 200, 255, 255}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			q := hash(uint32(x/3), uint32(y/2), seed)
			c := cols[q%uint32(len(cols))]
			c.A = alphas[(q/8)%uint32(len(alphas))]
			if x < 2 || y < 2 || x >= w-2 || y >= h-2 {
				c = cols[q%2]
				if q%5 == 0 {
					c.A = 255
				}
			}
			if n := hash(uint32(x), uint32(y), seed+1) % 7; n > 0 {
				c.R += uint8(n) - 3
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// fillPicture is a w×h picture of one colour and alpha.
func fillPicture(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:i+4], []uint8{c.R, c.G, c.B, c.A})
	}
	return img
}

// touchingPicture is productPicture with an object bar that runs off the
// bottom and the right edge.
func touchingPicture(w, h int) *image.NRGBA {
	img := productPicture(w, h, 3)
	for y := h * 3 / 4; y < h; y++ {
		for x := w * 2 / 3; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{40, 120, 50, 255})
		}
	}
	return img
}

// subPicture is pic placed at (7, 5) in a larger picture whose rows are
// wider, cut out again as a sub-image (origin not (0, 0), stride wider
// than a row).
func subPicture(pic *image.NRGBA) *image.NRGBA {
	b := pic.Bounds()
	big := image.NewNRGBA(image.Rect(-3, -2, b.Dx()+20, b.Dy()+9))
	for i := range big.Pix {
		big.Pix[i] = uint8(i * 7)
	}
	for y := range b.Dy() {
		for x := range b.Dx() {
			big.SetNRGBA(x+7, y+5, pic.NRGBAAt(b.Min.X+x, b.Min.Y+y))
		}
	}
	return big.SubImage(image.Rect(7, 5, 7+b.Dx(), 5+b.Dy())).(*image.NRGBA)
}

// keyPictures are the pictures TestKeyMatchesReference keys with every
// tolerance, with and without addInside.
func keyPictures() []struct {
	name string
	img  *image.NRGBA
} {
	type pic = struct {
		name string
		img  *image.NRGBA
	}
	pics := []pic{
		{"1x1", fillPicture(1, 1, color.NRGBA{255, 255, 255, 0})},
		{"2x9", fillPicture(2, 9, color.NRGBA{255, 255, 255, 0})},
		{"3x3 backdrop", fillPicture(3, 3, color.NRGBA{255, 255, 255, 0})},
		{"3x3 object", fillPicture(3, 3, color.NRGBA{9, 9, 9, 255})},
		{"all backdrop", fillPicture(50, 40, color.NRGBA{240, 240, 240, 0})},
		{"all backdrop, all alpha", fillPicture(50, 40, color.NRGBA{240, 240, 240, 255})},
		{"no backdrop", fillPicture(41, 57, color.NRGBA{200, 30, 30, 255})},
		{"product 256", productPicture(256, 256, 1)},
		{"product odd 333x211", productPicture(333, 211, 2)},
		{"product tall 97x401", productPicture(97, 401, 4)},
		{"product sub-image", subPicture(productPicture(150, 130, 5))},
		{"object touching the border", touchingPicture(300, 240)},
		{"busy backdrop", busyPicture(200, 160, 7)},
		{"blobs 64", blobPicture(64, 64, 1)},
		{"blobs odd 131x77", blobPicture(131, 77, 2)},
		{"blobs 5x4", blobPicture(5, 4, 3)},
		{"blobs sub-image", subPicture(blobPicture(90, 61, 4))},
	}
	noisy := blobPicture(120, 100, 9)
	for i := 0; i < len(noisy.Pix); i += 4 {
		q := hash(uint32(i), 17, 3)
		noisy.Pix[i], noisy.Pix[i+1], noisy.Pix[i+2] = uint8(q), uint8(q>>8), uint8(q>>16)
	}
	pics = append(pics, pic{"noisy backdrop", noisy})
	for _, c := range []keyCase{
		{stripes: true, obj: orange, kept: func(x, y int) bool { return x >= 20 && x < 44 && y >= 44 }},
		{obj: orange, lost: 1, lostCol: blue},
		{obj: orange, lost: 60},
		{obj: orange, lost: 1, lostCol: color.NRGBA{170, 170, 170, 255}},
		{obj: orange, clutter: true},
		{obj: white},
	} {
		pics = append(pics, pic{fmt.Sprintf("keyCase %+v", c.obj) + fmt.Sprint(c.stripes, c.lost, c.clutter), c.image()})
	}
	return pics
}

// TestKeyMatchesReference holds Key to keyRef, the slow original, bit for
// bit: the same picture out (or the very picture in when the key is not
// trusted), the same account, the same error.
func TestKeyMatchesReference(t *testing.T) {
	for _, p := range keyPictures() {
		for _, tol := range []float64{0, 3, 12, 40, 128} {
			for _, fill := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/tol=%g/fill=%v", p.name, tol, fill), func(t *testing.T) {
					checkKeyMatches(t, p.img, tol, fill)
				})
			}
		}
	}
	t.Run("product 1024", func(t *testing.T) {
		checkKeyMatches(t, productPicture(1024, 1024, 11), 12, true)
	})
	t.Run("bad arguments", func(t *testing.T) {
		for _, tol := range []float64{-1, 129, math.NaN()} {
			checkKeyMatches(t, fillPicture(8, 8, color.NRGBA{}), tol, true)
		}
		checkKeyMatches(t, nil, 12, true)
	})
}

func checkKeyMatches(t *testing.T, img *image.NRGBA, tol float64, fill bool) {
	t.Helper()
	var in []uint8
	if img != nil {
		in = bytes.Clone(img.Pix)
	}
	want, wantK, wantErr := keyRef(img, tol, fill)
	got, gotK, gotErr := Key(img, tol, fill)
	if img != nil && !bytes.Equal(img.Pix, in) {
		t.Fatal("the picture in was changed")
	}
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("error %v, want %v", gotErr, wantErr)
	}
	if d := cmp.Diff(wantK, gotK); d != "" {
		t.Errorf("account (-ref +Key):\n%s", d)
	}
	if (want == img) != (got == img) {
		t.Fatalf("returned the picture in: %v, reference %v", got == img, want == img)
	}
	if want == nil || got == nil {
		if want != got {
			t.Fatalf("picture %v, want %v", got, want)
		}
		return
	}
	if got.Rect != want.Rect || got.Stride != want.Stride {
		t.Fatalf("picture %v stride %d, want %v stride %d", got.Rect, got.Stride, want.Rect, want.Stride)
	}
	if !bytes.Equal(got.Pix, want.Pix) {
		bad, first := 0, -1
		for i := range got.Pix {
			if got.Pix[i] != want.Pix[i] {
				if first < 0 {
					first = i
				}
				bad++
			}
		}
		px := first / 4
		t.Errorf("%d bytes differ; first at pixel %d,%d: %v, want %v", bad, px%(want.Stride/4), px/(want.Stride/4),
			got.Pix[4*px:4*px+4], want.Pix[4*px:4*px+4])
	}
}

// TestShadeRecip: shadeCell's multiplication by shadeRecip divides
// exactly for every numerator it can get (a channel times 63) and every
// sum of three channels.
func TestShadeRecip(t *testing.T) {
	for s := range len(shadeRecip) {
		for n := range 255*(shadeCells-1) + 1 {
			if got, want := uint64(n)*shadeRecip[s]>>32, uint64(n/max(s, 1)); got != want {
				t.Fatalf("%d/%d: %d, want %d", n, s, got, want)
			}
		}
	}
}

// BenchmarkKey keys a 1024×1024 product matte (tolerance 12, addInside:
// the default profile's key) with Key and with keyRef, the original.
func BenchmarkKey(b *testing.B) {
	pics := []struct {
		name string
		img  *image.NRGBA
	}{
		{"product", productPicture(1024, 1024, 1)},
		{"busy", busyPicture(1024, 1024, 1)},
	}
	for _, p := range pics {
		for _, impl := range []struct {
			name string
			key  func(*image.NRGBA, float64, bool) (*image.NRGBA, Keyed, error)
		}{{"new", Key}, {"ref", keyRef}} {
			b.Run(p.name+"/"+impl.name, func(b *testing.B) {
				if _, k, err := impl.key(p.img, 12, true); err != nil || !k.Applied {
					b.Fatalf("%v %+v", err, k)
				}
				for b.Loop() {
					impl.key(p.img, 12, true)
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/op")
			})
		}
	}
}
