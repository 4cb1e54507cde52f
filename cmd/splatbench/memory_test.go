package main

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
)

// TestWorkersRefusedWhenGPUMemoryIsShort: serve and mine refuse (exit 2) a
// --workers count the profile's memory plan does not fit on the GPU, with
// a stand-in for the driver's free-memory report. Not parallel: it swaps
// the package's memory source.
func TestWorkersRefusedWhenGPUMemoryIsShort(t *testing.T) {
	var free uint64
	saved := deviceMemoryOf
	deviceMemoryOf = func(context.Context, *pipeline.Builder, configs.Profile) ([]pipeline.DeviceMemory, error) {
		return []pipeline.DeviceMemory{{Index: 0, Name: "stand-in GPU", Free: free, Total: free, ORT: true, Render: true}}, nil
	}
	t.Cleanup(func() { deviceMemoryOf = saved })
	validators := writeFile(t, "remote.yaml", "- {uid: 7, hotkey: 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY, address: \"203.0.113.9:8091\"}\n")
	seed := hex.EncodeToString(make([]byte, 32))
	mine := []string{"mine", "--validators", validators, "--allow-empty-text", "--hotkey-seed", seed, "--out", t.TempDir()}
	tests := []struct {
		name    string
		freeMiB uint64
		args    []string
		code    int
		want    []string
		notWant string
	}{
		// The default profile on a GPU: the fit's and the score's renders
		// (about 0.9 GiB with the context) do not fit in 512 MiB.
		{"serve, short", 512, []string{"serve", "--workers", "2", "--set", "device=cuda", "--listen", "127.0.0.1:0"}, exitUsage,
			[]string{"--workers 2", "profile default", "GPU 0 (stand-in GPU)", "512 MiB free", "fit", "score", "none fits"}, ""},
		{"mine, short", 512, append(mine, "--workers", "3", "--set", "device=cuda"), exitUsage,
			[]string{"--workers 3", "profile default", "none fits"}, ""},
		// Generations go to the job queue: nothing to check here; the
		// command goes on to connect (nothing listens: exit 1).
		{"serve --nats, short", 512, []string{"serve", "--workers", "2", "--set", "device=cuda", "--listen", "127.0.0.1:0", "--nats", "nats://127.0.0.1:1"}, exitFailure,
			[]string{"connect nats://127.0.0.1:1"}, "--workers"},
		// Enough memory: the check passes and the command goes on to open
		// the (missing) CUDA device, a different failure.
		{"serve, enough", 100 << 10, []string{"serve", "--workers", "2", "--set", "device=cuda", "--listen", "127.0.0.1:0"}, exitFailure,
			[]string{"device cuda"}, "--workers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			free = tc.freeMiB << 20
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tc.notWant != "" && strings.Contains(stderr, tc.notWant) {
				t.Errorf("stderr has %q:\n%s", tc.notWant, stderr)
			}
		})
	}
}

// TestDoctorPrintsMemoryPlan: doctor's gpu memory line quotes the plan for
// this GPU and the reference cards.
func TestDoctorPrintsMemoryPlan(t *testing.T) {
	saved := deviceMemoryOf
	deviceMemoryOf = func(context.Context, *pipeline.Builder, configs.Profile) ([]pipeline.DeviceMemory, error) {
		return []pipeline.DeviceMemory{{Index: 0, Name: "stand-in GPU", Free: 20 << 30, Total: 24 << 30, ORT: true, Render: true}}, nil
	}
	t.Cleanup(func() { deviceMemoryOf = saved })
	_, stdout, _ := runCLI(t, "doctor", "--set", "device=cuda")
	var line string
	for l := range strings.SplitSeq(stdout, "\n") {
		if strings.Contains(l, "gpu memory") {
			line = l
		}
	}
	for _, w := range []string{"profile default on this machine", "whole job", "on this GPU 0 (20.0 GiB free)", "141 GB H200", "24 GB card"} {
		if !strings.Contains(line, w) {
			t.Errorf("doctor's gpu memory line %q lacks %q", line, w)
		}
	}
}
