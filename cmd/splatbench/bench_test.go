package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/ort/orttest"
)

func TestWorkNote(t *testing.T) {
	// One FLUX-step-sized matrix product: 2·4352·3072·12288 FLOP (0.33
	// TFLOP, 0.33 ms at 989 TFLOP/s) and 0.2 GB (0.042 ms at 4.8 TB/s).
	p, err := ort.ParseProfile(strings.NewReader(`[{"cat":"Node","dur":1,"name":"m_kernel_time","args":{"op_name":"MatMul",
		"provider":"CUDAExecutionProvider","input_type_shape":[{"float16":[4352,3072]}],"output_type_shape":[{"float16":[4352,12288]}],
		"activation_size":"100000000","parameter_size":"0","output_size":"100000000"}}]`), ort.CUDA)
	if err != nil {
		t.Fatal(err)
	}
	p.Runs = 12 // 4 a job over 3 jobs
	tests := []struct {
		name string
		ps   []*ort.Placement
		card string
		want string
	}{
		{"known card", []*ort.Placement{p}, "NVIDIA H200",
			"Model work a job (1 GPU model(s), from ORT's profile × runs a job): 1.31 TFLOP, 0.8 GB moved. " +
				"At NVIDIA H200's datasheet peaks (989 TFLOP/s, 4.8 TB/s): FLOP floor 1.3 ms, graph roofline 1.3 ms " +
				"(each kernel at the slower of its FLOPs and its bytes); p50 is 3.8× the FLOP floor, 3.8× the roofline."},
		{"unknown card", []*ort.Placement{p}, "Tesla T4",
			"Model work a job (1 GPU model(s), from ORT's profile × runs a job): 1.31 TFLOP, 0.8 GB moved."},
		{"no GPU model", nil, "NVIDIA H200", ""},
	}
	if got, want := floorNote(p, "NVIDIA H200"), "; one run at NVIDIA H200's datasheet peaks: FLOP floor 0.33 ms, graph roofline 0.33 ms"; got != want {
		t.Errorf("floorNote = %q, want %q", got, want)
	}
	if got := floorNote(p, "Tesla T4"); got != "" {
		t.Errorf("floorNote of an unknown card = %q, want none", got)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := workNote(tt.ps, 3, 0.005, tt.card); got != tt.want {
				t.Errorf("workNote =\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
}

// TestBenchSaysRandomWeights: bench's table and run.json say when a model
// marked as having random weights ran (the tiny CLIP towers are).
func TestBenchSaysRandomWeights(t *testing.T) {
	dir := tinyCLIPDir(t)
	profile := writeFile(t, "clip.yaml", `name: clip-tiny
matte: {enabled: false}
lift: {mode: "off"}
fit: {iterations: 2, init_count: 300, resolution: 32, views: 1, densify_interval: 0}
score: {clip_model: `+dir+`, fidelity_views: 1}
`)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "bench", "--stage", "score", "-n", "1", "--profile", profile, "--out", out, "--log-level", "error")
	if code != exitOK {
		t.Fatalf("bench exit %d:\n%s\n%s", code, stdout, stderr)
	}
	want := filepath.Join(dir, "vision_model.onnx")
	if !strings.Contains(stdout, "Caveat: Random weights") || !strings.Contains(stdout, want) {
		t.Errorf("bench's table does not say that %s has random weights:\n%s", want, stdout)
	}
	metas, _ := filepath.Glob(filepath.Join(out, "*", "run.json"))
	if len(metas) != 1 {
		t.Fatalf("run.json files: %v", metas)
	}
	b, err := os.ReadFile(metas[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"caveats"`) || !strings.Contains(string(b), "Random weights") {
		t.Errorf("run.json has no caveat:\n%s", b)
	}
}

// TestBenchSaysTextEncodingReused: bench repeats one prompt, so the FLUX
// stage encodes it once; the table says that the timed runs leave the text
// encoders out, and what they cost.
func TestBenchSaysTextEncodingReused(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the tiny FLUX models")
	}
	orttest.Library(t)
	profile, _ := tinyFluxProfile(t)
	for _, tc := range []struct {
		stage         string
		warmup, timed string
		want          string // "" for no note
	}{
		{"text2img", "1", "2", "2 of the 2 timed runs reused"},
		{"all", "1", "1", "1 of the 1 timed runs reused"},
		{"text2img", "0", "1", ""}, // the one timed run encoded its prompt
	} {
		t.Run(tc.stage+"/warmup"+tc.warmup, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "bench", "--stage", tc.stage, "--warmup", tc.warmup, "-n", tc.timed,
				"--profile", profile, "--prompt", "a red cube", "--out", t.TempDir(), "--log-level", "error")
			if code != exitOK {
				t.Fatalf("bench exit %d:\n%s\n%s", code, stdout, stderr)
			}
			note := regexp.MustCompile(`The text encoders \(CLIP-L and T5\) ran in [0-9.]+ ms; (.*)`).FindStringSubmatch(stdout)
			switch {
			case tc.want == "" && note != nil:
				t.Errorf("a note where every timed run encoded its prompt: %s", note[0])
			case tc.want != "" && (note == nil || !strings.HasPrefix(note[1], tc.want)):
				t.Errorf("no note %q in:\n%s", tc.want, stdout)
			}
		})
	}
}
