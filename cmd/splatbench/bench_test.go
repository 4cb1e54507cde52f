package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/ort/orttest"
	"github.com/splatbench/splatbench/results"
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

// TestBenchText2imgNamesItsProvider: bench's title and records name the
// execution provider the FLUX stage ran on (they once said "ort:").
func TestBenchText2imgNamesItsProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the tiny FLUX models")
	}
	stdout, trials := benchTinyFlux(t, "--stage", "text2img", "-n", "1")
	if !strings.Contains(stdout, "bench: stage text2img on ort:cpu (") {
		t.Errorf("the title does not name the provider:\n%s", stdout)
	}
	b, err := os.ReadFile(trials)
	if err != nil || !strings.Contains(string(b), `"device":"ort:cpu"`) {
		t.Errorf("the records do not name the provider (%v):\n%s", err, b)
	}
	for _, score := range []string{"t2i_text_s", "t2i_step_min_s", "t2i_step_max_s", "t2i_decode_s"} {
		if !strings.Contains(string(b), `"`+score+`":`) {
			t.Errorf("the records have no %s:\n%s", score, b)
		}
	}
}

// TestBenchAllRecordsStages: a whole job's records say what each stage
// took, not only the total.
func TestBenchAllRecordsStages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the tiny FLUX models")
	}
	_, trials := benchTinyFlux(t, "--stage", "all", "-n", "1", "--warmup", "0")
	got, warnings, err := results.ReadAll(trials)
	if err != nil || len(warnings) > 0 || len(got) != 1 {
		t.Fatalf("records %v, %v, %v", got, warnings, err)
	}
	var names []string
	for _, s := range got[0].Stages {
		names = append(names, s.Name)
		if s.Seconds <= 0 {
			t.Errorf("stage %s took %v s", s.Name, s.Seconds)
		}
	}
	if want := []string{"text2img", "lift", "fit", "score", "encode"}; !containsAll(names, want) {
		t.Errorf("stages %v, want %v among them", names, want)
	}
	if got[0].Scores["t2i_steps"] == 0 {
		t.Errorf("no FLUX scores in %v", got[0].Scores)
	}
}

// benchTinyFlux runs bench with args on the tiny FLUX profile and returns
// its standard output and its records' file.
func benchTinyFlux(t *testing.T, args ...string) (stdout, trials string) {
	t.Helper()
	orttest.Library(t)
	profile, _ := tinyFluxProfile(t)
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, append(append([]string{"bench"}, args...), "--profile", profile, "--out", out, "--log-level", "error")...)
	if code != exitOK {
		t.Fatalf("bench exit %d:\n%s\n%s", code, stdout, stderr)
	}
	recs, _ := filepath.Glob(filepath.Join(out, "*", "trials.jsonl"))
	if len(recs) != 1 {
		t.Fatalf("trials.jsonl files: %v", recs)
	}
	return stdout, recs[0]
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
