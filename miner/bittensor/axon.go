package bittensor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Nonce rule constants (bittensor utils/axon_utils.py, docs/protocol.md §2.4).
const (
	nonceAllowedDelta  = 4 * time.Second
	nonceWindowVersion = 7002000
)

// MaxTimeout is the largest timeout header (seconds) an axon accepts: the
// protocol's calls take 12 s and 300 s, and the nonce window (now − 4 s −
// timeout) must stay within the span the axon remembers nonces for.
const MaxTimeout = 3600

// nonceMemory is how long an accepted nonce is remembered: any request
// older than that is outside every window the timeout header allows, so
// forgetting it cannot let a replay through.
const nonceMemory = nonceAllowedDelta + MaxTimeout*time.Second

// prunePeriod is how often the nonce map is swept.
const prunePeriod = time.Minute

// DefaultMaxBodyBytes bounds a request body. It is sized to the largest
// real result: the validation service refuses more than 500 MiB of base64
// (a 10-million-splat SPZ, the decoder's cap, is 180-610 MiB before base64
// depending on the SH degree, so the 500 MiB binds). A SubmitResults body
// also echoes the task, whose prompt may be an image of up to 64 MiB
// (86 MiB of base64), and carries about a kilobyte of other fields.
const DefaultMaxBodyBytes = 500<<20 + 86<<20 + 1<<20

// Request is one verified call as a handler sees it.
type Request struct {
	Name string
	// Header is the synapse built from the headers, which blacklisting and
	// verification used.
	Header Synapse
	// Body is the synapse parsed from the JSON body. Handlers act on it, as
	// the real axon's forward functions do (docs/protocol.md §2.3); nil during blacklisting.
	Body Synapse
	// Hotkey is the caller's hotkey from the header (verified unless the
	// unsigned quirk is on and the signature was empty).
	Hotkey     string
	RemoteAddr string
	Received   time.Time
}

// HandlerFunc answers a verified call with the response synapse (usually
// req.Body, modified). A *StatusError picks the status; any other error is
// a 500.
type HandlerFunc func(ctx context.Context, req *Request) (Synapse, error)

// BlacklistFunc decides, from the header synapse, whether a caller is
// refused (403) before verification.
type BlacklistFunc func(req *Request) (blocked bool, reason string)

// AxonOptions configure an Axon. Key is required.
type AxonOptions struct {
	Key          *Keypair
	Now          func() time.Time
	Log          *slog.Logger
	MaxBodyBytes int64
	// AllowUnsigned reproduces bittensor's quirk of skipping the signature
	// check when the signature header is absent or empty (docs/protocol.md §2.4).
	AllowUnsigned bool
}

type route struct {
	handle    HandlerFunc
	blacklist BlacklistFunc
}

// Axon is an http.Handler serving synapses the way the bittensor 9.9.0 axon
// does (docs/protocol.md §2.5, §7.1): route, parse headers (500), blacklist (403), verify
// signature and nonce (401), parse and hash-check the body (500), run the
// handler (500 on error) and answer 200 with the whole synapse.
type Axon struct {
	opts   AxonOptions
	log    *slog.Logger
	routes map[string]route

	mu     sync.Mutex
	nonces map[string]int64 // hotkey:uuid -> last accepted nonce
	// lastPrune is when nonces was last swept; forgotBefore is the newest
	// nonce age swept out: an unknown key with an older nonce is refused.
	lastPrune    time.Time
	forgotBefore int64
}

