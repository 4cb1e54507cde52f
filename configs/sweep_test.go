package configs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ptr(v float64) *float64 { return &v }

func TestKnobGrid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		knob   Knob
		points int
		values []any
	}{
		{"values", Knob{Name: "fit.iterations", Values: []any{1, 2}}, 2, []any{1, 2}},
		{"float range", Knob{Name: "score.threshold", Min: ptr(0.5), Max: ptr(0.7), Step: 0.1}, 3, []any{0.5, 0.6, 0.7}},
		{"int range", Knob{Name: "fit.iterations", Min: ptr(100), Max: ptr(350), Step: 100}, 3, []any{100, 200, 300}},
		{"alias int range", Knob{Name: "flux.steps", Min: ptr(1), Max: ptr(4), Step: 1}, 4, []any{1, 2, 3, 4}},
		{"single point", Knob{Name: "fit.iterations", Min: ptr(5), Max: ptr(5), Step: 1}, 1, []any{5}},
		{"single point no step", Knob{Name: "score.threshold", Min: ptr(0.5), Max: ptr(0.5)}, 1, []any{0.5}},
		{"no step", Knob{Name: "fit.lr_scale", Min: ptr(0.001), Max: ptr(0.1), Log: true}, 0, []any{}},
		{"inverted", Knob{Name: "fit.lr_scale", Min: ptr(1), Max: ptr(0), Step: 0.1}, 0, []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.knob.GridPoints(); got != tt.points {
				t.Errorf("GridPoints = %d, want %d", got, tt.points)
			}
			if diff := cmp.Diff(tt.values, tt.knob.GridValues()); diff != "" {
				t.Errorf("GridValues (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSweepValidateInCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(s *Sweep)
		want   []string // substrings, one per expected line; nil means valid
	}{
		{"default", func(*Sweep) {}, nil},
		{"file profile", func(s *Sweep) { s.Profile = "runs/x/profiles/best.yml" }, nil},
		{"random range", func(s *Sweep) {
			s.Sampling, s.Samples = "random", 10
			s.Knobs = []Knob{{Name: "fit.lr_opacity", Min: ptr(0.01), Max: ptr(0.1), Log: true}}
		}, nil},
		// max_gaussians below the default init_count is fine as a knob value:
		// another knob may lower init_count; trials validate their profiles.
		{"cross-field not judged", func(s *Sweep) {
			s.Knobs = []Knob{{Name: "fit.max_gaussians", Values: []any{1000}}, {Name: "fit.init_count", Values: []any{500}}}
		}, nil},
		{"no knobs", func(s *Sweep) { s.Knobs = nil }, []string{"knobs: a sweep needs at least one knob"}},
		{"empty non-nil values", func(s *Sweep) { s.Knobs[0].Values = []any{} }, []string{"knobs[0].values: must not be empty"}},
		{"both forms", func(s *Sweep) { s.Knobs[0].Min = ptr(1) }, []string{"knobs[0]: give either values or min/max, not both"}},
		{"log bad", func(s *Sweep) {
			s.Sampling, s.Samples = "lhs", 4
			s.Knobs = []Knob{{Name: "fit.lr_scale", Min: ptr(0), Max: ptr(1), Step: 0.5, Log: true}}
		}, []string{"knobs[0].min: 0 must be positive for log sampling", "knobs[0].step: log sampling takes no step"}},
		{"int step", func(s *Sweep) {
			s.Knobs = []Knob{{Name: "fit.iterations", Min: ptr(10), Max: ptr(20), Step: 2.5}}
		}, []string{"knobs[0].step: cannot use 2.5 as int"}},
		{"missing max", func(s *Sweep) {
			s.Knobs = []Knob{{Name: "fit.iterations", Min: ptr(10), Step: 1}}
		}, []string{"knobs[0].max: missing"}},
		{"grid too big", func(s *Sweep) {
			s.Knobs = []Knob{{Name: "fit.iterations", Min: ptr(1), Max: ptr(1e6), Step: 1}}
		}, []string{"sampling: grid of 1000000 trials exceeds 100000"}},
		{"duplicate value", func(s *Sweep) { s.Knobs[0].Values = []any{100, 100} }, []string{"knobs[0].values[1]: 100 listed twice"}},
		{"bad sampling", func(s *Sweep) { s.Sampling = "bayes" }, []string{`sampling: "bayes" is not one of grid, random, lhs`}},
		{"prompts", func(s *Sweep) { s.Prompts.Corpus = nil; s.Prompts.Count = -1 },
			[]string{"prompts.corpus: must be scenes, default or a list of prompt files", "prompts.count: -1 is less than 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := DefaultSweep()
			tt.modify(&s)
			err := s.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("Validate() =\n%v\nwant %d lines %q", err, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d = %q, want it to contain %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestSweepNormalizesValues(t *testing.T) {
	t.Parallel()
	s, err := ParseSweep("s.yaml", []byte(`
knobs:
  - name: score.threshold
    values: [1, 0.5]
  - name: fit.seed
    values: [3.0]
  - name: providers
    values: [[cpu], cuda]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{{1.0, 0.5}, {int64(3)}, {[]string{"cpu"}, []string{"cuda"}}}
	for i, k := range s.Knobs {
		if diff := cmp.Diff(want[i], k.Values); diff != "" {
			t.Errorf("knob %s values (-want +got):\n%s", k.Name, diff)
		}
	}
}
