package orchestrator

import (
	"context"
	"image"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/splatbench/splatbench/miner/pod"
	"github.com/splatbench/splatbench/pipeline/threejs/generate"
	"github.com/splatbench/splatbench/pipeline/threejs/validate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startPod serves a pod with workers generators on loopback until the test
// ends, warmed up on warm.
func startPod(t *testing.T, workers int, gen pod.Generator, warm image.Image) string {
	t.Helper()
	gens := make([]pod.Generator, workers)
	for i := range gens {
		gens[i] = gen
	}
	opts := pod.DefaultOptions()
	opts.RetryBackoff = 10 * time.Millisecond
	p, err := pod.New(opts, gens, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Warmup(context.Background(), warm, nil); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pod: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// localValidator is the real validator when the set-up has put its assets
// in place; without them the round runs unchecked (and says so).
func localValidator(t *testing.T) *validate.Validator {
	a, err := validate.FindAssets()
	if err != nil {
		t.Logf("no Three.js validator (%v): modules go unchecked", err)
		return nil
	}
	v, err := validate.New(a, validate.Spec())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// TestRound: the orchestrator drives the pod over loopback through 4
// batches of 32 reference-scene prompts with every fault injected.
func TestRound(t *testing.T) {
	if testing.Short() {
		t.Skip("a full round (about a minute on 2 cores)")
	}
	ctx := context.Background()
	// The real image-to-module generator at its fastest: prompts with
	// alpha (no matte), no colour-fit renders; the orchestrator validates.
	prompts, err := ReferencePrompts(ctx, 128, 256, true)
	if err != nil {
		t.Fatal(err)
	}
	base := startPod(t, 2, pod.ThreeJS(generate.DefaultOptions()), prompts[0].Object)
	cfg := DefaultConfig()
	cfg.Pod, cfg.Token = base, "local-token"
	cfg.Prompts = prompts
	cfg.PollInterval = 20 * time.Millisecond
	cfg.RequestTimeout = 10 * time.Second
	cfg.BatchTimeout = 5 * time.Minute
	cfg.Verify = true
	missing, bomb := prompts[5].Stem, prompts[70].Stem
	cfg.Faults = Faults{DropGenerate: 1, CutResults: 1, SlowPoll: 5 * time.Millisecond, Missing: []string{missing}, Bombs: []string{bomb}}
	if v := localValidator(t); v != nil {
		cfg.Check = &Checker{Validator: v, Workers: 2}
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Accounted() {
		t.Fatalf("not every stem accounted for: %+v", rep.Counts)
	}
	if len(rep.Batches) != 4 {
		t.Fatalf("%d batches, want 4", len(rep.Batches))
	}
	for _, b := range rep.Batches {
		if b.Prompts != 32 || b.Modules+b.PodFailed != 32 || !b.Idempotent || b.Seconds <= 0 {
			t.Errorf("batch %+v", b)
		}
	}
	if b := rep.Batches[0]; b.GenerateAttempts != 2 || b.ResultsAttempts != 2 {
		t.Errorf("batch 0: %d POST attempts and %d downloads, want 2 and 2 (one dropped answer, one cut download)", b.GenerateAttempts, b.ResultsAttempts)
	}
	if rep.Faults.DroppedGenerate != 1 || rep.Faults.CutResults != 1 {
		t.Errorf("faults %+v", rep.Faults)
	}
	reasons := map[string]string{}
	for _, p := range rep.Prompts {
		if p.Outcome == OutcomePodFailed {
			reasons[p.Stem] = p.Reason
		}
	}
	if !strings.Contains(reasons[missing], "image download failed: HTTP 404") || !strings.Contains(reasons[bomb], "over the limit") {
		t.Errorf("pod failures %v, want the 404 and the bomb among them", reasons)
	}
	// What the generator makes of the other 126 is its own business; the
	// round only has to account for it.
	c := rep.Counts
	if c.Passed+c.Returned+c.RuleFailed+c.PodFailed != 128 || c.Passed+c.Returned == 0 {
		t.Errorf("counts %+v", c)
	}
	for _, p := range rep.Prompts {
		if p.Outcome == OutcomePodFailed && p.Stem != missing && p.Stem != bomb && !strings.HasPrefix(p.Reason, "generation failed: ") {
			t.Errorf("%s: pod failure %q", p.Stem, p.Reason)
		}
	}
	if rep.Status.N < 8 {
		t.Errorf("only %d /status samples", rep.Status.N)
	}
	t.Logf("round: %.1f s; /status under load: n=%d p50 %.2f ms p99 %.2f ms max %.2f ms; batches %.1f/%.1f/%.1f/%.1f s",
		rep.Seconds, rep.Status.N, rep.Status.P50Ms, rep.Status.P99Ms, rep.Status.MaxMs,
		rep.Batches[0].Seconds, rep.Batches[1].Seconds, rep.Batches[2].Seconds, rep.Batches[3].Seconds)
	dir := t.TempDir()
	if err := rep.Write(dir); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(dir + "/report.md")
	t.Logf("%s", md)
}