// NewAxon returns an Axon with no routes.
func NewAxon(opts AxonOptions) (*Axon, error) {
	if opts.Key == nil || opts.Key.secret == nil {
		return nil, errors.New("axon: a key pair with a secret key is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Axon{opts: opts, log: log, routes: map[string]route{}, nonces: map[string]int64{}}, nil
}

// Attach serves the named synapse with h; blacklist may be nil.
func (a *Axon) Attach(name string, h HandlerFunc, blacklist BlacklistFunc) {
	a.routes[name] = route{handle: h, blacklist: blacklist}
}

// Hotkey is the axon's own SS58 address.
func (a *Axon) Hotkey() string { return a.opts.Key.SS58() }

func (a *Axon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := a.opts.Now()
	name := strings.TrimPrefix(r.URL.Path, "/")
	rt, ok := a.routes[name]
	if !ok || (r.Method != http.MethodPost && r.Method != http.MethodGet) {
		names := make([]string, 0, len(a.routes))
		for n := range a.routes {
			names = append(names, n)
		}
		sort.Strings(names)
		writeError(w, http.StatusNotFound, nil, fmt.Sprintf("Synapse name '%s' not found. Available synapses %v", name, names))
		return
	}
	hdr, err := ParseHeaders(name, r.Header)
	if err != nil {
		a.log.Info("axon: bad headers", "synapse", name, "remote", r.RemoteAddr, "err", err)
		writeError(w, http.StatusInternalServerError, nil, err.Error())
		return
	}
	if t := hdr.Base().Timeout; math.IsNaN(t) || t < 0 || t > MaxTimeout {
		a.log.Info("axon: bad timeout header", "synapse", name, "remote", r.RemoteAddr, "timeout", t)
		writeError(w, http.StatusBadRequest, nil, fmt.Sprintf("timeout header %g: want a number of seconds in [0, %d]", t, MaxTimeout))
		return
	}
	a.preprocess(hdr, r)
	req := &Request{Name: name, Header: hdr, RemoteAddr: r.RemoteAddr, Received: start}
	if d := hdr.Base().Dendrite.Hotkey; d != nil {
		req.Hotkey = *d
	}
	if rt.blacklist != nil {
		if blocked, reason := rt.blacklist(req); blocked {
			a.log.Info("axon: blacklisted", "synapse", name, "hotkey", req.Hotkey, "reason", reason)
			writeError(w, http.StatusForbidden, hdr, "Forbidden. Key is blacklisted: "+reason)
			return
		}
	}
	if err := a.verify(hdr); err != nil {
		a.log.Info("axon: not verified", "synapse", name, "hotkey", req.Hotkey, "err", err)
		writeError(w, http.StatusUnauthorized, hdr, "Not Verified with error: "+err.Error())
		return
	}
	// The body is read only now, once the caller is authenticated, and no
	// further than the limit (a declared Content-Length over it is refused
	// before a byte is read).
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.opts.MaxBodyBytes))
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		a.log.Info("axon: body too large", "synapse", name, "hotkey", req.Hotkey, "limit", mbe.Limit)
		writeError(w, http.StatusRequestEntityTooLarge, hdr, fmt.Sprintf("body larger than %d bytes", mbe.Limit))
		return
	}
	if err == nil {
		req.Body, err = ParseBody(name, body)
	}
	if err == nil && hdr.Base().ComputedBodyHash != EmptyBodyHash {
		err = fmt.Errorf("%w: computed_body_hash header %q does not match the body hash %s", ErrBadRequest, hdr.Base().ComputedBodyHash, EmptyBodyHash)
	}
	if err != nil {
		a.log.Info("axon: bad body", "synapse", name, "hotkey", req.Hotkey, "err", err)
		writeError(w, http.StatusInternalServerError, hdr, err.Error())
		return
	}
	if bh := req.Body.Base().Dendrite.Hotkey; bh == nil || *bh != req.Hotkey {
		a.log.Warn("axon: body dendrite hotkey differs from the header's", "synapse", name, "header", req.Hotkey, "body", deref(bh))
	}
	resp, err := rt.handle(r.Context(), req)
	if err != nil {
		code, msg := http.StatusInternalServerError, "Internal Server Error: "+err.Error()
		var se *StatusError
		if errors.As(err, &se) {
			code, msg = se.Code, se.Message
		}
		writeError(w, code, hdr, msg)
		return
	}
	a.writeSuccess(w, resp, start)
}

// preprocess fills the axon side of the header synapse and the caller's
// socket address, and signs the axon headers (bittensor's preprocess).
func (a *Axon) preprocess(s Synapse, r *http.Request) {
	b := s.Base()
	nonce := a.opts.Now().UnixNano()
	uuid := newUUID1(a.opts.Now())
	version := int64(SDKVersion)
	hk := a.Hotkey()
	status := 100
	b.Axon.Nonce, b.Axon.UUID, b.Axon.Version, b.Axon.Hotkey, b.Axon.StatusCode = &nonce, &uuid, &version, &hk, &status
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		b.Dendrite.IP = &host
		if p, err := strconv.Atoi(port); err == nil {
			b.Dendrite.Port = &p
		}
	}
	msg := fmt.Sprintf("%d.%s.%s.%s", nonce, deref(b.Dendrite.Hotkey), hk, uuid)
	if sig, err := a.opts.Key.SignHex([]byte(msg)); err == nil {
		b.Axon.Signature = &sig
	}
}

