package serve

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/splatbench/splatbench/pipeline/splat"
)

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name   string
		modify func(*Options)
		want   string
	}{
		{"no workers", func(o *Options) { o.Workers = 0 }, "Options.Workers = 0"},
		{"negative queue", func(o *Options) { o.QueueSize = -1 }, "Options.QueueSize = -1"},
		{"no timeout", func(o *Options) { o.RequestTimeout = 0 }, "Options.RequestTimeout"},
		{"no image bytes", func(o *Options) { o.MaxImageBytes = 0 }, "Options.MaxImageBytes"},
		{"no pixels", func(o *Options) { o.MaxImagePixels = -5 }, "Options.MaxImagePixels = -5"},
		{"no prompt bytes", func(o *Options) { o.MaxPromptBytes = 0 }, "Options.MaxPromptBytes"},
		{"negative shutdown", func(o *Options) { o.ShutdownTimeout = -time.Second }, "Options.ShutdownTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := DefaultOptions()
			tt.modify(&o)
			_, err := New(o, &fakeGen{}, log, prometheus.NewRegistry())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: err = %v, want one naming %q", err, tt.want)
			}
		})
	}
	t.Run("duplicate registration", func(t *testing.T) {
		t.Parallel()
		reg := prometheus.NewRegistry()
		s, err := New(DefaultOptions(), &fakeGen{}, log, reg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := New(DefaultOptions(), &fakeGen{}, log, reg); err == nil || !strings.Contains(err.Error(), "registering metrics") {
			t.Fatalf("second New on one registry: err = %v, want a registration error", err)
		}
	})
}

// checkPLY asserts a 200 response carries a PLY that passes the SPZ
// encoder's gate and holds want Gaussians.
// checkPLY asserts a PLY response that passes the validator's gate with
// want Gaussians, or any count when want is 0.
func checkPLY(t *testing.T, resp *http.Response, body []byte, want int) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	if g := splat.CheckPLYGate(body); !g.OK {
		t.Fatalf("CheckPLYGate: %v", g.Reasons)
	}
	c, _, err := splat.ReadPLY(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("ReadPLY: %v", err)
	}
	if want == 0 {
		want = c.Len()
	}
	if c.Len() != want {
		t.Errorf("PLY has %d Gaussians, want %d", c.Len(), want)
	}
	if got := resp.Header.Get(HeaderSplats); got != strconv.Itoa(want) {
		t.Errorf("%s = %q, want %d", HeaderSplats, got, want)
	}
	if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length = %q, body is %d bytes", got, len(body))
	}
}

// checkError asserts a JSON error response with the code and a message
// containing want.
func checkError(t *testing.T, resp *http.Response, body []byte, code int, want string) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, code, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	if !strings.Contains(e.Error, want) {
		t.Errorf("error %q, want it to contain %q", e.Error, want)
	}
}

func TestGenerateText(t *testing.T) {
	t.Parallel()
	gen := &fakeGen{}
	ts := newTestServer(t, testOptions(), gen)
	resp, body := postText(t, ts, url.Values{"prompt": {"  a red cube "}, "seed": {"42"}})
	checkPLY(t, resp, body, 8000)
	job := gen.lastJob(t)
	if job.Prompt.Text != "a red cube" || job.Prompt.IsImage() || job.Seed != 42 {
		t.Errorf("job = %+v, want text prompt %q, seed 42", job, "a red cube")
	}
	if job.ID == "" || job.ID != resp.Header.Get(HeaderRequestID) {
		t.Errorf("job id %q, response %s %q: want the request id", job.ID, HeaderRequestID, resp.Header.Get(HeaderRequestID))
	}
	want := map[string]string{HeaderSeed: "42", HeaderScore: "0.7500", HeaderKind: "fidelity", HeaderAccepted: "true",
		"Content-Type": "application/octet-stream"}
	got := map[string]string{}
	for k := range want {
		got[k] = resp.Header.Get(k)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("headers (-want +got):\n%s", d)
	}
}

