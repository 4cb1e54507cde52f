package tuner

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/configs"
)

func fp(f float64) *float64 { return &f }

func ids(pts []Point) []string {
	out := make([]string, len(pts))
	for i, p := range pts {
		out[i] = p.ID
	}
	return out
}

func TestPointID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		values map[string]any
		want   string
	}{
		{nil, "base"},
		{map[string]any{"text2img.steps": 4, "fit.iterations": 300}, "fit.iterations=300,text2img.steps=4"},
		// A JSON round trip turns ints into float64: the ID must not change.
		{map[string]any{"fit.iterations": 300.0}, "fit.iterations=300"},
		{map[string]any{"score.threshold": 0.55}, "score.threshold=0.55"},
		{map[string]any{"matte.model": "isnet-small", "fit.init": "a b"}, `fit.init="a b",matte.model=isnet-small`},
		{map[string]any{"providers": []any{"cuda", "cpu"}}, "providers=[cuda;cpu]"},
		{map[string]any{"matte.enabled": false}, "matte.enabled=false"},
	}
	for _, tt := range tests {
		if got := PointID(tt.values); got != tt.want {
			t.Errorf("PointID(%v) = %q, want %q", tt.values, got, tt.want)
		}
	}
}

func TestPointsGrid(t *testing.T) {
	t.Parallel()
	s := configs.Sweep{
		Sampling: "grid",
		Knobs: []configs.Knob{
			{Name: "flux.steps", Values: []any{1, 4}},
			{Name: "fit.iterations", Min: fp(100), Max: fp(300), Step: 100},
			{Name: "score.threshold", Values: []any{0.5, 0.6}},
		},
	}
	pts, err := Points(s, configs.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"fit.iterations=100,score.threshold=0.5,text2img.steps=1",
		"fit.iterations=100,score.threshold=0.6,text2img.steps=1",
		"fit.iterations=200,score.threshold=0.5,text2img.steps=1",
		"fit.iterations=200,score.threshold=0.6,text2img.steps=1",
		"fit.iterations=300,score.threshold=0.5,text2img.steps=1",
		"fit.iterations=300,score.threshold=0.6,text2img.steps=1",
		"fit.iterations=100,score.threshold=0.5,text2img.steps=4",
		"fit.iterations=100,score.threshold=0.6,text2img.steps=4",
		"fit.iterations=200,score.threshold=0.5,text2img.steps=4",
		"fit.iterations=200,score.threshold=0.6,text2img.steps=4",
		"fit.iterations=300,score.threshold=0.5,text2img.steps=4",
		"fit.iterations=300,score.threshold=0.6,text2img.steps=4",
	}
	if diff := cmp.Diff(want, ids(pts)); diff != "" {
		t.Errorf("grid (-want +got):\n%s", diff)
	}
	if _, ok := pts[0].Values["fit.iterations"].(int); !ok {
		t.Errorf("integer knob value has type %T, want int", pts[0].Values["fit.iterations"])
	}
}

func TestPointsRandomAndLHS(t *testing.T) {
	t.Parallel()
	for _, sampling := range []string{"random", "lhs"} {
		t.Run(sampling, func(t *testing.T) {
			t.Parallel()
			s := configs.Sweep{
				Sampling: sampling,
				Samples:  40,
				Seed:     7,
				Knobs: []configs.Knob{
					{Name: "fit.iterations", Min: fp(50), Max: fp(5000), Log: true},
					{Name: "fit.lr_position", Min: fp(0.001), Max: fp(0.1)},
					{Name: "matte.model", Values: []any{"isnet-small", "isnet-medium"}},
				},
			}
			a, err := Points(s, configs.DefaultProfile())
			if err != nil {
				t.Fatal(err)
			}
			b, err := Points(s, configs.DefaultProfile())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ids(a), ids(b)); diff != "" {
				t.Fatalf("same seed, different points:\n%s", diff)
			}
			s.Seed = 8
			c, _ := Points(s, configs.DefaultProfile())
			if cmp.Equal(ids(a), ids(c)) {
				t.Error("different seeds gave the same points")
			}
			if len(a) != 40 {
				t.Errorf("got %d points, want 40 (continuous knobs never collide)", len(a))
			}
			var logLow int
			for _, p := range a {
				it, ok := p.Values["fit.iterations"].(int)
				if !ok || it < 50 || it > 5000 {
					t.Fatalf("fit.iterations = %v (%T), want an int in [50, 5000]", p.Values["fit.iterations"], p.Values["fit.iterations"])
				}
				if it < 500 { // log-uniform: half the mass is below sqrt(50·5000) = 500
					logLow++
				}
				lr := p.Values["fit.lr_position"].(float64)
				if lr < 0.001 || lr > 0.1 {
					t.Fatalf("fit.lr_position = %v outside [0.001, 0.1]", lr)
				}
			}
			if logLow < 10 || logLow > 30 {
				t.Errorf("%d of 40 log-uniform draws below the geometric mean, want about 20", logLow)
			}
		})
	}
}

