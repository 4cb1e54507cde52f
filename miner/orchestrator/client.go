package orchestrator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// Faults are what the orchestrator injects into its own traffic with the
// pod, the failures the subnet's network has: answers that never arrive,
// downloads that break off, slow polls; and prompt images that do not
// download or must not be decoded.
type Faults struct {
	// DropGenerate drops the answer of the first N POST /generate after
	// the pod has received the request: the orchestrator sees an error
	// and retries, which the pod must take as the same batch.
	DropGenerate int
	// CutResults breaks the first N GET /results off after half the
	// body; the orchestrator downloads again.
	CutResults int
	// SlowPoll delays every /status answer by this much on its way back.
	SlowPoll time.Duration
	// Missing stems get an image URL that answers 404.
	Missing []string
	// Bombs stems get a tiny PNG that declares 100000×100000 pixels.
	Bombs []string
}

// errDropped is what a dropped answer looks like to the orchestrator.
var errDropped = errors.New("injected fault: answer dropped")

// errCut is what a download broken off looks like.
var errCut = errors.New("injected fault: connection cut mid-stream")

// faultTransport injects Faults into requests to the pod and measures the
// pod's own /status latency (without the injected delay).
type faultTransport struct {
	base  http.RoundTripper
	token string

	mu           sync.Mutex
	dropGenerate int
	cutResults   int
	slowPoll     time.Duration
	dropped, cut int
	statusLat    []float64 // seconds
}

func (t *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.token != "" {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	lat := time.Since(start)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case req.Method == http.MethodPost && req.URL.Path == "/generate" && t.dropGenerate > 0:
		t.dropGenerate--
		t.dropped++
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errDropped
	case req.Method == http.MethodGet && req.URL.Path == "/results" && resp.StatusCode == http.StatusOK && t.cutResults > 0:
		t.cutResults--
		t.cut++
		resp.Body = &cutBody{rc: resp.Body, left: 1024}
	case req.URL.Path == "/status":
		t.statusLat = append(t.statusLat, lat.Seconds())
		if d := t.slowPoll; d > 0 {
			t.mu.Unlock()
			err := sleep(req.Context(), d)
			t.mu.Lock()
			if err != nil {
				resp.Body.Close()
				return nil, err
			}
		}
	}
	return resp, nil
}

// cutBody passes the first bytes of a body through, then fails.
type cutBody struct {
	rc   io.ReadCloser
	left int
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errCut
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= n
	return n, err
}

func (c *cutBody) Close() error { return c.rc.Close() }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
