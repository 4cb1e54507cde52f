package miner

import (
	"net/http"
	"sync"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// dateKey is the context key under which a call asks dateTransport for
// its answer's Date header.
type dateKey struct{}

// dateRecord receives one answer's Date.
type dateRecord struct {
	mu   sync.Mutex
	date time.Time
}

func (r *dateRecord) get() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.date
}

// dateTransport reads the Date header of every answer (errors included)
// into the request context's dateRecord, if any.
type dateTransport struct{ inner http.RoundTripper }

func (t dateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(req)
	if resp == nil {
		return resp, err
	}
	if rec, ok := req.Context().Value(dateKey{}).(*dateRecord); ok {
		if d, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			rec.mu.Lock()
			rec.date = d
			rec.mu.Unlock()
		}
	}
	return resp, err
}

// peerClocks are a DendriteClient's per-validator clock estimates and
// dendrites.
type peerClocks struct {
	opts  bittensor.DendriteOptions
	mu    sync.Mutex
	peers map[string]*peerClock
}

// peerClock is one validator's: a dendrite whose nonces run at the
// miner's clock plus the validator's known lead.
type peerClock struct {
	d   *bittensor.Dendrite
	mu  sync.Mutex
	est clockEstimate
}

func (pc *peerClocks) peer(hotkey string) (*peerClock, error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if p := pc.peers[hotkey]; p != nil {
		return p, nil
	}
	p := &peerClock{}
	opts := pc.opts
	now := opts.Now
	opts.Now = func() time.Time { return now().Add(p.lead()) }
	d, err := bittensor.NewDendrite(opts)
	if err != nil {
		return nil, err
	}
	p.d = d
	pc.peers[hotkey] = p
	return p, nil
}

// lead is how far the validator's clock is known to run ahead (≥ 0).
func (p *peerClock) lead() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(0, p.est.lower())
}

func (p *peerClock) observe(b offsetBounds) {
	p.mu.Lock()
	p.est.addDate(b)
	p.mu.Unlock()
}
