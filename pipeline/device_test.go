package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/fit"
	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/prompts"
)

// fakeGPU stands in for a CUDA device: each call takes one second and
// records how many calls overlap on it.
type fakeGPU struct {
	busy, worst, calls atomic.Int32
}

func (f *fakeGPU) work() {
	n := f.busy.Add(1)
	for {
		w := f.worst.Load()
		if n <= w || f.worst.CompareAndSwap(w, n) {
			break
		}
	}
	f.calls.Add(1)
	time.Sleep(time.Second)
	f.busy.Add(-1)
}

func (f *fakeGPU) Render(context.Context, *splat.Cloud, []splat.Camera, splat.RenderOptions) ([]*splat.Image, error) {
	f.work()
	return nil, nil
}

func (f *fakeGPU) RenderTimed(context.Context, *splat.Cloud, []splat.Camera, splat.RenderOptions) ([]*splat.Image, cuda.Timing, error) {
	f.work()
	return nil, cuda.Timing{DeviceMs: 2}, nil
}

func (f *fakeGPU) MemInfo() (free, total uint64, err error) { return 3 << 30, 4 << 30, nil }

func (f *fakeGPU) Info() cuda.Info { return cuda.Info{Name: "fake"} }

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func (f *fakeGPU) Fit(context.Context, []fit.View, fit.Options, *slog.Logger, func(int, float64)) (*fit.Result, error) {
	f.work()
	return &fit.Result{}, nil
}

// TestGPURendererSpreadsJobs: concurrent jobs over a pool of devices run
// one per device at a time, use every device, and take as long as the
// busiest device's queue.
func TestGPURendererSpreadsJobs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		devices, jobs int
		want          time.Duration
	}{
		{1, 3, 3 * time.Second},
		{2, 6, 3 * time.Second},
		{3, 4, 2 * time.Second},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			devs := make([]*fakeGPU, tt.devices)
			gs := make([]gpu, tt.devices)
			for i := range devs {
				devs[i] = new(fakeGPU)
				gs[i] = devs[i]
			}
			r := newGPURenderer(quiet(), "test", gs...)
			start := time.Now()
			var wg sync.WaitGroup
			for j := range tt.jobs {
				wg.Go(func() {
					var err error
					if j%2 == 0 {
						_, err = r.Fit(t.Context(), nil, fit.Options{}, nil, nil)
					} else {
						_, err = r.Render(t.Context(), nil, nil, splat.RenderOptions{})
					}
					if err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if got := time.Since(start); got != tt.want {
				t.Errorf("%d jobs on %d devices took %v, want %v", tt.jobs, tt.devices, got, tt.want)
			}
			for i, d := range devs {
				if d.worst.Load() > 1 {
					t.Errorf("device %d ran %d jobs at once", i, d.worst.Load())
				}
				if d.calls.Load() == 0 {
					t.Errorf("device %d got no job", i)
				}
			}
			if len(r.free) != tt.devices {
				t.Errorf("%d of %d devices returned to the pool", len(r.free), tt.devices)
			}
		})
	}
}

// TestGPURendererWaitObeysContext: a job waiting for a busy device gives
// up when its context ends, and the device is not lost.
func TestGPURendererWaitObeysContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		d := new(fakeGPU)
		r := newGPURenderer(quiet(), "one", d)
		go r.Render(t.Context(), nil, nil, splat.RenderOptions{})
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := r.Fit(ctx, nil, fit.Options{}, nil, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the deadline", err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if len(r.free) != 1 || d.calls.Load() != 1 {
			t.Errorf("free %d, calls %d; want the device back and one call", len(r.free), d.calls.Load())
		}
	})
}

// TestGPURendererMemorySumsDevices: Memory takes each device in turn and
// sums used and total; RenderTimed converts the device time to seconds.
func TestGPURendererMemorySumsDevices(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newGPURenderer(quiet(), "two", new(fakeGPU), new(fakeGPU))
		used, total, err := r.Memory(t.Context())
		if err != nil || used != 2<<30 || total != 8<<30 {
			t.Errorf("Memory = %d, %d, %v; want 2 GiB of 8 GiB", used, total, err)
		}
		if len(r.free) != 2 {
			t.Errorf("%d devices back in the pool, want 2", len(r.free))
		}
		_, secs, err := r.RenderTimed(t.Context(), nil, nil, splat.RenderOptions{})
		if err != nil || secs != 0.002 {
			t.Errorf("RenderTimed = %v s, %v; want 0.002 s", secs, err)
		}
	})
}

