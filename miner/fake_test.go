package miner

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The far side, faked for the scheduler's tests: validators that keep the
// protocol's per-miner state and apply its cooldown formula (docs/protocol.md §1.6, §7.3,
// docs/protocol.md §7.4), a network with scripted faults, a generator and a signer.

const declaration = "I, as a miner on SN17, have obtained all licenses, rights and consents required to use, reproduce, modify, display, distribute and make available my submitted results to this subnet and its end users"

const minerHotkey = "5MinerHotkeyForTests"

var errForbidden = fmt.Errorf("403 blacklisted: %w", ErrTaskNotHeld)

// fakeValidator is one validator's view of our miner.
type fakeValidator struct {
	mu     sync.Mutex
	hotkey string
	pub    ed25519.PublicKey
	// verify, when set, checks a submission's signature instead of pub.
	verify func(s Submission, prompt string) bool

	cooldown, throttle, penalty float64 // seconds
	// unregistered answers every pull as for an unknown hotkey (docs/protocol.md §1.1).
	unregistered bool

	cooldownUntil  int64
	assigned       *Task
	assignTime     float64
	violations     int
	lastSubmitTime float64
	next           int

	// accounting for the tests
	pulls, violationsTotal, issued, submitted, accepted, rejected, empty, badSigs, wrongIDs int
	open                                                                                    map[string]bool // issued, not yet submitted
}

func newFakeValidator(hotkey string, pub ed25519.PublicKey) *fakeValidator {
	return &fakeValidator{hotkey: hotkey, pub: pub, cooldown: 300, throttle: 30, penalty: 600, open: map[string]bool{}}
}

func unixf(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func (f *fakeValidator) pull() PullResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := unixf(time.Now())
	f.pulls++
	if f.unregistered {
		return PullResponse{CooldownUntil: int64(now) + 3600}
	}
	if now < float64(f.cooldownUntil) {
		f.violations++
		f.violationsTotal++
		if f.violations > 100 {
			f.cooldownUntil += 10
		}
		return PullResponse{CooldownUntil: f.cooldownUntil, CooldownViolations: f.violations}
	}
	if f.assigned == nil {
		f.next++
		f.issued++
		typ := "text"
		if f.next%5 == 0 {
			typ = "image"
		}
		f.assigned = &Task{ID: fmt.Sprintf("%s-task-%d", f.hotkey, f.next), Type: typ,
			Prompt: fmt.Sprintf("a %s object number %d", typ, f.next)}
		f.assignTime = now
		f.open[f.assigned.ID] = true
	}
	t := *f.assigned
	return PullResponse{Task: &t, ValidationThreshold: 0.6, ThrottlePeriod: int(f.throttle),
		CooldownViolations: f.violations}
}

// resetTask is miner_data.py's reset_task.
func (f *fakeValidator) resetTask(now, c float64) {
	f.cooldownUntil = int64(math.Max(now+c-f.throttle, f.assignTime+c))
	delete(f.open, f.assigned.ID)
	f.assigned = nil
}

func (f *fakeValidator) submit(s Submission) (SubmitResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := unixf(time.Now())
	if f.assigned == nil {
		return SubmitResponse{}, errForbidden
	}
	fb := &Feedback{CurrentDuelRating: 1500}
	if s.TaskID != f.assigned.ID {
		f.wrongIDs++
		return SubmitResponse{Feedback: fb, CooldownUntil: f.cooldownUntil}, nil
	}
	valid := false
	if f.verify != nil {
		valid = f.verify(s, f.assigned.Prompt)
	} else {
		msg := declaration + strconv.FormatInt(s.SubmitTime, 10) + f.assigned.Prompt + f.hotkey + minerHotkey
		sig, err := base64.StdEncoding.Strict().DecodeString(s.Signature)
		if err != nil || len(sig) != ed25519.SignatureSize {
			return SubmitResponse{}, fmt.Errorf("500: malformed signature")
		}
		valid = ed25519.Verify(f.pub, []byte(msg), sig)
	}
	f.submitted++
	if !valid {
		f.badSigs++
		f.resetTask(now, f.cooldown+f.penalty)
		return SubmitResponse{Feedback: fb, CooldownUntil: f.cooldownUntil}, nil
	}
	f.violations = max(0, f.violations-1)
	if s.Results == "" {
		f.empty++
		f.resetTask(now, f.cooldown)
		return SubmitResponse{Feedback: fb, CooldownUntil: f.cooldownUntil}, nil
	}
	score := resultScore(s.Results)
	if score < 0.6 {
		f.rejected++
		f.resetTask(now, f.cooldown+f.penalty)
		return SubmitResponse{Feedback: fb, CooldownUntil: f.cooldownUntil}, nil
	}
	f.accepted++
	f.lastSubmitTime = now
	f.resetTask(now, f.cooldown)
	fb.TaskFidelityScore = min(1, score)
	return SubmitResponse{Feedback: fb, CooldownUntil: f.cooldownUntil}, nil
}

