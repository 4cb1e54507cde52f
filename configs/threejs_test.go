package configs

import (
	"strings"
	"testing"
)

// TestThreejsKnobs sets the Three.js output's knobs by path, as --set and
// the tuner do, and checks what validation says about each.
func TestThreejsKnobs(t *testing.T) {
	tests := []struct {
		name    string
		set     map[string]string
		wantErr string // substring; empty: valid
	}{
		{"default", nil, ""},
		{"format threejs", map[string]string{"encode.format": "threejs"}, ""},
		{"sweep corner", map[string]string{"encode.format": "threejs", "threejs.parts": "1", "threejs.fit_iters": "0", "threejs.texture": "false", "threejs.profile_points": "3"}, ""},
		{"most parts", map[string]string{"threejs.parts": "200"}, ""},
		{"too many parts", map[string]string{"threejs.parts": "201"}, "threejs.parts: 201 outside 1..200"},
		{"no parts", map[string]string{"threejs.parts": "0"}, "threejs.parts: 0 outside 1..200"},
		{"short profile", map[string]string{"threejs.profile_points": "2"}, "threejs.profile_points: 2 outside 3..1024"},
		{"negative fit", map[string]string{"threejs.fit_iters": "-1"}, "threejs.fit_iters: -1 outside 0..64"},
		{"long fit", map[string]string{"threejs.fit_iters": "65"}, "threejs.fit_iters: 65 outside 0..64"},
		{"unmatted", map[string]string{"encode.format": "threejs", "matte.enabled": "false"}, "encode.format: threejs works on the matted picture"},
		{"unknown format", map[string]string{"encode.format": "gltf"}, `encode.format: "gltf" is not one of ply, spz, threejs`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultProfile()
			for k, v := range tt.set {
				if err := p.Set(k + "=" + v); err != nil {
					t.Fatalf("set %s=%s: %v", k, v, err)
				}
			}
			err := p.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestThreejsKnobTypes: a knob of the wrong type is an error naming it.
func TestThreejsKnobTypes(t *testing.T) {
	for _, bad := range []string{"threejs.parts=many", "threejs.texture=maybe", "threejs.fit_iters=1.5"} {
		p := DefaultProfile()
		err := p.Set(bad)
		if err == nil || !strings.Contains(err.Error(), strings.Split(bad, "=")[0]) {
			t.Errorf("Set(%q) = %v, want an error naming the field", bad, err)
		}
	}
}
