package miner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/splatbench/splatbench/miner/bittensor"
)

// DendriteClient is the Client over bittensor's dendrite (axon/dendrite
// HTTP transport, protocol §2).
type DendriteClient struct {
	Dendrite *bittensor.Dendrite
}

var _ Client = DendriteClient{}

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
	r, err := c.Dendrite.PullTask(ctx, ax, callTimeout(ctx, DefaultPullTimeout))
	if err != nil {
		return PullResponse{}, err
	}
	out := PullResponse{ValidationThreshold: r.ValidationThreshold, ThrottlePeriod: int(r.ThrottlePeriod),
		CooldownUntil: r.CooldownUntil, CooldownViolations: int(r.CooldownViolations)}
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
	r, err := c.Dendrite.SubmitResults(ctx, ax, req, callTimeout(ctx, DefaultSubmitTimeout))
	if errors.Is(err, bittensor.ErrBlacklisted) {
		return SubmitResponse{}, fmt.Errorf("%w: %w", ErrTaskNotHeld, err)
	}
	if err != nil {
		return SubmitResponse{}, err
	}
	out := SubmitResponse{CooldownUntil: r.CooldownUntil}
	if f := r.Feedback; f != nil {
		out.Feedback = &Feedback{ValidationFailed: f.ValidationFailed, TaskFidelityScore: f.TaskFidelityScore,
			AverageFidelityScore: f.AverageFidelityScore, GenerationsWithinWindow: int(f.GenerationsWithinTheWindow),
			CurrentDuelRating: f.CurrentDuelRating, CurrentMinerReward: f.CurrentMinerReward}
	}
	return out, nil
}

// KeypairSigner signs submissions with the miner's hotkey (§1.5).
type KeypairSigner struct {
	Hotkey *bittensor.Keypair
}

// SignSubmission implements Signer.
func (k KeypairSigner) SignSubmission(submitTimeNs int64, prompt, validatorHotkey string) (string, error) {
	return bittensor.SubmissionSignature(k.Hotkey, submitTimeNs, prompt, validatorHotkey)
}
