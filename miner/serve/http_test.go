package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/prompts"
)

func get(t *testing.T, ts *testServer, path string) (int, string) {
	t.Helper()
	resp, err := ts.http.Client().Get(ts.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestHealthAndWarmup(t *testing.T) {
	t.Parallel()
	gen := &fakeGen{}
	ts := newTestServer(t, testOptions(), gen)
	code, body := get(t, ts, "/health")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"status":"warming up"`) {
		t.Fatalf("before warm-up: %d %s, want 503 warming up", code, body)
	}
	job := pipeline.Job{ID: "warmup", Prompt: prompts.Text("a red cube")}
	if err := ts.Warmup(t.Context(), job); err != nil {
		t.Fatalf("Warmup: %v", err)
	}
	code, body = get(t, ts, "/health")
	var h healthBody
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK || cmp.Diff(healthBody{Status: "healthy", Workers: 1}, h) != "" {
		t.Fatalf("after warm-up: %d %s, want 200 healthy", code, body)
	}
	if got := metricValue(t, ts.reg, "splatbench_serve_ready", nil); got != 1 {
		t.Errorf("ready gauge = %v, want 1", got)
	}
	if gen.lastJob(t).ID != "warmup" {
		t.Errorf("warm-up job did not reach the generator")
	}
}

func TestWarmupFailureStaysUnready(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, testOptions(), &fakeGen{n: 100})
	err := ts.Warmup(t.Context(), pipeline.Job{ID: "w", Prompt: prompts.Text("a red cube")})
	if err == nil || !strings.Contains(err.Error(), "warm-up job w") || !strings.Contains(err.Error(), "100 Gaussians") {
		t.Fatalf("Warmup: err = %v, want the gate failure", err)
	}
	if code, _ := get(t, ts, "/health"); code != http.StatusServiceUnavailable || ts.Ready() {
		t.Errorf("after a failed warm-up: /health %d, Ready %v; want 503, false", code, ts.Ready())
	}
}

func TestVersionAndRouting(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, testOptions(), &fakeGen{})
	tests := []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/version", 200, "\"1.2.3-test\"\n"},
		{"GET", "/generate", 405, ""},
		{"GET", "/generate/", 405, ""},
		{"POST", "/generate/extra", 404, ""},
		{"GET", "/nope", 404, ""},
		{"POST", "/health", 405, ""},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, ts.http.URL+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ts.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || (tt.body != "" && string(b) != tt.body) {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, b, tt.code, tt.body)
		}
	}
	if got := metricValue(t, ts.reg, "splatbench_serve_requests_total", map[string]string{"route": "unmatched", "code": "404"}); got != 2 {
		t.Errorf("requests{route=unmatched,code=404} = %v, want 2", got)
	}
}

// TestMetricsEndpoint checks /metrics serves the service's families in the
// Prometheus text format after one success and one failure.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, testOptions(), &fakeGen{})
	resp, _ := postText(t, ts, url.Values{"prompt": {"a red cube"}})
	if resp.StatusCode != 200 {
		t.Fatalf("generate: %d", resp.StatusCode)
	}
	postText(t, ts, url.Values{"prompt": {""}})
	code, body := get(t, ts, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`splatbench_serve_requests_total{code="200",route="/generate/"} 1`,
		`splatbench_serve_requests_total{code="400",route="/generate/"} 1`,
		`splatbench_serve_request_duration_seconds_count{route="/generate/"} 2`,
		`splatbench_serve_generation_seconds_count 1`,
		`splatbench_serve_generations_total 1`,
		`splatbench_serve_stage_seconds_count{stage="fit"} 1`,
		`splatbench_serve_queue_depth 0`,
		`splatbench_serve_in_flight_generations 0`,
		`splatbench_serve_ready 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// A Registerer that cannot gather (a wrapped one) still works; /metrics
// is then someone else's to serve.
func TestRegistererWithoutGatherer(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	s, err := New(testOptions(), &fakeGen{}, slog.New(slog.DiscardHandler), prometheus.WrapRegistererWith(prometheus.Labels{"gpu": "0"}, reg))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := metricValue(t, reg, "splatbench_serve_queue_depth", map[string]string{"gpu": "0"}); n != 0 {
		t.Errorf("queue depth %v", n)
	}
	mfs, _ := reg.Gather()
	if len(mfs) == 0 {
		t.Error("nothing registered on the wrapped registry")
	}
}

// TestRequestIDInEveryLogLine: a client's X-Request-Id comes back and
// tags every log line of its request; a missing or unsafe one is replaced.
func TestRequestIDInEveryLogLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"client id", "req-7f3a.b_c", true},
		{"no id", "", false},
		{"unsafe id", "a b\"c", false},
		{"long id", strings.Repeat("x", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, testOptions(), &fakeGen{})
			hdr := http.Header{}
			if tt.in != "" {
				hdr.Set(HeaderRequestID, tt.in)
			}
			resp, _ := post(t, ts.http.Client(), ts.http.URL+"/generate/", "application/x-www-form-urlencoded",
				strings.NewReader("prompt=a+red+cube"), hdr)
			id := resp.Header.Get(HeaderRequestID)
			if tt.keep && id != tt.in {
				t.Errorf("id %q, want the client's %q", id, tt.in)
			}
			if !tt.keep && (id == "" || id == tt.in || len(id) != 16) {
				t.Errorf("id %q: want a fresh 16-hex id", id)
			}
			var lines int
			sc := bufio.NewScanner(strings.NewReader(ts.logs.String()))
			for sc.Scan() {
				var rec map[string]any
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					t.Fatalf("log line %q: %v", sc.Text(), err)
				}
				lines++
				if rec["request_id"] != id {
					t.Errorf("log line without request_id %q: %s", id, sc.Text())
				}
			}
			if lines < 3 { // requested, generation done, request
				t.Errorf("%d log lines, want at least 3:\n%s", lines, ts.logs.String())
			}
		})
	}
}

// TestWarmupWaitsForRoom: with the only worker busy and no queue, the
// warm-up waits instead of being refused, and gives up with its context.
func TestWarmupWaitsForRoom(t *testing.T) {
	t.Parallel()
	gen := &fakeGen{release: make(chan struct{}), started: make(chan string, 4)}
	opts := testOptions()
	opts.Workers, opts.QueueSize = 1, 0
	ts := newTestServer(t, opts, gen)
	go postText(t, ts, url.Values{"prompt": {"holds the worker"}})
	<-gen.started

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := ts.Warmup(ctx, pipeline.Job{ID: "w1"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Warmup with a full queue and a short context: err = %v, want DeadlineExceeded", err)
	}
	warmed := make(chan error, 1)
	go func() { warmed <- ts.Warmup(t.Context(), pipeline.Job{ID: "w2", Prompt: prompts.Text("a red cube")}) }()
	gen.release <- struct{}{} // the request finishes; the warm-up gets the worker
	<-gen.started
	gen.release <- struct{}{}
	if err := <-warmed; err != nil || !ts.Ready() {
		t.Errorf("Warmup: %v, ready %v", err, ts.Ready())
	}
}
