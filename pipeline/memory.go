package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/models"
)

// GiB is 2^30 bytes, the unit of the plan's estimates (nvidia-smi's MiB
// / 1024, as docs/perf/ort-gpu.md reports memory).
const GiB = 1 << 30

// The working-memory estimates. They are calibrated on one NVIDIA H200
// with ONNX Runtime's CUDA provider and fp16 models (docs/perf/ort-gpu.md,
// "The table" and "Memory and workers"); they are estimates, not
// measurements of the profile at hand. Working memory is what a stage
// holds beyond its weights: ONNX Runtime's arena (which keeps its peak and
// grows in powers of two), cuDNN/cuBLAS workspaces, our kernels' buffers.
const (
	// FLUX (T5, CLIP-L, transformer, VAE) at text2img.resolution r:
	// fluxFixed + fluxPerMP × (r/1024)². From the whole job with the
	// reduced-depth FLUX: 20.7 GiB at 1024² and 12.7 at 512², less 5.2 of
	// weights, the context and the score and fit stages' share, leaves
	// 11.8 and 3.8 GiB; depth adds weights, not working memory (the blocks
	// run one after another).
	fluxFixed = 1.1 * GiB
	fluxPerMP = 10.7 * GiB
	// Matting at matte.resolution r: mattePerMP × (r/1024)². ISNet medium
	// held 3.4 GiB in `bench --stage matte` at 1024², less its 0.09 GiB of
	// weights and the context. BiRefNet has not been measured.
	mattePerMP = 2.8 * GiB
	// The CLIP self-check (16 validator views rendered and encoded at
	// 224², the text tower): 4.5 GiB in use after `bench --stage score`,
	// less 0.85 GiB of fp16 CLIP ViT-L/14 weights and the context.
	clipWorking = 3.1 * GiB
	// Our CUDA fit and renders, from their buffers (not measured): per
	// Gaussian of fit.max_gaussians its parameters, gradients and two Adam
	// moments at SH degree 3 plus sort keys (1 KiB), per pixel of the
	// views a few float planes (64 B).
	fitPerGaussian = 1 << 10
	perPixel       = 64
	// cudaContext is the primary context on each GPU (an allowance).
	cudaContext = 0.5 * GiB
	// perWorkerSession is what each concurrent worker adds per ONNX
	// Runtime session on the GPU: the CUDA provider keeps cuBLAS/cuDNN
	// handles and workspaces per calling thread (an allowance, not
	// measured). Runs on one session are serialised (ort.Session), so a
	// session's arena peak is one run's, however many workers share it.
	perWorkerSession = 64 << 20
	// Margin is the share of a device's free memory the plan keeps back.
	Margin = 0.10
)

// StageMemory is one stage's share of device memory.
type StageMemory struct {
	Stage    string   // "text2img", "matte", "views", "fit", "score"
	Files    []string // the model files its weights were read from
	ORT      bool     // an ONNX Runtime stage (on GPU 0 with a GPU provider)
	OnGPU    bool     // false: it runs on the CPU and needs no device memory
	Sessions int      // ONNX Runtime sessions it opens
	Weights  uint64   // bytes, the model files' initializers
	Working  uint64   // bytes, an estimate (see the constants above)
	Note     string   // how Working was estimated
}

// MemoryPlan is a profile's device memory: per stage, weights once per
// process (workers share the Builder's sessions), working memory once per
// session or device (runs on a session are serialised; the GPU pool runs
// one job per device at a time), and a small allowance per concurrent
// worker.
type MemoryPlan struct {
	Profile string
	Stages  []StageMemory
}

// DeviceMemory is one GPU's memory as the driver reports it, and what the
// plan places there: the ONNX Runtime sessions (GPU 0: the CUDA provider's
// default device) and/or our fit and renders (the profile's device pool).
type DeviceMemory struct {
	Index       int
	Name        string
	Free, Total uint64
	ORT, Render bool
}

// RefCards are the cards the plan is quoted for: an H200 (143 771 MiB,
// as its driver reports it) and a 24 GB consumer card (24 564 MiB).
var RefCards = []DeviceMemory{
	{Name: "141 GB H200", Free: 143771 << 20, Total: 143771 << 20, ORT: true, Render: true},
	{Name: "24 GB card", Free: 24564 << 20, Total: 24564 << 20, ORT: true, Render: true},
}