// TestFidelityRendersWithTheStageRenderer: the score stage draws its
// held-out views with the renderer it was given (a GPU's in a GPU build),
// and the result matches the CPU renderer's.
func TestFidelityRendersWithTheStageRenderer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := sceneSource{imageSize: 64, fitSize: 32, trainViews: 2, heldOut: 2}
	st := &State{Job: Job{Prompt: prompts.Text("red-cube"), Seed: 1}, Scores: map[string]float64{}}
	if err := src.Run(ctx, st); err != nil {
		t.Fatal(err)
	}
	sc, err := scenes.Get("red-cube")
	if err != nil {
		t.Fatal(err)
	}
	st.Cloud = sc.Build(0, 0)
	var calls atomic.Int32
	counting := func(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error) {
		calls.Add(1)
		return splat.RenderBatch(ctx, c, cams, opt)
	}
	withGPU := fidelityStage{threshold: 0.5, render: counting, device: "test"}
	if err := withGPU.Run(ctx, st); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || withGPU.Device() != "test" {
		t.Errorf("renderer called %d times, device %q; want 1 and test", calls.Load(), withGPU.Device())
	}
	got := st.Scores["score"]
	st.Scores = map[string]float64{}
	if err := (fidelityStage{threshold: 0.5}).Run(ctx, st); err != nil {
		t.Fatal(err)
	}
	if want := st.Scores["score"]; got != want {
		t.Errorf("score %v with the stage renderer, %v with the CPU's", got, want)
	}
}

// TestImageTruthRendersWithTheStageRenderer: a scene picture's ground
// truth (its 16 validator views) is drawn with the source's renderer (the
// profile's device), not always on the CPU.
func TestImageTruthRendersWithTheStageRenderer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps, err := imageeval.WriteScenePrompts(ctx, t.TempDir(), 64)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	src := sceneSource{fitSize: 32, truthSize: 32, render: func(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error) {
		calls.Add(1)
		return splat.RenderBatch(ctx, c, cams, opt)
	}}
	st := &State{Job: Job{Prompt: ps[0], Seed: 1}, Scores: map[string]float64{}}
	if err := src.Run(ctx, st); err != nil {
		t.Fatal(err)
	}
	if st.Truth == nil || len(st.Truth.Views) != splat.ValidatorViews || calls.Load() != 1 {
		t.Fatalf("truth %v, renderer called %d times; want 16 views drawn by one call", st.Truth != nil, calls.Load())
	}
	// Recognising the picture and drawing its truth is a benchmark's work,
	// left out of the job's latency.
	if st.Untimed <= 0 {
		t.Errorf("untimed %v after drawing the truth, want > 0", st.Untimed)
	}
}

// TestPictureScoringUntimed: scoring a picture's job against a recognised
// scene's truth is benchmark work (a miner's picture has no truth), left
// out of the latency; scoring a scene prompt's held-out views stays timed.
func TestPictureScoringUntimed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps, err := imageeval.WriteScenePrompts(ctx, t.TempDir(), 64)
	if err != nil {
		t.Fatal(err)
	}
	var rendered time.Duration
	timed := func(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error) {
		start := time.Now()
		defer func() { rendered += time.Since(start) }()
		return splat.RenderBatch(ctx, c, cams, opt)
	}
	sc, err := scenes.Get("red-cube")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		src     sceneSource
		job     Job
		untimed bool
	}{
		{"picture", sceneSource{fitSize: 32, truthSize: 32}, Job{Prompt: ps[0], Seed: 1}, true},
		{"scene prompt", sceneSource{imageSize: 64, fitSize: 32, trainViews: 2, heldOut: 2}, Job{Prompt: prompts.Text("red-cube"), Seed: 1}, false},
	} {
		st := &State{Job: tc.job, Scores: map[string]float64{}}
		if err := tc.src.Run(ctx, st); err != nil {
			t.Fatal(err)
		}
		st.Cloud = sc.Build(0, 0)
		before := st.Untimed
		rendered = 0
		if err := (fidelityStage{threshold: 0.5, render: timed}).Run(ctx, st); err != nil {
			t.Fatal(err)
		}
		if grew := st.Untimed - before; tc.untimed && grew < rendered || !tc.untimed && grew != 0 {
			t.Errorf("%s: scoring added %v of untimed work (its renders took %v); want untimed %v", tc.name, grew, rendered, tc.untimed)
		}
	}
}
