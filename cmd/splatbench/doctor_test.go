package main

import (
	"strings"
	"testing"
)

// TestDoctorSaysWhatItGenerates: doctor says, for the profile it checks,
// that the embedded default cannot generate free text, and what to set.
func TestDoctorSaysWhatItGenerates(t *testing.T) {
	t.Parallel()
	_, stdout, _ := runCLI(t, "doctor")
	var line string
	for l := range strings.SplitSeq(stdout, "\n") {
		if strings.Contains(l, "generates") {
			line = l
			break
		}
	}
	for _, want := range []string{"warn", "scene names only, image", "text2img.model", "docs/models.md"} {
		if !strings.Contains(line, want) {
			t.Errorf("doctor's generates line %q does not contain %q; output:\n%s", line, want, stdout)
		}
	}
}

func TestDoctorProfileLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"matte on", nil, "matte isnet-small"},
		{"matte off", []string{"--set", "matte.enabled=false"}, "matte off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, stdout, _ := runCLI(t, append([]string{"doctor"}, tt.args...)...)
			var line string
			for l := range strings.SplitSeq(stdout, "\n") {
				if strings.Contains(l, "profile") && strings.Contains(l, "text2img") {
					line = l
				}
			}
			if !strings.Contains(line, tt.want) {
				t.Errorf("doctor's profile line %q lacks %q; output:\n%s", line, tt.want, stdout)
			}
		})
	}
}
