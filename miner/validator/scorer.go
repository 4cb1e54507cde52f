package validator

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/splatbench/splatbench/miner/bittensor"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// Scorer scores a submitted result (docs/protocol.md §7.5). results is the base64
// string exactly as submitted. An error means the validation service failed
// (validation_failed, no penalty); an undecodable or invalid asset is a
// score of 0, not an error, as the real service answers it.
type Scorer interface {
	Score(ctx context.Context, task bittensor.Task, results string) (float64, error)
}

// ScorerFunc adapts a function to Scorer.
type ScorerFunc func(ctx context.Context, task bittensor.Task, results string) (float64, error)

// Score implements Scorer.
func (f ScorerFunc) Score(ctx context.Context, task bittensor.Task, results string) (float64, error) {
	return f(ctx, task, results)
}

// FixedScorer gives every result the same score.
type FixedScorer float64

// Score implements Scorer.
func (s FixedScorer) Score(context.Context, bittensor.Task, string) (float64, error) {
	return float64(s), nil
}

// GateScorer is the structural back-end of docs/protocol.md §7.5(b): it decodes the result
// (strict base64, then SPZ, or PLY when the bytes are a PLY file), applies
// the validity gates (splat.CheckGate, and splat.CheckPLYGate for PLY) and
// scores 0 on any failure and Pass otherwise. It measures validity, not
// fidelity.
type GateScorer struct {
	Pass float64
}

// Score implements Scorer.
func (g GateScorer) Score(_ context.Context, _ bittensor.Task, results string) (float64, error) {
	if _, err := Gate(results); err != nil {
		return 0, nil
	}
	return g.Pass, nil
}

// Gate decodes a submitted result and applies the validity gates. It
// returns the number of Gaussians, or an error saying which check failed.
func Gate(results string) (int, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(results)
	if err != nil {
		return 0, fmt.Errorf("results: base64: %w", err)
	}
	var cloud *splat.Cloud
	if bytes.HasPrefix(raw, []byte("ply\n")) {
		if rep := splat.CheckPLYGate(raw); !rep.OK {
			return 0, fmt.Errorf("results: PLY gate: %s", strings.Join(rep.Reasons, "; "))
		}
		cloud, _, err = splat.ReadPLY(bytes.NewReader(raw))
	} else {
		cloud, _, err = splat.ReadSPZ(bytes.NewReader(raw))
	}
	if err != nil {
		return 0, fmt.Errorf("results: decode: %w", err)
	}
	if rep := splat.CheckGate(cloud); !rep.OK {
		return cloud.Len(), fmt.Errorf("results: gate: %s", strings.Join(rep.Reasons, "; "))
	}
	return cloud.Len(), nil
}
