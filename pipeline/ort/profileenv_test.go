package ort

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvProfile: with $SPLATBENCH_ORT_PROFILE set, a session writes ONNX
// Runtime's profile of every run into that directory (made if missing)
// when it closes, named for the model; unset, nothing is written.
func TestEnvProfile(t *testing.T) {
	rt := testRuntime(t)
	spec := Spec{
		Inputs:  []Tensor{T("a", Float32, 1, 3, 4, 4), T("b", Float32, 1, 3, 4, 4)},
		Outputs: []Tensor{T("prod", Float32, 1, 3, 4, 4), T("sum", Float32, 1, 3, 4, 4)},
	}
	for _, tc := range []struct {
		name string
		set  bool
		runs int
	}{{"set", true, 3}, {"unset", false, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "profiles")
			if tc.set {
				t.Setenv(EnvProfile, dir)
			} else {
				t.Setenv(EnvProfile, "")
			}
			if err := os.Mkdir(filepath.Join(tmp, "m.opt"), 0o755); err != nil {
				t.Fatal(err)
			}
			path := addModel(t, filepath.Join(tmp, "m.opt"))
			s, err := rt.NewSession(context.Background(), path, spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			a := make([]float32, 48)
			for range tc.runs {
				if _, err := s.Run(context.Background(), a, a); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
			if !tc.set {
				if len(files) != 0 {
					t.Fatalf("profiles written with %s unset: %v", EnvProfile, files)
				}
				return
			}
			if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), "m.opt-"+strings.TrimSuffix(filepath.Base(path), ".onnx")) {
				t.Fatalf("profiles %v, want one named for m.opt/%s", files, filepath.Base(path))
			}
			data, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			var events []profileEvent
			if err := json.Unmarshal(data, &events); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range events {
				if e.Name == "model_run" {
					n++
				}
			}
			if n != tc.runs {
				t.Errorf("%d model_run events, want %d (one a run)", n, tc.runs)
			}
		})
	}
}
