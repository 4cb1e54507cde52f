package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort/orttest"
)

// TestModelsCheckProvider: --provider runs the model and reports where its
// nodes ran; a provider this library lacks is a warning that names it.
func TestModelsCheckProvider(t *testing.T) {
	orttest.Library(t)
	model := filepath.Join("..", "..", "testdata", "models", "clip-tiny", "vision_model.onnx")
	code, stdout, stderr := runCLI(t, "models", "check", "--provider", "cpu", model)
	if code != 0 || !strings.Contains(stdout, "fits clip/image") || !strings.Contains(stdout, "on cpu: cpu ") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "models", "check", "--provider", "tpu", model)
	if code != 0 || !strings.HasPrefix(stdout, "warn") || !strings.Contains(stdout, "tpu probe failed") {
		t.Fatalf("--provider tpu: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI(t, "models", "check", model)
	if code != 0 || strings.Contains(stdout, " on cpu:") {
		t.Fatalf("without --provider: exit %d\n%s", code, stdout)
	}
}

// TestModelsCheckCard: --card gives the floors at a named card's peaks
// without that card; an unknown card, or --card without a profiled run,
// is a usage error.
func TestModelsCheckCard(t *testing.T) {
	orttest.Library(t)
	model := filepath.Join("..", "..", "testdata", "models", "clip-tiny", "vision_model.onnx")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"named card", []string{"--provider", "cpu", "--card", "NVIDIA H200"}, exitOK, "one run at NVIDIA H200's datasheet peaks: FLOP floor"},
		{"unknown card", []string{"--provider", "cpu", "--card", "Voodoo 2"}, exitUsage, `--card "Voodoo 2": no datasheet peaks`},
		{"no provider", []string{"--card", "NVIDIA H200"}, exitUsage, "--card needs --provider"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append(append([]string{"models", "check"}, tc.args...), model)...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s\n%s", code, tc.code, tc.want, stdout, stderr)
			}
		})
	}
}
