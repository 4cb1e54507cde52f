package pod

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/pipeline/imagefile/imagefiletest"
)

func batchOf(imgs *imageServer, stems ...string) GenerateRequest {
	req := GenerateRequest{Seed: 42}
	for _, st := range stems {
		req.Prompts = append(req.Prompts, Prompt{Stem: st, ImageURL: imgs.url(st)})
	}
	return req
}

func getResults(t *testing.T, base string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(base + "/results")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestStateMachine(t *testing.T) {
	imgs := newImageServer(t)
	gate := make(chan struct{})
	s, srv := newPod(t, testOptions(), moduleGen(gate), moduleGen(gate))

	// warming_up: /health answers, /generate and /results refuse.
	if resp, err := http.Get(srv.URL + "/health"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/health while warming up: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	st := getStatus(t, srv.URL, "?replacements_remaining=3")
	if st.Status != WarmingUp || st.Progress != nil || st.Total != nil {
		t.Fatalf("status %+v, want warming_up with null progress", st)
	}
	first := batchOf(imgs, "a1", "b2", "c3")
	code, body := postGenerate(t, srv.URL, first)
	assertRefused(t, code, body, WarmingUp)

	if resp, _ := getResults(t, srv.URL); resp.StatusCode != http.StatusConflict {
		t.Fatalf("/results while warming up: %s", resp.Status)
	}

	s.SetReady(nil)
	if st := getStatus(t, srv.URL, ""); st.Status != Ready {
		t.Fatalf("after SetReady: %q", st.Status)
	}
	code, body = postGenerate(t, srv.URL, first)
	if code != 200 || string(body) != "{\"accepted\":3}\n" {
		t.Fatalf("first batch: %d %s", code, body)
	}
	st = getStatus(t, srv.URL, "")
	if st.Status != Generating || st.Total == nil || *st.Total != 3 || st.Progress == nil {
		t.Fatalf("status %+v, want generating 0/3", st)
	}
	// The same set of stems in another order is a retry.
	retry := first
	retry.Prompts = slices.Clone(first.Prompts)
	slices.Reverse(retry.Prompts)
	if code, body := postGenerate(t, srv.URL, retry); code != 200 || !strings.Contains(string(body), `"accepted":3`) {
		t.Fatalf("retry: %d %s", code, body)
	}
	code, body = postGenerate(t, srv.URL, batchOf(imgs, "a1", "b2"))
	assertRefused(t, code, body, Generating)
	if resp, b := getResults(t, srv.URL); resp.StatusCode != http.StatusConflict {
		t.Fatalf("/results while generating: %s", resp.Status)
	} else {
		assertRefused(t, resp.StatusCode, b, Generating)
	}

	close(gate)
	st = waitStatus(t, srv.URL, Complete)
	if *st.Progress != 3 || *st.Total != 3 {
		t.Fatalf("complete %d/%d, want 3/3", *st.Progress, *st.Total)
	}
	resp, zip1 := getResults(t, srv.URL)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("/results: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if !slices.Equal(resp.TransferEncoding, []string{"chunked"}) || resp.ContentLength != -1 || resp.Header.Get("Content-Length") != "" {
		t.Fatalf("/results not chunked: transfer %v, length %d", resp.TransferEncoding, resp.ContentLength)
	}
	mods, failed := unzip(t, zip1)
	if len(failed) != 0 || len(mods) != 3 {
		t.Fatalf("modules %v failed %v", mods, failed)
	}
	for _, stem := range []string{"a1", "b2", "c3"} {
		if !strings.Contains(mods[stem], "// "+stem+" 32x32 seed 42") {
			t.Errorf("%s.js = %q", stem, mods[stem])
		}
	}
	// Identical bytes on every call; a retried POST of the finished batch
	// does not restart it.
	if code, _ := postGenerate(t, srv.URL, retry); code != 200 {
		t.Fatalf("retry while complete: %d", code)
	}
	if st := getStatus(t, srv.URL, ""); st.Status != Complete {
		t.Fatalf("a retry restarted the batch: %q", st.Status)
	}
	if _, zip2 := getResults(t, srv.URL); !bytes.Equal(zip1, zip2) {
		t.Fatal("a second /results differs from the first")
	}

	// The next batch, from complete.
	if code, body := postGenerate(t, srv.URL, batchOf(imgs, "d4")); code != 200 {
		t.Fatalf("second batch: %d %s", code, body)
	}
	waitStatus(t, srv.URL, Complete)
	_, zip3 := getResults(t, srv.URL)
	mods, _ = unzip(t, zip3)
	if diff := cmp.Diff([]string{"d4"}, keys(mods)); diff != "" {
		t.Fatalf("second batch's modules (-want +got):\n%s", diff)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestWarmup(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	s, srv := newPod(t, testOptions(), moduleGen(nil), moduleGen(nil))
	if err := s.Warmup(context.Background(), img, nil); err != nil {
		t.Fatal(err)
	}
	if st := getStatus(t, srv.URL, ""); st.Status != Ready {
		t.Fatalf("after warm-up: %q", st.Status)
	}
	bad := GeneratorFunc(func(context.Context, image.Image, string, int64) ([]byte, error) {
		return nil, errors.New("no CUDA context")
	})
	s2, srv2 := newPod(t, testOptions(), moduleGen(nil), bad)
	err := s2.Warmup(context.Background(), img, nil)
	if err == nil || !strings.Contains(err.Error(), "worker 1") {
		t.Fatalf("warm-up error %v, want one naming worker 1", err)
	}
	if st := getStatus(t, srv2.URL, ""); st.Status != WarmingUp || !strings.Contains(string(st.Payload), "warm-up failed") {
		t.Fatalf("after a failed warm-up: %+v %s", st, st.Payload)
	}
}

// TestFailures: every way a prompt can fail becomes a _failed.json entry
// with a reason, the rest succeed, and every stem is in exactly one place.
func TestFailures(t *testing.T) {
	imgs := newImageServer(t)
	imgs.bodies["bomb"] = imagefiletest.BombPNG(100000, 100000)
	imgs.bodies["text"] = []byte("<html>not an image</html>")
	imgs.fail["gone"] = []int{404, 404, 404, 404, 404}
	imgs.fail["flaky"] = []int{503, 502}
	imgs.fail["down"] = []int{500, 500, 500, 500, 500, 500}
	opts := testOptions()
	opts.PromptTimeout = 200 * 1e6 // 200 ms
	s, srv := newPod(t, opts, moduleGen(nil), moduleGen(nil), moduleGen(nil))
	s.SetReady(nil)
	req := batchOf(imgs, "ok1", "gone", "bomb", "text", "flaky", "down", "err1", "panic1", "empty1", "big1", "slow1", "ok2")
	req.Prompts = append(req.Prompts, Prompt{Stem: "badurl", ImageURL: "ftp://example/x.png"})
	if code, body := postGenerate(t, srv.URL, req); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	st := waitStatus(t, srv.URL, Complete)
	if *st.Progress != 13 || !strings.Contains(string(st.Payload), `"failed":10`) {
		t.Errorf("status %+v payload %s", st, st.Payload)
	}
	_, data := getResults(t, srv.URL)
	mods, failed := unzip(t, data)
	if diff := cmp.Diff([]string{"flaky", "ok1", "ok2"}, keys(mods)); diff != "" {
		t.Errorf("modules (-want +got):\n%s", diff)
	}
	want := map[string]string{
		"gone":   "image download failed: HTTP 404",
		"bomb":   "100000×100000, over the limit",
		"text":   "not a PNG or JPEG",
		"down":   "image download failed: HTTP 500",
		"err1":   "no parts fitted",
		"panic1": "generator panicked: index out of range",
		"empty1": "empty module",
		"big1":   "over the limit of 1048576",
		"slow1":  "generation timeout",
		"badurl": "not an http(s) URL",
	}
	for stem, frag := range want {
		if !strings.Contains(failed[stem], frag) {
			t.Errorf("_failed.json[%s] = %q, want it to say %q", stem, failed[stem], frag)
		}
	}
	if len(failed) != len(want) {
		t.Errorf("failed %v, want %d entries", failed, len(want))
	}
	// Retries only where another attempt could help.
	for name, hits := range map[string]int{"gone": 1, "bomb": 1, "flaky": 3, "down": 4, "ok1": 1} {
		if got := imgs.hitsOf(name); got != hits {
			t.Errorf("%s downloaded %d times, want %d", name, got, hits)
		}
	}
}

func TestBadBatch(t *testing.T) {
	imgs := newImageServer(t)
	s, srv := newPod(t, testOptions(), moduleGen(nil))
	s.SetReady(nil)
	long := strings.Repeat("a", 129)
	tests := []struct {
		name string
		body string
		code int
		frag string
	}{
		{"not json", "{", 400, "not a generate request"},
		{"no prompts", `{"prompts": [], "seed": 1}`, 400, "prompts is empty"},
		{"duplicate", fmt.Sprintf(`{"prompts": [{"stem":"a","image_url":%q},{"stem":"a","image_url":%q}]}`, imgs.url("a"), imgs.url("a")), 400, "appears twice"},
		{"path stem", `{"prompts": [{"stem":"../x","image_url":"http://h/x"}]}`, 400, "stem"},
		{"failed stem", `{"prompts": [{"stem":"_failed","image_url":"http://h/x"}]}`, 400, "stem"},
		{"long stem", `{"prompts": [{"stem":"` + long + `","image_url":"http://h/x"}]}`, 400, "stem"},
		{"huge body", `{"prompts": "` + strings.Repeat("x", 2<<20) + `"}`, 413, "body over"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+"/generate", "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.frag) {
				t.Fatalf("%d %s, want %d and %q", resp.StatusCode, b, tc.code, tc.frag)
			}
		})
	}
	if st := getStatus(t, srv.URL, ""); st.Status != Ready {
		t.Fatalf("a bad batch changed the state: %q", st.Status)
	}
	// Methods: the mux answers 405.
	resp, err := http.Post(srv.URL+"/status", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /status: %s", resp.Status)
	}
}

// TestBearerAccepted: an Authorization header changes nothing.
func TestBearerAccepted(t *testing.T) {
	s, srv := newPod(t, testOptions(), moduleGen(nil))
	s.SetReady(nil)
	for _, path := range []string{"/health", "/status"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer secret-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s with a bearer token: %s", path, resp.Status)
		}
	}
}

// TestCloseMidBatch: shutting down fails what is unfinished and leaks no
// goroutine (goleak in TestMain).
func TestCloseMidBatch(t *testing.T) {
	imgs := newImageServer(t)
	gate := make(chan struct{}) // never opened
	s, err := New(testOptions(), []Generator{moduleGen(gate)}, discard())
	if err != nil {
		t.Fatal(err)
	}
	s.SetReady(nil)
	srv := newTestServer(t, s)
	if code, _ := postGenerate(t, srv, batchOf(imgs, "a", "b", "c")); code != 200 {
		t.Fatal(code)
	}
	s.Close()
	_, data := getResults(t, srv)
	mods, failed := unzip(t, data)
	if len(mods) != 0 || len(failed) != 3 {
		t.Fatalf("after Close: modules %v failed %v", mods, failed)
	}
}

func newTestServer(t *testing.T, s *Server) string {
	srv := httptestServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

func assertRefused(t *testing.T, code int, body []byte, want string) {
	t.Helper()
	if code != http.StatusConflict {
		t.Fatalf("code %d (%s), want 409", code, body)
	}
	var r refusal
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if r.CurrentStatus != want || r.Detail == "" {
		t.Fatalf("409 body %+v, want current_status %q and a detail", r, want)
	}
}

// TestStuckGenerator: a generator that ignores its deadline is abandoned:
// its prompt fails, the batch completes on the other workers, and with no
// worker left the waiting prompts fail instead of hanging the batch.
func TestStuckGenerator(t *testing.T) {
	defer func(g time.Duration) { stuckGrace = g }(stuckGrace)
	stuckGrace = 50 * time.Millisecond
	opts := testOptions()
	opts.PromptTimeout = 100 * time.Millisecond
	imgs := newImageServer(t)
	stuck = make(chan struct{})
	release := stuck
	t.Cleanup(func() { close(release) })

	s, srv := newPod(t, opts, moduleGen(nil), moduleGen(nil))
	s.SetReady(nil)
	postGenerate(t, srv.URL, batchOf(imgs, "stuck1", "a", "b", "c"))
	waitStatus(t, srv.URL, Complete)
	_, data := getResults(t, srv.URL)
	mods, failed := unzip(t, data)
	if len(mods) != 3 || !strings.Contains(failed["stuck1"], "did not stop") {
		t.Fatalf("modules %v, failed %v", keys(mods), failed)
	}

	s1, srv1 := newPod(t, opts, moduleGen(nil))
	s1.SetReady(nil)
	postGenerate(t, srv1.URL, batchOf(imgs, "stuck2", "d"))
	waitStatus(t, srv1.URL, Complete)
	_, data = getResults(t, srv1.URL)
	mods, failed = unzip(t, data)
	// d ran first (a module) or waited behind stuck2 (failed: no worker).
	if len(mods)+len(failed) != 2 || !strings.Contains(failed["stuck2"], "did not stop") ||
		(len(mods) == 0 && !strings.Contains(failed["d"], "stuck past its deadline")) {
		t.Fatalf("one stuck worker: modules %v, failed %v", keys(mods), failed)
	}
}
