package configs

import (
	"testing"
)

func BenchmarkParseProfile(b *testing.B) {
	data, err := presetFS.ReadFile("presets/default.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseProfile("default.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrialProfile is the tuner's per-trial work: copy the base
// profile, set three knobs, validate.
func BenchmarkTrialProfile(b *testing.B) {
	base, err := Preset("default")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		p := base
		for _, kv := range []struct {
			path string
			v    any
		}{{"fit.iterations", 200}, {"fit.init_count", 3000}, {"score.threshold", 0.7}} {
			if err := p.SetValue(kv.path, kv.v); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
