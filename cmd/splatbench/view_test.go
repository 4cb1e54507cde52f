package main

import (
	"bytes"
	"context"
	"image"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/browser"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/results/viewer"
	"github.com/splatbench/splatbench/results/viewer/viewertest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ringCloud is n Gaussians on a coloured ring (hue by angle).
func ringCloud(n int) *splat.Cloud {
	c := splat.NewCloud(n, 0)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		w := float64(i%7)/7 - 0.5
		c.Pos[3*i], c.Pos[3*i+1], c.Pos[3*i+2] = float32(math.Cos(a)*(0.8+0.1*w)), float32(0.15*w), float32(math.Sin(a)*(0.8+0.1*w))
		for k := range 3 {
			c.LogScale[3*i+k] = float32(math.Log(0.03))
			c.SH[3*i+k] = float32(1.5 * math.Cos(a+2*math.Pi*float64(k)/3))
		}
		c.OpacityLogit[i] = 3
	}
	return c
}

// TestViewCommand: `splatbench view` serves a PLY and an SPZ (gzip, as the
// subnet sends them) on loopback, prints the URL, and the page draws the
// splat in Chromium; Ctrl-C (context cancel) stops it with exit 0. A file
// that is not a splat is refused before anything is served.
func TestViewCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Chromium")
	}
	viewertest.Assets(t, ort.CacheDir())
	if _, err := browser.Find(); err != nil {
		if os.Getenv(viewertest.EnvRequire) != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	c := ringCloud(6000)
	for _, f := range []struct {
		name   string
		format splat.Format
	}{{"ring.ply", splat.FormatPLY}, {"ring.spz", splat.FormatSPZGzip}} {
		if err := splat.WriteFile(filepath.Join(dir, f.name), c, f.format); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr := runCLI(t, "view", writeFile(t, "x.ply", "not a ply")); code != exitUsage && code != exitFailure || stderr == "" {
		t.Errorf("a broken PLY: exit %d, %q", code, stderr)
	}
	if code, _, _ := runCLI(t, "view", "--listen", "0.0.0.0:0", filepath.Join(dir, "ring.ply")); code != exitUsage {
		t.Errorf("a non-loopback address: exit %d, want %d", code, exitUsage)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	b, err := browser.Start(ctx, browser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, name := range []string{"ring.ply", "ring.spz"} {
		t.Run(name, func(t *testing.T) {
			vctx, stop := context.WithCancel(ctx)
			var out, errb lockedBuffer
			done := make(chan int, 1)
			go func() { done <- run(vctx, []string{"view", filepath.Join(dir, name)}, &out, &errb) }()
			defer func() {
				stop()
				if code := <-done; code != exitOK {
					t.Errorf("view exit %d: %s", code, errb.String())
				}
			}()
			urlRE := regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/)`)
			var url string
			for deadline := time.Now().Add(30 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if m := urlRE.FindStringSubmatch(out.String()); m != nil {
					url = m[1]
				}
			}
			if url == "" || !strings.Contains(out.String(), "6000 Gaussians") {
				t.Fatalf("no URL printed: %q %q", out.String(), errb.String())
			}
			p, err := b.Open(ctx, url, 700, 700)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if err := p.WaitFor(ctx, `["ready", "error"].includes(document.getElementById("view").dataset.state)`); err != nil {
				t.Fatal(err)
			}
			if st, _ := browser.Eval[string](ctx, p, `document.getElementById("view").dataset.state + " " + document.getElementById("view").innerText`); !strings.HasPrefix(st, "ready") {
				t.Fatalf("view page: %s; console %q", st, p.Console())
			}
			if err := p.WaitFor(ctx, `window.splatView && window.splatView.frames >= 6`); err != nil {
				t.Fatal(err)
			}
			shot, err := p.Screenshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			img := viewertest.Shot(t, "view-"+strings.ReplaceAll(name, ".", "-"), shot)
			r, err := browser.Eval[[4]float64](ctx, p, `(() => { const r = document.querySelector("#view canvas").getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()`)
			if err != nil {
				t.Fatal(err)
			}
			rect := image.Rect(int(r[0])+1, int(r[1])+1, int(r[2])-1, int(r[3])-1)
			px, colours := viewertest.ObjectPixels(img, rect)
			t.Logf("%s: %d object pixels in %v, %d colours", name, px, rect, colours)
			if px < rect.Dx()*rect.Dy()/100 || colours < 8 {
				t.Errorf("%s looks blank: %d object pixels, %d colours", name, px, colours)
			}
		})
	}
}

// BenchmarkViewer200k times the 3D viewer in headless Chromium (WebGL on
// SwiftShader) on a 200,000-splat PLY at 480×360: ms from page open to
// the first frame drawn, and ms per frame while orbiting (docs/viewer.md).
func BenchmarkViewer200k(b *testing.B) {
	assets := viewertest.Assets(b, ort.CacheDir())
	data, err := splat.Encode(ringCloud(200_000), splat.FormatPLY)
	if err != nil {
		b.Fatal(err)
	}
	h, err := viewer.FileHandler(assets, "ring200k.ply", data)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(h)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	br, err := browser.Start(ctx, browser.Options{})
	if err != nil {
		b.Skip(err)
	}
	defer br.Close()
	var loadMS, frameMS float64
	for b.Loop() {
		start := time.Now()
		p, err := br.Open(ctx, hs.URL+"/", 480, 400)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.WaitFor(ctx, `window.splatView && window.splatView.frames >= 1`); err != nil {
			b.Fatal(err)
		}
		loadMS += float64(time.Since(start).Milliseconds())
		ms, err := browser.Eval[float64](ctx, p, `new Promise(res => {
			const v = window.splatView, f0 = v.frames, t0 = performance.now();
			v.orbit(0.05, 0);
			const chk = () => v.frames >= f0 + 6 ? res((performance.now() - t0) / 6) : requestAnimationFrame(chk);
			chk();
		})`)
		if err != nil {
			b.Fatal(err)
		}
		frameMS += ms
		p.Close()
	}
	b.ReportMetric(loadMS/float64(b.N), "ms-first-frame")
	b.ReportMetric(frameMS/float64(b.N), "ms/frame")
	b.ReportMetric(float64(len(data)), "ply-bytes")
}
