package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/splatbench/splatbench/pipeline"
)

// Run listens on addr and serves until ctx is cancelled, then shuts down
// gracefully (see Serve).
func (s *Server) Run(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		s.Close()
		return fmt.Errorf("serve: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// RunWarm binds addr first, then serves while the warm-up job runs, so a
// busy address is an error at once rather than after a warm-up that may
// take many seconds. A failed warm-up is logged and leaves /health at 503.
// It returns as Run does.
func (s *Server) RunWarm(ctx context.Context, addr string, warm pipeline.Job) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		s.Close()
		return fmt.Errorf("serve: listen on %s: %w", addr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	if err := s.Warmup(ctx, warm); err != nil {
		s.log.Error("warm-up failed; /health stays 503", "err", err)
	}
	return <-errc
}

// Serve serves on ln until ctx is cancelled. Shutting down, /health turns
// 503 and new generations are refused; requests already accepted get
// ShutdownTimeout to finish, then are cancelled; the workers stop. The
// Server cannot serve again afterwards.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		// An upload is read before its deadline starts; a generation
		// answers within RequestTimeout, plus time to send the PLY.
		ReadTimeout:  s.opts.RequestTimeout,
		WriteTimeout: 2*s.opts.RequestTimeout + 30*time.Second,
		IdleTimeout:  2 * time.Minute,
		BaseContext:  func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.log.Info("serving", "addr", ln.Addr().String(), "workers", s.opts.Workers, "queue", s.opts.QueueSize,
		"request_timeout", s.opts.RequestTimeout.String(), "ready", s.ready.Load())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	s.metrics.ready.Set(0)
	s.log.Info("shutting down", "timeout", s.opts.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		// Requests still running past the timeout: closing their
		// connections cancels their contexts, and so their generations.
		s.log.Warn("graceful shutdown timed out; closing connections", "err", err)
		err = errors.Join(err, srv.Close())
	}
	if serveErr == nil {
		serveErr = <-errc
	}
	s.Close()
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	s.log.Info("stopped")
	if serveErr != nil {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}