func TestGenerateTextMultipart(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, testOptions(), &fakeGen{})
	body, ct := multipartBody(t, formPart{name: "prompt", data: []byte("a blue sphere")})
	resp, data := post(t, ts.http.Client(), ts.http.URL+"/generate/", ct, body, nil)
	checkPLY(t, resp, data, 8000)
	seed, err := strconv.Atoi(resp.Header.Get(HeaderSeed))
	if err != nil || seed < 0 || seed > MaxRandomSeed {
		t.Errorf("%s = %q: want a random seed in [0, %d]", HeaderSeed, resp.Header.Get(HeaderSeed), MaxRandomSeed)
	}
}

func TestGenerateTextBadInput(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.MaxPromptBytes = 64
	gen := &fakeGen{}
	ts := newTestServer(t, opts, gen)
	tests := []struct {
		name string
		ct   string
		body string
		code int
		want string
	}{
		{"missing prompt", "application/x-www-form-urlencoded", "seed=1", 400, "missing form field prompt"},
		{"empty prompt", "application/x-www-form-urlencoded", "prompt=", 400, "form field prompt is empty"},
		{"blank prompt", "application/x-www-form-urlencoded", "prompt=%20%09", 400, "form field prompt is empty"},
		{"prompt twice", "application/x-www-form-urlencoded", "prompt=a&prompt=b", 400, "given 2 times"},
		{"long prompt", "application/x-www-form-urlencoded", "prompt=" + strings.Repeat("x", 65), 413, "limit is 64"},
		{"bad utf8", "application/x-www-form-urlencoded", "prompt=%ff%fe", 400, "not valid UTF-8"},
		{"control char", "application/x-www-form-urlencoded", "prompt=a%00b", 400, "control character at byte 1"},
		{"bad seed", "application/x-www-form-urlencoded", "prompt=a+cube&seed=abc", 400, `seed = "abc": not an integer`},
		{"negative seed", "application/x-www-form-urlencoded", "prompt=a+cube&seed=-2", 400, "must be ≥ 0"},
		{"seed overflow", "application/x-www-form-urlencoded", "prompt=a+cube&seed=99999999999999999999", 400, "not an integer"},
		{"json body", "application/json", `{"prompt":"a cube"}`, 415, `content type "application/json"`},
		{"no content type", "", "prompt=a", 415, "content type"},
		{"huge body", "application/x-www-form-urlencoded", "prompt=a&pad=" + strings.Repeat("y", 80<<10), 413, "request body over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := post(t, ts.http.Client(), ts.http.URL+"/generate/", tt.ct, strings.NewReader(tt.body), nil)
			checkError(t, resp, body, tt.code, tt.want)
		})
	}
	t.Cleanup(func() {
		if n := gen.calls.Load(); n != 0 {
			t.Errorf("bad input reached the generator %d times", n)
		}
	})
}

func jpegBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gifBytes(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	img := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGenerateImage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		data   []byte
		seed   string
		ext    string
		random bool
	}{
		{"png with seed", pngBytes(t, 64, 48), "7", ".png", false},
		{"jpeg", jpegBytes(t, 32, 32), "123", ".jpg", false},
		{"default seed", pngBytes(t, 16, 16), "", ".png", true},
		{"random seed", pngBytes(t, 16, 16), "-1", ".png", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gen := &fakeGen{}
			opts := testOptions()
			opts.TempDir = t.TempDir()
			ts := newTestServer(t, opts, gen)
			parts := []formPart{{name: FieldImage, filename: "prompt.bin", data: tt.data}, {name: "unknown", data: []byte("ignored")}}
			if tt.seed != "" {
				parts = append(parts, formPart{name: FieldSeed, data: []byte(tt.seed)})
			}
			resp, body := postImage(t, ts, parts...)
			checkPLY(t, resp, body, 8000)
			job := gen.lastJob(t)
			if !job.Prompt.IsImage() || !strings.HasSuffix(job.Prompt.Image, tt.ext) {
				t.Errorf("prompt %+v: want an image prompt ending in %s", job.Prompt, tt.ext)
			}
			if !tt.random && strconv.FormatInt(job.Seed, 10) != tt.seed {
				t.Errorf("seed %d, want %s", job.Seed, tt.seed)
			}
			if tt.random && (job.Seed < 0 || job.Seed > MaxRandomSeed) {
				t.Errorf("random seed %d outside [0, %d]", job.Seed, MaxRandomSeed)
			}
			if left, _ := os.ReadDir(opts.TempDir); len(left) != 0 {
				t.Errorf("image prompts left behind: %v", left)
			}
		})
	}
}

