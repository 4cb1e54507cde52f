package serve

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func FuzzParseSeed(f *testing.F) {
	for _, s := range []string{"", "0", "-1", "42", " 7 ", "-2", "1.5", "abc", "9223372036854775807", "9223372036854775808", "+3", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		seed, random, err := ParseSeed(v)
		switch {
		case err != nil:
			if seed != 0 || random {
				t.Errorf("ParseSeed(%q) = %d, %v with error %v", v, seed, random, err)
			}
		case random:
			if seed != 0 {
				t.Errorf("ParseSeed(%q): random with seed %d", v, seed)
			}
		default:
			if seed < 0 {
				t.Errorf("ParseSeed(%q) = %d: negative seed accepted", v, seed)
			}
			if back, _, _ := ParseSeed(strconv.FormatInt(seed, 10)); back != seed {
				t.Errorf("ParseSeed(%q) = %d does not round-trip", v, seed)
			}
		}
	})
}

// FuzzImageUpload sends arbitrary bytes as the image prompt: the answer
// is a PLY (the bytes were a valid image) or a 4xx JSON error, never a
// 5xx or a panic.
func FuzzImageUpload(f *testing.F) {
	png := pngBytes(f, 4, 4)
	f.Add(png, "1")
	f.Add(png[:len(png)/2], "")
	f.Add([]byte("GIF89a"), "-1")
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x7f\xff\xff\xff\x7f\xff\xff\xff\x08\x06\x00\x00\x00"), "3") // huge dimensions
	f.Add([]byte{0xff, 0xd8, 0xff}, "x")
	f.Add([]byte{}, "0")
	opts := testOptions()
	opts.TempDir = f.TempDir()
	opts.MaxImageBytes = 8 << 10
	opts.MaxImagePixels = 64 * 64
	s, err := New(opts, &fakeGen{n: 7000}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, data []byte, seed string) {
		body, ct := multipartBody(t, formPart{name: FieldImage, filename: "f.png", data: data}, formPart{name: FieldSeed, data: []byte(seed)})
		req := httptest.NewRequest(http.MethodPost, "/generate", body)
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch c := rec.Code; {
		case c == http.StatusOK:
			if !bytes.HasPrefix(rec.Body.Bytes(), []byte("ply\n")) {
				t.Errorf("200 without a PLY body")
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
