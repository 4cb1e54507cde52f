package matte

import (
	"image"
	"image/color"
	"testing"
)

// keyCase draws a 64×64 picture: a backdrop (stripes of two colours, or
// plain), an object square at 20..44 of colour obj, and the matte a
// network might give: alpha 255 on the object, alpha kept on some
// backdrop pixels (kept), and alpha lost on a band across the square's
// middle (a part the network half lost, like a lamp's stem).
type keyCase struct {
	name       string
	stripes    bool
	obj        color.NRGBA
	kept       func(x, y int) bool // backdrop pixels the network called object
	lost       uint8               // alpha the network gave the band across the square
	lostCol    color.NRGBA         // the band's colour (zero: the object's)
	clutter    bool                // everything but a one-pixel frame is grey-brown, alpha 0
	fill       bool
	wantApply  bool
	wantObject func(x, y int) bool // the keyed matte's object (alpha ≥ 128)
}

var (
	blue   = color.NRGBA{60, 70, 160, 255}
	green  = color.NRGBA{40, 120, 50, 255}
	white  = color.NRGBA{255, 255, 255, 255}
	orange = color.NRGBA{230, 120, 20, 255}
)

func inSquare(x, y int) bool { return x >= 20 && x < 44 && y >= 20 && y < 44 }

func (c keyCase) image() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			col := white
			if c.stripes {
				col = blue
				if (x/4)%2 == 1 {
					col = green
				}
			}
			a := uint8(0)
			if c.kept != nil && c.kept(x, y) {
				a = 255
			}
			if c.clutter && x >= 1 && y >= 1 && x < 63 && y < 63 {
				col = color.NRGBA{150, 110, 80, 255}
			}
			if inSquare(x, y) {
				col, a = c.obj, 255
				if y >= 28 && y < 36 && c.lost > 0 {
					a = c.lost
					if c.lostCol.A > 0 {
						col = c.lostCol
					}
				}
			}
			col.A = a
			img.SetNRGBA(x, y, col)
		}
	}
	return img
}

func TestKey(t *testing.T) {
	under := func(x, y int) bool { return x >= 20 && x < 44 && y >= 44 } // stripes under the object
	tests := []keyCase{
		{name: "stripes kept under the object are removed", stripes: true, obj: orange, kept: under, wantApply: true, wantObject: inSquare},
		{name: "plain backdrop, clean matte: unchanged", obj: orange, wantApply: true, wantObject: inSquare},
		{name: "a half-lost part is filled", obj: orange, lost: 60, fill: true, wantApply: true, wantObject: inSquare},
		{name: "without fill a half-lost part stays lost", obj: orange, lost: 60, wantApply: true,
			wantObject: func(x, y int) bool { return inSquare(x, y) && (y < 28 || y >= 36) }},
		{name: "a part the network lost whole is filled", obj: orange, lost: 1, lostCol: blue, fill: true, wantApply: true, wantObject: inSquare},
		{name: "a shade of the backdrop the network did not see is not filled", obj: orange, lost: 1,
			lostCol: color.NRGBA{170, 170, 170, 255}, fill: true, wantApply: true,
			wantObject: func(x, y int) bool { return inSquare(x, y) && (y < 28 || y >= 36) }},
		{name: "clutter larger than the object is not filled", obj: orange, clutter: true, fill: true, wantApply: true, wantObject: inSquare},
		{name: "object of the backdrop's colour: not trusted", obj: white, wantApply: false, wantObject: inSquare},
		{name: "object covering the border: not trusted", stripes: true, obj: orange,
			kept: func(x, y int) bool { return y < 40 }, wantApply: false,
			wantObject: func(x, y int) bool { return y < 40 || inSquare(x, y) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := tc.image()
			out, k, err := Key(img, 12, tc.fill)
			if err != nil {
				t.Fatal(err)
			}
			if k.Applied != tc.wantApply {
				t.Fatalf("applied %v (%s), want %v", k.Applied, k.Reason, tc.wantApply)
			}
			bad := 0
			for y := range 64 {
				for x := range 64 {
					if got := out.NRGBAAt(x, y).A >= 128; got != tc.wantObject(x, y) {
						bad++
					}
					if out.NRGBAAt(x, y).R != img.NRGBAAt(x, y).R {
						t.Fatalf("colour at %d,%d changed", x, y)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d pixels wrong (%+v)", bad, k)
			}
		})
	}
}

func TestKeyErrors(t *testing.T) {
	if _, _, err := Key(nil, 12, false); err == nil {
		t.Error("nil image: no error")
	}
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for _, tol := range []float64{-1, 129} {
		if _, _, err := Key(img, tol, false); err == nil {
			t.Errorf("tolerance %v: no error", tol)
		}
	}
	tiny := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	if out, k, err := Key(tiny, 12, true); err != nil || k.Applied || out != tiny {
		t.Errorf("2×2: %v %+v", err, k)
	}
	// An image whose origin is not (0, 0) and whose stride is wider than
	// its rows (a sub-image) is keyed like its copy.
	c := keyCase{stripes: true, obj: orange, kept: func(x, y int) bool { return y >= 44 && x >= 20 && x < 44 }}
	big := image.NewNRGBA(image.Rect(-5, -5, 80, 80))
	src := c.image()
	for y := range 64 {
		for x := range 64 {
			big.SetNRGBA(x, y, src.NRGBAAt(x, y))
		}
	}
	sub := big.SubImage(image.Rect(0, 0, 64, 64)).(*image.NRGBA)
	a, _, _ := Key(src, 12, false)
	b, _, _ := Key(sub, 12, false)
	for y := range 64 {
		for x := range 64 {
			if a.NRGBAAt(x, y) != b.NRGBAAt(x-b.Rect.Min.X, y-b.Rect.Min.Y) {
				t.Fatalf("sub-image differs at %d,%d", x, y)
			}
		}
	}
}

// FuzzKey keys arbitrary small pictures (any colours, any alpha): no
// panic, the same size out, colours untouched, the matte left alone
// whenever the key is not applied, and the same result as keyRef's.
func FuzzKey(f *testing.F) {
	f.Add(uint8(9), uint8(7), []byte{1, 2, 3, 255, 200, 10, 10, 0}, 12.0, true)
	f.Add(uint8(30), uint8(20), []byte{240, 240, 240, 0, 240, 240, 240, 0, 240, 240, 240, 0, 30, 20, 200, 60, 240, 240, 240, 0, 30, 20, 200, 255}, 12.0, true)
	f.Add(uint8(3), uint8(3), []byte{255, 255, 255, 0}, 0.0, false)
	f.Fuzz(func(t *testing.T, w, h uint8, pix []byte, tol float64, fill bool) {
		if w == 0 || h == 0 || len(pix) == 0 {
			return
		}
		img := image.NewNRGBA(image.Rect(0, 0, int(w%40)+1, int(h%40)+1))
		for i := range img.Pix {
			img.Pix[i] = pix[i%len(pix)]
		}
		checkKeyMatches(t, img, tol, fill)
		out, k, err := Key(img, tol, fill)
		if err != nil {
			if tol >= 0 && tol <= 128 {
				t.Fatalf("tolerance %v: %v", tol, err)
			}
			return
		}
		if out.Bounds().Size() != img.Bounds().Size() {
			t.Fatalf("size %v, want %v", out.Bounds().Size(), img.Bounds().Size())
		}
		for i := range img.Pix {
			if i%4 != 3 && out.Pix[i] != img.Pix[i] || !k.Applied && out.Pix[i] != img.Pix[i] {
				t.Fatalf("byte %d changed (%+v)", i, k)
			}
		}
	})
}
