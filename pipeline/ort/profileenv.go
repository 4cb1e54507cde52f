package ort

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvProfile names the environment variable with a directory into which
// every model session the process opens unbound (ONNX Runtime's own
// sessions, not the CUDA-graph ones) writes ONNX Runtime's profile of all
// its runs: one Chrome-trace JSON a session, named for the model and
// written when the session closes. A diagnostic: a FLUX step that is slow
// once in a while shows in it as a node that took long on the host (an
// allocation, a synchronising copy) or as a run whose nodes were all
// quick (the GPU was slow); tools/ort_profile_runs.py compares the runs.
const EnvProfile = "SPLATBENCH_ORT_PROFILE"

// profilePrefix is the profile file prefix for the model at path under
// EnvProfile's directory (made if missing), "" when the variable is unset:
// the model's file name with its folder (flux/transformer.opt/model.onnx ->
// transformer.opt-model); ONNX Runtime adds a timestamp and ".json".
func profilePrefix(path string) (string, error) {
	dir := os.Getenv(EnvProfile)
	if dir == "" {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("$%s: %w", EnvProfile, err)
	}
	name := filepath.Base(filepath.Dir(path)) + "-" + strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return filepath.Join(dir, name), nil
}
