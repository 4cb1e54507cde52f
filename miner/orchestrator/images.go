package orchestrator

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/scenes"
)

// PromptImage is one prompt of a round: its stem and its image, encoded
// (what the pod downloads) and decoded (what the proxy score compares).
type PromptImage struct {
	Stem  string
	Name  string // what it shows, for the report
	PNG   []byte
	Image image.Image
}

// ReferencePrompts renders n image prompts from the built-in reference
// scenes: scene i mod 19 from its front camera at size² on a plain white or
// grey backdrop (product-photo-like, opaque like the subnet's), the sample
// seed moving with each pass over the catalogue; transparent leaves the
// backdrop out (the object with its alpha: a generator needs no matte).
// Stems are lowercase alphanumeric, as the subnet's are.
func ReferencePrompts(ctx context.Context, n, size int, transparent bool) ([]PromptImage, error) {
	all := scenes.All()
	plain := []imageeval.Backdrop{imageeval.Backdrops[0], imageeval.Backdrops[2]}
	if transparent {
		plain = []imageeval.Backdrop{{}}
	}
	out := make([]PromptImage, n)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range out {
		g.Go(func() error {
			sc := all[i%len(all)]
			pass := i / len(all)
			img, _, err := imageeval.Prompt(ctx, sc, int64(pass+1), size, plain[pass%len(plain)])
			if err != nil {
				return fmt.Errorf("orchestrator: prompt %d (%s): %w", i, sc.Name, err)
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				return fmt.Errorf("orchestrator: prompt %d (%s): %w", i, sc.Name, err)
			}
			out[i] = PromptImage{
				Stem:  fmt.Sprintf("p%03d%s", i, strings.ReplaceAll(sc.Name, "-", "")),
				Name:  fmt.Sprintf("%s (seed %d)", sc.Prompt, pass+1),
				PNG:   buf.Bytes(),
				Image: img,
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
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
