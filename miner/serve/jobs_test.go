package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/splat"
)

func submitJob(t *testing.T, ts *testServer, form url.Values) (*http.Response, JobStatus, []byte) {
	t.Helper()
	resp, body := post(t, ts.http.Client(), ts.http.URL+"/jobs", "application/x-www-form-urlencoded",
		strings.NewReader(form.Encode()), nil)
	var st JobStatus
	if resp.StatusCode == http.StatusAccepted {
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatalf("POST /jobs: %v in %s", err, body)
		}
	}
	return resp, st, body
}

func getJob(t *testing.T, ts *testServer, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := ts.http.Client().Get(ts.http.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp, b
}

func jobStatusOf(t *testing.T, ts *testServer, id string) JobStatus {
	t.Helper()
	resp, b := getJob(t, ts, "/jobs/"+id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /jobs/%s: %d %s", id, resp.StatusCode, b)
	}
	var st JobStatus
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitJob polls until the job's state is want (or fails the test after 20 s).
func waitJob(t *testing.T, ts *testServer, id string, want func(JobStatus) bool) JobStatus {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := jobStatusOf(t, ts, id)
		if want(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: still %+v", id, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func finished(st JobStatus) bool { return st.State == JobDone || st.State == JobFailed }

func TestJobDoneServesItsFiles(t *testing.T) {
	ts := newTestServer(t, testOptions(), &fakeGen{n: 7200})
	resp, st, body := submitJob(t, ts, url.Values{"prompt": {"a red cube"}, "seed": {"7"}})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /jobs: %d %s", resp.StatusCode, body)
	}
	if loc := resp.Header.Get("Location"); loc != st.URL || st.URL != "/jobs/"+st.ID {
		t.Errorf("Location %q, url %q, id %q", loc, st.URL, st.ID)
	}
	st = waitJob(t, ts, st.ID, finished)
	if st.State != JobDone {
		t.Fatalf("job ended %+v", st)
	}
	want := JobStatus{ID: st.ID, URL: st.URL, Prompt: "a red cube", Seed: 7, State: JobDone,
		Timings: []JobTiming{{Stage: "fit", Seconds: 0.002}}, Seconds: st.Seconds, Splats: 7200,
		Score: ptr(0.75), ScoreKind: "fidelity", Accepted: ptr(true),
		Files: map[string]string{"ply": st.URL + "/model.ply", "spz": st.URL + "/model.spz", "sheet": st.URL + "/sheet.png"}}
	if d := cmp.Diff(want, st); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}
	if st.Seconds <= 0 {
		t.Errorf("seconds %v", st.Seconds)
	}
	_, ply := getJob(t, ts, st.Files["ply"])
	c, _, err := splat.ReadPLY(bytes.NewReader(ply))
	if err != nil || c.Len() != 7200 {
		t.Fatalf("model.ply: %v, %v", c, err)
	}
	_, spz := getJob(t, ts, st.Files["spz"])
	if c, _, err := splat.ReadSPZ(bytes.NewReader(spz)); err != nil || c.Len() != 7200 {
		t.Fatalf("model.spz: %v", err)
	}
	resp, sheet := getJob(t, ts, st.Files["sheet"])
	img, err := png.Decode(bytes.NewReader(sheet))
	if err != nil || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("sheet.png: %v (%s)", err, resp.Header.Get("Content-Type"))
	}
	if b := img.Bounds(); b.Dx() != 4*splat.ValidatorSize+12 || b.Dy() != b.Dx() {
		t.Errorf("sheet %v: want 4×4 validator views", b)
	}
	for _, bad := range []string{"/jobs/" + st.ID + "/model.obj", "/jobs/nope", "/jobs/nope/model.ply"} {
		if resp, b := getJob(t, ts, bad); resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "no ") {
			t.Errorf("GET %s: %d %s, want 404 in words", bad, resp.StatusCode, b)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestJobQueuePositions: one worker, a queue of two: the first job runs,
// the next two report positions 1 and 2, a fourth is refused 429 with
// Retry-After, and the positions move up as jobs finish.
func TestJobQueuePositions(t *testing.T) {
	gen := &fakeGen{release: make(chan struct{}), started: make(chan string, 8)}
	opts := testOptions()
	opts.QueueSize = 2
	ts := newTestServer(t, opts, gen)
	var ids []string
	for i := range 3 {
		resp, st, body := submitJob(t, ts, url.Values{"prompt": {"a red cube"}})
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("job %d: %d %s", i, resp.StatusCode, body)
		}
		ids = append(ids, st.ID)
		if i == 0 {
			<-gen.started
		}
	}
	if st := jobStatusOf(t, ts, ids[0]); st.State != JobRunning || st.Position != 0 {
		t.Errorf("first job %+v, want running", st)
	}
	for i, want := range []int{1, 2} {
		if st := jobStatusOf(t, ts, ids[i+1]); st.State != JobQueued || st.Position != want {
			t.Errorf("job %d: %s at %d, want queued at %d", i+1, st.State, st.Position, want)
		}
	}
	resp, _, body := submitJob(t, ts, url.Values{"prompt": {"a red cube"}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), "queue is full") {
		t.Errorf("fourth job: %d Retry-After %q %s, want 429 in words", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	gen.release <- struct{}{}
	<-gen.started
	waitJob(t, ts, ids[0], finished)
	if st := jobStatusOf(t, ts, ids[2]); st.State != JobQueued || st.Position != 1 {
		t.Errorf("last job after one finished: %s at %d, want queued at 1", st.State, st.Position)
	}
	gen.release <- struct{}{}
	<-gen.started
	gen.release <- struct{}{}
	for _, id := range ids {
		if st := waitJob(t, ts, id, finished); st.State != JobDone {
			t.Errorf("job %s: %+v", id, st)
		}
	}
}

// blockStage is a pipeline stage that waits for a release (or ctx).
type blockStage struct {
	name    string
	release chan struct{}
	cloud   bool // set the output cloud
}

func (s blockStage) Name() string { return s.name }
func (s blockStage) Run(ctx context.Context, st *pipeline.State) error {
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.cloud {
		st.Cloud = fakeCloud(7000, 1)
	}
	return nil
}

// TestJobReportsStage: the status names the stage a real pipeline runs.
func TestJobReportsStage(t *testing.T) {
	release := make(chan struct{})
	p := pipeline.New(slog.New(slog.DiscardHandler),
		blockStage{name: "text2img"}, blockStage{name: "fit", release: release}, blockStage{name: "score", cloud: true})
	ts := newTestServer(t, testOptions(), GeneratorFunc(p.Run))
	_, st, _ := submitJob(t, ts, url.Values{"prompt": {"a red cube"}})
	st = waitJob(t, ts, st.ID, func(s JobStatus) bool { return s.Stage == "fit" })
	if d := cmp.Diff([]string{"text2img", "fit"}, st.Stages); d != "" || st.State != JobRunning {
		t.Errorf("%s; stages (-want +got):\n%s", st.State, d)
	}
	close(release)
	st = waitJob(t, ts, st.ID, finished)
	var stages []string
	for _, tm := range st.Timings {
		stages = append(stages, tm.Stage)
	}
	if d := cmp.Diff([]string{"text2img", "fit", "score"}, stages); d != "" || st.State != JobDone {
		t.Errorf("%s %s; timings (-want +got):\n%s", st.State, st.Error, d)
	}
}

func TestJobFailures(t *testing.T) {
	tests := []struct {
		name     string
		gen      *fakeGen
		timeout  time.Duration
		wantCode int
		wantErr  string
	}{
		{"deadline", &fakeGen{delay: time.Minute}, 100 * time.Millisecond, http.StatusGatewayTimeout, "did not finish within 100ms"},
		{"generator error", &fakeGen{err: errors.New("out of ideas")}, 0, http.StatusInternalServerError, "out of ideas"},
		{"cannot generate", &fakeGen{err: pipeline.ErrCannotGenerate}, 0, http.StatusUnprocessableEntity, "cannot generate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			if tt.timeout > 0 {
				opts.RequestTimeout = tt.timeout
			}
			ts := newTestServer(t, opts, tt.gen)
			_, st, _ := submitJob(t, ts, url.Values{"prompt": {"a red cube"}})
			st = waitJob(t, ts, st.ID, finished)
			if st.State != JobFailed || st.Code != tt.wantCode || !strings.Contains(st.Error, tt.wantErr) {
				t.Errorf("%+v, want failed %d %q", st, tt.wantCode, tt.wantErr)
			}
			if resp, b := getJob(t, ts, st.URL+"/model.ply"); resp.StatusCode != http.StatusConflict {
				t.Errorf("model.ply of a failed job: %d %s, want 409", resp.StatusCode, b)
			}
		})
	}
}

func TestJobBadInput(t *testing.T) {
	img := pngBytes(t, 8, 8)
	tests := []struct {
		name     string
		parts    []formPart
		wantCode int
		wantErr  string
	}{
		{"neither", []formPart{{name: "seed", data: []byte("1")}}, 400, "missing form field prompt"},
		{"both", []formPart{{name: "prompt", data: []byte("a cube")}, {name: FieldImage, filename: "a.png", data: img}}, 400, "not both"},
		{"not an image", []formPart{{name: FieldImage, filename: "a.png", data: []byte("hello")}}, 400, "not a PNG or JPEG"},
		{"bad seed", []formPart{{name: "prompt", data: []byte("a cube")}, {name: "seed", data: []byte("x")}}, 400, "not an integer"},
		{"blank prompt", []formPart{{name: "prompt", data: []byte("  ")}}, 400, "empty"},
	}
	ts := newTestServer(t, testOptions(), &fakeGen{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartBody(t, tt.parts...)
			resp, b := post(t, ts.http.Client(), ts.http.URL+"/jobs", ct, body, nil)
			if resp.StatusCode != tt.wantCode || !strings.Contains(string(b), tt.wantErr) {
				t.Errorf("%d %s, want %d %q", resp.StatusCode, b, tt.wantCode, tt.wantErr)
			}
		})
	}
	// An image job (with the empty prompt field a browser form sends).
	body, ct := multipartBody(t, formPart{name: "prompt", data: nil}, formPart{name: FieldImage, filename: "cat.png", data: img})
	resp, b := post(t, ts.http.Client(), ts.http.URL+"/jobs", ct, body, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("image job: %d %s", resp.StatusCode, b)
	}
	var st JobStatus
	_ = json.Unmarshal(b, &st)
	if st = waitJob(t, ts, st.ID, finished); st.State != JobDone || st.Prompt != "image cat.png" {
		t.Errorf("image job %+v", st)
	}
}

// TestJobsKept: finished jobs beyond KeptJobs are dropped, oldest first.
func TestJobsKept(t *testing.T) {
	opts := testOptions()
	opts.KeptJobs = 2
	ts := newTestServer(t, opts, &fakeGen{})
	var ids []string
	for range 3 {
		_, st, _ := submitJob(t, ts, url.Values{"prompt": {"a red cube"}})
		waitJob(t, ts, st.ID, finished)
		ids = append(ids, st.ID)
	}
	if resp, _ := getJob(t, ts, "/jobs/"+ids[0]); resp.StatusCode != http.StatusNotFound {
		t.Errorf("oldest job: %d, want 404", resp.StatusCode)
	}
	for _, id := range ids[1:] {
		if resp, _ := getJob(t, ts, "/jobs/"+id); resp.StatusCode != http.StatusOK {
			t.Errorf("job %s: %d, want kept", id, resp.StatusCode)
		}
	}
}

// FuzzJobForm sends arbitrary bodies to POST /jobs as multipart and as a
// URL-encoded form: the answer is 202 with a job, or a 4xx JSON error;
// never a 5xx or a panic.
func FuzzJobForm(f *testing.F) {
	img := pngBytes(f, 4, 4)
	var mp bytes.Buffer
	mp.WriteString("--B\r\nContent-Disposition: form-data; name=\"prompt_image_file\"; filename=\"a.png\"\r\n\r\n")
	mp.Write(img)
	mp.WriteString("\r\n--B\r\nContent-Disposition: form-data; name=\"seed\"\r\n\r\n4\r\n--B--\r\n")
	f.Add(mp.Bytes(), true)
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na red cube\r\n--B--\r\n"), true)
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nx\r\n--B\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\ny\r\n--B--\r\n"), true)
	f.Add([]byte("--B\r\n\r\n"), true)
	f.Add([]byte("prompt=a+red+cube&seed=3"), false)
	f.Add([]byte("prompt=%ff%00&seed=-9"), false)
	opts := testOptions()
	opts.TempDir = f.TempDir()
	opts.MaxImageBytes = 8 << 10
	opts.MaxImagePixels = 64 * 64
	opts.KeptJobs = 4
	s, err := New(opts, &fakeGen{n: 7000}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte, multipart bool) {
		req := httptest.NewRequest(http.MethodPost, "/jobs", bytes.NewReader(body))
		if multipart {
			req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch c := rec.Code; {
		case c == http.StatusAccepted:
			var st JobStatus
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.ID == "" {
				t.Errorf("202 with %q", rec.Body.Bytes())
			}
		case c >= 400 && c < 500:
			if !bytes.HasPrefix(rec.Body.Bytes(), []byte(`{"error":`)) {
				t.Errorf("%d with body %q, want a JSON error", c, rec.Body.Bytes())
			}
		default:
			t.Errorf("status %d for client input: %s", c, rec.Body.Bytes())
		}
	})
}

// TestJobIDsAreFresh: jobs get ids of their own, whatever X-Request-Id the
// client sends, so one client cannot replace another's job.
func TestJobIDsAreFresh(t *testing.T) {
	ts := newTestServer(t, testOptions(), &fakeGen{})
	hdr := http.Header{HeaderRequestID: {"same-id"}}
	seen := map[string]bool{}
	for range 2 {
		resp, b := post(t, ts.http.Client(), ts.http.URL+"/jobs", "application/x-www-form-urlencoded",
			strings.NewReader("prompt=a+red+cube"), hdr)
		var st JobStatus
		if err := json.Unmarshal(b, &st); err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		if st.ID == "same-id" || seen[st.ID] {
			t.Errorf("job id %q reused", st.ID)
		}
		seen[st.ID] = true
		waitJob(t, ts, st.ID, finished)
	}
}
