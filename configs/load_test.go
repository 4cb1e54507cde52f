package configs

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goodFixtures lists every testdata/*.good.yaml with a check of what it
// loads to (nil checks only that it loads and validates).
var goodFixtures = map[string]func(t *testing.T, p Profile, s Sweep){
	"profile-minimal.good.yaml": func(t *testing.T, p Profile, _ Sweep) {
		want := DefaultProfile()
		want.Name = "minimal"
		if !p.Equal(want) {
			t.Errorf("minimal profile = %+v, want the defaults named minimal", p)
		}
	},
	"profile-empty.good.yaml": func(t *testing.T, p Profile, _ Sweep) {
		want := DefaultProfile()
		want.Name = "profile-empty.good" // the file name when the YAML has none
		if !p.Equal(want) {
			t.Errorf("empty profile = %+v, want the defaults", p)
		}
	},
	"profile-flux.good.yaml": func(t *testing.T, p Profile, _ Sweep) {
		checks := []struct {
			what      string
			got, want any
		}{
			{"device", p.Device, "cuda:1"},
			{"providers", strings.Join(p.Providers, ","), "tensorrt,cuda,cpu"},
			{"steps", p.Text2Img.Steps, 2},
			{"iterations (1_000)", p.Fit.Iterations, 1000},
			{"lr_position (1e-2)", p.Fit.LRPosition, 0.01},
			{"lambda_alpha (int 2)", p.Fit.LambdaAlpha, 2.0},
			{"seed", p.Fit.Seed, int64(-7)},
			{"untouched default", p.Fit.InitCount, 8000},
			{"matte kind", p.MatteKind(), "birefnet"},
			{"model path", p.ModelPath(p.Text2Img.Model), filepath.Join("/models", "flux1-schnell-onnx")},
			{"builtin matte path", p.ModelPath("isnet-small"), "isnet-small"},
			{"max_bytes", p.Encoding.MaxBytes, int64(8000000)},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
			}
		}
	},
	"profile-anchors.good.yaml": func(t *testing.T, p Profile, _ Sweep) {
		if p.Fit.Iterations != 150 || p.Fit.DensifyUntil != 150 {
			t.Errorf("alias: iterations %d, densify_until %d, want 150, 150", p.Fit.Iterations, p.Fit.DensifyUntil)
		}
		if len(p.Providers) != 1 || p.Providers[0] != "cpu" {
			t.Errorf("providers = %q, want [cpu]", p.Providers)
		}
		if p.Score != DefaultProfile().Score {
			t.Errorf("null score section = %+v, want defaults", p.Score)
		}
		if p.MatteKind() != "isnet" {
			t.Errorf("MatteKind = %q, want isnet", p.MatteKind())
		}
	},
	"sweep-grid.good.yaml": func(t *testing.T, _ Profile, s Sweep) {
		if got := s.Knobs[0].Path(); got != "text2img.steps" {
			t.Errorf("flux alias: Path = %q", got)
		}
		if got := s.GridSize(); got != 3*3*2*2 {
			t.Errorf("GridSize = %d, want 36", got)
		}
		if got := s.Knobs[1].GridValues(); len(got) != 3 || got[0] != 100 || got[2] != 300 {
			t.Errorf("range grid values = %v, want [100 200 300]", got)
		}
		if s.TrialTimeout != 90*time.Second || s.Repeats != 2 || s.Warmup != 1 || s.Sampling != "grid" {
			t.Errorf("timeout %v repeats %d warmup %d sampling %s", s.TrialTimeout, s.Repeats, s.Warmup, s.Sampling)
		}
	},
	"sweep-random.good.yaml": func(t *testing.T, _ Profile, s Sweep) {
		k := s.Knobs[0]
		if !k.IsRange() || !k.Log || *k.Min != 0.001 || *k.Max != 0.1 {
			t.Errorf("log knob = %+v", k)
		}
		if s.Prompts.Corpus[0] != "scenes" || s.Objectives[0] != "latency_p50" {
			t.Errorf("defaults not kept: %+v %v", s.Prompts, s.Objectives)
		}
	},
}

// badFixtures maps every testdata/*.bad.yaml to its full expected error.
var badFixtures = map[string]string{
	"profile-duplicate.bad.yaml": "testdata/profile-duplicate.bad.yaml:3:3: fit.iterations: duplicate key (first at line 2)",
	"profile-flux-nomodel.bad.yaml": `testdata/profile-flux-nomodel.bad.yaml:1:1: text2img.model: required when text2img.source is flux
testdata/profile-flux-nomodel.bad.yaml:3:3: text2img.steps: 8 outside 1..4
testdata/profile-flux-nomodel.bad.yaml:5:3: views.count: 4 needs views.model (without a model K = 1)`,
	"profile-multidoc.bad.yaml": "testdata/profile-multidoc.bad.yaml:2: more than one YAML document",
	"profile-range.bad.yaml": `testdata/profile-range.bad.yaml:2:1: device: "gpu" is not auto, cpu, cuda, cuda:N or cuda:all
testdata/profile-range.bad.yaml:3:19: providers[1]: "rocm" is not one of tensorrt, cuda, cpu
testdata/profile-range.bad.yaml:3:25: providers[2]: "cuda" listed twice
testdata/profile-range.bad.yaml:5:3: text2img.source: "sd" is not one of scenes, flux
testdata/profile-range.bad.yaml:6:3: text2img.resolution: 500 is not a multiple of 16
testdata/profile-range.bad.yaml:8:3: fit.sh_degree: 4 outside 0..3
testdata/profile-range.bad.yaml:9:3: fit.iterations: 0 outside 1..1000000
testdata/profile-range.bad.yaml:11:3: fit.densify_until: 100 is before fit.densify_from 500
testdata/profile-range.bad.yaml:13:3: lift.back_blur: 300 outside 0..128
testdata/profile-range.bad.yaml:15:3: score.threshold: 1.5 outside 0..1
testdata/profile-range.bad.yaml:17:3: encode.format: "obj" is not one of ply, spz, threejs`,
	"profile-syntax.bad.yaml":   "testdata/profile-syntax.bad.yaml:4: mapping values are not allowed in this context",
	"profile-toplevel.bad.yaml": "testdata/profile-toplevel.bad.yaml:1:1: cannot use a list as a mapping",
	"profile-type.bad.yaml": `testdata/profile-type.bad.yaml:4:3: text2img.steps: cannot use 2.5 as int
testdata/profile-type.bad.yaml:6:3: matte.enabled: cannot use "yes" as bool
testdata/profile-type.bad.yaml:8:3: fit.iterations: cannot use "many" as int
testdata/profile-type.bad.yaml:9:3: fit.lr_opacity: cannot use "fast" as float
testdata/profile-type.bad.yaml:10:3: fit.views: cannot use a list as int
testdata/profile-type.bad.yaml:11:1: encode: cannot use "spz" as a mapping`,
	"profile-unknown-field.bad.yaml": `testdata/profile-unknown-field.bad.yaml:3:3: fit.iteratons: unknown field (did you mean iterations?)
testdata/profile-unknown-field.bad.yaml:4:3: fit.shdegree: unknown field (did you mean sh_degree?)
testdata/profile-unknown-field.bad.yaml:5:1: scor: unknown field (did you mean score?)`,
	"sweep-empty.bad.yaml": `testdata/sweep-empty.bad.yaml:2:1: profile: "fats" is neither a preset (default, fast, quality) nor a .yaml path
testdata/sweep-empty.bad.yaml:3:1: knobs: a sweep needs at least one knob
testdata/sweep-empty.bad.yaml:5:1: repeats: 0 outside 1..1000
testdata/sweep-empty.bad.yaml:6:1: trial_timeout: 0s must be positive
testdata/sweep-empty.bad.yaml:7:21: objectives[1]: "score" listed twice
testdata/sweep-empty.bad.yaml: samples: 0 outside 1..100000 (random sampling draws this many points)`,
	"sweep-knobs.bad.yaml": `testdata/sweep-knobs.bad.yaml:4:5: knobs[0].name: "fit.iters": unknown profile path
testdata/sweep-knobs.bad.yaml:7:5: knobs[1].values: must not be empty
testdata/sweep-knobs.bad.yaml:9:17: knobs[2].values[1]: cannot use "two" as int
testdata/sweep-knobs.bad.yaml:9:24: knobs[2].values[2]: fit.sh_degree: 4 outside 0..3
testdata/sweep-knobs.bad.yaml:12:5: knobs[4].name: flux.steps duplicates knobs[3]
testdata/sweep-knobs.bad.yaml:15:5: knobs[5].min: 0.9 is greater than max 0.1
testdata/sweep-knobs.bad.yaml:18:5: knobs[6]: a min/max range needs a numeric field; text2img.source is a string
testdata/sweep-knobs.bad.yaml:22:5: knobs[7].step: grid sampling of a range needs a step (or use values)`,
	"sweep-unknown.bad.yaml": `testdata/sweep-unknown.bad.yaml:4:5: knobs[0].value: unknown field (did you mean values?)
testdata/sweep-unknown.bad.yaml:5:1: prompt: unknown field (did you mean prompts?)
testdata/sweep-unknown.bad.yaml:7:1: trial_timeout: cannot use "soon" as duration`,
}

// load loads a fixture as a sweep or a profile by its name prefix.
func load(path string) (Profile, Sweep, error) {
	if strings.HasPrefix(filepath.Base(path), "sweep-") {
		s, err := LoadSweep(path)
		return Profile{}, s, err
	}
	p, err := LoadProfile(path)
	return p, Sweep{}, err
}

func TestFixturesListed(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		_, good := goodFixtures[name]
		_, bad := badFixtures[name]
		if strings.HasSuffix(name, ".good.yaml") != good || strings.HasSuffix(name, ".bad.yaml") != bad {
			t.Errorf("fixture %s has no entry in the good/bad tables", name)
		}
	}
}

func TestLoadGood(t *testing.T) {
	t.Parallel()
	for name, check := range goodFixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, s, err := load(filepath.Join("testdata", name))
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if check != nil {
				check(t, p, s)
			}
		})
	}
}

func TestLoadBad(t *testing.T) {
	t.Parallel()
	for name, want := range badFixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := load(filepath.Join("testdata", name))
			if err == nil {
				t.Fatal("loaded without error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if got := err.Error(); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := LoadProfile("testdata/no-such.yaml")
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v, want a not-exist error that is not ErrInvalid", err)
	}
	if err == nil || !strings.Contains(err.Error(), "testdata/no-such.yaml") {
		t.Errorf("err = %v, want it to name the file", err)
	}
}

func TestParseErrorFormat(t *testing.T) {
	t.Parallel()
	// The one-line form from the package's contract.
	data := []byte("name: x\nfit:\n  # comment\n  sh_degree: 1\n\n\n  iterations: many\n")
	_, err := ParseProfile("profiles/x.yaml", data)
	want := `profiles/x.yaml:7:3: fit.iterations: cannot use "many" as int`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestValidateInCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(p *Profile)
		want   string // "" means valid
	}{
		{"default", func(*Profile) {}, ""},
		{"cuda:3", func(p *Profile) { p.Device = "cuda:3" }, ""},
		{"cuda:all", func(p *Profile) { p.Device = "cuda:all" }, ""},
		{"area prior on", func(p *Profile) { p.Fit.AreaPriorWeight = 0.1 }, ""},
		{"area prior negative", func(p *Profile) { p.Fit.AreaPriorWeight = -1 }, "fit.area_prior_weight: -1 outside 0..10"},
		{"area prior tiny render", func(p *Profile) { p.Fit.AreaPriorWeight, p.Fit.AreaPriorSize = 0.1, 4 }, "fit.area_prior_size: 4 outside 8..1024 (needed when fit.area_prior_weight > 0)"},
		{"cuda:-1", func(p *Profile) { p.Device = "cuda:-1" }, `device: "cuda:-1" is not auto, cpu, cuda, cuda:N or cuda:all`},
		{"sh_degree", func(p *Profile) { p.Fit.SHDegree = 4 }, "fit.sh_degree: 4 outside 0..3"},
		{"no providers", func(p *Profile) { p.Providers = nil }, "providers: must list at least one of tensorrt, cuda, cpu"},
		{"matte model", func(p *Profile) { p.Matte.Model = "u2net" }, `matte.model: "u2net" is not isnet-small, isnet-medium or an .onnx path`},
		{"matte kind", func(p *Profile) { p.Matte.Kind = "birefnet" }, `matte.kind: "birefnet" does not match model isnet-small`},
		{"lr order", func(p *Profile) { p.Fit.LRPositionFinal = 1 }, "fit.lr_position_final: 1 exceeds fit.lr_position 0.01"},
		{"nan", func(p *Profile) { p.Fit.LambdaDSSIM = nanValue() }, "fit.lambda_dssim: NaN outside 0..1"},
		{"two at once", func(p *Profile) { p.Score.Views = 0; p.Encoding.MaxBytes = -1 },
			"score.views: 0 outside 1..256\nencode.max_bytes: -1 is less than 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := DefaultProfile()
			tt.modify(&p)
			err := p.Validate()
			got := ""
			if err != nil {
				got = err.Error()
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error does not wrap ErrInvalid")
				}
			}
			if got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}
