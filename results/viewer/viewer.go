// Package viewer provides splatbench's interactive 3D view of Gaussian-splat
// files in a browser: the page script viewer.js (embedded here) on the
// renderer bundle splat-vendor.js (three.js and gaussian-splats-3d, which
// scripts/setup-viewer.sh builds from npm into the cache; never committed).
// It serves them over HTTP (serve's web page, `splatbench view`) and copies
// them into a folder with data scripts that load from file:// (the tune
// report). docs/viewer.md says why this renderer.
package viewer

import (
	"bytes"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/splatbench/splatbench/results/atomicfile"
)

// File names of the viewer's assets, as served and as copied.
const (
	VendorFile = "splat-vendor.js"
	ScriptFile = "viewer.js"
)

//go:embed js/viewer.js web/view.html
var embedded embed.FS

// VendorPath is where the set-up puts the renderer bundle under the cache
// directory.
func VendorPath(cacheDir string) string {
	return filepath.Join(cacheDir, "viewer", VendorFile)
}

// Assets are the viewer's files, loaded once.
type Assets struct {
	files map[string][]byte
	mod   time.Time
}

// Load reads the renderer bundle from the cache directory; the error says
// to run the set-up when it is missing.
func Load(cacheDir string) (*Assets, error) {
	if cacheDir == "" {
		return nil, errors.New("viewer: no cache directory (set SPLATBENCH_CACHE)")
	}
	p := VendorPath(cacheDir)
	vendor, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("viewer: the renderer bundle %s: %w; run make setup (scripts/setup-viewer.sh)", p, err)
	}
	if !bytes.Contains(vendor, []byte("SplatVendor")) {
		return nil, fmt.Errorf("viewer: %s is not the set-up's renderer bundle (no SplatVendor); run make setup", p)
	}
	script, err := embedded.ReadFile("js/viewer.js")
	if err != nil {
		return nil, err
	}
	st, _ := os.Stat(p)
	return &Assets{files: map[string][]byte{VendorFile: vendor, ScriptFile: script}, mod: st.ModTime()}, nil
}

// Handler serves the assets by file name at its root (mount it under a
// prefix with http.StripPrefix).
func (a *Assets) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		b, ok := a.files[name]
		if !ok {
			http.Error(w, fmt.Sprintf("no viewer file %q (%s, %s)", name, ScriptFile, VendorFile), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, name, a.mod, bytes.NewReader(b))
	})
}

// WriteDir copies the assets into dir (created if needed), for a page that
// opens from disk: load VendorFile, then ScriptFile, with <script src>.
func (a *Assets) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("viewer: %w", err)
	}
	for name, b := range a.files {
		if err := atomicfile.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("viewer: %w", err)
		}
	}
	return nil
}

// Type returns the viewer's file type for a splat file's name: "ply" or
// "spz".
func Type(name string) (string, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ply":
		return "ply", nil
	case ".spz":
		return "spz", nil
	}
	return "", fmt.Errorf("viewer: %s: not a .ply or .spz file", name)
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// DataScript is a script that hands data (a splat file of type typ) to the
// viewer as id: SplatViewer.fetchScript(id, src) loads it. Scripts load
// from file:// where fetch() does not. id is letters, digits, '.', '_',
// '-'.
func DataScript(id string, data []byte, typ string) ([]byte, error) {
	if !idPattern.MatchString(id) {
		return nil, fmt.Errorf("viewer: data id %q: want 1-128 letters, digits, '.', '_' or '-'", id)
	}
	if typ != "ply" && typ != "spz" {
		return nil, fmt.Errorf("viewer: data %s: type %q, want ply or spz", id, typ)
	}
	var b bytes.Buffer
	b.Grow(base64.StdEncoding.EncodedLen(len(data)) + 64)
	fmt.Fprintf(&b, "SplatViewer.register(%s, \"", strconv.Quote(id))
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	_, _ = enc.Write(data)
	_ = enc.Close()
	fmt.Fprintf(&b, "\", %s);\n", strconv.Quote(typ))
	return b.Bytes(), nil
}
