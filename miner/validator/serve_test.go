package validator

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/splatbench/splatbench/miner/bittensor"
	"github.com/splatbench/splatbench/pipeline/splat"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func serve(t *testing.T, o Options) (*Validator, bittensor.AxonInfo) {
	t.Helper()
	if o.Key == nil {
		o.Key, _ = bittensor.KeypairFromURI("//Validator0")
	}
	v, err := New(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(v.Handler())
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	info := v.Info()
	info.IP, info.Port = host, p
	return v, info
}

func dendrite(t *testing.T, uri string) (*bittensor.Dendrite, *bittensor.Keypair) {
	t.Helper()
	k, _ := bittensor.KeypairFromURI(uri)
	d, err := bittensor.NewDendrite(bittensor.DendriteOptions{Key: k})
	if err != nil {
		t.Fatal(err)
	}
	return d, k
}

// validSPZ is a gate-passing 7000-Gaussian cloud as base64 SPZ.
func validSPZ(t *testing.T) string {
	t.Helper()
	const n = 7000
	c := splat.NewCloud(n, 0)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		for k := range 3 {
			c.Pos[3*i+k] = float32(r.NormFloat64())
			c.LogScale[3*i+k] = -4
		}
		c.Rot[4*i], c.Rot[4*i+1] = 0.8, 0.6
		c.OpacityLogit[i] = 2
	}
	var b bytes.Buffer
	if err := splat.WriteSPZ(&b, c, splat.SPZOptions{}); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func TestEndToEndGateScorer(t *testing.T) {
	t.Parallel()
	v, info := serve(t, Options{Scorer: GateScorer{Pass: 0.8}})
	d, k := dendrite(t, "//Miner")
	ctx := context.Background()
	p, err := d.PullTask(ctx, info, 5*time.Second)
	if err != nil || p.Task == nil {
		t.Fatalf("pull: %+v %v", p, err)
	}
	sub, _ := bittensor.NewSubmission(k, info.Hotkey, *p.Task, validSPZ(t), time.Now().UnixNano())
	got, err := d.SubmitResults(ctx, info, sub, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.Feedback == nil || got.Feedback.TaskFidelityScore != 0.8 || got.CooldownUntil < time.Now().Unix()+299 {
		t.Errorf("feedback %+v cooldown %d", got.Feedback, got.CooldownUntil)
	}
	// A second submission has no task: 403 blacklisted.
	if _, err := d.SubmitResults(ctx, info, sub, 5*time.Second); !errors.Is(err, bittensor.ErrBlacklisted) {
		t.Errorf("submit without task: %v", err)
	}
	// GetVersion is for validators only.
	if _, err := d.Call(ctx, info, bittensor.NewGetVersion(), 5*time.Second); !errors.Is(err, bittensor.ErrBlacklisted) {
		t.Errorf("GetVersion: %v", err)
	}
	s := v.Summary()
	if len(s.Miners) != 1 || s.Miners[0].Pulls != 1 || s.Miners[0].Accepted != 1 || s.Miners[0].Submissions != 1 {
		t.Errorf("summary %+v", s)
	}
	var out strings.Builder
	if err := s.WriteText(&out); err != nil || !strings.Contains(out.String(), k.SS58()) {
		t.Errorf("summary text %q %v", out.String(), err)
	}
}

func TestGate(t *testing.T) {
	t.Parallel()
	if n, err := Gate(validSPZ(t)); err != nil || n != 7000 {
		t.Errorf("valid SPZ: %d %v", n, err)
	}
	small := splat.NewCloud(10, 0)
	var b bytes.Buffer
	_ = splat.WriteSPZ(&b, small, splat.SPZOptions{})
	for name, in := range map[string]string{
		"not base64":  "@@@",
		"not SPZ":     base64.StdEncoding.EncodeToString([]byte("hello")),
		"too few":     base64.StdEncoding.EncodeToString(b.Bytes()),
		"bad PLY":     base64.StdEncoding.EncodeToString([]byte("ply\nformat ascii 1.0\nend_header\n")),
		"empty bytes": "",
	} {
		if _, err := Gate(in); err == nil {
			t.Errorf("%s: gate passed", name)
		}
		if s, err := (GateScorer{Pass: 1}).Score(context.Background(), bittensor.Task{}, in); s != 0 || err != nil {
			t.Errorf("%s: score %v %v, want 0 and no error", name, s, err)
		}
	}
}

func TestPersistenceAcrossRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.json")
	key, _ := bittensor.KeypairFromURI("//Validator0")
	v1, info := serve(t, Options{Key: key, StatePath: path})
	d, _ := dendrite(t, "//Miner")
	ctx := context.Background()
	p1, err := d.PullTask(ctx, info, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = v1
	v2, info2 := serve(t, Options{Key: key, StatePath: path})
	p2, err := d.PullTask(ctx, info2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Task == nil || p2.Task.ID != p1.Task.ID || p2.Task.Prompt != p1.Task.Prompt {
		t.Errorf("task after restart %+v, want %+v", p2.Task, p1.Task)
	}
	if s := v2.Summary(); s.Miners[0].Pulls != 2 || s.Miners[0].TasksAssigned != 1 {
		t.Errorf("summary after restart %+v", s.Miners[0])
	}
	other, _ := bittensor.KeypairFromURI("//Validator1")
	if _, err := New(Options{Key: other, StatePath: path}, nil); err == nil || !strings.Contains(err.Error(), "field validator") {
		t.Errorf("state of another validator accepted: %v", err)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		faults  Faults
		timeout time.Duration
		want    error
	}{
		{"500", Faults{ServerErrorRate: 1}, 5 * time.Second, bittensor.ErrServer},
		{"garbage", Faults{GarbageRate: 1}, 5 * time.Second, bittensor.ErrBadBody},
		{"drop", Faults{DropRate: 1}, 5 * time.Second, bittensor.ErrUnreachable},
		{"hang", Faults{HangRate: 1}, 100 * time.Millisecond, bittensor.ErrTimeout},
		{"latency", Faults{Latency: time.Second}, 100 * time.Millisecond, bittensor.ErrTimeout},
		{"clock ahead", Faults{ClockSkew: time.Minute}, 5 * time.Second, bittensor.ErrNotVerified},
		{"clock behind is fine", Faults{ClockSkew: -time.Hour}, 5 * time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, info := serve(t, Options{Faults: tt.faults})
			d, _ := dendrite(t, "//Miner")
			_, err := d.PullTask(context.Background(), info, tt.timeout)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), "uid 0") {
				t.Errorf("error does not name the peer: %v", err)
			}
			if tt.want != nil && len(v.Summary().Miners) != 0 {
				t.Error("a faulted request reached the state")
			}
		})
	}
	if _, err := New(Options{Key: &bittensor.Keypair{}, Faults: Faults{DropRate: 2}}, nil); err == nil {
		t.Error("rate 2 accepted")
	}
}

func TestRunManyShutdown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	g, err := RunMany(ctx, 3, 0, Options{StatePath: filepath.Join(t.TempDir(), "st"), Faults: Faults{HangRate: 0}}, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	infos := g.Infos()
	d, _ := dendrite(t, "//Miner")
	seen := map[string]bool{}
	for _, info := range infos {
		if seen[info.Hotkey] || info.Port == 0 {
			t.Errorf("validator %+v duplicates a hotkey or has no port", info)
		}
		seen[info.Hotkey] = true
		if p, err := d.PullTask(ctx, info, 5*time.Second); err != nil || p.Task == nil {
			t.Errorf("pull from %v: %+v %v", info, p, err)
		}
	}
	if infos[0].Stake < 1000 || infos[len(infos)-1].Stake < 1000 && len(infos) < 4 {
		t.Errorf("stakes %+v", infos)
	}
	cancel()
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for i, s := range g.Summaries() {
		if len(s.Miners) != 1 || s.Miners[0].Pulls != 1 {
			t.Errorf("validator %d summary %+v", i, s)
		}
	}
}
