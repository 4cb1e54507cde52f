package tuner

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestRewardCycle(t *testing.T) {
	t.Parallel()
	m := DefaultRewardModel(1, 1)
	tests := []struct {
		t    float64
		v    Verdict
		want float64
	}{
		{20, Accepted, 300},  // faster than 30 s buys nothing
		{30, Accepted, 300},  // the break-even point
		{60, Accepted, 330},  // assign + t + 270
		{60, Skipped, 330},   // an empty submission: no penalty
		{20, Rejected, 900},  // 300 + 600
		{60, Rejected, 930},  // t + 870
		{400, Accepted, 670}, // slow generation
	}
	for _, tt := range tests {
		if got := m.Cycle(tt.t, tt.v); got != tt.want {
			t.Errorf("Cycle(%v, %v) = %v, want %v", tt.t, tt.v, got, tt.want)
		}
	}
}

func TestRewardRateHandComputed(t *testing.T) {
	t.Parallel()
	approx := cmpopts.EquateApprox(0, 1e-9)
	tests := []struct {
		name    string
		model   RewardModel
		samples []TaskSample
		want    RewardRate
	}{
		{
			// One validator, 60 s jobs: one task per 330 s = 10.909/h.
			name:    "validator bound",
			model:   DefaultRewardModel(1, 1),
			samples: []TaskSample{{60, Accepted}, {60, Accepted}},
			want:    RewardRate{TasksPerHour: 3600.0 / 330, AcceptedPerHour: 3600.0 / 330, Bound: "validators", CycleSeconds: 330, WorkersToSaturate: 60.0 / 330},
		},
		{
			// Fast jobs cannot beat the 300 s cooldown: 12/h.
			name:    "throttle floor",
			model:   DefaultRewardModel(1, 1),
			samples: []TaskSample{{10, Accepted}},
			want:    RewardRate{TasksPerHour: 12, AcceptedPerHour: 12, Bound: "validators", CycleSeconds: 300, WorkersToSaturate: 10.0 / 300},
		},
		{
			// 10 validators could give 10/330 s but one worker does only
			// one 60 s job at a time: 60/h.
			name:    "worker bound",
			model:   DefaultRewardModel(1, 10),
			samples: []TaskSample{{60, Accepted}},
			want:    RewardRate{TasksPerHour: 60, AcceptedPerHour: 60, Bound: "workers", CycleSeconds: 330, WorkersToSaturate: 600.0 / 330},
		},
		{
			// Half rejected: E[C] = (330 + 930)/2 = 630 s → 5.714 tasks/h,
			// half of them accepted.
			name:    "rejections cost the penalty",
			model:   DefaultRewardModel(1, 1),
			samples: []TaskSample{{60, Accepted}, {60, Rejected}},
			want:    RewardRate{TasksPerHour: 3600.0 / 630, AcceptedPerHour: 1800.0 / 630, Bound: "validators", CycleSeconds: 630, WorkersToSaturate: 60.0 / 630},
		},
		{
			// Half skipped: E[C] stays 330 s, half the tasks pay.
			name:    "skips cost only the time",
			model:   DefaultRewardModel(1, 1),
			samples: []TaskSample{{60, Accepted}, {60, Skipped}},
			want:    RewardRate{TasksPerHour: 3600.0 / 330, AcceptedPerHour: 1800.0 / 330, Bound: "validators", CycleSeconds: 330, WorkersToSaturate: 60.0 / 330},
		},
		{
			// The distribution matters: jobs of 10 s and 110 s average 60 s
			// but cycle (300 + 380)/2 = 340 s, not 330.
			name:    "mean of cycles, not cycle of the mean",
			model:   DefaultRewardModel(1, 1),
			samples: []TaskSample{{10, Accepted}, {110, Accepted}},
			want:    RewardRate{TasksPerHour: 3600.0 / 340, AcceptedPerHour: 3600.0 / 340, Bound: "validators", CycleSeconds: 340, WorkersToSaturate: 60.0 / 340},
		},
		{
			// 5 s of round trips turn 25 s jobs into 30 s: still 300 s.
			// With 30 s of overhead: 55 s → 325 s.
			name:    "overhead",
			model:   func() RewardModel { m := DefaultRewardModel(1, 1); m.Overhead = 30 * time.Second; return m }(),
			samples: []TaskSample{{25, Accepted}},
			want:    RewardRate{TasksPerHour: 3600.0 / 325, AcceptedPerHour: 3600.0 / 325, Bound: "validators", CycleSeconds: 325, WorkersToSaturate: 55.0 / 325},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.model.Rate(tt.samples)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, approx); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRewardRateErrors(t *testing.T) {
	t.Parallel()
	if _, err := DefaultRewardModel(0, 1).Rate([]TaskSample{{1, Accepted}}); err == nil {
		t.Error("no workers: want an error")
	}
	if _, err := DefaultRewardModel(1, 1).Rate(nil); err == nil {
		t.Error("no samples: want an error")
	}
	if _, err := DefaultRewardModel(1, 1).Rate([]TaskSample{{math.NaN(), Accepted}}); err == nil {
		t.Error("NaN time: want an error")
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	m := DefaultRewardModel(1, 1)
	yes, no := true, false
	tests := []struct {
		name      string
		failed    bool
		score     float64
		hasScore  bool
		kind      string
		threshold float64
		self      *bool
		want      Verdict
	}{
		{"failed", true, 0.9, true, ScoreValidator, 0.6, nil, Skipped},
		{"below the miner's threshold", false, 0.5, true, ScoreValidator, 0.55, nil, Skipped},
		{"submitted, validator accepts", false, 0.7, true, ScoreValidator, 0.55, nil, Accepted},
		{"submitted, validator rejects", false, 0.58, true, ScoreValidator, 0.55, nil, Rejected},
		{"at the threshold is accepted", false, 0.6, true, ScoreValidator, 0.6, nil, Accepted},
		{"fidelity: the self-check decides", false, 0.3, true, ScoreFidelity, 0.2, nil, Accepted},
		{"no score, self-check yes", false, 0, false, "", 0.6, &yes, Accepted},
		{"no score, self-check no", false, 0, false, "", 0.6, &no, Skipped},
		{"no score, no verdict", false, 0, false, "", 0.6, nil, Skipped},
	}
	for _, tt := range tests {
		if got := m.Classify(tt.failed, tt.score, tt.hasScore, tt.kind, tt.threshold, tt.self); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
