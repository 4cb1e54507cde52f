package serve

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func newBare(t *testing.T, opts Options, gen Generator) *Server {
	t.Helper()
	s, err := New(opts, gen, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServeGracefulShutdown: cancelling Serve's context lets a running
// generation finish and answer 200, then Serve returns nil.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	gen := &fakeGen{release: make(chan struct{}), started: make(chan string, 1)}
	s := newBare(t, testOptions(), gen)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	codes := make(chan int, 1)
	go func() {
		resp, err := client.PostForm("http://"+ln.Addr().String()+"/generate/", url.Values{"prompt": {"a red cube"}})
		if err != nil {
			t.Errorf("in-flight request: %v", err)
			codes <- 0
			return
		}
		resp.Body.Close()
		codes <- resp.StatusCode
	}()
	<-gen.started
	cancel()
	waitFor(t, "shutdown to begin", func() bool { return s.stopping.Load() })
	gen.release <- struct{}{}
	if code := <-codes; code != http.StatusOK {
		t.Errorf("in-flight request during shutdown: %d, want 200", code)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the cancel")
	}
	if _, err := client.Get("http://" + ln.Addr().String() + "/health"); err == nil {
		t.Error("the listener still answers after Serve returned")
	}
}

// TestServeShutdownTimeout: a generation that ignores cancellation past
// ShutdownTimeout makes Serve close connections and report it.
func TestServeShutdownTimeout(t *testing.T) {
	t.Parallel()
	gen := &fakeGen{release: make(chan struct{}), started: make(chan string, 1), deaf: true}
	opts := testOptions()
	opts.ShutdownTimeout = 50 * time.Millisecond
	s := newBare(t, opts, gen)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := client.PostForm("http://"+ln.Addr().String()+"/generate/", url.Values{"prompt": {"a"}}); err == nil {
			resp.Body.Close()
		}
	}()
	<-gen.started
	cancel()
	// Serve cannot return before the held worker does: release it once
	// the connections are closed (the client sees its request end).
	<-done
	gen.release <- struct{}{}
	err = <-served
	if err == nil || !strings.Contains(err.Error(), "shutdown") {
		t.Errorf("Serve: err = %v, want a shutdown timeout", err)
	}
}

func TestRunBadAddress(t *testing.T) {
	t.Parallel()
	s := newBare(t, testOptions(), &fakeGen{})
	err := s.Run(t.Context(), "256.0.0.1:99999")
	if err == nil || !strings.Contains(err.Error(), "listen on 256.0.0.1:99999") {
		t.Errorf("Run: err = %v, want a listen error naming the address", err)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	s := newBare(t, testOptions(), &fakeGen{})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.Run(ctx, "127.0.0.1:0"); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestSlowUploadKeepsItsDeadline: the server's read timeout (equal to
// RequestTimeout, for slow uploads) must not cancel a generation that
// started after a slow upload and finishes within its own deadline
// (net/http lifts the read deadline once the body is read).
func TestSlowUploadKeepsItsDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 1.3 s of wall time")
	}
	t.Parallel()
	opts := testOptions()
	opts.RequestTimeout = time.Second
	s := newBare(t, opts, &fakeGen{delay: 700 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	pr, pw := io.Pipe()
	go func() {
		time.Sleep(600 * time.Millisecond) // the upload: headers now, body later
		_, _ = pw.Write([]byte("prompt=a+red+cube"))
		pw.Close()
	}()
	resp, err := client.Post("http://"+ln.Addr().String()+"/generate/", "application/x-www-form-urlencoded", pr)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d %s, want 200: the read deadline cut the generation", resp.StatusCode, body)
	}
}
