package browser

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// EnvRequire makes a missing Chromium a test failure instead of a skip;
// `make test` sets it, since the set-up installs Chromium.
const EnvRequire = "SPLATBENCH_REQUIRE_BROWSER"

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start starts a browser for a test, skipping (or failing, under
// SPLATBENCH_REQUIRE_BROWSER) where none is installed.
func start(t *testing.T) *Browser {
	t.Helper()
	if _, err := Find(); err != nil {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("%v (%s is set)", err, EnvRequire)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	b, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// A WebGL page: clears to a colour, then draws a green triangle in the
// middle. SwiftShader must give WebGL here, as the Three.js renders need it.
const webglPage = `<!doctype html><html><body style="margin:0;background:#fff">
<canvas id=c width=200 height=100></canvas>
<script>
const gl = document.getElementById('c').getContext('webgl2');
if (!gl) { throw new Error('no webgl2'); }
gl.clearColor(1, 0, 0, 1); gl.clear(gl.COLOR_BUFFER_BIT);
const vs = gl.createShader(gl.VERTEX_SHADER);
gl.shaderSource(vs, '#version 300 es\nin vec2 p; void main(){ gl_Position = vec4(p,0,1); }'); gl.compileShader(vs);
const fs = gl.createShader(gl.FRAGMENT_SHADER);
gl.shaderSource(fs, '#version 300 es\nprecision mediump float; out vec4 o; void main(){ o = vec4(0,1,0,1); }'); gl.compileShader(fs);
const pr = gl.createProgram(); gl.attachShader(pr, vs); gl.attachShader(pr, fs); gl.linkProgram(pr); gl.useProgram(pr);
gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-0.5,-0.5, 0.5,-0.5, 0,0.5]), gl.STATIC_DRAW);
gl.enableVertexAttribArray(0); gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
gl.drawArrays(gl.TRIANGLES, 0, 3);
window.drawn = gl.getParameter(gl.RENDERER);
console.log('renderer', window.drawn);
</script></body></html>`

const throwingPage = `<!doctype html><script>throw new Error("model failed: bad vertex count")</script>`

func servePages(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/webgl", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(webglPage)) })
	mux.HandleFunc("/throw", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(throwingPage)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestWebGLScreenshot(t *testing.T) {
	b := start(t)
	srv := servePages(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, err := b.Open(ctx, srv.URL+"/webgl", 320, 160)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.WaitFor(ctx, "window.drawn"); err != nil {
		t.Fatal(err)
	}
	renderer, err := Eval[string](ctx, p, "window.drawn")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("WebGL renderer: %s", renderer)
	shot, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got != image.Pt(320, 160) {
		t.Fatalf("screenshot is %v, want 320×160", got)
	}
	// The canvas is 200×100 at the top left: red round a green triangle;
	// outside it the page is white.
	for _, c := range []struct {
		x, y    int
		r, g, b uint32
	}{
		{5, 5, 255, 0, 0},         // clear colour
		{100, 50, 0, 255, 0},      // triangle centre
		{300, 150, 255, 255, 255}, // page background
	} {
		r, g, bl, _ := img.At(c.x, c.y).RGBA()
		if r>>8 != c.r || g>>8 != c.g || bl>>8 != c.b {
			t.Errorf("pixel (%d,%d) = %d,%d,%d, want %d,%d,%d", c.x, c.y, r>>8, g>>8, bl>>8, c.r, c.g, c.b)
		}
	}
}

func TestWaitForQuotesTheConsole(t *testing.T) {
	b := start(t)
	srv := servePages(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, err := b.Open(ctx, srv.URL+"/throw", 100, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	wctx, wcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer wcancel()
	err = p.WaitFor(wctx, "window.never")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	if !strings.Contains(err.Error(), "bad vertex count") {
		t.Errorf("error %q does not quote the page's exception", err)
	}
	// The tab is still usable after a bounded wait ran out.
	if _, err := Eval[int](ctx, p, "1+1"); err != nil {
		t.Errorf("tab unusable after a timed-out wait: %v", err)
	}
}

func TestStartNamesAMissingExecutable(t *testing.T) {
	_, err := Start(t.Context(), Options{Exec: "/nonexistent/chromium"})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/chromium") {
		t.Fatalf("err = %v, want one naming the executable", err)
	}
}

func TestFindHonoursTheEnvironment(t *testing.T) {
	t.Setenv(EnvExec, "/nonexistent/chrome")
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "/nonexistent/chrome") {
		t.Fatalf("Find() err = %v, want one naming %s", err, EnvExec)
	}
}
