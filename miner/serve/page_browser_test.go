package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/browser"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/results/viewer/viewertest"
)

// startBrowser starts headless Chromium for a test: skipped where none is
// installed, unless SPLATBENCH_REQUIRE_BROWSER is set (make test).
func startBrowser(t *testing.T) *browser.Browser {
	t.Helper()
	if _, err := browser.Find(); err != nil {
		if os.Getenv(viewertest.EnvRequire) != "" {
			t.Fatalf("%v (%s is set)", err, viewertest.EnvRequire)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	b, err := browser.Start(ctx, browser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func eval[T any](t *testing.T, ctx context.Context, p *browser.Page, expr string) T {
	t.Helper()
	v, err := browser.Eval[T](ctx, p, expr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, p *browser.Page, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := p.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func waitPage(t *testing.T, ctx context.Context, p *browser.Page, expr string) {
	t.Helper()
	if err := p.WaitFor(ctx, expr); err != nil {
		t.Fatal(err)
	}
}

// rectOf returns the element's box in screenshot pixels.
func rectOf(t *testing.T, ctx context.Context, p *browser.Page, sel string) image.Rectangle {
	t.Helper()
	r := eval[[4]float64](t, ctx, p, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
		const d = window.devicePixelRatio || 1; return [r.left*d, r.top*d, r.right*d, r.bottom*d]; })()`, sel))
	return image.Rect(int(r[0]+1), int(r[1]+1), int(r[2]-1), int(r[3]-1))
}

// TestPageEndToEnd drives the page in headless Chromium with the keyboard
// only, over the real pipeline (a reference-scene prompt, a tiny fit):
// Tab to the prompt, type, Enter; wait for the result; the 3D view must
// show the splat (object pixels of many colours), the sheet must load, the
// timings and the self-check must be shown; Tab to the 3D view and orbit
// it with the arrow keys: the picture must change.
func TestPageEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real pipeline and Chromium")
	}
	assets := viewertest.Assets(t, ort.CacheDir())
	prof := configs.DefaultProfile()
	prof.Matte.Enabled = false
	prof.Text2Img.Resolution = 64
	prof.Fit.Iterations = 5
	prof.Fit.Resolution = 32
	prof.Fit.InitCount = 8000
	bld := pipeline.NewBuilder(slog.New(slog.DiscardHandler), "")
	t.Cleanup(func() { bld.Close() })
	pl, err := bld.Build(t.Context(), prof)
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.RequestTimeout = 60 * time.Second
	opts.Viewer = assets
	ts := newTestServer(t, opts, GeneratorFunc(pl.Run))
	b := startBrowser(t) // after the server: closed before it

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	p, err := b.Open(ctx, ts.http.URL+"/", 1100, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	do(t, ctx, p, chromedp.KeyEvent(kb.Tab))
	if id := eval[string](t, ctx, p, "document.activeElement.id"); id != "prompt" {
		t.Fatalf("the first Tab focuses %q, want the prompt box", id)
	}
	do(t, ctx, p, chromedp.KeyEvent("a red cube"), chromedp.KeyEvent(kb.Enter))
	waitPage(t, ctx, p, `window.page.phase === "done" || window.page.phase === "error"`)
	if msg := eval[string](t, ctx, p, `window.page.error || ""`); msg != "" {
		t.Fatalf("the page shows an error: %s", msg)
	}
	waitPage(t, ctx, p, `["ready", "error"].includes(document.getElementById("view3d").dataset.state)
		&& document.getElementById("sheet").complete`)
	if st := eval[string](t, ctx, p, `document.getElementById("view3d").dataset.state`); st != "ready" {
		t.Fatalf("3D view %s: %s", st, eval[string](t, ctx, p, `document.getElementById("view3d").textContent`))
	}
	if w := eval[int](t, ctx, p, `document.getElementById("sheet").naturalWidth`); w != 4*518+12 {
		t.Errorf("the sheet is %d px wide, want the 4×4 validator views", w)
	}
	timings := eval[[]string](t, ctx, p, `[...document.querySelectorAll("#timings tbody tr")].map(r => r.innerText)`)
	joined := strings.Join(timings, "\n")
	for _, stage := range pl.Stages() {
		if !strings.Contains(joined, stage) {
			t.Errorf("timings table lacks stage %s:\n%s", stage, joined)
		}
	}
	if total := eval[string](t, ctx, p, `document.getElementById("total").textContent`); total == "" {
		t.Error("no total generation time shown")
	}
	if score := eval[string](t, ctx, p, `document.getElementById("score").textContent`); !strings.HasPrefix(score, "Self-check: fidelity score") {
		t.Errorf("score line %q", score)
	}
	if href := eval[string](t, ctx, p, `document.getElementById("dl-spz").href`); !strings.HasSuffix(href, "/model.spz") {
		t.Errorf("SPZ link %q", href)
	}

	// Let the sort settle (the frames after a change), then look.
	waitPage(t, ctx, p, `window.page.view && window.page.view.frames >= 6`)
	shot, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := viewertest.Shot(t, "serve-page", shot)
	view := rectOf(t, ctx, p, "#view3d canvas")
	px, colours := viewertest.ObjectPixels(before, view)
	area := view.Dx() * view.Dy()
	t.Logf("3D view %v: %d object pixels (%.1f%%), %d colours", view, px, 100*float64(px)/float64(area), colours)
	if px < area/100 || colours < 8 {
		t.Errorf("the 3D view looks blank: %d object pixels of %d, %d colours", px, area, colours)
	}

	// Keyboard orbit: Tab from the result heading reaches the 3D view.
	do(t, ctx, p, chromedp.KeyEvent(kb.Tab))
	if tag := eval[string](t, ctx, p, "document.activeElement.tagName"); tag != "CANVAS" {
		t.Fatalf("Tab after the result focuses %s, want the 3D view's canvas", tag)
	}
	frames := eval[int](t, ctx, p, "window.page.view.frames")
	do(t, ctx, p, chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight),
		chromedp.KeyEvent(kb.ArrowUp))
	waitPage(t, ctx, p, fmt.Sprintf("window.page.view.frames >= %d", frames+6))
	shot, err = p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := viewertest.Shot(t, "serve-page-orbited", shot)
	if d := viewertest.Differ(before, after, view); d < area/200 {
		t.Errorf("orbiting with the arrow keys changed %d pixels of the 3D view", d)
	}
	if px, _ := viewertest.ObjectPixels(after, view); px < area/100 {
		t.Errorf("after orbiting the 3D view looks blank: %d object pixels", px)
	}
}

// fakeAPI stands in for the service behind the real page: each test sets
// how POST /jobs and GET /jobs/{id} answer.
type fakeAPI struct {
	mu     sync.Mutex
	submit func(w http.ResponseWriter, r *http.Request)
	status func(w http.ResponseWriter, r *http.Request)
}

func (f *fakeAPI) set(submit, status http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.submit, f.status = submit, status
}

func newFakeAPI(t *testing.T) (*fakeAPI, *httptest.Server) {
	f := &fakeAPI{}
	mux := http.NewServeMux()
	addPage(mux, "test", nil)
	mux.HandleFunc("POST /jobs", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		h := f.submit
		f.mu.Unlock()
		h(w, r)
	})
	mux.HandleFunc("GET /jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		h := f.status
		f.mu.Unlock()
		h(w, r)
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return f, hs
}

func answer(code int, body any, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}
}

var queuedJob = JobStatus{ID: "j1", URL: "/jobs/j1", Prompt: "a red cube", State: JobQueued, Position: 3}

// submitByKeyboard loads the page and submits a prompt with keys only.
func submitByKeyboard(t *testing.T, ctx context.Context, b *browser.Browser, url string, w, h int) *browser.Page {
	t.Helper()
	p, err := b.Open(ctx, url, w, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	do(t, ctx, p, chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent("a red cube"), chromedp.KeyEvent(kb.Enter))
	return p
}

// TestPageErrors: every service error ends in words on the page, the
// spinner gone and the Generate button usable again.
func TestPageErrors(t *testing.T) {
	api, hs := newFakeAPI(t)
	b := startBrowser(t) // after the server: closed before it
	// hang answers nothing until the client gives up (its body read, so
	// the server notices the close) or 5 s pass.
	hang := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	tests := []struct {
		name           string
		submit, status http.HandlerFunc
		want           []string
	}{
		{"429 queue full", answer(429, errorBody{"every worker is busy and the queue is full (1 running, 8 queued); retry in 7 s"}, "Retry-After", "7"), nil,
			[]string{"The service is busy", "retry in 7 s", "HTTP 429"}},
		{"422 on submit", answer(422, errorBody{"the profile cannot generate this prompt"}), nil,
			[]string{"did not accept", "cannot generate", "HTTP 422"}},
		{"422 job failed", answer(202, queuedJob),
			answer(200, JobStatus{ID: "j1", State: JobFailed, Code: 422, Error: "stage text2img: the profile cannot generate this prompt"}),
			[]string{"generation failed", "cannot generate", "HTTP 422"}},
		{"504 job timed out", answer(202, queuedJob),
			answer(200, JobStatus{ID: "j1", State: JobFailed, Code: 504, Error: "generation did not finish within 1m0s"}),
			[]string{"timed out", "within 1m0s", "HTTP 504"}},
		{"submit never answered", hang, nil, []string{"did not answer within 2 s"}},
		{"status lost", answer(202, queuedJob), answer(500, errorBody{"boom"}), []string{"Lost track of the job", "boom"}},
		{"status never answered", answer(202, queuedJob), hang, []string{"Lost track of the job", "did not answer within 2 s"}},
		{"not JSON", answer(502, "Bad Gateway"), nil, []string{"HTTP 502", "Bad Gateway"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api.set(tt.submit, tt.status)
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			p := submitByKeyboard(t, ctx, b, hs.URL+"/?timeout=2000&poll=100", 900, 800)
			waitPage(t, ctx, p, `window.page.phase === "error"`)
			msg := eval[string](t, ctx, p, `document.getElementById("error").innerText`)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error shown %q lacks %q", msg, w)
				}
			}
			if busy := eval[bool](t, ctx, p, `document.getElementById("spinner").getClientRects().length > 0 || document.getElementById("state").getClientRects().length > 0 || document.getElementById("go").disabled`); busy {
				t.Error("after the error the spinner or progress line is still shown, or Generate still disabled")
			}
			if tt.name == "429 queue full" {
				viewertest.Shot(t, "serve-page-429", screenshot(t, ctx, p))
			}
		})
	}
}

func screenshot(t *testing.T, ctx context.Context, p *browser.Page) []byte {
	t.Helper()
	b, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPageProgressNarrow: on a phone-width window the page does not
// scroll sideways, and it shows the queue position, then the stage.
func TestPageProgressNarrow(t *testing.T) {
	api, hs := newFakeAPI(t)
	b := startBrowser(t) // after the server: closed before it
	var mu sync.Mutex
	cur := queuedJob
	api.set(answer(202, queuedJob), func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st := cur
		mu.Unlock()
		answer(200, st)(w, r)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	p := submitByKeyboard(t, ctx, b, hs.URL+"/?poll=100", 360, 800)
	waitPage(t, ctx, p, `window.page.phase === "waiting"`)
	if s := eval[string](t, ctx, p, `document.getElementById("state").innerText`); !strings.Contains(s, "2 job(s) ahead") {
		t.Errorf("queued at 3 shows %q", s)
	}
	mu.Lock()
	cur = JobStatus{ID: "j1", URL: "/jobs/j1", State: JobRunning, Stage: "fit", Stages: []string{"text2img", "matte", "fit"}}
	mu.Unlock()
	waitPage(t, ctx, p, `document.getElementById("state").innerText.includes("stage fit")`)
	if s := eval[string](t, ctx, p, `document.getElementById("stages").innerText`); !strings.Contains(s, "matte") {
		t.Errorf("stages shown %q", s)
	}
	viewertest.Shot(t, "serve-page-narrow", screenshot(t, ctx, p))
	if w := eval[[2]int](t, ctx, p, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		t.Errorf("at 360 px the page is %d px wide: it scrolls sideways", w[0])
	}
}

// TestPageImagePrompt: an image chosen in the file input is what the page
// sends (as prompt_image_file, with no text prompt); text and an image
// together are refused on the page, in words.
func TestPageImagePrompt(t *testing.T) {
	api, hs := newFakeAPI(t)
	b := startBrowser(t) // after the server: closed before it
	var mu sync.Mutex
	var got string
	api.set(func(w http.ResponseWriter, r *http.Request) {
		f, hdr, err := r.FormFile(FieldImage)
		msg := "no image"
		if err == nil {
			data, _ := io.ReadAll(f)
			msg = fmt.Sprintf("image %s %d bytes, prompt %q", hdr.Filename, len(data), r.FormValue(FieldPrompt))
		}
		mu.Lock()
		got = msg
		mu.Unlock()
		answer(422, errorBody{"saw " + msg})(w, r)
	}, nil)
	img := pngBytes(t, 16, 16)
	path := filepath.Join(t.TempDir(), "cube.png")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	p, err := b.Open(ctx, hs.URL+"/", 900, 800)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	do(t, ctx, p, chromedp.SetUploadFiles("#image", []string{path}))
	waitPage(t, ctx, p, `document.getElementById("imgname").innerText.includes("cube.png")`)

	// Text too: refused before anything is sent.
	do(t, ctx, p, chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent("a red cube"), chromedp.KeyEvent(kb.Enter))
	waitPage(t, ctx, p, `window.page.phase === "error"`)
	if msg := eval[string](t, ctx, p, `window.page.error`); !strings.Contains(msg, "not both") {
		t.Errorf("text and image: %q", msg)
	}
	// Clear the text: the image alone goes.
	eval[bool](t, ctx, p, `(document.getElementById("prompt").value = "") === ""`)
	do(t, ctx, p, chromedp.Click("#go"))
	waitPage(t, ctx, p, `window.page.phase === "error" && window.page.error.includes("saw")`)
	mu.Lock()
	defer mu.Unlock()
	if want := fmt.Sprintf("image cube.png %d bytes, prompt \"\"", len(img)); got != want {
		t.Errorf("the service got %q, want %q", got, want)
	}
}
