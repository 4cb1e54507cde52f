package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/splatbench/splatbench/pipeline"
)

// Routes. POST /generate/ (trailing slash) is the Era B text-to-3D API
// (docs/protocol.md §5.1); POST /generate is the Era C image-to-3D
// competition API (§3.9, §5.2).
const (
	routeText    = "POST /generate/{$}"
	routeImage   = "POST /generate"
	routeHealth  = "GET /health"
	routeVersion = "GET /version"
	routeMetrics = "GET /metrics"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(routeText, s.handleText)
	mux.HandleFunc(routeImage, s.handleImage)
	mux.HandleFunc(routeHealth, s.handleHealth)
	mux.HandleFunc(routeVersion, s.handleVersion)
	mux.HandleFunc(routeJobSubmit, s.handleJobSubmit)
	mux.HandleFunc(routeJobStatus, s.handleJobStatus)
	mux.HandleFunc(routeJobFile, s.handleJobFile)
	s.pageRoutes(mux)
	if s.metrics.gatherer != nil {
		mux.Handle(routeMetrics, promhttp.HandlerFor(s.metrics.gatherer, promhttp.HandlerOpts{}))
	} else {
		s.log.Warn("the metrics Registerer is not a Gatherer: GET /metrics is not served")
	}
	return s.observe(mux)
}

// routeLabel turns a mux pattern into a bounded metric label.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = path
	}
	return strings.TrimSuffix(pattern, "{$}")
}

// HeaderRequestID carries a request's id in and out.
const HeaderRequestID = "X-Request-Id"

type ctxKey struct{}

// logFrom returns the request's logger (it carries request_id).
func (s *Server) logFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return s.log
}

// requestID keeps a client's X-Request-Id when it is a short printable
// token, and makes a random one otherwise.
func requestID(in string) string {
	if n := len(in); n > 0 && n <= 128 {
		ok := true
		for i := range n {
			c := in[i]
			ok = ok && c > ' ' && c < 0x7f && c != '"' && c != '\\'
		}
		if ok {
			return in
		}
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// statusWriter records the status code a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives every request an id and a logger that carries it, and
// counts and times it by route and status code.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r.Header.Get(HeaderRequestID))
		w.Header().Set(HeaderRequestID, id)
		log := s.log.With("request_id", id)
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, log))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		route := routeLabel(r.Pattern)
		secs := time.Since(start).Seconds()
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(secs)
		level := slog.LevelInfo
		if route != "/generate" && route != "/generate/" {
			level = slog.LevelDebug
		}
		log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path,
			"route", route, "code", sw.code, "seconds", secs, "remote", r.RemoteAddr)
	})
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do
}

// errorBody is every error response: {"error": "..."}.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

type healthBody struct {
	Status  string `json:"status"`
	Workers int    `json:"workers"`
	Queued  int    `json:"queued"`
	// Generates is what the profile can generate, when known.
	Generates *pipeline.Capabilities `json:"generates,omitempty"`
}

// handleHealth answers 200 {"status":"healthy"} (as the 404-base-miner
// does) once the warm-up job has run, 503 before it and during shutdown.
func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	body := healthBody{Status: "healthy", Workers: s.opts.Workers, Queued: len(s.queue), Generates: s.opts.Capabilities}
	code := http.StatusOK
	switch {
	case s.stopping.Load():
		body.Status, code = "shutting down", http.StatusServiceUnavailable
	case !s.ready.Load():
		body.Status, code = "warming up", http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}

// handleVersion answers the version as a JSON string, like the
// 404-base-miner's "0.0.0".
func (s *Server) handleVersion(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.opts.Version)
}