// verify is bittensor's default_verify: nonce present, nonce window for a
// new hotkey:uuid, strictly increasing nonce for a known one, and the
// transport signature against the axon's own hotkey.
func (a *Axon) verify(s Synapse) error {
	b := s.Base()
	d := &b.Dendrite
	if d.Nonce == nil {
		return errors.New("Missing Nonce")
	}
	hotkey := deref(d.Hotkey)
	key := hotkey + ":" + deref(d.UUID)
	nonce := *d.Nonce
	a.mu.Lock()
	defer a.mu.Unlock()
	a.prune()
	last, known := a.nonces[key]
	if !known && nonce <= a.forgotBefore {
		return fmt.Errorf("Nonce is too old: %d is older than the %v the axon remembers nonces for", nonce, nonceMemory)
	}
	if d.Version != nil && *d.Version >= nonceWindowVersion {
		window := a.opts.Now().UnixNano() - int64(nonceAllowedDelta) - int64(b.Timeout*1e9)
		if !known && nonce <= window {
			return fmt.Errorf("Nonce is too old: %d is not after %d (allowed delta %v + timeout %gs)", nonce, window, nonceAllowedDelta, b.Timeout)
		}
		if known && nonce <= last {
			return fmt.Errorf("Nonce is too old, a newer one was last processed: %d <= %d", nonce, last)
		}
	} else if known && nonce <= last {
		return fmt.Errorf("Nonce is too small: %d <= %d", nonce, last)
	}
	sig := deref(d.Signature)
	if sig != "" || !a.opts.AllowUnsigned {
		msg := TransportMessage(nonce, hotkey, a.Hotkey(), deref(d.UUID), b.ComputedBodyHash)
		if err := VerifyHex(hotkey, []byte(msg), sig); err != nil {
			return fmt.Errorf("Signature mismatch with %s: %w", msg, err)
		}
	}
	a.nonces[key] = nonce
	return nil
}

// prune forgets the nonces older than nonceMemory, at most once per
// prunePeriod; a.mu must be held.
func (a *Axon) prune() {
	now := a.opts.Now()
	if now.Sub(a.lastPrune) < prunePeriod && !a.lastPrune.IsZero() {
		return
	}
	a.lastPrune = now
	cutoff := now.Add(-nonceMemory).UnixNano()
	for k, n := range a.nonces {
		if n <= cutoff {
			delete(a.nonces, k)
		}
	}
	a.forgotBefore = max(a.forgotBefore, cutoff)
}

func (a *Axon) writeSuccess(w http.ResponseWriter, s Synapse, start time.Time) {
	b := s.Base()
	code, msg := http.StatusOK, "Success"
	pt := a.opts.Now().Sub(start).Seconds()
	b.Axon.StatusCode, b.Axon.StatusMessage, b.Axon.ProcessTime = &code, &msg, &pt
	data, err := json.Marshal(s)
	if err != nil {
		writeError(w, http.StatusInternalServerError, nil, "encode response: "+err.Error())
		return
	}
	h := w.Header()
	for k, v := range Headers(s) {
		h[k] = v
	}
	setHeader(h, "content-type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// writeError answers {"message": msg} with status code, plus the header
// synapse's headers (with the axon status) when there is one.
func writeError(w http.ResponseWriter, code int, s Synapse, msg string) {
	h := w.Header()
	if s != nil {
		b := s.Base()
		b.Axon.StatusCode, b.Axon.StatusMessage = &code, &msg
		for k, v := range Headers(s) {
			h[k] = v
		}
	}
	setHeader(h, "content-type", "application/json")
	w.WriteHeader(code)
	data, _ := json.Marshal(map[string]string{"message": msg})
	_, _ = w.Write(data)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
