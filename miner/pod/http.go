package pod

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// DefaultAddr is where the subnet's orchestrator reaches a pod.
const DefaultAddr = "0.0.0.0:10006"

// resultsChunk is how much of the ZIP each chunk of GET /results carries.
const resultsChunk = 32 << 10

// Handler returns the pod's HTTP handler. An Authorization header is
// accepted and ignored: the orchestrator may send one, none is required.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /status", s.handleStatus)
	mux.HandleFunc("POST /generate", s.handleGenerate)
	mux.HandleFunc("GET /results", s.handleResults)
	return mux
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	remaining := -1
	if v := r.URL.Query().Get("replacements_remaining"); v != "" {
		// A value that does not parse counts as not said: /status
		// always answers, and never says replace on a guess.
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			remaining = n
		}
	}
	writeJSON(w, http.StatusOK, s.snapshot(remaining))
}

// refusal is the body of every 409.
type refusal struct {
	Detail        string `json:"detail"`
	CurrentStatus string `json:"current_status"`
}

func (s *Server) handleGenerate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{
			"detail": fmt.Sprintf("body over %d bytes or unreadable: %v", s.opts.MaxBodyBytes, err)})
		return
	}
	var req GenerateRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "body is not a generate request: " + err.Error()})
		return
	}
	key, err := req.check(s.opts.MaxPrompts)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": err.Error()})
		return
	}
	n, refused := s.accept(req, key)
	if refused != "" {
		s.log.Warn("batch refused", "current_status", refused, "prompts", len(req.Prompts))
		writeJSON(w, http.StatusConflict, refusal{Detail: "Cannot accept batch", CurrentStatus: refused})
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"accepted": n})
}

// handleResults streams the ZIP in chunks, flushing each, so the answer is
// chunked and never carries a Content-Length.
func (s *Server) handleResults(w http.ResponseWriter, r *http.Request) {
	data, refused := s.results()
	if refused != "" {
		writeJSON(w, http.StatusConflict, refusal{Detail: "No completed batch", CurrentStatus: refused})
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="results.zip"`)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	for off := 0; off < len(data); off += resultsChunk {
		end := min(off+resultsChunk, len(data))
		if _, err := w.Write(data[off:end]); err != nil {
			s.log.Warn("results download broke off", "sent", off, "of", len(data), "err", err)
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v) // our own types: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// Run listens on addr (DefaultAddr in the image) and serves until ctx is
// cancelled; see Serve.
func (s *Server) Run(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		s.Close()
		return fmt.Errorf("pod: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then shuts down: requests in
// flight get ShutdownTimeout, the batch in flight is cancelled, Close
// waits for its workers.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      10 * time.Minute, // a 32 MB ZIP over a slow proxy
		IdleTimeout:       2 * time.Minute,
	}
	s.log.Info("pod serving", "addr", ln.Addr().String(), "workers", len(s.gens))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		err = errors.Join(err, srv.Close())
	}
	if serveErr == nil {
		serveErr = <-errc
	}
	s.Close()
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if serveErr != nil {
		return fmt.Errorf("pod: %w", serveErr)
	}
	if err != nil {
		return fmt.Errorf("pod: shutdown: %w", err)
	}
	return nil
}
