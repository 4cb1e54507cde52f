package viewer

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fakeCache makes a cache directory with a stand-in bundle (the real one
// is tested in the browser tests of serve and cmd).
func fakeCache(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Dir(VendorPath(dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(VendorPath(dir), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name, cache, want string
	}{
		{"no cache dir", "", "no cache directory"},
		{"no bundle", t.TempDir(), "run make setup"},
		{"not the bundle", fakeCache(t, "alert(1)"), "not the set-up's renderer bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Load(tt.cache); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	a, err := Load(fakeCache(t, "window.SplatVendor={}"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := a.WriteDir(filepath.Join(dir, "viewer")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{VendorFile, ScriptFile} {
		if _, err := os.Stat(filepath.Join(dir, "viewer", f)); err != nil {
			t.Error(err)
		}
	}
}

func TestDataScript(t *testing.T) {
	data := []byte("ply\nformat binary_little_endian 1.0\n\x00\xff\x10")
	got, err := DataScript("knee-1", data, "ply")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^SplatViewer\.register\("knee-1", "([A-Za-z0-9+/=]*)", "ply"\);\n$`).FindSubmatch(got)
	if m == nil {
		t.Fatalf("script %q", got)
	}
	back, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil || !bytes.Equal(back, data) {
		t.Errorf("data does not round-trip: %q, %v", back, err)
	}
	for _, bad := range []struct{ id, typ string }{{`a"b`, "ply"}, {"", "ply"}, {"a</script>", "ply"}, {"a", "obj"}} {
		if _, err := DataScript(bad.id, data, bad.typ); err == nil {
			t.Errorf("DataScript(%q, %q) accepted", bad.id, bad.typ)
		}
	}
}

func TestListenLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		if ln, err := ListenLoopback(t.Context(), addr); err == nil {
			ln.Close()
			t.Errorf("%s accepted", addr)
		}
	}
	ln, err := ListenLoopback(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, http.NotFoundHandler()) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
}

func TestFileHandler(t *testing.T) {
	a, err := Load(fakeCache(t, "window.SplatVendor={}"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FileHandler(a, "model.obj", nil); err == nil {
		t.Error("a .obj file accepted")
	}
	data := []byte("ply bytes")
	h, err := FileHandler(a, "/tmp/<b>model.spz", data)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	defer hs.Close()
	get := func(path string) (int, string) {
		resp, err := hs.Client().Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, page := get("/")
	if code != 200 || !strings.Contains(page, "&lt;b&gt;model.spz") || !strings.Contains(page, `SplatViewer.mount(el, new Uint8Array(b), "spz")`) {
		t.Errorf("page %d:\n%s", code, page)
	}
	if code, body := get("/file"); code != 200 || body != string(data) {
		t.Errorf("/file %d %q", code, body)
	}
	if code, body := get("/viewer/" + VendorFile); code != 200 || body != "window.SplatVendor={}" {
		t.Errorf("vendor %d %q", code, body)
	}
	if code, _ := get("/viewer/../../etc/passwd"); code == 200 {
		t.Error("path outside the assets served")
	}
}
