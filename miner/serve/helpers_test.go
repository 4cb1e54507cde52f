package serve

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/splat"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeCloud builds n Gaussians on a unit sphere with varied rotations,
// scales, colours and opacities: it passes the validator's gates when
// n ≥ 7000.
func fakeCloud(n int, seed int64) *splat.Cloud {
	c := splat.NewCloud(n, 0)
	golden := math.Pi * (3 - math.Sqrt(5))
	for i := range n {
		y := 1 - 2*(float64(i)+0.5)/float64(n)
		r := math.Sqrt(1 - y*y)
		th := golden*float64(i) + float64(seed)
		c.Pos[3*i], c.Pos[3*i+1], c.Pos[3*i+2] = float32(r*math.Cos(th)), float32(y), float32(r*math.Sin(th))
		for k := range 3 {
			c.LogScale[3*i+k] = -4 + 0.1*float32(k)
			c.SH[3*i+k] = float32(math.Sin(th + float64(k)))
		}
		c.Rot[4*i], c.Rot[4*i+1], c.Rot[4*i+2], c.Rot[4*i+3] = 1, float32(math.Cos(th)), float32(y), 0.3
		c.OpacityLogit[i] = float32(2 * math.Cos(3*th))
	}
	return c
}

// fakeGen is a Generator for tests: it builds fakeCloud(n) and can wait,
// fail, panic or block until released.
type fakeGen struct {
	n       int
	delay   time.Duration
	err     error
	panics  bool
	release chan struct{} // when set, each call waits for a receive (or ctx)
	deaf    bool          // wait for release even after ctx is done
	started chan string   // when set, each call sends its job id on start
	calls   atomic.Int64

	mu   sync.Mutex
	jobs []pipeline.Job
}

func (g *fakeGen) Generate(ctx context.Context, job pipeline.Job) (*pipeline.State, []pipeline.Timing, error) {
	g.calls.Add(1)
	g.mu.Lock()
	g.jobs = append(g.jobs, job)
	g.mu.Unlock()
	if g.started != nil {
		g.started <- job.ID
	}
	if g.release != nil && g.deaf {
		<-g.release
	} else if g.release != nil {
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	if g.delay > 0 {
		select {
		case <-time.After(g.delay):
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	if g.panics {
		panic("fake generator exploded")
	}
	if g.err != nil {
		return nil, []pipeline.Timing{{Stage: "text2img", Seconds: 0.001}}, g.err
	}
	n := g.n
	if n == 0 {
		n = 8000
	}
	st := &pipeline.State{Job: job, Cloud: fakeCloud(n, job.Seed), ScoreKind: "fidelity",
		Scores: map[string]float64{"score": 0.75}, Accepted: true}
	return st, []pipeline.Timing{{Stage: "fit", Seconds: 0.002}}, nil
}

func (g *fakeGen) lastJob(t *testing.T) pipeline.Job {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.jobs) == 0 {
		t.Fatal("the generator was never called")
	}
	return g.jobs[len(g.jobs)-1]
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testOptions() Options {
	o := DefaultOptions()
	o.RequestTimeout = 10 * time.Second
	o.MaxImageBytes = 64 << 10
	o.MaxImagePixels = 512 * 512
	o.ShutdownTimeout = 5 * time.Second
	o.Version = "1.2.3-test"
	return o
}

type testServer struct {
	*Server
	reg  *prometheus.Registry
	logs *syncBuffer
	http *httptest.Server
}

// newTestServer starts a Server behind httptest with its own registry and
// a JSON log buffer; both are closed at cleanup.
func newTestServer(t testing.TB, opts Options, gen Generator) *testServer {
	t.Helper()
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	s, err := New(opts, gen, log, reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	return &testServer{Server: s, reg: reg, logs: logs, http: hs}
}

// pngBytes encodes a w×h test image.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// formPart is one part of a multipart body: a file when filename is set.
type formPart struct {
	name, filename string
	data           []byte
}

func multipartBody(t testing.TB, parts ...formPart) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, mw.FormDataContentType()
}

// post sends a request and returns the response with its body read.
func post(t testing.TB, client *http.Client, url, contentType string, body io.Reader, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading body: %v", url, err)
	}
	return resp, data
}

func postText(t testing.TB, ts *testServer, form url.Values) (*http.Response, []byte) {
	t.Helper()
	return post(t, ts.http.Client(), ts.http.URL+"/generate/", "application/x-www-form-urlencoded",
		strings.NewReader(form.Encode()), nil)
}

func postImage(t testing.TB, ts *testServer, parts ...formPart) (*http.Response, []byte) {
	t.Helper()
	body, ct := multipartBody(t, parts...)
	return post(t, ts.http.Client(), ts.http.URL+"/generate", ct, body, nil)
}

// metricValue returns the value of a counter or gauge with the given
// labels from reg (0 when absent).
func metricValue(t testing.TB, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelsMatch(m, labels) {
				switch {
				case m.Counter != nil:
					return m.GetCounter().GetValue()
				case m.Gauge != nil:
					return m.GetGauge().GetValue()
				case m.Histogram != nil:
					return float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return 0
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

var errFake = errors.New("fit diverged: loss is NaN at iteration 3")
