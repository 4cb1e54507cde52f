package lift_test

import (
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/lift"
	"github.com/splatbench/splatbench/pipeline/scenes"
)

var update = flag.Bool("update", false, "rewrite testdata/*.png")

// TestSheetGolden renders the lifted red cube and snowman on the
// validator's 16 views at 96 px (prediction above, ground truth below) and
// compares with the golden sheets, which were looked at: the object is
// recognisable from every view. A pixel may differ by 8 levels (float
// order across cores); more than 0.5 % of them differing fails.
func TestSheetGolden(t *testing.T) {
	for _, name := range []string{"red-cube", "snowman"} {
		sc, err := scenes.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		_, pv, tv := liftScene(t.Context(), t, sc, lift.DefaultOptions(), 96)
		got := imageeval.Sheet(append(pv, tv...))
		path := filepath.Join("testdata", "sheet-"+name+".png")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, got); err != nil {
				t.Fatal(err)
			}
			f.Close()
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		want, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%s: size %v, golden %v", name, got.Bounds(), want.Bounds())
		}
		bad := 0
		b := got.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if differs(got, want, x, y, 8) {
					bad++
				}
			}
		}
		if n := b.Dx() * b.Dy(); bad*200 > n {
			t.Errorf("%s: %d of %d pixels differ from %s", name, bad, n, path)
		}
	}
}

func differs(a, b image.Image, x, y int, tol uint32) bool {
	r1, g1, b1, _ := a.At(x, y).RGBA()
	r2, g2, b2, _ := b.At(x, y).RGBA()
	d := func(p, q uint32) uint32 {
		if p > q {
			return (p - q) >> 8
		}
		return (q - p) >> 8
	}
	return d(r1, r2) > tol || d(g1, g2) > tol || d(b1, b2) > tol
}
