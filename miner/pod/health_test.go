package pod

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// standIn is a GPU as the health check sees it, with scripted numbers.
type standIn struct {
	id          int
	tput        float64
	free, total uint64
	memErr      error
	benchErr    error
	hang        bool
}

func (d standIn) Index() int   { return d.id }
func (d standIn) Name() string { return "stand-in H200" }
func (d standIn) MemInfo() (uint64, uint64, error) {
	return d.free, d.total, d.memErr
}
func (d standIn) Bench(ctx context.Context) (float64, error) {
	if d.hang {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return d.tput, d.benchErr
}

const gb = 1_000_000_000

func h200(id int, tput float64) standIn {
	return standIn{id: id, tput: tput, free: 140 * gb, total: 141 * gb}
}

func TestCheckHealth(t *testing.T) {
	rule := DefaultHealthRule()
	rule.Timeout = 100 * time.Millisecond
	rule.ExpectGPUs = 4
	busy := h200(2, 50)
	busy.free = 60 * gb
	broken := h200(1, 0)
	broken.benchErr = errors.New("CUDA_ERROR_ECC_UNCORRECTABLE")
	hung := h200(3, 0)
	hung.hang = true
	noMem := h200(0, 0)
	noMem.memErr = errors.New("cuMemGetInfo: CUDA_ERROR_UNKNOWN")
	tests := []struct {
		name    string
		devs    []Device
		pass    bool
		failing []int  // GPU ids that fail
		reason  string // in a failing GPU's or the report's reason
	}{
		{"four good", []Device{h200(0, 50), h200(1, 52), h200(2, 49), h200(3, 51)}, true, nil, ""},
		{"one throttled", []Device{h200(0, 50), h200(1, 12), h200(2, 49), h200(3, 51)}, false, []int{1}, "below"},
		{"memory held", []Device{h200(0, 50), h200(1, 50), busy, h200(3, 50)}, false, []int{2}, "GB free"},
		{"bench error", []Device{h200(0, 50), broken, h200(2, 50), h200(3, 50)}, false, []int{1}, "ECC"},
		{"bench hangs", []Device{h200(0, 50), h200(1, 50), h200(2, 50), hung}, false, []int{3}, "deadline"},
		{"mem query fails", []Device{noMem, h200(1, 50), h200(2, 50), h200(3, 50)}, false, []int{0}, "cuMemGetInfo"},
		{"three of four", []Device{h200(0, 50), h200(1, 50), h200(2, 50)}, false, nil, "3 GPU(s) found, 4 expected"},
		{"cpu pod", nil, false, nil, "0 GPU(s) found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := CheckHealth(context.Background(), tc.devs, rule)
			if rep.AllPassed != tc.pass {
				t.Fatalf("all_passed %v, want %v: %+v", rep.AllPassed, tc.pass, rep)
			}
			var failing []int
			reasons := rep.Reason
			for _, g := range rep.GPUs {
				if !g.Passed {
					failing = append(failing, g.ID)
					reasons += " " + g.Reason
				}
			}
			if len(failing) != len(tc.failing) || (len(failing) > 0 && failing[0] != tc.failing[0]) {
				t.Errorf("failing GPUs %v, want %v", failing, tc.failing)
			}
			if !strings.Contains(reasons, tc.reason) {
				t.Errorf("reasons %q, want %q", reasons, tc.reason)
			}
		})
	}
	// No GPUs expected: a CPU pod is healthy.
	if rep := CheckHealth(context.Background(), nil, DefaultHealthRule()); !rep.AllPassed {
		t.Errorf("CPU pod without ExpectGPUs: %+v", rep)
	}
}

// TestReplaceRule: the pod asks for a new pod only when the check failed,
// the orchestrator said it has replacements left, and no batch has run.
func TestReplaceRule(t *testing.T) {
	imgs := newImageServer(t)
	bad := CheckHealth(context.Background(), []Device{h200(0, 50), h200(1, 5)}, DefaultHealthRule())
	good := CheckHealth(context.Background(), []Device{h200(0, 50), h200(1, 50)}, DefaultHealthRule())
	tests := []struct {
		name   string
		health *HealthReport
		query  string
		want   string
	}{
		{"bad, 3 left", bad, "?replacements_remaining=3", Replace},
		{"bad, 1 left", bad, "?replacements_remaining=1", Replace},
		{"bad, none left", bad, "?replacements_remaining=0", Ready},
		{"bad, not said", bad, "", Ready},
		{"bad, garbage", bad, "?replacements_remaining=x", Ready},
		{"bad, negative", bad, "?replacements_remaining=-1", Ready},
		{"good, 3 left", good, "?replacements_remaining=3", Ready},
		{"no check", nil, "?replacements_remaining=3", Ready},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := newPod(t, testOptions(), moduleGen(nil))
			s.SetReady(tc.health)
			st := getStatus(t, srv.URL, tc.query)
			if st.Status != tc.want {
				t.Fatalf("status %q, want %q", st.Status, tc.want)
			}
			if st.Status == Replace {
				var p HealthReport
				if err := json.Unmarshal(st.Payload, &p); err != nil || p.AllPassed || len(p.GPUs) != 2 {
					t.Fatalf("replace payload %s (%v)", st.Payload, err)
				}
				code, body := postGenerate(t, srv.URL, batchOf(imgs, "a"))
				assertRefused(t, code, body, Replace)
			}
		})
	}
	// Once 0 is said, the pod pushes through; after a batch has run it
	// never asks, even when replacements are offered again.
	s, srv := newPod(t, testOptions(), moduleGen(nil))
	s.SetReady(bad)
	getStatus(t, srv.URL, "?replacements_remaining=0")
	if code, _ := postGenerate(t, srv.URL, batchOf(imgs, "a")); code != 200 {
		t.Fatalf("batch on a degraded pod with no replacements left: %d", code)
	}
	waitStatus(t, srv.URL, Complete)
	if st := getStatus(t, srv.URL, "?replacements_remaining=3"); st.Status != Complete {
		t.Fatalf("after a batch: %q, want complete", st.Status)
	}
}
