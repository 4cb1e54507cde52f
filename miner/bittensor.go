package miner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// DendriteClient is the Client over bittensor's dendrite (axon/dendrite
// HTTP transport, docs/protocol.md §2). Built with NewDendriteClient it also
// reports each answer's HTTP Date and keeps its nonces on each validator's
// clock; a literal DendriteClient{Dendrite: d} does neither.
type DendriteClient struct {
	Dendrite *bittensor.Dendrite
	peers    *peerClocks
}

var _ Client = DendriteClient{}

// NewDendriteClient builds the dendrite from opts with its HTTP client's
// transport wrapped to read every answer's Date header. The miner converts
// validators' cooldowns to its own clock with it. Calls to a validator
// whose clock runs ahead of this machine's use nonces on the validator's
// clock (the axon refuses a nonce older than its now − 4 s − timeout,
// docs/protocol.md §2.4), and a call refused 401 just after the Date showed such a lead is
// sent again once (a 401 never reaches the validator's handler).
func NewDendriteClient(opts bittensor.DendriteOptions) (DendriteClient, error) {
	hc := &http.Client{}
	if opts.Client != nil {
		c := *opts.Client
		hc = &c
	}
	inner := hc.Transport
	if inner == nil {
		inner = http.DefaultTransport
	}
	hc.Transport = dateTransport{inner}
	opts.Client = hc
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d, err := bittensor.NewDendrite(opts)
	if err != nil {
		return DendriteClient{}, err
	}
	return DendriteClient{Dendrite: d, peers: &peerClocks{opts: opts, peers: map[string]*peerClock{}}}, nil
}

// call runs f with the dendrite for v and returns the answer's Date.
func (c DendriteClient) call(ctx context.Context, v Validator, f func(context.Context, *bittensor.Dendrite) error) (time.Time, error) {
	if c.peers == nil {
		return time.Time{}, f(ctx, c.Dendrite)
	}
	p, err := c.peers.peer(v.Hotkey)
	if err != nil {
		return time.Time{}, err
	}
	for attempt := 0; ; attempt++ {
		rec := &dateRecord{}
		lead := p.lead()
		sent := c.peers.opts.Now()
		err := f(context.WithValue(ctx, dateKey{}, rec), p.d)
		date := rec.get()
		if !date.IsZero() {
			p.observe(dateBounds(date, sent, c.peers.opts.Now()))
		}
		if attempt == 0 && errors.Is(err, bittensor.ErrNotVerified) && p.lead() > lead && ctx.Err() == nil {
			continue
		}
		return date, err
	}
}

// axonInfo turns v's "host:port" address into the dendrite's peer.
func axonInfo(v Validator) (bittensor.AxonInfo, error) {
	host, port, err := net.SplitHostPort(v.Address)
	if err != nil {
		return bittensor.AxonInfo{}, fmt.Errorf("validator %s: address %q: %w", v, v.Address, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return bittensor.AxonInfo{}, fmt.Errorf("validator %s: address %q: bad port", v, v.Address)
	}
	return bittensor.AxonInfo{UID: v.UID, Hotkey: v.Hotkey, IP: host, Port: p}, nil
}

// callTimeout is what is left of ctx's deadline (the miner sets the
// protocol's timeouts there), else def.
func callTimeout(ctx context.Context, def time.Duration) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return def
}

// PullTask implements Client.
func (c DendriteClient) PullTask(ctx context.Context, v Validator) (PullResponse, error) {
	ax, err := axonInfo(v)
	if err != nil {
		return PullResponse{}, err
	}
	var r *bittensor.PullTask
	date, err := c.call(ctx, v, func(ctx context.Context, d *bittensor.Dendrite) (err error) {
		r, err = d.PullTask(ctx, ax, callTimeout(ctx, DefaultPullTimeout))
		return err
	})
	if err != nil {
		return PullResponse{Date: date}, err
	}
	out := PullResponse{ValidationThreshold: r.ValidationThreshold, ThrottlePeriod: int(r.ThrottlePeriod),
		CooldownUntil: r.CooldownUntil, CooldownViolations: int(r.CooldownViolations), Date: date}
	if r.Task != nil {
		out.Task = &Task{ID: r.Task.ID, Type: r.Task.Type, Prompt: r.Task.Prompt}
	}
	return out, nil
}

// SubmitResults implements Client.
func (c DendriteClient) SubmitResults(ctx context.Context, v Validator, s Submission) (SubmitResponse, error) {
	ax, err := axonInfo(v)
	if err != nil {
		return SubmitResponse{}, err
	}
	req := bittensor.NewSubmitResults()
	req.Task = &bittensor.Task{Type: s.Task.Type, ID: s.Task.ID, Prompt: s.Task.Prompt}
	if req.Task.Type == "" {
		req.Task.Type = bittensor.TaskText
	}
	req.TaskID, req.Results, req.SubmitTime, req.Signature = s.TaskID, s.Results, s.SubmitTime, s.Signature
	var r *bittensor.SubmitResults
	date, err := c.call(ctx, v, func(ctx context.Context, d *bittensor.Dendrite) (err error) {
		r, err = d.SubmitResults(ctx, ax, req, callTimeout(ctx, DefaultSubmitTimeout))
		return err
	})
	if errors.Is(err, bittensor.ErrBlacklisted) {
		return SubmitResponse{Date: date}, fmt.Errorf("%w: %w", ErrTaskNotHeld, err)
	}
	if err != nil {
		return SubmitResponse{Date: date}, err
	}
	out := SubmitResponse{CooldownUntil: r.CooldownUntil, Date: date}
	if f := r.Feedback; f != nil {
		out.Feedback = &Feedback{ValidationFailed: f.ValidationFailed, TaskFidelityScore: f.TaskFidelityScore,
			AverageFidelityScore: f.AverageFidelityScore, GenerationsWithinWindow: int(f.GenerationsWithinTheWindow),
			CurrentDuelRating: f.CurrentDuelRating, CurrentMinerReward: f.CurrentMinerReward}
	}
	return out, nil
}

// KeypairSigner signs submissions with the miner's hotkey (docs/protocol.md §1.5).
type KeypairSigner struct {
	Hotkey *bittensor.Keypair
}

// SignSubmission implements Signer.
func (k KeypairSigner) SignSubmission(submitTimeNs int64, prompt, validatorHotkey string) (string, error) {
	return bittensor.SubmissionSignature(k.Hotkey, submitTimeNs, prompt, validatorHotkey)
}
