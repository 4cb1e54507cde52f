package render

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/splatbench/splatbench/pipeline/threejs/validate"
)

func testRenderer(t *testing.T, opt Options) *Renderer {
	t.Helper()
	a, err := validate.FindAssets()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(context.Background(), a, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestCanonicalScene renders a known module and checks what the canonical
// setup implies: grey 0x808080 background in the corners, a red box in the
// middle lit brighter from the key light's side (+x, +y) than from the
// fill's, and the box's projected size from fov 17.5° at distance 3.5.
func TestCanonicalScene(t *testing.T) {
	r := testRenderer(t, Options{Size: 256, NoEnv: true})
	src := []byte(`export default function generate(THREE) {
  return new THREE.Mesh(new THREE.BoxGeometry(0.5, 0.5, 0.5), new THREE.MeshStandardMaterial({ color: 0xcc2222, roughness: 0.8 }));
}`)
	res, err := r.Render(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		_ = os.WriteFile(filepath.Join(t.TempDir(), "box.png"), res.PNG, 0o644)
	}
	im := res.Image
	rgb := func(x, y int) [3]int {
		c := im.At(x, y)
		r, g, b, _ := c.RGBA()
		return [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
	}
	for _, p := range []image.Point{{0, 0}, {255, 0}, {0, 255}, {255, 255}} {
		if c := rgb(p.X, p.Y); c != [3]int{128, 128, 128} {
			t.Errorf("corner %v = %v, want the grey background 128", p, c)
		}
	}
	c := rgb(128, 140)
	if !(c[0] > c[1]+40 && c[0] > c[2]+40) {
		t.Errorf("centre %v, want red", c)
	}
	// The box's front face spans 0.5 units at distance 3.25 from the
	// camera: 0.5/(2·3.25·tan 8.75°) of the frame ≈ 0.50 → ~128 px at 256.
	left, right := -1, -1
	for x := range 256 {
		if c := rgb(x, 140); c[0] > c[2]+40 {
			if left < 0 {
				left = x
			}
			right = x
		}
	}
	if w := right - left + 1; w < 115 || w > 140 {
		t.Errorf("box width %d px at row 140, want ≈128", w)
	}
}

// TestRenderRunFailed: a module that throws in the page is RENDER_RUN_FAILED.
func TestRenderRunFailed(t *testing.T) {
	r := testRenderer(t, Options{Size: 64, NoEnv: true})
	_, err := r.Render(context.Background(), []byte(`export default function generate(THREE) { throw new Error('boom'); }`))
	if !errors.Is(err, ErrRenderRun) {
		t.Fatalf("err %v, want %v", err, ErrRenderRun)
	}
}