func TestGenerateImageBadInput(t *testing.T) {
	t.Parallel()
	gen := &fakeGen{}
	opts := testOptions()
	opts.MaxImageBytes = 4 << 10
	opts.MaxImagePixels = 100 * 100
	ts := newTestServer(t, opts, gen)
	small := pngBytes(t, 8, 8)
	tests := []struct {
		name  string
		parts []formPart
		code  int
		want  string
	}{
		{"no file", []formPart{{name: FieldSeed, data: []byte("1")}}, 400, "missing file field prompt_image_file"},
		{"empty file", []formPart{{name: FieldImage, filename: "a.png"}}, 400, "prompt_image_file is empty"},
		{"text file", []formPart{{name: FieldImage, filename: "a.png", data: []byte("hello, not an image")}}, 400, "not a PNG or JPEG image"},
		{"gif", []formPart{{name: FieldImage, filename: "a.gif", data: gifBytes(t)}}, 400, "a gif image"},
		{"truncated png", []formPart{{name: FieldImage, filename: "a.png", data: small[:len(small)-20]}}, 400, "does not decode"},
		{"over bytes", []formPart{{name: FieldImage, filename: "a.png", data: bytes.Repeat([]byte{1}, 5<<10)}}, 413, "over the limit of 4096 bytes"},
		{"over pixels", []formPart{{name: FieldImage, filename: "a.png", data: pngBytes(t, 101, 100)}}, 413, "101×100, over the limit of 10000 pixels"},
		{"two files", []formPart{{name: FieldImage, filename: "a.png", data: small}, {name: FieldImage, filename: "b.png", data: small}}, 400, "more than once"},
		{"bad seed", []formPart{{name: FieldImage, filename: "a.png", data: small}, {name: FieldSeed, data: []byte("1.5")}}, 400, `seed = "1.5"`},
		{"long seed", []formPart{{name: FieldImage, filename: "a.png", data: small}, {name: FieldSeed, data: bytes.Repeat([]byte("9"), 100)}}, 413, "form field seed is over"},
		{"seed before file, bad", []formPart{{name: FieldSeed, data: []byte("-7")}, {name: FieldImage, filename: "a.png", data: small}}, 400, "must be ≥ 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := postImage(t, ts, tt.parts...)
			checkError(t, resp, body, tt.code, tt.want)
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		t.Parallel()
		resp, body := post(t, ts.http.Client(), ts.http.URL+"/generate", "application/x-www-form-urlencoded", strings.NewReader("seed=1"), nil)
		checkError(t, resp, body, 415, "want a multipart/form-data body")
	})
	t.Run("cut-off body", func(t *testing.T) {
		t.Parallel()
		body, ct := multipartBody(t, formPart{name: FieldImage, filename: "a.png", data: small})
		b := body.(*bytes.Buffer).Bytes()
		resp, data := post(t, ts.http.Client(), ts.http.URL+"/generate", ct, bytes.NewReader(b[:len(b)-30]), nil)
		checkError(t, resp, data, 400, "malformed form body")
	})
	t.Cleanup(func() {
		if n := gen.calls.Load(); n != 0 {
			t.Errorf("bad input reached the generator %d times", n)
		}
	})
}

func TestGenerationFailureKeepsServing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		gen    *fakeGen
		reason string
		want   string
	}{
		{"error", &fakeGen{err: errFake}, "error", "generation failed: fit diverged"},
		{"panic", &fakeGen{panics: true}, "panic", "generator panicked: fake generator exploded"},
		{"under gate", &fakeGen{n: 500}, "gate", "500 Gaussians; the validator requires at least 7000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, testOptions(), tt.gen)
			for range 2 { // the second request shows the service is still up
				resp, body := postText(t, ts, url.Values{"prompt": {"a red cube"}})
				checkError(t, resp, body, http.StatusInternalServerError, tt.want)
			}
			if got := metricValue(t, ts.reg, "splatbench_serve_generation_failures_total", map[string]string{"reason": tt.reason}); got != 2 {
				t.Errorf("failures{reason=%q} = %v, want 2", tt.reason, got)
			}
			resp, err := ts.http.Client().Get(ts.http.URL + "/version")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET /version after failures: %d", resp.StatusCode)
			}
		})
	}
}
