package splat

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// The package's -update flag may also be defined by another test file of
// this package; register it only if nobody has.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func rasterUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// showcaseScene is the axes scene plus a ring of coloured Gaussians in the
// XZ plane and a column along +Y, so orientation is obvious in every view.
func showcaseScene() *Cloud {
	blobs := []blob{
		{pos: [3]float32{0, 0, 0}, sigma: 0.08, op: 0.9, rgb: [3]float32{0.5, 0.5, 0.5}},
		{pos: [3]float32{0.5, 0, 0}, sigma: 0.06, op: 0.9, rgb: [3]float32{1, 0, 0}},
		{pos: [3]float32{0, 0.5, 0}, sigma: 0.06, op: 0.9, rgb: [3]float32{0, 1, 0}},
		{pos: [3]float32{0, 0, 0.5}, sigma: 0.06, op: 0.9, rgb: [3]float32{0, 0, 1}},
	}
	for i := range 24 {
		a := 2 * math.Pi * float64(i) / 24
		h := float32(i) / 24
		blobs = append(blobs, blob{
			pos: [3]float32{float32(0.7 * math.Cos(a)), -0.3, float32(0.7 * math.Sin(a))}, sigma: 0.04, op: 0.8,
			rgb: [3]float32{0.2 + 0.7*h, 0.8 - 0.6*h, 0.5},
		})
	}
	for i := range 6 {
		blobs = append(blobs, blob{pos: [3]float32{0, 0.1 * float32(i+6), 0}, sigma: 0.025, op: 0.95, rgb: [3]float32{0.1, 0.1, 0.1}})
	}
	return cloudOf(blobs)
}

func readPNG(t *testing.T, path string) *image.NRGBA {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n, ok := img.(*image.NRGBA)
	if !ok {
		t.Fatalf("%s: decoded as %T, want *image.NRGBA", path, img)
	}
	return n
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRenderGolden compares small renders of the showcase scene in both
// modes with committed PNGs. Tolerance: 1 level of 255 per channel, to
// absorb float rounding differences across compilers and architectures
// (FMA fusion); anything systematic moves many pixels by more.
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	cam := LookAt([3]float64{1.2, 0.9, 2.0}, [3]float64{}, [3]float64{0, 1, 0}, 96, 72, 49.1)
	for _, mode := range []Mode{ModeClassic, ModeGsplat} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			im, err := Render(context.Background(), showcaseScene(), cam, RenderOptions{Background: [3]float32{1, 1, 1}, Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			got := im.NRGBA()
			path := filepath.Join("testdata", "raster", "showcase_"+mode.String()+".png")
			if rasterUpdate() {
				writePNG(t, path, got)
				return
			}
			want := readPNG(t, path)
			if got.Bounds() != want.Bounds() {
				t.Fatalf("size %v, golden %v", got.Bounds(), want.Bounds())
			}
			bad := 0
			for i := range got.Pix {
				d := int(got.Pix[i]) - int(want.Pix[i])
				if d > 1 || d < -1 {
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d channel values differ from %s by more than 1/255", bad, len(got.Pix), path)
			}
		})
	}
}

// TestValidatorSheet renders the showcase scene from the 16 validator views
// into a 4×4 contact sheet with a 5 px gap (written to $SPLAT_SHEET_PNG when
// set, for a person to look at) and checks its layout.
func TestValidatorSheet(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 16 views at 518²")
	}
	t.Parallel()
	ims, err := RenderBatch(context.Background(), showcaseScene(), ValidatorCameras(),
		RenderOptions{Background: [3]float32{1, 1, 1}, Mode: ModeGsplat, SHDegree: 0})
	if err != nil {
		t.Fatal(err)
	}
	views := make([]*image.NRGBA, len(ims))
	for i, im := range ims {
		views[i] = im.Opaque()
	}
	sheet := ContactSheet(views, 4, 5)
	if want := 4*ValidatorSize + 3*5; sheet.Bounds().Dx() != want || sheet.Bounds().Dy() != want {
		t.Fatalf("sheet %v, want %d×%d", sheet.Bounds(), want, want)
	}
	if out := os.Getenv("SPLAT_SHEET_PNG"); out != "" {
		writePNG(t, out, sheet) // too large to keep as a golden file; for looking at
		t.Logf("wrote %s", out)
	}
	// Views 0 and 15 are azimuth 0 and 360: the same picture.
	d := 0.0
	for i := range ims[0].RGB {
		d = max(d, math.Abs(float64(ims[0].RGB[i]-ims[15].RGB[i])))
	}
	if d > 1e-3 {
		t.Errorf("views at azimuth 0 and 360 differ by up to %g", d)
	}
}
