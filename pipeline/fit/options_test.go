package fit

import (
	"errors"
	"math"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("DefaultOptions invalid: %v", err)
	}
	tests := []struct {
		name string
		mut  func(*Options)
	}{
		{"negative iterations", func(o *Options) { o.Iterations = -1 }},
		{"zero init count", func(o *Options) { o.InitCount = 0 }},
		{"unknown init", func(o *Options) { o.InitKind = "cube" }},
		{"zero radius", func(o *Options) { o.InitRadius = 0 }},
		{"SH degree 4", func(o *Options) { o.SHDegree = 4 }},
		{"SH up interval", func(o *Options) { o.SHDegree = 2; o.SHUpInterval = 0 }},
		{"grad threshold", func(o *Options) { o.DensifyGradThreshold = 0 }},
		{"prune opacity 1", func(o *Options) { o.PruneOpacity = 1 }},
		{"cap below init", func(o *Options) { o.MaxGaussians = 10 }},
		{"lr final zero", func(o *Options) { o.LRPositionFinal = 0 }},
		{"negative lr", func(o *Options) { o.LRScale = -1 }},
		{"dssim above 1", func(o *Options) { o.LambdaDSSIM = 1.5 }},
		{"alpha loss kind", func(o *Options) { o.AlphaLoss = "huber" }},
		{"background", func(o *Options) { o.Background[1] = 2 }},
		{"workers", func(o *Options) { o.Workers = -2 }},
		{"negative area prior", func(o *Options) { o.AreaPriorWeight = -0.1 }},
		{"NaN area prior", func(o *Options) { o.AreaPriorWeight = math.NaN() }},
		{"area prior size", func(o *Options) { o.AreaPriorWeight = 0.1; o.AreaPriorSize = 4 }},
	}
	for _, tc := range tests {
		o := DefaultOptions()
		tc.mut(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: Validate = %v, want ErrInvalidOptions", tc.name, err)
		}
	}
}
