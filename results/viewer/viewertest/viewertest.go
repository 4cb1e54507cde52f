// Package viewertest helps tests that look at the 3D viewer in a browser:
// the viewer's files from the set-up, counting the object's pixels in a
// screenshot, and keeping screenshots for a person to look at.
package viewertest

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/splatbench/splatbench/results/atomicfile"
	"github.com/splatbench/splatbench/results/viewer"
)

// EnvRequire is the variable (`make test` sets it) under which a missing
// browser or viewer bundle fails a test instead of skipping it.
const EnvRequire = "SPLATBENCH_REQUIRE_BROWSER"

// EnvShots names a folder where Shot keeps screenshots.
const EnvShots = "SPLATBENCH_SHOTS"

// Assets loads the viewer's files from cacheDir, skipping the test (or
// failing it under EnvRequire) when the set-up has not built them.
func Assets(t testing.TB, cacheDir string) *viewer.Assets {
	t.Helper()
	a, err := viewer.Load(cacheDir)
	if err != nil {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("%v (%s is set)", err, EnvRequire)
		}
		t.Skip(err)
	}
	return a
}

// Shot decodes a PNG screenshot and, when $SPLATBENCH_SHOTS is set, keeps
// it there as name.png.
func Shot(t testing.TB, name string, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if dir := os.Getenv(EnvShots); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, name+".png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// ObjectPixels counts the pixels of r in img that are not near-white (the
// viewer's background) and how many distinct colours they have (quantised
// to 4 bits per channel): a drawn splat gives many of both, a blank or
// single-colour canvas does not.
func ObjectPixels(img image.Image, r image.Rectangle) (pixels, colours int) {
	r = r.Intersect(img.Bounds())
	seen := map[uint32]bool{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr>>8 >= 235 && cg>>8 >= 235 && cb>>8 >= 235 {
				continue
			}
			pixels++
			seen[(cr>>12)<<8|(cg>>12)<<4|cb>>12] = true
		}
	}
	return pixels, len(seen)
}

// Differ counts the pixels of r that differ by more than 24 in some
// channel between a and b.
func Differ(a, b image.Image, r image.Rectangle) int {
	r = r.Intersect(a.Bounds()).Intersect(b.Bounds())
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, _ := a.At(x, y).RGBA()
			br, bg, bb, _ := b.At(x, y).RGBA()
			if absDiff(ar, br) > 24<<8 || absDiff(ag, bg) > 24<<8 || absDiff(ab, bb) > 24<<8 {
				n++
			}
		}
	}
	return n
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
