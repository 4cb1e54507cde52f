package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"log/slog"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/matte"
	"github.com/splatbench/splatbench/pipeline/models"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/results"
)

// check is one line of doctor's report.
type check struct {
	name, status, detail, fix string
}

const (
	statusOK   = "ok"
	statusWarn = "warn"
	statusFail = "fail"
)

var errDoctorFailed = errors.New("doctor found failures")

func doctorCommand() *command {
	o := &profileOptions{}
	return &command{
		name:    "doctor",
		summary: "check this machine's set-up: CPU, memory, GPU, ONNX Runtime, models, disk",
		usage:   "splatbench doctor [--profile PROFILE]",
		long: `The set-up check a miner runs first. One line per check, ok / warn / fail, with
what to do about anything that is not ok: CPU and memory, GPU and driver (or
their absence), the ONNX Runtime library and its execution providers, every
model the profile names (it loads and has the signature its stage expects),
the set-up cache and free disk space, and the output directory.

Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed.

Examples:
  splatbench doctor
  splatbench doctor --profile my-gpu-profile.yaml --ort-lib /opt/ort-gpu/libonnxruntime.so.1`,
		flags: o.addFlags,
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("doctor takes no arguments")
			}
			return runDoctor(ctx, e, o)
		},
	}
}

func runDoctor(ctx context.Context, e *env, o *profileOptions) error {
	var checks []check
	add := func(c check) { checks = append(checks, c) }

	host, _ := results.CollectHost(ctx)
	add(check{"cpu", statusOK, fmt.Sprintf("%s, %d cores (GOMAXPROCS %d)", orUnknown(host.CPUModel), runtime.NumCPU(), runtime.GOMAXPROCS(0)), ""})
	add(memoryCheck(host))
	add(gpuCheck(host, e.log))

	p, perr := o.load(e.global)
	if perr != nil {
		add(check{"profile", statusFail, perr.Error(), "fix the profile (see configs/presets/default.yaml)"})
	} else {
		matteModel := p.Matte.Model
		if !p.Matte.Enabled {
			matteModel = "off"
		}
		add(check{"profile", statusOK, fmt.Sprintf("%s (text2img %s, matte %s, fit %d iterations)", p.Name, p.Text2Img.Source, matteModel, p.Fit.Iterations), ""})
		add(generatesCheck(pipeline.CapabilitiesOf(p)))
	}
	b := pipeline.NewBuilder(e.log, e.global.ortLib)
	rt, err := b.Runtime()
	if err != nil {
		add(check{"onnx runtime", statusFail, err.Error(), "run 'make setup', or pass --ort-lib / set SPLATBENCH_ORT_LIB"})
	} else {
		add(check{"onnx runtime", statusOK, fmt.Sprintf("%s (%s), providers %v", rt.Version(), rt.Path(), rt.Providers()), ""})
		if perr == nil {
			checks = append(checks, providerChecks(rt, p.Providers)...)
			checks = append(checks, modelChecks(ctx, rt, p)...)
			add(memoryPlanCheck(ctx, b, p))
		}
	}
	add(diskCheck("cache", ort.CacheDir(), 1<<30))
	add(diskCheck("output", e.global.out, 1<<30))

	failed := 0
	for _, c := range checks {
		fmt.Fprintf(e.stdout, "%-4s  %-14s %s\n", c.status, c.name, c.detail)
		if c.fix != "" && c.status != statusOK {
			fmt.Fprintf(e.stdout, "      %-14s -> %s\n", "", c.fix)
		}
		if c.status == statusFail {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d", errDoctorFailed, failed)
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown CPU"
	}
	return s
}

func memoryCheck(h results.Host) check {
	gib := float64(h.MemoryBytes) / (1 << 30)
	switch {
	case h.MemoryBytes == 0:
		return check{"memory", statusWarn, "unknown", "could not read /proc/meminfo"}
	case gib < 8:
		return check{"memory", statusWarn, fmt.Sprintf("%.1f GiB", gib), "ISNet and the fit want at least 8 GiB"}
	}
	return check{"memory", statusOK, fmt.Sprintf("%.1f GiB", gib), ""}
}

// gpuCheck asks the CUDA driver (what the rasteriser uses) for devices,
// with nvidia-smi's view as a fallback description.
func gpuCheck(h results.Host, log *slog.Logger) check {
	infos, err := cuda.Discover(log)
	if err == nil && len(infos) > 0 {
		g := infos[0]
		desc := fmt.Sprintf("%d x %s, compute %s, %d MiB, driver API %s", len(infos), g.Name, g.ComputeCapability(), g.TotalMemory>>20, cuda.DriverVersionString(g.DriverVersion))
		plan, ok := cuda.KernelPlan(g.DriverVersion)
		if !ok {
			return check{"gpu", statusWarn, desc + "; kernels: " + plan, "update the NVIDIA driver to R520 (CUDA 11.8) or newer, or install a CUDA toolkit's libnvrtc (or set " + cuda.NVRTCEnv + ")"}
		}
		return check{"gpu", statusOK, desc + "; kernels: " + plan, ""}
	}
	if len(h.GPUs) > 0 {
		return check{"gpu", statusWarn, fmt.Sprintf("nvidia-smi sees %s but the CUDA driver API does not: %v", h.GPUs[0].Name, err), "check that libcuda.so.1 is on the library path"}
	}
	return check{"gpu", statusWarn, "no CUDA device: " + strings.ReplaceAll(fmt.Sprint(err), "\n", "; "), "the rasteriser and fit run on the CPU; install the NVIDIA driver to use a GPU"}
}

func providerChecks(rt *ort.Runtime, order []string) []check {
	var out []check
	have := rt.Providers()
	for _, p := range order {
		p = ort.NormalizeProvider(p)
		if slices.Contains(have, p) {
			out = append(out, check{"provider " + p, statusOK, "available", ""})
			continue
		}
		out = append(out, check{"provider " + p, statusWarn, "not available: " + rt.Unavailable(p), "sessions fall back to the next provider; for CUDA see docs/gpu.md"})
	}
	return out
}

func modelChecks(ctx context.Context, rt *ort.Runtime, p configs.Profile) []check {
	var out []check
	gpu := gpuProvider(rt, p.Providers)
	if p.Matte.Enabled {
		path, err := matte.ModelPath(p.ModelPath(p.Matte.Model))
		if err != nil {
			out = append(out, check{"matte model", statusFail, err.Error(), "run 'make setup' or fix matte.model in the profile"})
		} else {
			out = append(out, modelCheck(ctx, rt, "matte model", path, gpu))
		}
	}
	if p.Text2Img.Source == "flux" {
		out = append(out, modelCheck(ctx, rt, "flux model", p.ModelPath(p.Text2Img.Model), gpu))
	}
	if p.Score.ClipModel != "" {
		out = append(out, modelCheck(ctx, rt, "clip model", p.ModelPath(p.Score.ClipModel), gpu))
	}
	return out
}

// generatesCheck says what the profile can generate: a warning when the
// validators' free-text prompts are out.
func generatesCheck(c pipeline.Capabilities) check {
	if c.FreeText {
		return check{"generates", statusOK, c.Kinds(), ""}
	}
	return check{"generates", statusWarn, c.Kinds() + ": " + c.Note,
		"mine only local validators, or pass --allow-empty-text to mine subnet validators with empty text results"}
}

// gpuProvider is the first provider of the profile's order that is not the
// CPU, when this library has it ("" otherwise): the one whose silent CPU
// fallback doctor looks for.
func gpuProvider(rt *ort.Runtime, order []string) string {
	for _, p := range order {
		p = ort.NormalizeProvider(p)
		if p == ort.CPU {
			return ""
		}
		if slices.Contains(rt.Providers(), p) {
			return p
		}
	}
	return ""
}

// modelCheck checks the model file or folder at path; with a GPU provider
// it also runs each model once there and warns about a CPU fallback.
func modelCheck(ctx context.Context, rt *ort.Runtime, name, path, gpu string) check {
	fi, err := os.Stat(path)
	if err != nil {
		return check{name, statusFail, err.Error(), "run 'make setup' or fix the path in the profile"}
	}
	var fs []models.Finding
	if fi.IsDir() {
		fs, err = models.CheckDir(ctx, rt, path)
	} else {
		var f models.Finding
		f, err = models.CheckFile(ctx, rt, path)
		fs = []models.Finding{f}
	}
	if err != nil {
		return check{name, statusFail, err.Error(), "splatbench models check " + path}
	}
	for _, f := range fs {
		if f.Status != models.OK {
			return check{name, string(f.Status), f.Path + ": " + f.Message, "splatbench models check " + path}
		}
	}
	if gpu != "" {
		for _, f := range fs {
			if !strings.EqualFold(filepath.Ext(f.Path), ".onnx") {
				continue
			}
			pf, _, err := models.Probe(ctx, rt, f.Path, gpu)
			if err != nil {
				return check{name, statusFail, err.Error(), ""}
			}
			if pf.Status != models.OK {
				return check{name, string(pf.Status), pf.Path + ": " + pf.Message, "splatbench models check --provider " + gpu + " " + path}
			}
		}
		return check{name, statusOK, fmt.Sprintf("%s (%d file(s), signatures match, no CPU fallback on %s)", path, len(fs), gpu), ""}
	}
	return check{name, statusOK, fmt.Sprintf("%s (%d file(s), signatures match)", path, len(fs)), ""}
}

func diskCheck(name, dir string, want uint64) check {
	probe := dir
	for {
		if _, err := os.Stat(probe); err == nil {
			break
		}
		parent := filepath.Dir(probe)
		if parent == probe {
			break
		}
		probe = parent
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(probe, &st); err != nil {
		return check{name + " disk", statusWarn, err.Error(), ""}
	}
	free := st.Bavail * uint64(st.Bsize)
	detail := fmt.Sprintf("%s: %.1f GiB free", dir, float64(free)/(1<<30))
	if free < want {
		return check{name + " disk", statusWarn, detail, "free some space: runs and models need a few GiB"}
	}
	return check{name + " disk", statusOK, detail, ""}
}
