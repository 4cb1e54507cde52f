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
