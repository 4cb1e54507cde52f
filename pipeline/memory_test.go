package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/models"
)

// fullSize are FLUX.1-schnell's, ISNet medium's and CLIP ViT-L/14's fp16
// weights (parameter counts × 2 bytes), by file name; the files themselves
// are empty stand-ins (the far side of ReadWeights).
var fullSize = map[string]int64{
	"transformer.opt/model.onnx": 23_700_000_000, // 11.85 B parameters
	"t5.opt/model.onnx":          9_520_000_000,  // T5-XXL encoder, 4.76 B
	"clip.opt/model.onnx":        246_000_000,    // CLIP-L text, 123 M
	"vae.opt/model.onnx":         168_000_000,    // VAE decoder, 84 M
	"isnet.onnx":                 88_000_000,     // ISNet medium, 44 M
	"clip/text_model.onnx":       246_000_000,    // CLIP ViT-L/14 text tower
	"clip/vision_model.onnx":     608_000_000,    // CLIP ViT-L/14 image tower, 304 M
}

func fakeWeights(dtype string) WeightsFunc {
	return func(path string) (models.Weights, error) {
		for name, n := range fullSize {
			if strings.HasSuffix(filepath.ToSlash(path), name) {
				return models.Weights{Bytes: n, Tensors: 1, ByType: map[string]int64{dtype: n}}, nil
			}
		}
		return models.Weights{}, errors.New("no such model: " + path)
	}
}

