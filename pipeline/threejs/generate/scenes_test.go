package generate

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/draw"

	"github.com/splatbench/splatbench/pipeline/matte"
	"github.com/splatbench/splatbench/pipeline/ort/orttest"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/pipeline/threejs/proxy"
	"github.com/splatbench/splatbench/pipeline/threejs/render"
	"github.com/splatbench/splatbench/pipeline/threejs/validate"
)

var (
	allScenes = flag.Bool("scenes", false, "TestScenes: all 19 reference scenes through ISNet (slow), else three with the exact alpha")
	update    = flag.Bool("update", false, "rewrite the golden contact sheets (testdata/sheets)")
	dumpDir   = flag.String("dump", "", "TestScenes: also write each prompt's module and full-size sheet here")
)

// prompt renders a scene's front picture from the judge's direction and
// fov (17.5°, along (0, 0.3, 3.5)) but 1.3 times as far, so that the
// unit-extent scenes sit inside the frame with a margin, as in a product
// photo: colour straight, the scene's exact alpha.
func prompt(t testing.TB, s scenes.Scene, size int) *image.NRGBA {
	t.Helper()
	cam := splat.LookAt([3]float64{0, 0.3 * 1.3, 3.5 * 1.3}, [3]float64{}, [3]float64{0, 1, 0}, size, size, 17.5)
	ims, err := s.Views(context.Background(), nil, []splat.Camera{cam}, splat.RenderOptions{SHDegree: 0})
	if err != nil {
		t.Fatal(err)
	}
	return scenes.Foreground(ims[0], [3]float32{})
}

// onWhite is the prompt as a product photo: the object on white, opaque.
func onWhite(p *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(p.Bounds())
	for i := 0; i < len(p.Pix); i += 4 {
		a := float64(p.Pix[i+3]) / 255
		for k := range 3 {
			out.Pix[i+k] = uint8(float64(p.Pix[i+k])*a + 255*(1-a) + 0.5)
		}
		out.Pix[i+3] = 255
	}
	return out
}

func tools(t testing.TB, ropt render.Options) (*validate.Validator, *render.Renderer) {
	a, err := validate.FindAssets()
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(a, validate.Spec())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	r, err := render.New(context.Background(), a, ropt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return v, r
}

// TestScenes generates a module for reference scenes' front pictures,
// checks it with the validator, renders it in the judge's setup and scores
// the render against the prompt with the proxy. By default three scenes
// with their exact alpha and no environment map (fast); with -scenes all 19
// through ISNet on a white background, as a miner gets them, with the
// stand-in environment, printing the table of docs/threejs.md. Contact
// sheets (prompt | render) are golden files under testdata/sheets.
func TestScenes(t *testing.T) {
	names := []string{"blue-mug", "traffic-cone", "torus-on-plate"}
	ropt := render.Options{NoEnv: true}
	if *allScenes {
		names = scenes.Names()
		ropt = render.Options{}
	} else if testing.Short() {
		t.Skip("renders in Chromium; run without -short")
	}
	v, r := tools(t, ropt)
	opt := DefaultOptions()
	opt.Valid, opt.Renderer = v, r
	if *allScenes {
		m, err := matte.New(context.Background(), orttest.Runtime(t), matte.Options{Model: "isnet-small"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		opt.Matter = m
	}
	var table strings.Builder
	fmt.Fprintln(&table, "| scene | mode | parts | IoU | PSNR | SSIM | ΔE | proxy | bytes | literal bytes | time |")
	fmt.Fprintln(&table, "|---|---|---|---|---|---|---|---|---|---|---|")
	var sum float64
	for _, name := range names {
		s, err := scenes.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		p := prompt(t, s, render.Size)
		in := image.Image(p)
		if *allScenes {
			in = onWhite(p)
		}
		mod, info, err := Generate(context.Background(), in, opt)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		sc, err := proxy.Compare(p, info.Render)
		if err != nil {
			t.Fatal(err)
		}
		sum += sc.Proxy
		fmt.Fprintf(&table, "| %s | %s | %d | %.3f | %.1f | %.3f | %.1f | %.3f | %d | %d | %.1f s |\n", name, info.Mode, info.Parts,
			sc.IoU, sc.PSNR, sc.SSIM, sc.DeltaE, sc.Proxy, info.Bytes, info.LiteralBytes, info.Elapsed.Seconds())
		t.Logf("%s: render %v, check %v", name, info.RenderTime.Round(time.Millisecond), info.CheckTime.Round(time.Millisecond))
		if !*allScenes && sc.IoU < 0.8 {
			t.Errorf("%s: mask IoU %.3f, want ≥ 0.8", name, sc.IoU)
		}
		sheet := contactSheet(p, info.Render, 320)
		if *dumpDir != "" {
			_ = os.WriteFile(filepath.Join(*dumpDir, name+".js"), mod, 0o644)
			writePNG(t, filepath.Join(*dumpDir, name+".png"), contactSheet(p, info.Render, render.Size))
		}
		if *allScenes {
			golden(t, filepath.Join("testdata", "sheets", name+".png"), sheet)
		}
	}
	t.Logf("proxy for the judge (not its score), mean %.3f over %d scenes\n%s", sum/float64(len(names)), len(names), table.String())
}

// contactSheet puts the prompt (on the judge's grey) and the render side
// by side, each side px wide.
func contactSheet(p *image.NRGBA, r image.Image, side int) *image.NRGBA {
	b := p.Bounds()
	full := image.NewNRGBA(image.Rect(0, 0, 2*b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			q := p.Pix[y*p.Stride+4*x:]
			a := float64(q[3]) / 255
			var c color.NRGBA
			for k, v := range []*uint8{&c.R, &c.G, &c.B} {
				*v = uint8(float64(q[k])*a + 128*(1-a) + 0.5)
			}
			c.A = 255
			full.SetNRGBA(x, y, c)
		}
	}
	draw.Draw(full, image.Rect(b.Dx(), 0, 2*b.Dx(), b.Dy()), r, r.Bounds().Min, draw.Src)
	if side == b.Dx() {
		return full
	}
	out := image.NewNRGBA(image.Rect(0, 0, 2*side, side))
	draw.CatmullRom.Scale(out, out.Bounds(), full, full.Bounds(), draw.Src, nil)
	return out
}

func writePNG(t testing.TB, path string, im image.Image) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, im); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// golden compares a contact sheet with its golden file (mean absolute
// difference per channel ≤ 3/255: SwiftShader and the fit are
// deterministic, the matte's threads are not quite) or rewrites it with
// -update.
func golden(t *testing.T, path string, im *image.NRGBA) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		writePNG(t, path, im)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run with -scenes -update to create it)", err)
	}
	defer f.Close()
	g, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	gn := image.NewNRGBA(g.Bounds())
	draw.Draw(gn, gn.Bounds(), g, g.Bounds().Min, draw.Src)
	if gn.Bounds() != im.Bounds() {
		t.Fatalf("%s: golden %v, got %v", path, gn.Bounds(), im.Bounds())
	}
	var d float64
	for i := range im.Pix {
		d += float64(max(im.Pix[i], gn.Pix[i]) - min(im.Pix[i], gn.Pix[i]))
	}
	if d /= float64(len(im.Pix)); d > 3 {
		t.Errorf("%s: mean difference %.2f/255 from the golden sheet", path, d)
	}
}
