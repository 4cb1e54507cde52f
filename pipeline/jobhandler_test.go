package pipeline

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/jobs"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/prompts"
	"github.com/splatbench/splatbench/tuner"
)

// The pipeline behind the queue: a generation job and a trial job go
// through an embedded server to a worker running JobHandler, and come back
// as the same things the in-process pipeline makes.
func TestJobHandlerThroughQueue(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	s, err := jobs.StartServer(jobs.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	nc, err := jobs.ConnectInProcess(s, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	q, err := jobs.Open(ctx, nc, jobs.Config{Memory: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := jobs.NewClient(ctx, q, log)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	b := NewBuilder(log, "")
	defer b.Close()
	p := tinyProfile()
	p.Device = "cpu"
	slots, closeSlots, err := b.JobSlots(p, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSlots()
	w, err := jobs.NewWorker(q, slots, jobs.WorkerOptions{ID: "test"}, log)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithCancel(ctx)
	wdone := make(chan error, 1)
	go func() { wdone <- w.Run(wctx) }()
	defer func() { wcancel(); <-wdone }()

	local, err := b.Build(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	stages := len(local.Stages())

	// Generation, as serve hands it over.
	run := QueueRun(c, p)
	st, timings, err := run(ctx, Job{ID: "g1", Prompt: prompts.Text("a red cube"), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(timings) != stages || st.Format != p.Encoding.Format || len(st.Encoded) == 0 {
		t.Fatalf("%d timings, format %q, %d bytes: want %d stages and an encoded %s", len(timings), st.Format, len(st.Encoded), stages, p.Encoding.Format)
	}
	read := map[string]func() error{
		"ply": func() error { _, _, err := splat.ReadPLY(bytes.NewReader(st.Encoded)); return err },
		"spz": func() error { _, _, err := splat.ReadSPZ(bytes.NewReader(st.Encoded)); return err },
	}[st.Format]
	if err := read(); err != nil {
		t.Errorf("the %s output does not parse: %v", st.Format, err)
	}

	// A trial, as the tuner hands it over.
	ev := jobs.NewEvaluator(c, p, "run")
	out, err := ev.Evaluate(ctx, tuner.Trial{ID: "t1", Point: tuner.NewPoint(map[string]any{"fit.iterations": 4}),
		Prompt: tuner.Prompt{ID: "p", Text: "a red cube"}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Stages) != stages || out.Total <= 0 || out.ScoreKind != tuner.ScoreFidelity || out.Accepted == nil {
		t.Errorf("outcome %+v: want every stage, a total, a fidelity score and a verdict", out)
	}
	// A bad point is the trial's error, named, not a hang or a retry.
	_, err = ev.Evaluate(ctx, tuner.Trial{ID: "t2", Point: tuner.NewPoint(map[string]any{"fit.nope": 1}),
		Prompt: tuner.Prompt{ID: "p", Text: "a red cube"}, Seed: 1})
	if err == nil {
		t.Error("an unknown knob evaluated without error")
	}
}
