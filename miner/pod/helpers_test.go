package pod

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pngBytes encodes a w×h image of one colour.
func pngBytes(t testing.TB, w, h int, c color.NRGBA) []byte {
	t.Helper()
	im := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(im.Pix); i += 4 {
		im.Pix[i], im.Pix[i+1], im.Pix[i+2], im.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, im); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// imageServer serves /img/{name}: a small PNG for any name, except names
// the test maps to other bodies or status codes; it counts hits.
type imageServer struct {
	*httptest.Server
	mu     sync.Mutex
	hits   map[string]int
	bodies map[string][]byte
	fail   map[string][]int // status codes to answer first, in order
}

func newImageServer(t testing.TB) *imageServer {
	s := &imageServer{hits: map[string]int{}, bodies: map[string][]byte{}, fail: map[string][]int{}}
	ok := pngBytes(t, 32, 32, color.NRGBA{R: 200, G: 40, B: 40, A: 255})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/img/")
		s.mu.Lock()
		s.hits[name]++
		var code int
		if f := s.fail[name]; len(f) > 0 {
			code, s.fail[name] = f[0], f[1:]
		}
		body, have := s.bodies[name]
		s.mu.Unlock()
		if code != 0 {
			http.Error(w, "injected", code)
			return
		}
		if !have {
			body = ok
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *imageServer) url(name string) string { return s.URL + "/img/" + name }

func (s *imageServer) hitsOf(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[name]
}

// moduleGen is the far side of the Generator boundary in these tests: it
// writes a tiny module naming the stem and the image size, or does what a
// stem's prefix asks ("err", "panic", "empty", "big", "slow").
// stuck holds the "stuck" stems' generations until a test closes it.
var stuck = make(chan struct{})

func moduleGen(gate <-chan struct{}) Generator {
	return GeneratorFunc(func(ctx context.Context, img image.Image, stem string, seed int64) ([]byte, error) {
		if gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		switch {
		case strings.HasPrefix(stem, "err"):
			return nil, errors.New("no parts fitted")
		case strings.HasPrefix(stem, "panic"):
			panic("index out of range")
		case strings.HasPrefix(stem, "empty"):
			return nil, nil
		case strings.HasPrefix(stem, "big"):
			return make([]byte, 2<<20), nil
		case strings.HasPrefix(stem, "stuck"): // ignores its context
			<-stuck
			return nil, errors.New("released")
		case strings.HasPrefix(stem, "slow"):
			<-ctx.Done()
			return nil, ctx.Err()
		}
		b := img.Bounds()
		return fmt.Appendf(nil, "// %s %dx%d seed %d\nexport default function generate(THREE) { return new THREE.Group(); }\n",
			stem, b.Dx(), b.Dy(), seed), nil
	})
}

func testOptions() Options {
	o := DefaultOptions()
	o.RetryBackoff = time.Millisecond
	o.DownloadTimeout = 5 * time.Second
	o.PromptTimeout = 5 * time.Second
	return o
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newPod starts a ready pod with n workers behind an httptest server.
func newPod(t *testing.T, opts Options, gens ...Generator) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(opts, gens, discard())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return s, srv
}

type statusBody struct {
	Status   string          `json:"status"`
	Progress *int            `json:"progress"`
	Total    *int            `json:"total"`
	Payload  json.RawMessage `json:"payload"`
}

func getStatus(t *testing.T, base string, query string) statusBody {
	t.Helper()
	resp, err := http.Get(base + "/status" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /status: %s", resp.Status)
	}
	var st statusBody
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func postGenerate(t *testing.T, base string, req GenerateRequest) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(req)
	resp, err := http.Post(base+"/generate", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// waitStatus polls until /status says want.
func waitStatus(t *testing.T, base, want string) statusBody {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := getStatus(t, base, "")
		if st.Status == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %q, want %q", st.Status, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// unzip reads a results archive: modules by stem and _failed.json.
func unzip(t *testing.T, data []byte) (map[string]string, map[string]string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	mods, failed := map[string]string{}, map[string]string{}
	for _, f := range zr.File {
		if f.Method != zip.Deflate {
			t.Errorf("%s: method %d, want Deflate", f.Name, f.Method)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == FailedName {
			if err := json.Unmarshal(b, &failed); err != nil {
				t.Fatal(err)
			}
			continue
		}
		stem, ok := strings.CutSuffix(f.Name, ".js")
		if !ok {
			t.Errorf("unexpected entry %q", f.Name)
		}
		mods[stem] = string(b)
	}
	return mods, failed
}

func httptestServer(s *Server) *httptest.Server { return httptest.NewServer(s.Handler()) }

func postGenerateB(base string, req GenerateRequest) (int, []byte) {
	body, _ := json.Marshal(req)
	resp, err := http.Post(base+"/generate", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}