// WeightsFunc reads a model file's weights (models.ReadWeights).
type WeightsFunc func(path string) (models.Weights, error)

// PlanMemory plans a profile as it runs on a GPU machine: its ONNX Runtime
// stages on the GPU when providers lists cuda or tensorrt before cpu, the
// fit and renders on it unless device is cpu. Weights come from the model
// files (weights reads them); a file that cannot be read is an error.
func PlanMemory(p configs.Profile, weights WeightsFunc) (MemoryPlan, error) {
	return planMemory(p, weights, ortGPU(p.Providers))
}

func ortGPU(providers []string) bool {
	for _, pr := range providers {
		switch pr {
		case "cuda", "tensorrt":
			return true
		case "cpu":
			return false
		}
	}
	return false
}

// fp32Factor doubles working memory for models stored in float32: the
// calibration ran fp16 models, whose activations are half the size.
func fp32Factor(w models.Weights) float64 {
	if w.Dominant() == "float32" || w.Dominant() == "float64" {
		return 2
	}
	return 1
}

func planMemory(p configs.Profile, weights WeightsFunc, onGPU bool) (MemoryPlan, error) {
	plan := MemoryPlan{Profile: p.Name}
	read := func(st *StageMemory, path string) (models.Weights, error) {
		if !st.OnGPU {
			return models.Weights{}, nil // on the CPU: no device memory, no file read
		}
		w, err := weights(path)
		if err != nil {
			return w, fmt.Errorf("%s: %w", st.Stage, err)
		}
		st.Files = append(st.Files, path)
		st.Weights += uint64(w.Bytes)
		st.Sessions++
		return w, nil
	}
	sq := func(r int) float64 { return float64(r) * float64(r) / (1024 * 1024) }
	render := p.Device != "cpu"

	if p.Text2Img.Source == "flux" {
		st := StageMemory{Stage: "text2img", ORT: true, OnGPU: onGPU}
		files := map[string]string{}
		if onGPU {
			var err error
			if files, err = fluxFiles(p); err != nil {
				return plan, err
			}
		}
		f := 1.0
		for _, k := range []string{"flux/clip", "flux/t5", "flux/vae-decoder", "flux/transformer"} {
			w, err := read(&st, files[k])
			if err != nil {
				return plan, err
			}
			if k == "flux/transformer" {
				f = fp32Factor(w)
			}
		}
		st.Working = uint64(f * (fluxFixed + fluxPerMP*sq(p.Text2Img.Resolution)))
		st.Note = fmt.Sprintf("%.1f + %.1f × (%d/1024)² GiB", fluxFixed/GiB, fluxPerMP/GiB, p.Text2Img.Resolution)
		if f > 1 {
			st.Note += ", ×2 for fp32 weights"
		}
		plan.Stages = append(plan.Stages, st)
	}
	if p.Matte.Enabled {
		st := StageMemory{Stage: "matte", ORT: true, OnGPU: onGPU}
		path := ""
		if onGPU {
			var err error
			if path, err = mattePath(p); err != nil {
				return plan, err
			}
		}
		w, err := read(&st, path)
		if err != nil {
			return plan, err
		}
		st.Working = uint64(fp32Factor(w) * mattePerMP * sq(p.Matte.Resolution))
		st.Note = fmt.Sprintf("%.1f × (%d/1024)² GiB (ISNet medium)", mattePerMP/GiB, p.Matte.Resolution)
		if fp32Factor(w) > 1 {
			st.Note += ", ×2 for fp32 weights"
		}
		plan.Stages = append(plan.Stages, st)
	}
	if p.Views.Model != "" {
		st := StageMemory{Stage: "views", ORT: true, OnGPU: onGPU}
		if _, err := read(&st, p.ModelPath(p.Views.Model)); err != nil {
			return plan, err
		}
		st.Working = st.Weights
		st.Note = "not measured: as much as its weights"
		plan.Stages = append(plan.Stages, st)
	}
	fitViews := max(1, p.Fit.Views)
	plan.Stages = append(plan.Stages, StageMemory{
		Stage: "fit", OnGPU: render,
		Working: uint64(p.Fit.MaxGaussians)*fitPerGaussian + uint64(fitViews*p.Fit.Resolution*p.Fit.Resolution)*perPixel,
		Note:    "buffers: 1 KiB per fit.max_gaussians, 64 B per view pixel",
	})
	sc := StageMemory{Stage: "score", OnGPU: render}
	renders := uint64(p.Score.Views+p.Score.FidelityViews) * uint64(p.Score.Resolution*p.Score.Resolution) * perPixel
	if p.Score.ClipModel != "" {
		f := 1.0
		if onGPU {
			sc.ORT, sc.OnGPU = true, true
			text, image, err := clipFiles(p)
			if err != nil {
				return plan, err
			}
			for _, path := range []string{text, image} {
				w, err := read(&sc, path)
				if err != nil {
					return plan, err
				}
				f = max(f, fp32Factor(w))
			}
		}
		if !onGPU {
			// The towers run on the CPU; only the renders are on the GPU.
			sc.Working = renders
			sc.Note = "the views' renders"
		} else {
			// The measurement held the towers and the views' renders on
			// one GPU; the renders go to the device pool, which with
			// cuda:all is every GPU, so they are a stage of their own.
			sc.Working = uint64(f*clipWorking) - min(renders, uint64(f*clipWorking))
			sc.Note = fmt.Sprintf("%.1f GiB with the renders (CLIP ViT-L/14, 16 views)", clipWorking/GiB)
			if f > 1 {
				sc.Note += ", ×2 for fp32 weights"
			}
			plan.Stages = append(plan.Stages, sc)
			sc = StageMemory{Stage: "score renders", OnGPU: render, Working: renders, Note: "the views' renders"}
		}
	} else {
		sc.Working = renders
		sc.Note = "the views' renders"
	}
	plan.Stages = append(plan.Stages, sc)
	for i := range plan.Stages {
		if !plan.Stages[i].OnGPU {
			plan.Stages[i].Weights, plan.Stages[i].Working = 0, 0
		}
	}
	return plan, nil
}

