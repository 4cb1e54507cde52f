package pipeline

import (
	"bytes"
	"context"
	"image"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/ort/orttest"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/prompts"
)

// tinyProfile is the default profile shrunk to run in well under a second.
func tinyProfile() configs.Profile {
	p := configs.DefaultProfile()
	p.Matte.Enabled = false
	p.Fit.Iterations = 8
	p.Fit.InitCount = 500
	p.Fit.Resolution = 32
	p.Fit.Views = 2
	p.Text2Img.Resolution = 64
	p.Score.FidelityViews = 2
	p.Lift.Resolution = 32
	return p
}

func TestPipelineRunsEveryStage(t *testing.T) {
	t.Parallel()
	b := NewBuilder(slog.New(slog.DiscardHandler), "")
	pl, err := b.Build(context.Background(), tinyProfile())
	if err != nil {
		t.Fatal(err)
	}
	st, timings, err := pl.Run(context.Background(), Job{ID: "j", Prompt: prompts.Text("a red cube"), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tm := range timings {
		names = append(names, tm.Stage)
		if tm.Seconds <= 0 {
			t.Errorf("stage %s: %v seconds", tm.Stage, tm.Seconds)
		}
	}
	if got, want := len(names), 6; got != want {
		t.Fatalf("stages %v, want %d", names, want)
	}
	if st.Cloud == nil || st.Cloud.Len() == 0 || len(st.Encoded) == 0 || st.Format != "spz" {
		t.Fatalf("no output: cloud %v, %d bytes %q", st.Cloud, len(st.Encoded), st.Format)
	}
	if st.ScoreKind != "fidelity" {
		t.Errorf("score kind %q", st.ScoreKind)
	}
	// Drawing the held-out truth views is a benchmark's work.
	if st.Untimed <= 0 {
		t.Errorf("untimed %v after drawing %d held-out views, want > 0", st.Untimed, len(st.Truth.Views))
	}
	// 500 Gaussians fail the validator's 7000 gate: the score must be 0
	// whatever the fidelity, as the validator would score it.
	if st.Scores["gate"] != 0 || st.Scores["score"] != 0 || st.Accepted {
		t.Errorf("gate %v score %v accepted %v: a cloud under the gate must score 0", st.Scores["gate"], st.Scores["score"], st.Accepted)
	}
	if _, _, err := splat.ReadSPZ(bytes.NewReader(st.Encoded)); err != nil {
		t.Errorf("encoded output does not decode: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*configs.Profile)
		want string
	}{
		{"flux without files", func(p *configs.Profile) { p.Text2Img.Source = "flux"; p.Text2Img.Model = t.TempDir() }, "text2img.model"},
		{"clip without files", func(p *configs.Profile) { p.Score.ClipModel = t.TempDir() }, "score.clip_model"},
		{"views without matte", func(p *configs.Profile) { p.Views.Model = "mv.onnx" }, "views.model"},
		{"source", func(p *configs.Profile) { p.Text2Img.Source = "dreams" }, "text2img.source"},
	}
	b := NewBuilder(slog.New(slog.DiscardHandler), "")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tinyProfile()
			tc.mod(&p)
			_, err := b.Build(context.Background(), p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestUnknownScenePrompt(t *testing.T) {
	t.Parallel()
	pl, err := NewBuilder(slog.New(slog.DiscardHandler), "").Build(context.Background(), tinyProfile())
	if err != nil {
		t.Fatal(err)
	}
	_, timings, err := pl.Run(context.Background(), Job{ID: "j", Prompt: prompts.Text("a unicorn")})
	if err == nil || len(timings) != 0 {
		t.Fatalf("err = %v, timings %v: want an error before any stage finished", err, timings)
	}
}

func TestPrepareAndStageNames(t *testing.T) {
	t.Parallel()
	pl, err := NewBuilder(slog.New(slog.DiscardHandler), "").Build(context.Background(), tinyProfile())
	if err != nil {
		t.Fatal(err)
	}
	st, stage, err := pl.Prepare(context.Background(), Job{ID: "j", Prompt: prompts.Text("a blue sphere")}, "fit")
	if err != nil {
		t.Fatal(err)
	}
	if stage.Name() != "fit" || len(st.Views) != 2 || st.Cloud != nil {
		t.Fatalf("prepared %s with %d views, cloud %v", stage.Name(), len(st.Views), st.Cloud)
	}
	if _, _, err := pl.Prepare(context.Background(), Job{}, "nope"); err == nil {
		t.Fatal("Prepare of an unknown stage succeeded")
	}
}

func TestMemoReuse(t *testing.T) {
	t.Parallel()
	m := newMemo(1)
	calls := 0
	f := func() (*image.NRGBA, error) { calls++; return image.NewNRGBA(image.Rect(0, 0, 1, 1)), nil }
	if _, err := m.do("a", "k1", f); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.reused("a"); ok {
		t.Error("first call reported as reused")
	}
	m.do("b", "k1", f)
	if _, ok := m.reused("b"); !ok || calls != 1 {
		t.Errorf("second call: reused %v, %d computations", ok, calls)
	}
	m.do("c", "k2", f) // evicts k1
	m.do("d", "k1", f)
	if calls != 3 {
		t.Errorf("%d computations, want 3 after eviction", calls)
	}
}

// TestMatteStageReuse runs the real ISNet model: twice on one image, the
// second run reuses the first's output and keeps its measured cost.
func TestMatteStageReuse(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ISNet at 1024² twice")
	}
	orttest.Library(t)
	b := NewBuilder(slog.New(slog.DiscardHandler), "")
	defer b.Close()
	b.ReuseOutputs(4)
	p := tinyProfile()
	p.Matte.Enabled = true
	pl, err := b.Build(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	var first float64
	for i, id := range []string{"j1", "j2"} {
		st, timings, err := pl.Run(context.Background(), Job{ID: id, Prompt: prompts.Text("a red cube"), Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		m := timings[1]
		if m.Stage != "matte" || m.Reused != (i == 1) {
			t.Fatalf("run %d: %+v", i, m)
		}
		if i == 0 {
			first = m.Seconds
		} else if math.Abs(m.Seconds-first) > 0.05*first {
			// The memo times the model call; the first run's timing also
			// covers the IoU and the view resize.
			t.Errorf("reused matte reports %v s, want about the measured %v s", m.Seconds, first)
		}
		// ISNet on a composited reference scene: see pipeline/matte's
		// quality test for the floor's justification.
		if iou := st.Scores["matte_iou"]; iou < 0.9 {
			t.Errorf("matte IoU %.3f < 0.9", iou)
		}
	}
}

// untimedStage reports d of untimed work without spending it.
type untimedStage struct{ d time.Duration }

func (untimedStage) Name() string { return "untimed" }

func (s untimedStage) Run(_ context.Context, st *State) error {
	st.Untimed += s.d
	return nil
}

// TestUntimedWorkLeftOut: a stage's untimed work (a benchmark's ground
// truth) counts neither in its timing nor in the job's latency.
func TestUntimedWorkLeftOut(t *testing.T) {
	t.Parallel()
	pl := New(slog.New(slog.DiscardHandler), untimedStage{time.Hour})
	start := time.Now()
	st, timings, err := pl.Run(context.Background(), Job{ID: "j"})
	if err != nil {
		t.Fatal(err)
	}
	// The stage took microseconds, an hour of which it called untimed.
	if len(timings) != 1 || timings[0].Seconds > -3599 {
		t.Errorf("timings %+v: the untimed hour was not left out", timings)
	}
	if d := st.Since(start); d > -59*time.Minute {
		t.Errorf("Since = %v: the untimed hour was not left out", d)
	}
	if st, tm, err := New(slog.New(slog.DiscardHandler), untimedStage{}).Run(context.Background(), Job{ID: "k"}); err != nil || st.Untimed != 0 || tm[0].Seconds < 0 {
		t.Errorf("no untimed work: untimed %v, timing %+v, %v", st.Untimed, tm, err)
	}
}
