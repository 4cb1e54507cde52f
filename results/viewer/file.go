package viewer

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"path/filepath"
	"time"
)

var viewPage = template.Must(template.ParseFS(embedded, "web/view.html"))

// FileHandler serves a page that shows one splat file (name is shown; data
// is its contents): GET / the page, GET /file the bytes, GET /viewer/ the
// assets. `splatbench view` serves it on loopback.
func FileHandler(a *Assets, name string, data []byte) (http.Handler, error) {
	typ, err := Type(name)
	if err != nil {
		return nil, err
	}
	var page bytes.Buffer
	err = viewPage.Execute(&page, struct{ Name, Size, Type string }{
		Name: filepath.Base(name), Size: humanBytes(len(data)), Type: typ,
	})
	if err != nil {
		return nil, fmt.Errorf("viewer: %w", err)
	}
	mod := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page.Bytes())
	})
	mux.HandleFunc("GET /file", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", mod, bytes.NewReader(data))
	})
	mux.Handle("GET /viewer/", http.StripPrefix("/viewer", a.Handler()))
	return mux, nil
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