// need is the plan's device memory on dev with workers concurrent workers.
func (m MemoryPlan) need(dev DeviceMemory, workers int) (fixed, perWorker uint64) {
	for _, st := range m.Stages {
		if !st.OnGPU || (st.ORT && !dev.ORT) || (!st.ORT && !dev.Render) {
			continue
		}
		fixed += st.Weights + st.Working
		if st.ORT {
			perWorker += uint64(st.Sessions) * perWorkerSession
		}
	}
	if fixed > 0 {
		fixed += cudaContext
	}
	return fixed, perWorker
}

// OnGPU reports whether any stage needs device memory.
func (m MemoryPlan) OnGPU() bool {
	return slices.ContainsFunc(m.Stages, func(s StageMemory) bool { return s.OnGPU && s.Weights+s.Working > 0 })
}

// Weights sums the stages' weights on the GPU.
func (m MemoryPlan) Weights() (n uint64) {
	for _, s := range m.Stages {
		n += s.Weights
	}
	return n
}

// Peak is the whole job's device memory with workers workers when every
// stage shares one GPU: weights, every stage's working memory (the
// sessions' arenas keep their peaks, so they add up), the context and the
// per-worker allowance.
func (m MemoryPlan) Peak(workers int) uint64 {
	all := DeviceMemory{ORT: true, Render: true}
	fixed, per := m.need(all, workers)
	return fixed + uint64(workers)*per
}

// Usable is the free memory the plan may fill: free less the margin.
func Usable(free uint64) uint64 { return uint64(float64(free) * (1 - Margin)) }

// Unlimited is what Fits returns when memory does not bound the workers.
const Unlimited = math.MaxInt

// Fits is how many concurrent workers fit on dev: 0 when the weights and
// working memory alone do not, Unlimited when the plan puts nothing there
// or adds nothing per worker.
func (m MemoryPlan) Fits(dev DeviceMemory) int {
	fixed, per := m.need(dev, 1)
	u := Usable(dev.Free)
	switch {
	case fixed == 0:
		return Unlimited
	case fixed+per > u:
		return 0
	case per == 0:
		return Unlimited
	}
	return int(min((u-fixed)/per, math.MaxInt32))
}

// Processes is how many whole copies of the pipeline (separate processes,
// each with its own weights, one worker each) fit on dev.
func (m MemoryPlan) Processes(dev DeviceMemory) int {
	p := m.Peak(1)
	if p == 0 {
		return Unlimited
	}
	return int(Usable(dev.Free) / p)
}

