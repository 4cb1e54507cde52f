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
