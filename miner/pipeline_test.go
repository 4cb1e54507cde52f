package miner

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/miner/bittensor"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// tinyMineProfile is the default profile with matte off and a tiny fit,
// encoding SPZ as the miner needs.
func tinyMineProfile() configs.Profile {
	p := configs.DefaultProfile()
	p.Matte.Enabled = false
	p.Fit.Iterations = 8
	p.Fit.InitCount = 500
	p.Fit.Resolution = 32
	p.Fit.Views = 2
	p.Text2Img.Resolution = 64
	p.Score.FidelityViews = 2
	p.Encoding.Format = "spz"
	return p
}

func TestPipelineGenerator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := pipeline.NewBuilder(slog.New(slog.DiscardHandler), "")
	defer b.Close()
	g, err := NewPipelineGenerator(ctx, b, tinyMineProfile(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var gen Generator = g

	// "a red cube" is a reference scene's prompt: the default profile
	// generates it, so every failure below is the one the case is about.
	task := Task{ID: "task-1", Type: bittensor.TaskText, Prompt: "a red cube"}
	out, err := gen.Generate(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	if c, _, err := splat.ReadSPZ(bytes.NewReader(out.Data)); err != nil || c.Len() == 0 {
		t.Errorf("output (%d bytes) is not an SPZ cloud: %v", len(out.Data), err)
	}
	if out.Score < 0 || out.Score > 1 || len(out.Timings) == 0 {
		t.Errorf("score %v, timings %v", out.Score, out.Timings)
	}
	// The pool hands its pipeline back: a second generation runs.
	if again, err := gen.Generate(ctx, task); err != nil || len(again.Data) == 0 {
		t.Errorf("second generation: %d bytes, %v", len(again.Data), err)
	}

	t.Run("bad image prompt", func(t *testing.T) {
		_, err := gen.Generate(ctx, Task{ID: "img-1", Type: bittensor.TaskImage, Prompt: "not base64!"})
		if err == nil || !strings.Contains(err.Error(), "img-1") || !strings.Contains(err.Error(), "base64") {
			t.Errorf("error %v, want one naming the task and base64", err)
		}
	})
	t.Run("cancelled while generating", func(t *testing.T) {
		// A prompt that generates (in about 0.4 s on 2 cores), so only the
		// cancellation can fail it: the context ends while the pipeline
		// runs, and Generate must stop with the context's error.
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		out, err := gen.Generate(cctx, task)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("generation past its deadline: %d bytes, error %v; want context.DeadlineExceeded", len(out.Data), err)
		}
	})
	t.Run("cancelled while waiting for a pipeline", func(t *testing.T) {
		// Every pipeline is busy (taken from the pool): Generate waits for
		// one and must give up when its context ends.
		held := <-g.pool
		defer func() { g.pool <- held }()
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := gen.Generate(cctx, task); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want context.DeadlineExceeded", err)
		}
	})
	entries, err := os.ReadDir(g.tmpDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("image prompt files left behind: %v", entries)
	}
}

func TestJobPromptImage(t *testing.T) {
	t.Parallel()
	g := &PipelineGenerator{tmpDir: t.TempDir()}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	jpg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	for _, tc := range []struct {
		name string
		raw  []byte
		ext  string
	}{{"png", png, ".png"}, {"jpeg", jpg, ".jpg"}} {
		p, cleanup, err := g.jobPrompt(Task{ID: tc.name, Type: bittensor.TaskImage, Prompt: base64.StdEncoding.EncodeToString(tc.raw)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if p.Image == "" || filepath.Ext(p.Image) != tc.ext {
			t.Errorf("%s: image prompt %+v, want a %s file", tc.name, p, tc.ext)
		}
		if got, err := os.ReadFile(p.Image); err != nil || string(got) != string(tc.raw) {
			t.Errorf("%s: file holds %q (%v), want the decoded image", tc.name, got, err)
		}
		cleanup()
		if _, err := os.Stat(p.Image); !os.IsNotExist(err) {
			t.Errorf("%s: cleanup left %s", tc.name, p.Image)
		}
	}
	if taskSeed("a") != taskSeed("a") || taskSeed("a") == taskSeed("b") || taskSeed("a") < 0 {
		t.Error("taskSeed is not a stable non-negative hash of the id")
	}
}
