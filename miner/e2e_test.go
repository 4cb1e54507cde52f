package miner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
	"github.com/splatbench/splatbench/miner/validator"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// errDropped is what the in-memory network answers when a validator drops
// the connection without a response (a reset; 503 in the Python dendrite).
var errDropped = errors.New("connection reset by peer")

// e2eNet is an in-memory network of validator handlers keyed by host:port.
// It runs inside a synctest bubble (no sockets), gives each handler the
// caller's context as a server does (a client that gives up cancels it),
// turns an aborted handler into a dropped connection, and audits every
// exchange: status codes, and an independent check of every submission
// signature that goes out.
type e2eNet struct {
	handlers map[string]http.Handler
	// skew is each host's clock skew: answers carry a Date header from
	// the host's clock, as net/http and uvicorn servers stamp it, unless
	// noDate.
	skew   map[string]time.Duration
	noDate bool
	// unskewedDate stamps every answer's Date from the miner's clock.
	unskewedDate bool
	wg           sync.WaitGroup

	// hostile makes a host's answers or the path to it hostile (soak_test.go).
	hostile map[string]*hostility

	mu       sync.Mutex
	status   map[int]int // HTTP status of each answered request
	errs     map[string]int
	sigOK    int
	sigBad   []string
	requests int
}

func newE2ENet() *e2eNet {
	return &e2eNet{handlers: map[string]http.Handler{}, skew: map[string]time.Duration{}, status: map[int]int{},
		errs: map[string]int{}}
}

// submitBody is the part of a SubmitResults body the audit needs.
type submitBody struct {
	Task *struct {
		Prompt string `json:"prompt"`
	} `json:"task"`
	SubmitTime int64  `json:"submit_time"`
	Signature  string `json:"signature"`
	Axon       struct {
		Hotkey string `json:"hotkey"`
	} `json:"axon"`
	Dendrite struct {
		Hotkey string `json:"hotkey"`
	} `json:"dendrite"`
}

// audit verifies a SubmitResults body's license-consent signature the way
// the validator does (docs/protocol.md §1.5), independently of the validator under test.
func (n *e2eNet) audit(body []byte) {
	var b submitBody
	err := json.Unmarshal(body, &b)
	if err == nil && b.Task == nil {
		err = errors.New("no task in the body")
	}
	if err == nil {
		err = bittensor.VerifySubmissionSignature(b.Signature, b.SubmitTime, b.Task.Prompt, b.Axon.Hotkey, b.Dendrite.Hotkey)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		n.sigBad = append(n.sigBad, err.Error())
		return
	}
	n.sigOK++
}

