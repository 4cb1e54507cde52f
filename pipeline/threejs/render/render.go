// Package render renders a Three.js module as subnet 17's judge sees it:
// the pinned three@0.183.2 in headless Chromium (pipeline/browser) under the
// runtime specification's canonical scene (page.html: camera, lights,
// background, renderer settings), the page and three served over loopback
// because ES modules do not load from file://. One 1024² PNG per module.
package render

import (
	"context"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/splatbench/splatbench/pipeline/browser"
	"github.com/splatbench/splatbench/pipeline/imagefile"
	"github.com/splatbench/splatbench/pipeline/threejs/validate"
)

//go:embed page.html
var page []byte

// Size is the judge's frame, in pixels.
const Size = 1024

// Options configure a Renderer.
type Options struct {
	// Size is the square frame in pixels (0: Size, the judge's).
	Size int
	// NoEnv leaves out the stand-in studio environment (RoomEnvironment):
	// direct lights only.
	NoEnv bool
	Log   *slog.Logger
}

// Renderer owns one Chromium and one loopback server. Safe for concurrent
// use; renders run one at a time.
type Renderer struct {
	opt   Options
	b     *browser.Browser
	srv   *http.Server
	base  string
	mu    sync.Mutex // one render at a time (SwiftShader uses every core)
	modMu sync.Mutex
	mods  map[string][]byte
	next  int
	page  *browser.Page // the canonical scene, kept open between renders
}

// openPage loads the canonical scene once (the environment map's
// prefiltering takes ~20 s on SwiftShader) and waits until it is ready.
func (r *Renderer) openPage(ctx context.Context) error {
	url := fmt.Sprintf("%s/index.html?size=%d", r.base, r.opt.Size)
	if !r.opt.NoEnv {
		url += "&env=room"
	}
	p, err := r.b.Open(ctx, url, r.opt.Size, r.opt.Size)
	if err != nil {
		return fmt.Errorf("threejs render: %w", err)
	}
	if err := p.WaitFor(ctx, `window.__state === 'ready' || window.__state === 'error'`); err != nil {
		p.Close()
		return fmt.Errorf("threejs render: %w", err)
	}
	if msg, err := browser.Eval[string](ctx, p, `window.__error || ''`); err != nil || msg != "" {
		p.Close()
		return fmt.Errorf("threejs render: the canonical page failed: %q %v", msg, err)
	}
	r.page = p
	return nil
}

// New starts Chromium and the loopback server serving page.html, the
// set-up's three files and the modules being rendered.
func New(ctx context.Context, assets validate.Assets, opt Options) (*Renderer, error) {
	if opt.Size == 0 {
		opt.Size = Size
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	threeDir := filepath.Dir(assets.ThreeModule)
	r := &Renderer{opt: opt, mods: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/index.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	for _, name := range []string{"three.module.js", "three.core.js", "RoomEnvironment.js"} {
		p := filepath.Join(threeDir, name)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("threejs render: %s missing; run make setup", p)
		}
		mux.HandleFunc("/three/"+name, func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			http.ServeFile(w, req, p)
		})
	}
	mux.HandleFunc("/m/", func(w http.ResponseWriter, req *http.Request) {
		r.modMu.Lock()
		src, ok := r.mods[strings.TrimPrefix(req.URL.Path, "/m/")]
		r.modMu.Unlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(src)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("threejs render: listen on loopback: %w", err)
	}
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	r.base = "http://" + ln.Addr().String()
	b, err := browser.Start(ctx, browser.Options{Log: opt.Log})
	if err != nil {
		r.srv.Close()
		return nil, fmt.Errorf("threejs render: %w", err)
	}
	r.b = b
	return r, nil
}

// Close stops Chromium and the server.
func (r *Renderer) Close() error {
	if r.page != nil {
		r.page.Close()
	}
	err := r.b.Close()
	if e := r.srv.Close(); err == nil {
		err = e
	}
	return err
}

// RenderRunFailed is the error of a module that did not render; it wraps
// the rule code's meaning.
var ErrRenderRun = errors.New(validate.RenderRunFailed)

// renderTimeout bounds a render, the canonical page's first load included.
const renderTimeout = 120 * time.Second

// Result is one render.
type Result struct {
	PNG        []byte
	Image      image.Image
	GenerateMs float64 // the page's module import + generate(THREE)
	Wall       time.Duration
}

// Render runs src's generate(THREE) in the page and returns the frame. A
// module that throws, returns a wrong type or takes more than the 5 s
// budget is an error wrapping ErrRenderRun (the rule RENDER_RUN_FAILED).
func (r *Renderer) Render(ctx context.Context, src []byte) (*Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	r.modMu.Lock()
	r.next++
	id := strconv.Itoa(r.next) + ".js"
	r.mods[id] = src
	r.modMu.Unlock()
	defer func() {
		r.modMu.Lock()
		delete(r.mods, id)
		r.modMu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, renderTimeout)
	defer cancel()
	if r.page == nil {
		if err := r.openPage(ctx); err != nil {
			return nil, err
		}
	}
	res, err := browser.Eval[struct {
		PNG   string  `json:"png"`
		Error string  `json:"error"`
		Ms    float64 `json:"ms"`
	}](ctx, r.page, `window.renderModule('/m/`+id+`')`)
	if err != nil {
		r.page.Close()
		r.page = nil
		return nil, fmt.Errorf("threejs render: %w", err)
	}
	if res.Error != "" {
		return nil, fmt.Errorf("%w: %s", ErrRenderRun, res.Error)
	}
	if res.Ms > 5000 {
		return nil, fmt.Errorf("%w: generate took %.0f ms, budget 5000", ErrRenderRun, res.Ms)
	}
	buf, im, err := decodeCanvas(res.PNG, r.opt.Size)
	if err != nil {
		return nil, err
	}
	return &Result{PNG: buf, Image: im, GenerateMs: res.Ms, Wall: time.Since(start)}, nil
}

// decodeCanvas decodes the page's PNG data URL of a size² canvas. The page
// runs an untrusted module, which could hand back any image: the shared
// decoder reads the header first and refuses more than size² pixels.
func decodeCanvas(dataURL string, size int) ([]byte, image.Image, error) {
	b64, ok := strings.CutPrefix(dataURL, "data:image/png;base64,")
	if !ok {
		return nil, nil, fmt.Errorf("threejs render: canvas gave %.40q, want a PNG data URL", dataURL)
	}
	buf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, nil, fmt.Errorf("threejs render: canvas PNG: %w", err)
	}
	im, _, err := imagefile.DecodeBytes(buf, "threejs render canvas", imagefile.Limits{MaxPixels: size * size})
	if err != nil {
		return nil, nil, fmt.Errorf("threejs render: %w", err)
	}
	if b := im.Bounds(); b.Dx() != size || b.Dy() != size {
		return nil, nil, fmt.Errorf("threejs render: canvas is %dx%d, want %d²", b.Dx(), b.Dy(), size)
	}
	return buf, im, nil
}