// TestLHSStrata checks the Latin property: with n samples, each of the n
// equal strata of every range holds exactly one sample.
func TestLHSStrata(t *testing.T) {
	t.Parallel()
	const n = 25
	s := configs.Sweep{Sampling: "lhs", Samples: n, Seed: 3, Knobs: []configs.Knob{
		{Name: "fit.lr_position", Min: fp(0), Max: fp(1)},
		{Name: "fit.lr_scale", Min: fp(1), Max: fp(100), Log: true},
	}}
	pts, err := Points(s, configs.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	lin := make([]int, n)
	lg := make([]int, n)
	for _, p := range pts {
		x, _ := p.Float("fit.lr_position")
		lin[min(int(x*n), n-1)]++
		y, _ := p.Float("fit.lr_scale")
		lg[min(int(math.Log10(y)/2*n), n-1)]++
	}
	for i := range n {
		if lin[i] != 1 || lg[i] != 1 {
			t.Fatalf("stratum %d holds %d (linear) and %d (log) samples, want 1 each", i, lin[i], lg[i])
		}
	}
}

func TestPointsSmallDiscreteRandomDeduplicates(t *testing.T) {
	t.Parallel()
	s := configs.Sweep{Sampling: "random", Samples: 50, Seed: 1, Knobs: []configs.Knob{
		{Name: "text2img.steps", Min: fp(1), Max: fp(4)},
	}}
	pts, err := Points(s, configs.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 4 {
		t.Errorf("got %d points %v, want the 4 distinct integers", len(pts), ids(pts))
	}
}

func TestPointsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		sweep configs.Sweep
		empty bool // wraps ErrEmptySpace
	}{
		{"no knobs", configs.Sweep{Sampling: "grid"}, true},
		{"empty values", configs.Sweep{Knobs: []configs.Knob{{Name: "fit.iterations", Values: []any{}}}}, true},
		{"neither values nor range", configs.Sweep{Knobs: []configs.Knob{{Name: "fit.iterations"}}}, true},
		{"min above max", configs.Sweep{Knobs: []configs.Knob{{Name: "fit.iterations", Min: fp(10), Max: fp(5), Step: 1}}}, true},
		{"no integer in range", configs.Sweep{Knobs: []configs.Knob{{Name: "fit.iterations", Min: fp(1.2), Max: fp(1.8), Step: 0.1}}}, true},
		{"random without samples", configs.Sweep{Sampling: "random", Knobs: []configs.Knob{{Name: "fit.iterations", Values: []any{1}}}}, true},
		{"unknown path", configs.Sweep{Knobs: []configs.Knob{{Name: "fit.iteratoins", Values: []any{1}}}}, false},
		{"values and range", configs.Sweep{Knobs: []configs.Knob{{Name: "fit.iterations", Values: []any{1}, Min: fp(1), Max: fp(2)}}}, false},
		{"half a range", configs.Sweep{Knobs: []configs.Knob{{Name: "fit.iterations", Min: fp(1)}}}, false},
		{"log with zero min", configs.Sweep{Sampling: "lhs", Samples: 3, Knobs: []configs.Knob{{Name: "fit.lr_scale", Min: fp(0), Max: fp(1), Log: true}}}, false},
		{"grid over a range without step", configs.Sweep{Knobs: []configs.Knob{{Name: "fit.lr_scale", Min: fp(0), Max: fp(1)}}}, false},
		{"range on a string field", configs.Sweep{Knobs: []configs.Knob{{Name: "matte.model", Min: fp(0), Max: fp(1), Step: 1}}}, false},
		{"duplicate knob via alias", configs.Sweep{Knobs: []configs.Knob{{Name: "flux.steps", Values: []any{1}}, {Name: "text2img.steps", Values: []any{2}}}}, false},
		{"duplicate value", configs.Sweep{Knobs: []configs.Knob{{Name: "fit.iterations", Values: []any{100, 100.0}}}}, false},
		{"value of the wrong type", configs.Sweep{Knobs: []configs.Knob{{Name: "fit.iterations", Values: []any{"many"}}}}, false},
		{"unknown sampling", configs.Sweep{Sampling: "sobol", Knobs: []configs.Knob{{Name: "fit.iterations", Values: []any{1}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Points(tt.sweep, configs.DefaultProfile())
			if err == nil {
				t.Fatal("want an error")
			}
			if got := errors.Is(err, ErrEmptySpace); got != tt.empty {
				t.Errorf("errors.Is(%v, ErrEmptySpace) = %v, want %v", err, got, tt.empty)
			}
		})
	}
}
