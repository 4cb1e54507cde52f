package configs

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func nanValue() float64 { return math.NaN() }

func TestSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		assign string
		path   string
		want   any
		err    string
	}{
		{assign: "fit.iterations=200", path: "fit.iterations", want: 200},
		{assign: " fit.iterations = 200 ", path: "fit.iterations", want: 200},
		{assign: "flux.steps=2", path: "text2img.steps", want: 2},
		{assign: "score.threshold=0.75", path: "score.threshold", want: 0.75},
		{assign: "matte.enabled=false", path: "matte.enabled", want: false},
		{assign: "providers=tensorrt, cuda,cpu", path: "providers", want: []string{"tensorrt", "cuda", "cpu"}},
		{assign: "ort_lib=/opt/ort/libonnxruntime.so", path: "ort_lib", want: "/opt/ort/libonnxruntime.so"},
		{assign: "fit.seed=-3", path: "fit.seed", want: int64(-3)},
		{assign: "fit.iterations=many", err: `fit.iterations: cannot use "many" as int`},
		{assign: "fit.iterations=2.5", err: `fit.iterations: cannot use "2.5" as int`},
		{assign: "score.threshold=NaN", err: `score.threshold: cannot use "NaN" as float`},
		{assign: "matte.enabled=maybe", err: `matte.enabled: cannot use "maybe" as bool`},
		{assign: "fit.iters=1", err: "fit.iters: unknown profile path"},
		{assign: "fit.iteration=1", err: "fit.iteration: unknown profile path (did you mean fit.iterations?)"},
		{assign: "fit=1", err: "fit: unknown profile path"},
		{assign: "fit.iterations", err: `fit.iterations: override "fit.iterations" is not path=value`},
	}
	for _, tt := range tests {
		t.Run(tt.assign, func(t *testing.T) {
			t.Parallel()
			p := DefaultProfile()
			err := p.Set(tt.assign)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrInvalid) {
					t.Fatalf("Set(%q) = %v, want %q", tt.assign, err, tt.err)
				}
				if !p.Equal(DefaultProfile()) {
					t.Errorf("failed Set changed the profile")
				}
				return
			}
			if err != nil {
				t.Fatalf("Set(%q): %v", tt.assign, err)
			}
			got, err := p.Get(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Get(%s) after Set (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestSetValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		v    any
		want any
		err  string
	}{
		{path: "fit.iterations", v: 500, want: 500},
		{path: "fit.iterations", v: int64(500), want: 500},
		{path: "fit.iterations", v: uint64(7), want: 7},
		{path: "fit.iterations", v: 500.0, want: 500},
		{path: "fit.iterations", v: 500.5, err: "fit.iterations: cannot use 500.5 as int"},
		{path: "fit.iterations", v: "500", err: `fit.iterations: cannot use "500" as int`},
		{path: "fit.iterations", v: math.Inf(1), err: "fit.iterations: cannot use +Inf as int"},
		{path: "score.threshold", v: 1, want: 1.0},
		{path: "score.threshold", v: 0.65, want: 0.65},
		{path: "score.threshold", v: math.NaN(), err: "score.threshold: cannot use NaN as float"},
		{path: "matte.enabled", v: true, want: true},
		{path: "matte.enabled", v: 1, err: "matte.enabled: cannot use 1 as bool"},
		{path: "flux.resolution", v: 768, want: 768},
		{path: "text2img.source", v: "flux", want: "flux"},
		{path: "text2img.source", v: nil, err: "text2img.source: cannot use null as string"},
		{path: "providers", v: []any{"cuda", "cpu"}, want: []string{"cuda", "cpu"}},
		{path: "providers", v: []string{"cpu"}, want: []string{"cpu"}},
		{path: "providers", v: "tensorrt,cpu", want: []string{"tensorrt", "cpu"}},
		{path: "providers", v: []any{"cuda", 1}, err: "providers: cannot use list [cuda 1] as list of strings"},
		{path: "no.such", v: 1, err: "no.such: unknown profile path"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			p := DefaultProfile()
			err := p.SetValue(tt.path, tt.v)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("SetValue(%s, %v) = %v, want %q", tt.path, tt.v, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("SetValue(%s, %v): %v", tt.path, tt.v, err)
			}
			got, _ := p.Get(tt.path)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Get(%s) (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

func TestDurationField(t *testing.T) {
	t.Parallel()
	// Profiles have no duration today; the converters still serve sweeps
	// and any future field.
	for _, tt := range []struct {
		in   any
		want time.Duration
		ok   bool
	}{
		{"90s", 90 * time.Second, true},
		{time.Minute, time.Minute, true},
		{"soon", 0, false},
		{60, 0, false},
	} {
		got, err := coerce(kindDuration, tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("coerce(duration, %v) = %v, %v", tt.in, got, err)
		}
	}
	if d, err := parseText(kindDuration, "1m30s"); err != nil || d != 90*time.Second {
		t.Errorf("parseText(duration) = %v, %v", d, err)
	}
}

func TestKnobPaths(t *testing.T) {
	t.Parallel()
	paths := KnobPaths()
	if !slices.IsSorted(paths) {
		t.Error("KnobPaths not sorted")
	}
	for _, want := range []string{"name", "device", "providers", "text2img.steps", "matte.kind",
		"views.count", "fit.sh_degree", "fit.lr_position_final", "score.threshold", "encode.format"} {
		if !slices.Contains(paths, want) {
			t.Errorf("KnobPaths lacks %s", want)
		}
	}
	// Every path reads and writes back its own value.
	p := DefaultProfile()
	for _, path := range paths {
		v, err := p.Get(path)
		if err != nil {
			t.Fatalf("Get(%s): %v", path, err)
		}
		q := DefaultProfile()
		if err := q.SetValue(path, v); err != nil {
			t.Errorf("SetValue(%s, Get()): %v", path, err)
		}
		if !q.Equal(p) {
			t.Errorf("SetValue(%s, Get()) changed the profile", path)
		}
	}
	if len(paths) < 45 || slices.ContainsFunc(paths, func(s string) bool { return strings.HasSuffix(s, ".") }) {
		t.Errorf("unexpected KnobPaths: %v", paths)
	}
}

func TestSetRecordsOrigin(t *testing.T) {
	t.Parallel()
	base, err := ParseProfile("p.yaml", []byte("fit:\n  sh_degree: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := base
	if err := p.Set("fit.sh_degree=7"); err != nil {
		t.Fatal(err)
	}
	want := "--set fit.sh_degree=7: fit.sh_degree: 7 outside 0..3"
	if err := p.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate after Set = %v, want %q", err, want)
	}
	// The copy it came from keeps its own positions.
	base.Fit.SHDegree = 9
	want = "p.yaml:2:3: fit.sh_degree: 9 outside 0..3"
	if err := base.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate of the original = %v, want %q", err, want)
	}
	// SetValue (the tuner) records itself as the origin.
	q := base
	if err := q.SetValue("fit.sh_degree", 5); err != nil {
		t.Fatal(err)
	}
	want = "set fit.sh_degree=5: fit.sh_degree: 5 outside 0..3"
	if err := q.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate after SetValue = %v, want %q", err, want)
	}
}