// resultScore is what the fake validator "sees" in a result: the
// generator writes its score into the payload.
func resultScore(results string) float64 {
	b, err := base64.StdEncoding.DecodeString(results)
	if err != nil {
		return 0
	}
	v, err := strconv.ParseFloat(strings.TrimPrefix(string(b), "score="), 64)
	if err != nil {
		return 0
	}
	return v
}

// fault is what the network does to one request.
type fault int

const (
	ok        fault = iota
	lostReq         // never reaches the validator: error at once
	lostResp        // reaches it, the answer is lost: error at once
	hang            // reaches it, the answer never comes (client timeout)
	hangFirst       // hangs before reaching it (client timeout, nothing changed)
)

// fakeNet is the Client: in-memory validators, scripted faults.
type fakeNet struct {
	vals  map[string]*fakeValidator
	fault func(method string, v Validator, call int) fault
	mu    sync.Mutex
	calls map[string]int
	// times records when each call started, by method + hotkey.
	times map[string][]time.Time
}

func (n *fakeNet) callTimes(method string, v Validator) []time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]time.Time(nil), n.times[method+v.Hotkey]...)
}

func (n *fakeNet) inject(ctx context.Context, method string, v Validator) (fault, error) {
	n.mu.Lock()
	if n.calls == nil {
		n.calls, n.times = map[string]int{}, map[string][]time.Time{}
	}
	key := method + v.Hotkey
	n.calls[key]++
	n.times[key] = append(n.times[key], time.Now())
	call := n.calls[key]
	n.mu.Unlock()
	if n.fault == nil {
		return ok, nil
	}
	switch fl := n.fault(method, v, call); fl {
	case lostReq:
		return fl, errors.New("503 service unavailable")
	case hangFirst:
		<-ctx.Done()
		return fl, fmt.Errorf("408 timeout: %w", ctx.Err())
	default:
		return fl, nil
	}
}

func after(ctx context.Context, fl fault) error {
	switch fl {
	case lostResp:
		return errors.New("connection reset")
	case hang:
		<-ctx.Done()
		return fmt.Errorf("408 timeout: %w", ctx.Err())
	}
	return nil
}

func (n *fakeNet) PullTask(ctx context.Context, v Validator) (PullResponse, error) {
	fl, err := n.inject(ctx, "pull", v)
	if err != nil {
		return PullResponse{}, err
	}
	r := n.vals[v.Hotkey].pull()
	if err := after(ctx, fl); err != nil {
		return PullResponse{}, err
	}
	return r, nil
}

func (n *fakeNet) SubmitResults(ctx context.Context, v Validator, s Submission) (SubmitResponse, error) {
	fl, err := n.inject(ctx, "submit", v)
	if err != nil {
		return SubmitResponse{}, err
	}
	r, err := n.vals[v.Hotkey].submit(s)
	if err != nil {
		return SubmitResponse{}, err
	}
	if err := after(ctx, fl); err != nil {
		return SubmitResponse{}, err
	}
	return r, nil
}

// fakeGen "generates" in virtual time: the payload carries its score.
type fakeGen struct {
	took  time.Duration
	score func(Task) float64
	fail  func(Task) error
	mu    sync.Mutex
	calls int
	// block, when set, holds every generation until ctx ends.
	block bool
}

func taskScore(t Task) float64 {
	h := fnv.New32a()
	h.Write([]byte(t.ID))
	return 0.5 + 0.5*float64(h.Sum32()%1000)/1000
}

func (g *fakeGen) Generate(ctx context.Context, t Task) (Output, error) {
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	timer := time.NewTimer(g.took)
	defer timer.Stop()
	if g.block {
		<-ctx.Done()
		return Output{}, ctx.Err()
	}
	select {
	case <-timer.C:
	case <-ctx.Done():
		return Output{}, ctx.Err()
	}
	if g.fail != nil {
		if err := g.fail(t); err != nil {
			return Output{}, err
		}
	}
	s := taskScore(t)
	if g.score != nil {
		s = g.score(t)
	}
	return Output{Data: []byte(fmt.Sprintf("score=%.3f", s)), Score: s, Accepted: s >= 0.6,
		Timings: []Timing{{Stage: "fake", Seconds: g.took.Seconds()}}}, nil
}

// fakeSigner signs the docs/protocol.md §1.5 message with ed25519 (the tests' stand-in for
// sr25519; the fake validators verify it).
type fakeSigner struct{ key ed25519.PrivateKey }

func (s fakeSigner) SignSubmission(submitTime int64, prompt, validatorHotkey string) (string, error) {
	msg := declaration + strconv.FormatInt(submitTime, 10) + prompt + validatorHotkey + minerHotkey
	return base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, []byte(msg))), nil
}