func (n *e2eNet) RoundTrip(req *http.Request) (*http.Response, error) {
	h, ok := n.handlers[req.URL.Host]
	if !ok {
		return nil, fmt.Errorf("dial tcp %s: connection refused", req.URL.Host)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(req.URL.Path, "/"+bittensor.NameSubmitResults) {
		n.audit(body)
	}
	sreq := req.Clone(req.Context())
	sreq.Body = io.NopCloser(bytes.NewReader(body))
	sreq.RemoteAddr = "10.9.9.9:40000"
	sreq.RequestURI = req.URL.RequestURI()
	type answer struct {
		resp *http.Response
		err  error
	}
	done := make(chan answer, 1)
	n.wg.Go(func() {
		rec := httptest.NewRecorder()
		defer func() {
			if p := recover(); p != nil {
				if p != http.ErrAbortHandler {
					panic(p)
				}
				done <- answer{err: errDropped}
				return
			}
			done <- answer{resp: rec.Result()}
		}()
		h.ServeHTTP(rec, sreq)
	})
	n.mu.Lock()
	n.requests++
	n.mu.Unlock()
	select {
	case a := <-done:
		if hs := n.hostile[req.URL.Host]; hs != nil && a.resp != nil {
			a.resp = hs.apply(n, h, req, body, a.resp)
		}
		switch {
		case a.resp != nil && n.noDate:
			a.resp.Header.Del("Date")
		case a.resp != nil && n.unskewedDate:
			a.resp.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		case a.resp != nil && a.resp.Header.Get("Date") == "":
			a.resp.Header.Set("Date", time.Now().Add(n.skew[req.URL.Host]).UTC().Format(http.TimeFormat))
		}
		n.mu.Lock()
		if a.err != nil {
			n.errs["dropped"]++
		} else {
			n.status[a.resp.StatusCode]++
		}
		n.mu.Unlock()
		return a.resp, a.err
	case <-req.Context().Done():
		n.mu.Lock()
		n.errs["client timeout"]++
		n.mu.Unlock()
		return nil, req.Context().Err()
	}
}

// e2eCloudSPZ is a small cloud that passes the validity gates (≥ 7000
// splats, sane opacities and rotations), SPZ-encoded.
func e2eCloudSPZ(t testing.TB) []byte {
	t.Helper()
	const n = 8000
	c := splat.NewCloud(n, 0)
	r := rand.New(rand.NewPCG(17, 404))
	for i := range n {
		for k := range 3 {
			c.Pos[3*i+k] = float32(r.NormFloat64() * 0.3)
			c.LogScale[3*i+k] = float32(-4.5 + r.Float64())
		}
		a := r.Float64() * math.Pi
		c.Rot[4*i], c.Rot[4*i+1+r.IntN(3)] = float32(math.Cos(a)), float32(math.Sin(a))
		c.OpacityLogit[i] = float32(r.Float64()*4 - 1)
		c.SH[3*i], c.SH[3*i+1], c.SH[3*i+2] = float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	if rep := splat.CheckGate(c); !rep.OK {
		t.Fatalf("test cloud fails the gate: %v", rep.Reasons)
	}
	data, err := splat.Encode(c, splat.FormatSPZ)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// e2eGen is a Generator that takes a fixed (virtual) time and returns the
// same valid SPZ. One task in 12 fails its self-check, one in 25 errors.
type e2eGen struct {
	spz  []byte
	took time.Duration
}

func (g *e2eGen) Generate(ctx context.Context, t Task) (Output, error) {
	timer := time.NewTimer(g.took)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return Output{}, ctx.Err()
	}
	h := fnv.New32a()
	h.Write([]byte(t.ID))
	switch x := h.Sum32(); {
	case x%25 == 0:
		return Output{}, errors.New("generation failed (scripted)")
	case x%12 == 0:
		return Output{Data: g.spz, Score: 0.3, Accepted: false}, nil
	}
	return Output{Data: g.spz, Score: 0.9, Accepted: true}, nil
}

// e2eFaults are the eight validators' faults: a clean control, then one
// kind of fault each, then a mix.
var e2eFaults = []struct {
	name string
	f    validator.Faults
}{
	{"clean", validator.Faults{}},
	{"latency 3s", validator.Faults{Latency: 3 * time.Second}},
	{"hangs 15%", validator.Faults{HangRate: 0.15}},
	{"500s 20%", validator.Faults{ServerErrorRate: 0.2}},
	{"garbage 20%", validator.Faults{GarbageRate: 0.2}},
	{"drops 20%", validator.Faults{DropRate: 0.2}},
	{"clock +8s, serial", validator.Faults{ClockSkew: 8 * time.Second, SerialValidation: true}},
	{"clock -0.7s, mixed 5% each", validator.Faults{ClockSkew: -700 * time.Millisecond, Latency: time.Second,
		HangRate: 0.05, ServerErrorRate: 0.05, GarbageRate: 0.05, DropRate: 0.05}},
}

// TestEndToEnd is the soak test of the miner against the real transport:
// the miner (DendriteClient over bittensor's dendrite, KeypairSigner)
// mines eight local validators (miner/validator, the real axon with its
// signature, nonce and cooldown rules, GateScorer decoding every SPZ)
// through an in-memory network for over six virtual hours while the
// validators inject latency, hangs beyond the client timeouts, 500s,
// garbage bodies, dropped connections and clock skew. The validators' own
// accounting must show no early pull, no bad signature, and every assigned
// task answered or still held; the miner must keep mining every validator.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	soak := 6*time.Hour + 15*time.Minute
	if testing.Short() {
		soak = 90 * time.Minute
	}
	spz := e2eCloudSPZ(t)
	synctest.Test(t, func(t *testing.T) {
		minerKey, err := bittensor.KeypairFromURI("//E2EMiner")
		if err != nil {
			t.Fatal(err)
		}
		nw := newE2ENet()
		var vals []Validator
		var locals []*validator.Validator
		for i, fc := range e2eFaults {
			key, err := bittensor.KeypairFromURI(fmt.Sprintf("//E2EValidator%d", i))
			if err != nil {
				t.Fatal(err)
			}
			fc.f.Seed = 1000 + uint64(i)
			lv, err := validator.New(validator.Options{Key: key, UID: i, IP: fmt.Sprintf("10.0.1.%d", i+1), Port: 8092,
				Stake: 10000, Scorer: validator.GateScorer{Pass: 0.9}, PromptSeed: uint64(i), Faults: fc.f}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			info := lv.Info()
			v := Validator{UID: info.UID, Hotkey: info.Hotkey, Address: info.Addr()}
			nw.handlers[v.Address] = lv.Handler()
			nw.skew[v.Address] = fc.f.ClockSkew
			vals, locals = append(vals, v), append(locals, lv)
		}
		client, err := NewDendriteClient(bittensor.DendriteOptions{Key: minerKey, Client: &http.Client{Transport: nw},
			Log: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(Options{Validators: vals, Workers: 3, Threshold: 0.6, GenerateTimeout: 5 * time.Minute,
			ShutdownGrace: 30 * time.Second}, client,
			&e2eGen{spz: spz, took: 45 * time.Second}, KeypairSigner{Hotkey: minerKey}, testLogger(t), newRegistry())
		if err != nil {
			t.Fatal(err)
		}
		runFor(t, m, soak)
		nw.wg.Wait()
		st := m.Stats()

		// Every pulled task was submitted, released, or is still held.
		if st.Pulled != st.Submitted+st.Released+st.Held {
			t.Errorf("miner: pulled %d != submitted %d + released %d + held %d", st.Pulled, st.Submitted, st.Released, st.Held)
		}
		var faults validator.FaultCounts
		var tot validator.MinerStats
		for i, lv := range locals {
			s := lv.Summary()
			faults.Hangs += s.Faults.Hangs
			faults.ServerErrors += s.Faults.ServerErrors
			faults.Garbage += s.Faults.Garbage
			faults.Drops += s.Faults.Drops
			if len(s.Miners) != 1 || s.Miners[0].Hotkey != minerKey.SS58() {
				t.Fatalf("validator %d (%s) saw miners %+v, want only the test miner", i, e2eFaults[i].name, s.Miners)
			}
			ms := s.Miners[0]
			if ms.EarlyPulls != 0 || ms.Violations != 0 {
				t.Errorf("validator %d (%s): %d early pulls, %d violations", i, e2eFaults[i].name, ms.EarlyPulls, ms.Violations)
			}
			if ms.BadSignatures != 0 {
				t.Errorf("validator %d (%s): %d bad submission signatures", i, e2eFaults[i].name, ms.BadSignatures)
			}
			// A task is assigned once and closed by exactly one
			// task-resetting outcome; at most the last one is still open.
			closed := ms.Accepted + ms.Rejected + ms.Skipped + ms.BadSignatures + ms.ValidationFailed
			if closed != ms.TasksAssigned && closed+1 != ms.TasksAssigned {
				t.Errorf("validator %d (%s): %d tasks assigned, %d closed", i, e2eFaults[i].name, ms.TasksAssigned, closed)
			}
			// The miner kept mining every validator through its faults.
			if minAccepted := int(soak / (30 * time.Minute)); ms.Accepted < minAccepted {
				t.Errorf("validator %d (%s): only %d accepted in %v, want >= %d", i, e2eFaults[i].name, ms.Accepted, soak, minAccepted)
			}
			tot.Pulls += ms.Pulls
			tot.EarlyPulls += ms.EarlyPulls
			tot.TasksAssigned += ms.TasksAssigned
			tot.Submissions += ms.Submissions
			tot.Accepted += ms.Accepted
			tot.Rejected += ms.Rejected
			tot.Skipped += ms.Skipped
			tot.FeedbackOnly += ms.FeedbackOnly
			tot.Penalties += ms.Penalties
			t.Logf("validator %d %-27s pulls %3d tasks %3d accepted %3d skipped %2d rejected %d feedback-only %d faults %+v",
				i, e2eFaults[i].name, ms.Pulls, ms.TasksAssigned, ms.Accepted, ms.Skipped, ms.Rejected, ms.FeedbackOnly, s.Faults)
		}
		if faults.Hangs == 0 || faults.ServerErrors == 0 || faults.Garbage == 0 || faults.Drops == 0 {
			t.Errorf("not every fault kind was exercised: %+v", faults)
		}
		if tot.Rejected != 0 || tot.Penalties != 0 {
			t.Errorf("valid results were penalised: %d rejected, %d penalties", tot.Rejected, tot.Penalties)
		}
		if st.Accepted != tot.Accepted {
			t.Errorf("miner counted %d accepted, validators %d", st.Accepted, tot.Accepted)
		}

		nw.mu.Lock()
		defer nw.mu.Unlock()
		if len(nw.sigBad) != 0 || nw.sigOK == 0 {
			t.Errorf("submission signatures: %d verified, %d failed: %v", nw.sigOK, len(nw.sigBad), nw.sigBad)
		}
		// 401 (transport signature or nonce) and 403 (no task held) are
		// never injected: the miner must not cause them.
		if nw.status[http.StatusUnauthorized] != 0 || nw.status[http.StatusForbidden] != 0 {
			t.Errorf("the miner caused %d 401s and %d 403s", nw.status[http.StatusUnauthorized], nw.status[http.StatusForbidden])
		}
		codes := make([]string, 0, len(nw.status))
		for c, k := range nw.status {
			codes = append(codes, fmt.Sprintf("%d×%d", c, k))
		}
		sort.Strings(codes)
		t.Logf("soak %v, 8 validators: requests %d (%s; dropped %d, client timeouts %d); faults injected %+v",
			soak, nw.requests, strings.Join(codes, " "), nw.errs["dropped"], nw.errs["client timeout"], faults)
		t.Logf("miner: pulled %d, submitted %d (accepted %d, empty %d: self-check skips %d, generate errors %d), "+
			"released %d, held at stop %d, refusals %d, pull failures %d, submit failures %d, cooldown wait %.0f s; "+
			"validators: %d pulls (%d early), %d tasks, %d submissions; %d submission signatures verified",
			st.Pulled, st.Submitted, st.Accepted, st.Empty, st.SelfCheckSkips, st.GenerateErrors, st.Released, st.Held,
			st.Refusals, st.PullFailures, st.SubmitFailures, st.CooldownWaitSeconds, tot.Pulls, tot.EarlyPulls, tot.TasksAssigned,
			tot.Submissions, nw.sigOK)
	})
}