// Check returns an error when workers concurrent workers do not fit on
// the devices: it names the profile's stages, the estimate, the device's
// free memory and how many would fit.
func (m MemoryPlan) Check(workers int, devs []DeviceMemory) error {
	var errs []error
	for _, d := range devs {
		n := m.Fits(d)
		if n >= workers {
			continue
		}
		fixed, per := m.need(d, workers)
		fit := fmt.Sprintf("%d fit", n)
		if n == 0 {
			fit = "none fits: the models and their working memory alone exceed it"
		}
		errs = append(errs, fmt.Errorf("profile %s: %d workers need an estimated %s on GPU %d (%s), which has %s free (%s usable after a %.0f%% margin): %s; %s",
			m.Profile, workers, FormatGiB(fixed+uint64(workers)*per), d.Index, d.Name, FormatGiB(d.Free), FormatGiB(Usable(d.Free)),
			Margin*100, m.stagesOn(d, per), fit))
	}
	return errors.Join(errs...)
}

// stagesOn lists the stages' memory on d for people.
func (m MemoryPlan) stagesOn(d DeviceMemory, per uint64) string {
	var parts []string
	for _, st := range m.Stages {
		if !st.OnGPU || (st.ORT && !d.ORT) || (!st.ORT && !d.Render) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s weights + %s working", st.Stage, FormatGiB(st.Weights), FormatGiB(st.Working)))
	}
	parts = append(parts, fmt.Sprintf("CUDA context %s", FormatGiB(cudaContext)))
	if per > 0 {
		parts = append(parts, fmt.Sprintf("%s per worker", FormatGiB(per)))
	}
	return strings.Join(parts, ", ")
}

// FormatGiB is "12.3 GiB", or "44 MiB" under 1 GiB.
func FormatGiB(b uint64) string {
	if b < GiB {
		return fmt.Sprintf("%d MiB", b>>20)
	}
	return fmt.Sprintf("%.1f GiB", float64(b)/GiB)
}

// FormatFits is a worker count for people: "unlimited" for Unlimited.
func FormatFits(n int) string {
	if n == Unlimited {
		return "any number of"
	}
	return fmt.Sprint(n)
}

// MemoryPlan plans p on this machine: as PlanMemory, except that the ONNX
// Runtime stages count as on the GPU only when the loaded runtime has a
// GPU provider the profile lists before cpu.
func (b *Builder) MemoryPlan(p configs.Profile) (MemoryPlan, error) {
	onGPU := ortGPU(p.Providers)
	if onGPU {
		rt, err := b.Runtime()
		if err != nil {
			onGPU = false
		} else {
			have := rt.Providers()
			var usable []string
			for _, pr := range p.Providers {
				if pr == "cpu" || slices.Contains(have, pr) {
					usable = append(usable, pr)
				}
			}
			onGPU = ortGPU(usable)
		}
	}
	return planMemory(p, models.ReadWeights, onGPU)
}

// DeviceMemory reads the free memory of the GPUs p uses: the profile's
// device pool (fit and renders) and GPU 0, where the CUDA provider puts
// the ONNX Runtime sessions. None (and no error) on a machine where the
// profile's device is the CPU.
func (b *Builder) DeviceMemory(ctx context.Context, p configs.Profile) ([]DeviceMemory, error) {
	r, err := b.Renderer(p)
	if err != nil {
		return nil, err
	}
	g, ok := r.(*gpuRenderer)
	if !ok {
		return nil, nil
	}
	var taken []gpu
	defer func() {
		for _, d := range taken {
			g.free <- d
		}
	}()
	for range cap(g.free) {
		d, err := g.take(ctx)
		if err != nil {
			return nil, err
		}
		taken = append(taken, d)
	}
	pool := slices.Clone(taken)
	if !slices.ContainsFunc(pool, func(d gpu) bool { return d.Info().Index == 0 }) {
		d0, err := b.openGPU(0)
		if err != nil {
			return nil, fmt.Errorf("GPU 0 (the ONNX Runtime sessions' device): %w", err)
		}
		pool = append(pool, d0)
	}
	devs := make([]DeviceMemory, len(pool))
	for i, d := range pool {
		free, total, err := d.MemInfo()
		if err != nil {
			return nil, fmt.Errorf("GPU %d: %w", d.Info().Index, err)
		}
		devs[i] = DeviceMemory{Index: d.Info().Index, Name: d.Info().Name, Free: free, Total: total,
			ORT: d.Info().Index == 0, Render: i < len(taken)}
	}
	return devs, nil
}
