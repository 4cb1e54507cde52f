package serve

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/splatbench/splatbench/results/viewer"
)

// The web page at / (web/index.html, app.js, app.css, embedded): a prompt
// box and image drop zone that submit to POST /jobs, a progress line fed by
// GET /jobs/{id}, and the result: the 3D view (results/viewer), the
// validator's 16-view sheet, the stage timings, the self-check and the
// downloads.
const (
	routePage   = "GET /{$}"
	routeUI     = "GET /ui/"
	routeViewer = "GET /viewer/"
)

//go:embed web
var web embed.FS

// uiFiles are the page's files under /ui/ and their content types.
var uiFiles = map[string]string{
	"app.js":  "text/javascript; charset=utf-8",
	"app.css": "text/css; charset=utf-8",
}

var indexPage = template.Must(template.ParseFS(web, "web/index.html"))

// pageRoutes adds the page, its files and the viewer's files to mux.
func (s *Server) pageRoutes(mux *http.ServeMux) {
	addPage(mux, s.opts.Version, s.opts.Viewer)
}

// addPage adds GET /, /ui/ and /viewer/ to mux; tests put it in front of
// a fake API.
func addPage(mux *http.ServeMux, version string, v *viewer.Assets) {
	var page bytes.Buffer
	if err := indexPage.Execute(&page, struct {
		Version string
		Viewer  bool
	}{version, v != nil}); err != nil {
		panic(err) // the embedded template and its fixed data: a bug
	}
	start := time.Now()
	mux.HandleFunc(routePage, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "index.html", start, bytes.NewReader(page.Bytes()))
	})
	mux.HandleFunc(routeUI, func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/ui/")
		typ, ok := uiFiles[name]
		b, err := web.ReadFile("web/" + name)
		if !ok || err != nil {
			writeError(w, http.StatusNotFound, "no page file "+clip(name))
			return
		}
		w.Header().Set("Content-Type", typ)
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, name, start, bytes.NewReader(b))
	})
	if v != nil {
		mux.Handle(routeViewer, http.StripPrefix("/viewer", v.Handler()))
	} else {
		mux.HandleFunc(routeViewer, func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusNotFound, "the 3D viewer's files are not installed: run make setup (scripts/setup-viewer.sh)")
		})
	}
}
