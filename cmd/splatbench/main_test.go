package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	badProfile := writeFile(t, "bad.yaml", "name: x\nfit:\n  iterations: many\n")
	unknownField := writeFile(t, "unknown.yaml", "name: x\nfit:\n  iteratons: 3\n")
	truncated := writeFile(t, "t.ply", "ply\nformat binary_little_endian 1.0\nelement vertex 10\nproperty float x\n")
	badValidators := writeFile(t, "v.yaml", "uid: 1\n")
	remoteValidators := writeFile(t, "remote.yaml", "- {uid: 7, hotkey: 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY, address: \"203.0.113.9:8091\"}\n")
	notSplat := writeFile(t, "mesh.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n0 0 0\n")
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStderr string
	}{
		{"no args", nil, exitUsage, ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"bad flag", []string{"bench", "--nope"}, exitUsage, "unknown flag: --nope"},
		{"version", []string{"version"}, exitOK, ""},
		{"mine not built", []string{"mine"}, exitUsage, "not built yet"},
		{"mine bad validators file", []string{"mine", "--validators", badValidators}, exitUsage, "v.yaml:1: want a list"},
		{"mine free text on scenes", []string{"mine", "--validators", remoteValidators}, exitUsage, "text2img.model"},
		{"serve bad workers", []string{"serve", "--workers", "0"}, exitUsage, "--workers"},
		{"profile wrong type", []string{"bench", "--profile", badProfile}, exitUsage, "bad.yaml:3:3: fit.iterations"},
		{"profile unknown field", []string{"bench", "--profile", unknownField}, exitUsage, "unknown.yaml:3:3"},
		{"bad --set", []string{"bench", "--set", "fit.nope=3"}, exitUsage, "fit.nope"},
		{"bad --set value", []string{"bench", "--set", "fit.iterations=many"}, exitUsage, "fit.iterations"},
		{"missing file", []string{"ply", "info", "/nonexistent/x.ply"}, exitFailure, "/nonexistent/x.ply"},
		{"truncated ply", []string{"ply", "check", truncated}, exitFailure, "t.ply"},
		{"mesh ply", []string{"ply", "info", notSplat}, exitFailure, "mesh.ply"},
		{"unknown ply verb", []string{"ply", "eat", truncated}, exitUsage, "unknown ply verb"},
		{"render no file", []string{"render"}, exitUsage, "render takes one"},
		{"bad log level", []string{"version", "--log-level", "loud"}, exitUsage, "--log-level"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.wantStderr)
			}
			if tc.code != exitOK && tc.wantStderr != "" && strings.Count(strings.TrimSpace(stderr), "\n") > 3 {
				t.Errorf("error is not short:\n%s", stderr)
			}
		})
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	t.Parallel()
	for name := range commands() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, out, _ := runCLI(t, name, "--help")
			if code != exitOK {
				t.Fatalf("exit %d", code)
			}
			for _, want := range []string{"Usage: splatbench " + name, "Example", "--log-format"} {
				if !strings.Contains(out, want) {
					t.Errorf("help lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestBenchRenderCPU times the render target on the CPU: the table names
// the device, has no device-time row (no CUDA events there), the run
// directory gets bench.txt in benchmark format and --cpuprofile a profile.
func TestBenchRenderCPU(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	code, stdout, stderr := runCLI(t, "bench", "--out", out, "--stage", "render", "--prompt", "red-cube",
		"--gaussians", "500", "-n", "2", "--warmup", "1", "--set", "device=cpu", "--cpuprofile", prof)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "stage render on cpu") || strings.Contains(stdout, "(device)") {
		t.Errorf("table:\n%s", stdout)
	}
	txt, err := filepath.Glob(filepath.Join(out, "*", "bench.txt"))
	if err != nil || len(txt) != 1 {
		t.Fatalf("bench.txt: %v %v", txt, err)
	}
	b, err := os.ReadFile(txt[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "BenchmarkStage/stage=render") || strings.Contains(string(b), "device-p50") {
		t.Errorf("bench.txt:\n%s", b)
	}
	// A pprof profile is gzip-compressed protobuf.
	if p, err := os.ReadFile(prof); err != nil || len(p) < 2 || p[0] != 0x1f || p[1] != 0x8b {
		t.Errorf("--cpuprofile %s: %d bytes, %v", prof, len(p), err)
	}
}

// tinyCLIPDir is a folder with the tiny CLIP towers (random weights,
// marked so) and the CLIP tokenizer, linked from the repository.
func tinyCLIPDir(t *testing.T) string {
	t.Helper()
	return linkedDir(t, map[string]string{
		"../../testdata/models/clip-tiny/text_model.onnx":   "text_model.onnx",
		"../../testdata/models/clip-tiny/vision_model.onnx": "vision_model.onnx",
		"../../pipeline/tokenizer/testdata/clip":            "tokenizer",
	})
}

// tinyFluxProfile writes a profile that generates with the tiny FLUX
// models (random weights) at 64 px and scores with the tiny CLIP towers,
// matte off, and returns it and the model folder it names.
func tinyFluxProfile(t *testing.T) (profile, dir string) {
	t.Helper()
	dir = linkedDir(t, map[string]string{
		"../../testdata/models/flux-schnell-tiny": "flux",
		"../../pipeline/tokenizer/testdata/clip":  "tokenizer",
		"../../pipeline/tokenizer/testdata/t5":    "tokenizer_2",
	})
	profile = writeFile(t, "tiny.yaml", `name: tiny
model_dir: `+dir+`
text2img: {source: flux, model: flux, resolution: 64, steps: 4}
matte: {enabled: false}
fit: {iterations: 4, init_count: 400, resolution: 32, views: 1, densify_interval: 0}
score: {clip_model: `+tinyCLIPDir(t)+`, fidelity_views: 1}
`)
	return profile, dir
}

// linkedDir is a new folder of symbolic links: name → the repository path
// target (relative to this package).
func linkedDir(t *testing.T, links map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for target, name := range links {
		abs, err := filepath.Abs(target)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
