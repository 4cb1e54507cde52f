package generate

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/pipeline/threejs/render"
	"github.com/splatbench/splatbench/pipeline/threejs/validate"
)

var dumpDir = flag.String("dump", "", "write prompts, modules and renders here")

// prompt renders a scene's front picture in the judge's camera (1024², fov
// 17.5° at (0, 0.3, 3.5)): the scene's exact alpha, colour straight.
func prompt(t testing.TB, s scenes.Scene, size int) *image.NRGBA {
	t.Helper()
	cam := splat.LookAt([3]float64{0, 0.3, 3.5}, [3]float64{}, [3]float64{0, 1, 0}, size, size, 17.5)
	ims, err := s.Views(context.Background(), nil, []splat.Camera{cam}, splat.RenderOptions{SHDegree: 0})
	if err != nil {
		t.Fatal(err)
	}
	return scenes.Foreground(ims[0], [3]float32{})
}

func tools(t testing.TB) (*validate.Validator, *render.Renderer) {
	a, err := validate.FindAssets()
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(a, validate.Spec())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	r, err := render.New(context.Background(), a, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return v, r
}

func TestScenesDev(t *testing.T) {
	if *dumpDir == "" {
		t.Skip("-dump DIR")
	}
	v, r := tools(t)
	opt := DefaultOptions()
	opt.Valid, opt.Renderer = v, r
	for _, s := range scenes.All() {
		fmt.Fprintln(os.Stderr, "scene", s.Name)
		img := prompt(t, s, 1024)
		fmt.Fprintln(os.Stderr, "prompt done")
		mod, info, err := Generate(context.Background(), img, opt)
		if err != nil {
			t.Errorf("%s: %v", s.Name, err)
			continue
		}
		t.Logf("%s: %+v", s.Name, fmt.Sprintf("%s parts=%d sym=%.2f bytes=%d lit=%d scale=%.2f %v", info.Mode, info.Parts, info.Symmetry, info.Bytes, info.LiteralBytes, info.Scale, info.Elapsed))
		os.WriteFile(filepath.Join(*dumpDir, s.Name+".js"), mod, 0o644)
		f, _ := os.Create(filepath.Join(*dumpDir, s.Name+".png"))
		png.Encode(f, sheet(img, info.Render))
		f.Close()
	}
}

// sheet puts the prompt (on the judge's grey) and the render side by side.
func sheet(p *image.NRGBA, r image.Image) image.Image {
	b := p.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, 2*b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			q := p.Pix[y*p.Stride+4*x:]
			a := float64(q[3]) / 255
			o := out.Pix[y*out.Stride+4*x:]
			for k := range 3 {
				o[k] = uint8(float64(q[k])*a + 128*(1-a) + 0.5)
			}
			o[3] = 255
			if r != nil {
				c := r.At(x, y)
				rr, gg, bb, _ := c.RGBA()
				o2 := out.Pix[y*out.Stride+4*(x+b.Dx()):]
				o2[0], o2[1], o2[2], o2[3] = uint8(rr>>8), uint8(gg>>8), uint8(bb>>8), 255
			}
		}
	}
	return out
}
