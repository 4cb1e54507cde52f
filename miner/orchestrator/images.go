package orchestrator

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// PromptImage is one prompt of a round: its stem, its image as the pod
// downloads it, and the object alone with its exact alpha (what the proxy
// score compares the render with; nil when unknown).
type PromptImage struct {
	Stem   string
	Name   string // what it shows, for the report
	PNG    []byte
	Object *image.NRGBA
}

// Prompt camera: the judge's (the runtime specification: fov 17.5° at
// distance 3.5, 0.3 above the object's centre, looking at it) moved back by
// a quarter, so the object (extent 1) has a margin as in a product photo.
const (
	judgeFOV     = 17.5
	promptDist   = 3.5 * 1.25
	promptHeight = 0.3 * 1.25
)

// ReferencePrompts renders n image prompts from the built-in reference
// scenes, as product photos in (nearly) the judge's camera: scene i mod 19 at size²,
// the camera turned about the vertical axis by a different angle on each
// pass over the catalogue (0°, then ±12°, ±24°, ...), on a plain white or
// grey backdrop (opaque, like the subnet's); transparent leaves the
// backdrop out (the object with its alpha: a generator needs no matte).
// Stems are lowercase alphanumeric, as the subnet's are.
func ReferencePrompts(ctx context.Context, n, size int, transparent bool) ([]PromptImage, error) {
	all := scenes.All()
	backdrops := []color.NRGBA{{255, 255, 255, 255}, {128, 128, 128, 255}}
	if transparent {
		backdrops = []color.NRGBA{{}}
	}
	clouds := make([]*splat.Cloud, len(all))
	out := make([]PromptImage, n)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range min(n, len(all)) {
		g.Go(func() error { clouds[i] = all[i].Build(1, 0); return nil })
	}
	_ = g.Wait()
	g2, ctx := errgroup.WithContext(ctx)
	g2.SetLimit(runtime.GOMAXPROCS(0))
	for i := range out {
		g2.Go(func() error {
			sc, pass := all[i%len(all)], i/len(all)
			turn := float64((pass+1)/2*12) * float64(1-2*(pass%2))
			sn, cs := math.Sincos(turn * math.Pi / 180)
			cam := splat.LookAt([3]float64{promptDist * sn, promptHeight, promptDist * cs}, [3]float64{}, [3]float64{0, 1, 0}, size, size, judgeFOV)
			ims, err := sc.Views(ctx, clouds[i%len(all)], []splat.Camera{cam}, splat.RenderOptions{Background: [3]float32{1, 1, 1}, SHDegree: -1})
			if err != nil {
				return fmt.Errorf("orchestrator: prompt %d: %w", i, err)
			}
			fg := scenes.Foreground(ims[0], [3]float32{1, 1, 1})
			img := image.NewNRGBA(fg.Bounds())
			draw.Draw(img, img.Bounds(), image.NewUniform(backdrops[pass%len(backdrops)]), image.Point{}, draw.Src)
			draw.Draw(img, img.Bounds(), fg, image.Point{}, draw.Over)
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				return fmt.Errorf("orchestrator: prompt %d (%s): %w", i, sc.Name, err)
			}
			out[i] = PromptImage{
				Stem:   fmt.Sprintf("p%03d%s", i, strings.ReplaceAll(sc.Name, "-", "")),
				Name:   fmt.Sprintf("%s (turned %+.0f°)", sc.Prompt, turn),
				PNG:    buf.Bytes(),
				Object: fg,
			}
			return nil
		})
	}
	if err := g2.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// bombPNG is a complete 1×1 PNG whose header declares 100000×100000
// pixels: 40 GB if a decoder believed it.
func bombPNG() []byte {
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	data := buf.Bytes()
	const ihdr = 8 + 8 // after the signature, the chunk's length and type
	binary.BigEndian.PutUint32(data[ihdr:], 100000)
	binary.BigEndian.PutUint32(data[ihdr+4:], 100000)
	binary.BigEndian.PutUint32(data[ihdr+13:], crc32.ChecksumIEEE(data[ihdr-4:ihdr+13]))
	return data
}

// imageServer serves the round's prompt images over loopback at
// /img/{stem}.png, with the faults' 404s and bombs.
type imageServer struct {
	srv  *http.Server
	base string
	errc chan error
}

func startImageServer(prompts []PromptImage, f Faults) (*imageServer, error) {
	bodies := make(map[string][]byte, len(prompts))
	for _, p := range prompts {
		bodies[p.Stem] = p.PNG
	}
	for _, st := range f.Missing {
		delete(bodies, st)
	}
	bomb := bombPNG()
	for _, st := range f.Bombs {
		bodies[st] = bomb
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /img/{file}", func(w http.ResponseWriter, r *http.Request) {
		stem, _ := strings.CutSuffix(r.PathValue("file"), ".png")
		b, ok := bodies[stem]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(b)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("orchestrator: image server on loopback: %w", err)
	}
	s := &imageServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		base: "http://" + ln.Addr().String(),
		errc: make(chan error, 1),
	}
	go func() { s.errc <- s.srv.Serve(ln) }()
	return s, nil
}

func (s *imageServer) url(stem string) string { return s.base + "/img/" + stem + ".png" }

func (s *imageServer) close() {
	_ = s.srv.Close()
	<-s.errc
}
