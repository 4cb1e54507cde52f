package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// namedStage is a stage that records nothing and may fail.
type namedStage struct {
	name string
	err  error
}

func (s namedStage) Name() string                      { return s.name }
func (s namedStage) Run(context.Context, *State) error { return s.err }

func TestStageHook(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name   string
		stages []Stage
		want   []string
	}{
		{"every stage, in order", []Stage{namedStage{name: "a"}, namedStage{name: "b"}, namedStage{name: "c"}}, []string{"a", "b", "c"}},
		{"up to the failing stage", []Stage{namedStage{name: "a"}, namedStage{name: "b", err: boom}, namedStage{name: "c"}}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			ctx := WithStageHook(context.Background(), func(s string) { got = append(got, s) })
			_, _, _ = New(slog.New(slog.DiscardHandler), tt.stages...).Run(ctx, Job{ID: "j"})
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("stages announced (-want +got):\n%s", d)
			}
		})
	}
	// Without a hook Run still runs.
	if _, _, err := New(slog.New(slog.DiscardHandler), namedStage{name: "a"}).Run(context.Background(), Job{}); err != nil {
		t.Fatal(err)
	}
}
