package configs

import (
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// Sweep is a tuning run: a base profile, the knobs to vary and how, the
// prompts to run each trial on, and the measurement protocol.
type Sweep struct {
	// Name identifies the sweep in reports.
	Name string `yaml:"name" json:"name"`
	// Profile is the base every trial starts from: a preset name such as
	// "default", or the path of a profile YAML (relative paths resolve
	// against the sweep file's directory; see Sweep.BaseProfile).
	Profile string `yaml:"profile" json:"profile"`
	// Knobs are the dimensions of the search space, in order.
	Knobs []Knob `yaml:"knobs" json:"knobs"`
	// Sampling is "grid" (every combination), "random" or "lhs" (Latin
	// hypercube); the last two draw Samples points.
	Sampling string `yaml:"sampling" json:"sampling"`
	// Samples is the number of points drawn by random and lhs sampling.
	Samples int `yaml:"samples" json:"samples"`
	// Seed seeds random and lhs sampling.
	Seed int64 `yaml:"seed" json:"seed"`
	// Prompts chooses the prompt corpus every trial runs on.
	Prompts Prompts `yaml:"prompts" json:"prompts"`
	// Repeats is the number of measured runs per prompt and trial.
	Repeats int `yaml:"repeats" json:"repeats"`
	// Warmup is the number of unmeasured runs before the measured ones.
	Warmup int `yaml:"warmup" json:"warmup"`
	// TrialTimeout bounds one trial; written as a duration string ("10m").
	TrialTimeout time.Duration `yaml:"trial_timeout" json:"trial_timeout"`
	// Workers is the number of trials run at once.
	Workers int `yaml:"workers" json:"workers"`
	// Validators is the number of validators the miner pulls tasks from, for
	// the reward-rate model.
	Validators int `yaml:"validators" json:"validators"`
	// Objectives are the metrics of the Pareto front, e.g. latency_p50 and
	// score; the tuner defines their direction.
	Objectives []string `yaml:"objectives" json:"objectives"`

	src *source
}

// Knob is one dimension of a sweep: either an explicit list of Values, or a
// numeric range Min..Max walked by Step (grid) or sampled (random, lhs),
// uniformly or, with Log, log-uniformly.
type Knob struct {
	// Name is a dotted profile path (see KnobPaths); "flux." is accepted as
	// an alias of "text2img.".
	Name string `yaml:"name" json:"name"`
	// Values lists the settings to try, each of the field's type.
	Values []any `yaml:"values,omitempty" json:"values,omitempty"`
	// Min is the lower end of a range.
	Min *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	// Max is the upper end of a range.
	Max *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	// Step is the grid spacing of a range; 0 means continuous (random/lhs).
	Step float64 `yaml:"step,omitempty" json:"step,omitempty"`
	// Log samples a range log-uniformly; Min must then be positive.
	Log bool `yaml:"log,omitempty" json:"log,omitempty"`
}

// Prompts selects the prompt corpus of a sweep.
type Prompts struct {
	// Corpus is "scenes" (the reference-scene descriptions), "default" (the
	// embedded prompt set), "scene-images" (each reference scene's front
	// view on a plain or textured background as an image prompt, scored on
	// the validator's 16 views against the scene) or a list of prompt file
	// paths (image prompts by path: your own pictures). A single string
	// is read as a one-element list.
	Corpus []string `yaml:"corpus" json:"corpus"`
	// Count is how many prompts are drawn; 0 means all of them.
	Count int `yaml:"count" json:"count"`
	// Seed seeds the draw.
	Seed int64 `yaml:"seed" json:"seed"`
}

// DefaultSweep returns the built-in sweep defaults around the default
// profile: a small grid over fit.iterations.
func DefaultSweep() Sweep {
	return Sweep{
		Name:         "default",
		Profile:      "default",
		Knobs:        []Knob{{Name: "fit.iterations", Values: []any{100, 200, 300}}},
		Sampling:     "grid",
		Prompts:      Prompts{Corpus: []string{"scenes"}, Count: 4},
		Repeats:      3,
		Warmup:       1,
		TrialTimeout: 10 * time.Minute,
		Workers:      1,
		Validators:   1,
		Objectives:   []string{"latency_p50", "score"},
	}
}

// normalize converts each knob value that fits its field to the field's Go
// type (int, int64, float64, bool, string, time.Duration, []string), so
// the tuner gets typed values and 1 and 1.0 mean the same for a float knob.
// Values that do not fit are left for Validate to report.
func (s *Sweep) normalize() {
	for i, k := range s.Knobs {
		f, err := lookupField(k.Name)
		if err != nil || k.Values == nil {
			continue
		}
		vals := slices.Clone(k.Values)
		for j, v := range vals {
			if c, err := coerce(f.kind(), v); err == nil {
				vals[j] = reflect.ValueOf(c).Convert(f.typ).Interface()
			}
		}
		s.Knobs[i].Values = vals
	}
}

// Path returns the knob's canonical profile path, with the "flux." alias
// replaced by "text2img.".
func (k Knob) Path() string { return canonicalPath(k.Name) }

// IsRange reports whether the knob is a Min..Max range rather than a list.
func (k Knob) IsRange() bool { return len(k.Values) == 0 && (k.Min != nil || k.Max != nil) }

// GridPoints returns the number of grid points of the knob: len(Values), or
// for a stepped range floor((Max-Min)/Step)+1 (1 when Min == Max). It is 0
// for a wider range without a step, which cannot be gridded.
func (k Knob) GridPoints() int {
	if !k.IsRange() {
		return len(k.Values)
	}
	if k.Min == nil || k.Max == nil || *k.Max < *k.Min {
		return 0
	}
	if *k.Min == *k.Max {
		return 1
	}
	if k.Step <= 0 {
		return 0
	}
	n := math.Floor((*k.Max-*k.Min)/k.Step+1e-9) + 1
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(n)
}

// GridValues returns the knob's grid points: Values, or Min, Min+Step, ...
// up to Max (as integers when the knob's profile field is an integer).
func (k Knob) GridValues() []any {
	if !k.IsRange() {
		return k.Values
	}
	n := k.GridPoints()
	isInt := false
	if f, err := lookupField(k.Name); err == nil {
		isInt = f.kind() == kindInt
	}
	out := make([]any, 0, n)
	for i := range n {
		// Round off the representation error of repeated steps (0.7, not
		// 0.7000000000000001).
		v, _ := strconv.ParseFloat(strconv.FormatFloat(*k.Min+float64(i)*k.Step, 'g', 12, 64), 64)
		if isInt {
			out = append(out, int(math.Round(v)))
		} else {
			out = append(out, v)
		}
	}
	return out
}

// GridSize is the number of trials a grid over every knob has: the product
// of the knobs' grid points (0 without knobs), saturating at MaxInt32.
func (s Sweep) GridSize() int {
	if len(s.Knobs) == 0 {
		return 0
	}
	size := 1
	for _, k := range s.Knobs {
		size *= k.GridPoints()
		if size > math.MaxInt32 {
			return math.MaxInt32
		}
	}
	return size
}

// BaseProfile resolves Sweep.Profile with ResolveProfile; a relative path
// is taken relative to the directory of the file the sweep was loaded from.
func (s Sweep) BaseProfile() (Profile, error) {
	ref := s.Profile
	if s.src != nil && s.src.file != "" && !filepath.IsAbs(ref) && looksLikePath(ref) && !isPreset(ref) {
		ref = filepath.Join(filepath.Dir(s.src.file), ref)
	}
	return ResolveProfile(ref)
}

// Equal reports whether two sweeps have the same settings; where each value
// came from is ignored. go-cmp uses it.
func (s Sweep) Equal(t Sweep) bool {
	s.src, t.src = nil, nil
	return reflect.DeepEqual(s, t)
}