// modelTree makes the empty model files a full profile names.
func modelTree(t *testing.T) string {
	dir := t.TempDir()
	for name := range fullSize {
		p := filepath.Join(dir, "flux", name)
		if strings.HasPrefix(name, "clip/") || name == "isnet.onnx" {
			p = filepath.Join(dir, name)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func fluxProfile(dir string, res int) configs.Profile {
	p := configs.DefaultProfile()
	p.Name = "flux-full"
	p.ModelDir = dir
	p.Device = "cuda"
	p.Text2Img.Source, p.Text2Img.Model, p.Text2Img.Resolution = "flux", "flux", res
	p.Matte.Model = "isnet.onnx"
	p.Score.ClipModel = "clip"
	return p
}

func TestPlanMemory(t *testing.T) {
	dir := modelTree(t)
	h200, card24 := RefCards[0], RefCards[1]
	cpuDefault := configs.DefaultProfile()
	cpuDefault.Device, cpuDefault.Providers = "cpu", []string{"cpu"}
	gpuDefault := configs.DefaultProfile()
	gpuDefault.Matte.Model = filepath.Join(dir, "isnet.onnx")
	fp32 := fluxProfile(dir, 1024)
	tests := []struct {
		name        string
		p           configs.Profile
		dtype       string
		peakGiB     [2]float64 // the whole job's peak, one worker: within [lo, hi]
		fitsH200    [2]int     // workers in one process: within [lo, hi]
		fits24      int
		processH200 int // whole pipelines, one process each
	}{
		// docs/perf/ort-gpu.md: a full-depth fp16 pipeline holds about
		// 50-55 GB at 1024²; two fit an H200, none a 24 GB card.
		{"full FLUX 1024²", fluxProfile(dir, 1024), "float16", [2]float64{48, 55}, [2]int{100, 300}, 0, 2},
		{"full FLUX 512²", fluxProfile(dir, 512), "float16", [2]float64{38, 48}, [2]int{100, 300}, 0, 2},
		{"fp32 FLUX 1024²", fp32, "float32", [2]float64{60, 90}, [2]int{50, 200}, 0, 1},
		{"embedded default on the CPU", cpuDefault, "uint8", [2]float64{0, 0}, [2]int{Unlimited, Unlimited}, Unlimited, Unlimited},
		{"embedded default on a GPU", gpuDefault, "uint8", [2]float64{3, 4.5}, [2]int{1000, 3000}, 200, 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := PlanMemory(tc.p, fakeWeights(tc.dtype))
			if err != nil {
				t.Fatal(err)
			}
			if tc.dtype == "float32" {
				// The same file sizes read as fp32: twice the working memory.
				half, _ := PlanMemory(tc.p, fakeWeights("float16"))
				if plan.Peak(1) <= half.Peak(1) {
					t.Errorf("fp32 peak %s not above fp16 %s", FormatGiB(plan.Peak(1)), FormatGiB(half.Peak(1)))
				}
			}
			peak := float64(plan.Peak(1)) / GiB
			t.Logf("weights %s, peak %s (1 worker), %s (8 workers); H200: %s workers, %d pipelines; 24 GB: %s workers",
				FormatGiB(plan.Weights()), FormatGiB(plan.Peak(1)), FormatGiB(plan.Peak(8)),
				FormatFits(plan.Fits(h200)), plan.Processes(h200), FormatFits(plan.Fits(card24)))
			if peak < tc.peakGiB[0] || peak > tc.peakGiB[1] {
				t.Errorf("peak %.1f GiB, want %.0f-%.0f", peak, tc.peakGiB[0], tc.peakGiB[1])
			}
			if n := plan.Fits(h200); n < tc.fitsH200[0] || n > tc.fitsH200[1] {
				t.Errorf("H200 fits %d workers, want %d-%d", n, tc.fitsH200[0], tc.fitsH200[1])
			}
			if n := plan.Fits(card24); (tc.fits24 == 0 && n != 0) || n < tc.fits24 {
				t.Errorf("24 GB card fits %d workers, want %d", n, tc.fits24)
			}
			if n := plan.Processes(h200); n < tc.processH200 || (tc.processH200 < 10 && n != tc.processH200) {
				t.Errorf("H200 holds %d pipelines, want %d", n, tc.processH200)
			}
		})
	}
}

func TestPlanCheck(t *testing.T) {
	dir := modelTree(t)
	plan, err := PlanMemory(fluxProfile(dir, 1024), fakeWeights("float16"))
	if err != nil {
		t.Fatal(err)
	}
	dev := func(idx int, freeGiB float64, ort, render bool) DeviceMemory {
		return DeviceMemory{Index: idx, Name: "stand-in", Free: uint64(freeGiB * GiB), Total: 141 * GiB, ORT: ort, Render: render}
	}
	fixed := float64(plan.Peak(1)-plan.Peak(2)+plan.Peak(1)) / GiB // weights, working, context: without workers
	per := float64(plan.Peak(2)-plan.Peak(1)) / GiB
	exact := (fixed + 4*per) / (1 - Margin) // just enough for 4 workers
	tests := []struct {
		name    string
		workers int
		devs    []DeviceMemory
		wantErr []string // substrings; none: it fits
	}{
		{"H200, 4 workers", 4, []DeviceMemory{RefCards[0]}, nil},
		{"24 GB card, 1 worker", 1, []DeviceMemory{RefCards[1]},
			[]string{"profile flux-full", "1 workers need", "24 GB card", "text2img 31.3 GiB weights + 11.8 GiB working", "matte", "score", "fit", "none fits"}},
		{"just enough for 4", 4, []DeviceMemory{dev(0, exact+0.01, true, true)}, nil},
		{"one short of 5", 5, []DeviceMemory{dev(0, exact+0.01, true, true)}, []string{"5 workers need", "4 fit"}},
		// cuda:all: GPU 0 holds the sessions; GPU 1 only the fit and renders.
		{"two GPUs, GPU 1 small", 8, []DeviceMemory{dev(0, 140, true, true), dev(1, 2, false, true)}, nil},
		{"two GPUs, GPU 1 without room for the score's renders", 8, []DeviceMemory{dev(0, 140, true, true), dev(1, 0.8, false, true)}, []string{"GPU 1", "fit", "score renders", "none fits"}},
		{"two GPUs, GPU 0 small", 8, []DeviceMemory{dev(0, 20, true, true), dev(1, 140, false, true)}, []string{"GPU 0", "none fits"}},
		{"no GPU", 64, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := plan.Check(tc.workers, tc.devs)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// memGPU is a stand-in device with an index and free memory.
type memGPU struct {
	fakeGPU
	index int
	free  uint64
}

func (g *memGPU) Info() cuda.Info                          { return cuda.Info{Index: g.index, Name: "stand-in"} }
func (g *memGPU) MemInfo() (free, total uint64, err error) { return g.free, 141 * GiB, nil }

// TestDeviceMemory: the Builder reads every device of the profile's pool,
// marks GPU 0 as the sessions' device, and gives the devices back.
func TestDeviceMemory(t *testing.T) {
	b := NewBuilder(quiet(), "")
	pool := newGPURenderer(quiet(), "cuda:all (2 × stand-in)", &memGPU{index: 0, free: 100 * GiB}, &memGPU{index: 1, free: 7 * GiB})
	b.gpus = map[string]*gpuRenderer{"cuda:all": pool}
	p := configs.DefaultProfile()
	p.Device = "cuda:all"
	devs, err := b.DeviceMemory(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	want := []DeviceMemory{
		{Index: 0, Name: "stand-in", Free: 100 * GiB, Total: 141 * GiB, ORT: true, Render: true},
		{Index: 1, Name: "stand-in", Free: 7 * GiB, Total: 141 * GiB, ORT: false, Render: true},
	}
	if diff := cmp.Diff(want, devs); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
	if len(pool.free) != 2 {
		t.Errorf("%d of 2 devices back in the pool", len(pool.free))
	}
	p.Device = "cpu"
	if devs, err := b.DeviceMemory(t.Context(), p); err != nil || devs != nil {
		t.Errorf("cpu: %v, %v; want none", devs, err)
	}
}
