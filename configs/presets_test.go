package configs

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPresetNames(t *testing.T) {
	t.Parallel()
	if got, want := PresetNames(), []string{"default", "fast", "quality"}; !slices.Equal(got, want) {
		t.Errorf("PresetNames = %v, want %v", got, want)
	}
	if got, want := SweepPresetNames(), []string{"default", "gpu", "image", "threejs"}; !slices.Equal(got, want) {
		t.Errorf("SweepPresetNames = %v, want %v", got, want)
	}
}

func TestPresetsValidate(t *testing.T) {
	t.Parallel()
	for _, name := range PresetNames() {
		p, err := Preset(name)
		if err != nil {
			t.Errorf("Preset(%s): %v", name, err)
			continue
		}
		if p.Name != name {
			t.Errorf("Preset(%s).Name = %q", name, p.Name)
		}
	}
	for _, name := range SweepPresetNames() {
		s, err := SweepPreset(name)
		if err != nil {
			t.Errorf("SweepPreset(%s): %v", name, err)
			continue
		}
		if _, err := s.BaseProfile(); err != nil {
			t.Errorf("SweepPreset(%s).BaseProfile: %v", name, err)
		}
	}
	if _, err := Preset("nope"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Preset(nope) = %v, want ErrInvalid", err)
	}
	if _, err := SweepPreset("nope"); !errors.Is(err, ErrInvalid) {
		t.Errorf("SweepPreset(nope) = %v, want ErrInvalid", err)
	}
}

// The embedded default file and DefaultProfile must not drift apart.
func TestDefaultPresetIsDefaultProfile(t *testing.T) {
	t.Parallel()
	p, err := Preset("default")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DefaultProfile(), p); diff != "" {
		t.Errorf("presets/default.yaml differs from DefaultProfile (-code +file):\n%s", diff)
	}
	if err := DefaultProfile().Validate(); err != nil {
		t.Errorf("DefaultProfile invalid: %v", err)
	}
	if err := DefaultSweep().Validate(); err != nil {
		t.Errorf("DefaultSweep invalid: %v", err)
	}
}

func TestSweepDefaultPreset(t *testing.T) {
	t.Parallel()
	s, err := SweepPreset("sweep-default")
	if err != nil {
		t.Fatal(err)
	}
	want := []Knob{
		{Name: "fit.iterations", Values: []any{100, 200, 300}},
		{Name: "fit.views", Values: []any{4, 8}},
		{Name: "score.threshold", Values: []any{0.5, 0.6, 0.7}},
	}
	if diff := cmp.Diff(want, s.Knobs); diff != "" {
		t.Errorf("knobs (-want +got):\n%s", diff)
	}
	if s.GridSize() != 18 || s.Repeats != 1 || s.Warmup != 0 || s.Prompts.Count != 4 ||
		!slices.Equal(s.Prompts.Corpus, []string{"scenes"}) || s.Profile != "default" {
		t.Errorf("sweep-default = %+v", s)
	}
	gpu, err := SweepPreset("gpu")
	if err != nil {
		t.Fatal(err)
	}
	if gpu.Knobs[0].Path() != "text2img.steps" || gpu.GridSize() <= s.GridSize() {
		t.Errorf("sweep-gpu knobs = %+v", gpu.Knobs)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	if p, err := ResolveProfile("fast"); err != nil || p.Name != "fast" {
		t.Errorf("ResolveProfile(fast) = %v, %v", p.Name, err)
	}
	if p, err := ResolveProfile("testdata/profile-minimal.good.yaml"); err != nil || p.Name != "minimal" {
		t.Errorf("ResolveProfile(file) = %v, %v", p.Name, err)
	}
	if _, err := ResolveProfile("fats"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ResolveProfile(fats) = %v, want ErrInvalid", err)
	}
	if _, err := ResolveProfile("testdata/missing.yaml"); err == nil || errors.Is(err, ErrInvalid) {
		t.Errorf("ResolveProfile(missing file) = %v, want a file error", err)
	}
	if s, err := ResolveSweep("gpu"); err != nil || s.Name != "gpu" {
		t.Errorf("ResolveSweep(gpu) = %v, %v", s.Name, err)
	}
	if s, err := ResolveSweep("testdata/sweep-grid.good.yaml"); err != nil || s.Name != "grid" {
		t.Errorf("ResolveSweep(file) = %v, %v", s.Name, err)
	}
}

func TestSweepBaseProfileRelative(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("profiles/base.yaml", "name: base\nfit:\n  iterations: 42\n")
	sweep := write("sweep.yaml", "profile: profiles/base.yaml\nknobs:\n  - name: fit.sh_degree\n    values: [0, 1]\n")
	s, err := LoadSweep(sweep)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.BaseProfile()
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "base" || p.Fit.Iterations != 42 {
		t.Errorf("base profile = %s with %d iterations", p.Name, p.Fit.Iterations)
	}
}
