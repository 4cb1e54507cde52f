package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/tuner"
)

func TestEvaluator(t *testing.T) {
	t.Parallel()
	b := NewBuilder(slog.New(slog.DiscardHandler), "")
	defer b.Close()
	ev := NewEvaluator(tinyProfile(), b)
	trial := func(values map[string]any, prompt string) tuner.Trial {
		return tuner.Trial{ID: "t", Point: tuner.NewPoint(values), Prompt: tuner.Prompt{ID: "p", Text: prompt}, Seed: 1}
	}

	t.Run("runs the point", func(t *testing.T) {
		t.Parallel()
		out, err := ev.Evaluate(context.Background(), trial(map[string]any{"fit.iterations": 4}, "a red cube"))
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Stages) != 6 || out.Total <= 0 {
			t.Errorf("stages %+v, total %v: want 6 timed stages", out.Stages, out.Total)
		}
		var sum float64
		for _, s := range out.Stages {
			sum += s.Seconds
		}
		if out.Total.Seconds() < sum*0.5 {
			t.Errorf("total %v is less than half the stages' sum %.3fs", out.Total, sum)
		}
		if out.ScoreKind != tuner.ScoreFidelity || out.Accepted == nil {
			t.Errorf("score kind %q, accepted %v: want a fidelity score and a verdict", out.ScoreKind, out.Accepted)
		}
		if _, ok := out.Scores[tuner.ScoreKey]; !ok {
			t.Errorf("scores %v have no %q", out.Scores, tuner.ScoreKey)
		}
	})

	errTests := []struct {
		name   string
		values map[string]any
		prompt string
		ctx    func() context.Context
		want   []string // substrings of the error
		is     error
	}{
		{name: "unknown knob", values: map[string]any{"fit.nope": 1}, prompt: "a red cube", want: []string{"point ", "fit.nope"}},
		{name: "invalid value", values: map[string]any{"fit.iterations": -3}, prompt: "a red cube", want: []string{"point ", "fit.iterations"}},
		{name: "cancelled", values: map[string]any{}, prompt: "a red cube",
			ctx: func() context.Context { c, cancel := context.WithCancel(context.Background()); cancel(); return c },
			is:  context.Canceled},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			_, err := ev.Evaluate(ctx, trial(tc.values, tc.prompt))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
		})
	}
}
