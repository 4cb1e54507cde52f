package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/prompts"
	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/results/atomicfile"
	"github.com/splatbench/splatbench/results/table"
)

type benchOptions struct {
	profileOptions
	stage     string
	n         int
	warmup    int
	prompt    string
	seed      int64
	gaussians int
	image     string
	format    string
	cpuprof   string
}

func benchCommand() *command {
	o := &benchOptions{}
	return &command{
		name:    "bench",
		summary: "measure a pipeline stage's latency, throughput and peak memory",
		usage:   "splatbench bench [--stage matte|lift|fit|score|encode|all] [-n N] [flags]",
		long: `Prepares one job (the stages before --stage run once), then runs --stage
--warmup times untimed and -n times timed, and prints p50/p90/p99 latency
(nearest rank), throughput and peak RSS. --stage all times the whole job.
On a GPU (the profile's device), render and fit also report device time
from CUDA events (render: the batch; fit: forward, loss, backward and Adam)
and the GPU memory in use after the runs.
The run directory gets run.json, trials.jsonl (one record per timed run) and
bench.txt in Go benchmark format, which benchstat reads:

  benchstat runs/A/bench.txt runs/B/bench.txt

Exit status: 0 success, 1 the stage failed, 2 bad flags or profile, 130 interrupted.

Examples:
  splatbench bench --stage matte
  splatbench bench --stage matte --set matte.model=isnet-medium -n 20
  splatbench bench --stage fit --set fit.iterations=100 --prompt "a blue sphere"
  splatbench bench --stage lift --image photo.png
  splatbench bench --stage all --image photo.png --format threejs -n 3 --warmup 0
  splatbench bench --stage render --gaussians 200000 --set device=cuda`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&o.stage, "stage", "matte", "stage to time: matte, lift, fit, score, encode, render (the validator's 16 views, on the profile's device) or all (the whole job)")
			fs.IntVar(&o.gaussians, "gaussians", 0, "render: Gaussians in the reference scene's cloud (0: the scene's default)")
			fs.IntVarP(&o.n, "runs", "n", 10, "timed runs")
			fs.IntVar(&o.warmup, "warmup", 2, "untimed warm-up runs")
			fs.StringVar(&o.prompt, "prompt", "a red cube", "the job's prompt (a reference scene name on the default profile)")
			fs.Int64Var(&o.seed, "seed", 1, "the job's seed")
			fs.StringVar(&o.image, "image", "", "an image prompt (PNG/JPEG) instead of --prompt; without it --stage lift lifts the scene's matted reference view (lift.mode always)")
			fs.StringVar(&o.format, "format", "", "output format: spz, ply or threejs (a subnet-17 Three.js module, scored by the proxy for the judge); same as --set encode.format=")
			fs.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of the timed runs to this file (go tool pprof reads it): where the host's time goes")
			o.profileOptions.addFlags(fs)
		},
		run: func(ctx context.Context, e *env, args []string) error { return runBench(ctx, e, o, args) },
	}
}

func runBench(ctx context.Context, e *env, o *benchOptions, args []string) error {
	if len(args) > 0 {
		return usageErrorf("bench takes no arguments (got %q)", args)
	}
	if o.n < 1 || o.warmup < 0 {
		return usageErrorf("-n must be >= 1 and --warmup >= 0")
	}
	if o.format != "" {
		o.sets = append(o.sets, "encode.format="+o.format)
	}
	p, err := o.load(e.global)
	if err != nil {
		return err
	}
	b := pipeline.NewBuilder(e.log, p.OrtLib)
	defer b.Close()
	var timeOnce func(context.Context) (timing, error)
	var device string
	if o.stage == "render" {
		timeOnce, device, err = renderTarget(b, p, o)
	} else {
		var pl *pipeline.Pipeline
		job := pipeline.Job{ID: "bench", Prompt: prompts.Text(o.prompt), Seed: o.seed}
		if o.image != "" {
			job.Prompt = prompts.Image(o.image)
		} else if o.stage == "lift" && p.Lift.Mode == "auto" {
			// A text prompt's scene views are posed views, which auto
			// does not lift: lift the matted reference view instead.
			p.Lift.Mode = "always"
			fmt.Fprintln(e.stderr, "bench: --stage lift without --image: lift.mode always (the scene's matted reference view)")
		}
		if pl, err = b.Build(ctx, p); err != nil {
			return err
		}
		timeOnce, device, err = benchTarget(ctx, pl, job, o.stage)
	}
	if err != nil {
		return err
	}

	run, err := results.Create(e.global.out, "bench", time.Now())
	if err != nil {
		return err
	}
	meta := newMeta(ctx, e, "bench", p, b)
	if err := run.WriteMeta(meta); err != nil {
		return err
	}
	w, err := run.AppendRecords()
	if err != nil {
		return err
	}
	defer w.Close()

	bar := newBar(e.stderr, o.warmup+o.n, "bench "+o.stage)
	var secs, devSecs []float64
	var prof bytes.Buffer
	for i := range o.warmup + o.n {
		warm := i < o.warmup
		if i == o.warmup && o.cpuprof != "" {
			if err := pprof.StartCPUProfile(&prof); err != nil {
				return fmt.Errorf("--cpuprofile: %w", err)
			}
			defer pprof.StopCPUProfile()
		}
		start := time.Now()
		d, runErr := timeOnce(ctx)
		rec := results.Record{
			ID: fmt.Sprintf("bench-%s-%d", o.stage, i), Kind: "bench", Prompt: o.prompt, Seed: o.seed,
			Repeat: i, Warmup: warm, TotalSeconds: d.wall, Started: start,
			Stages: []results.StageTiming{{Name: o.stage, Seconds: d.wall, DeviceSeconds: d.device, Device: device}},
			Scores: d.scores,
		}
		if d.stages != nil {
			rec.Stages = d.stages // the whole job: its stages
		}
		if runErr != nil {
			rec.Error = runErr.Error()
		}
		if err := w.Append(rec); err != nil {
			return err
		}
		if runErr != nil {
			return runErr
		}
		if !warm {
			secs = append(secs, d.wall)
			if d.device > 0 {
				devSecs = append(devSecs, d.device)
			}
		}
		bar.Add(1)
	}
	bar.Finish()
	if o.cpuprof != "" {
		pprof.StopCPUProfile()
		if err := atomicfile.WriteFile(o.cpuprof, prof.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	// GPU memory before the placement probe loads each model again. An
	// ORT stage on CUDA ("ort:cuda") counts: its arenas hold their peak.
	var gpuUsed, gpuTotal uint64
	if strings.HasPrefix(device, "cuda") || strings.HasPrefix(device, "ort:cuda") || device == "mixed" {
		if g, ok := gpuOf(b, p); ok {
			if gpuUsed, gpuTotal, err = g.Memory(ctx); err != nil {
				return err
			}
		}
	}
	card := gpuName(e)
	placeNotes, places, err := placements(ctx, e, &meta, card)
	if err != nil {
		return err
	}
	meta.Caveats = pipeline.Caveats()
	meta.End = time.Now().UTC()
	if err := run.WriteMeta(meta); err != nil {
		return err
	}
	rss, _ := results.PeakRSS()
	m := benchMeasures{wall: results.Summarize(secs), rss: rss, gpuUsed: gpuUsed, gpuTotal: gpuTotal}
	if len(devSecs) > 0 {
		dev := results.Summarize(devSecs)
		m.device = &dev
	}
	tbl := benchTable(o.stage, device, p, m)
	for _, c := range meta.Caveats {
		tbl.Notes = append(tbl.Notes, "Caveat: "+c)
	}
	tbl.Notes = append(tbl.Notes, placeNotes...)
	if note := workNote(places, o.warmup+o.n, m.wall.P50, card); note != "" {
		tbl.Notes = append(tbl.Notes, note)
	}
	if err := tbl.WriteText(e.stdout); err != nil {
		return err
	}
	if err := writeBenchTxt(run.Path("bench.txt"), meta, o.stage, p, m); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nrun directory: %s\n", run.Dir())
	return nil
}

// timing is one timed run: wall seconds; when the stage ran on a GPU, its
// device seconds from CUDA events (0 otherwise); and the scores the job left
// and, for a whole job, its stages' timings (nil for a render).
type timing struct {
	wall, device float64
	stages       []results.StageTiming
	scores       map[string]float64
}

// gpuMemory is what bench asks of a GPU renderer.
type gpuMemory interface {
	Memory(ctx context.Context) (used, total uint64, err error)
}

// gpuOf returns the profile's GPU renderer when its device is a GPU.
func gpuOf(b *pipeline.Builder, p configs.Profile) (gpuMemory, bool) {
	r, err := b.Renderer(p)
	if err != nil {
		return nil, false
	}
	g, ok := r.(gpuMemory)
	return g, ok
}

// renderTarget times the validator's 16 views of a reference scene's
// ground-truth cloud on the profile's device (wall time, images back on
// the host included; on a GPU also the batch's device time).
func renderTarget(b *pipeline.Builder, p configs.Profile, o *benchOptions) (func(context.Context) (timing, error), string, error) {
	scene, err := scenes.Get(o.prompt)
	if err != nil {
		return nil, "", usageErrorf("--prompt: %v", err)
	}
	r, err := b.Renderer(p)
	if err != nil {
		return nil, "", err
	}
	c := scene.Build(o.seed, o.gaussians)
	splat.NormalizeForValidator(c)
	cams := splat.ValidatorCameras()
	opt := splat.RenderOptions{Background: [3]float32{1, 1, 1}, Mode: splat.ModeGsplat, SHDegree: 0}
	type timedRenderer interface {
		RenderTimed(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, float64, error)
	}
	return func(ctx context.Context) (timing, error) {
		start := time.Now()
		if tr, ok := r.(timedRenderer); ok {
			_, dev, err := tr.RenderTimed(ctx, c, cams, opt)
			return timing{wall: time.Since(start).Seconds(), device: dev}, err
		}
		_, err := r.Render(ctx, c, cams, opt)
		return timing{wall: time.Since(start).Seconds()}, err
	}, r.Device(), nil
}

// benchTarget returns a function that runs the chosen stage once on a
// prepared job and reports its wall time.
func benchTarget(ctx context.Context, pl *pipeline.Pipeline, job pipeline.Job, stage string) (func(context.Context) (timing, error), string, error) {
	if stage == "all" {
		return func(ctx context.Context) (timing, error) {
			start := time.Now()
			st, ts, err := pl.Run(ctx, job)
			t := timing{wall: st.Since(start).Seconds(), stages: pipeline.StageTimings(ts)}
			if st != nil {
				t.scores = maps.Clone(st.Scores)
			}
			return t, err
		}, "mixed", nil
	}
	st, target, err := pl.Prepare(ctx, job, stage)
	if err != nil {
		if target == nil && st == nil {
			return nil, "", usageErrorf("--stage %s: %v", stage, err)
		}
		return nil, "", err
	}
	device := pipeline.StageDevice(target)
	return func(ctx context.Context) (timing, error) {
		start, untimed := time.Now(), st.Untimed
		err := target.Run(ctx, st)
		t := timing{wall: (time.Since(start) - (st.Untimed - untimed)).Seconds(), scores: maps.Clone(st.Scores)}
		if stage == "fit" && device != "cpu" {
			f := st.FitStats
			t.device = f.ForwardSeconds + f.LossSeconds + f.BackwardSeconds + f.AdamSeconds
		}
		return t, err
	}, device, nil
}

// benchMeasures are what bench reports: wall-time percentiles, device-time
// percentiles when the stage ran on a GPU, peak RSS and GPU memory.
type benchMeasures struct {
	wall              results.Summary
	device            *results.Summary
	rss               uint64
	gpuUsed, gpuTotal uint64
}

func benchTable(stage, device string, p configs.Profile, m benchMeasures) *table.Table {
	s := m.wall
	t := &table.Table{
		Title: fmt.Sprintf("bench: stage %s on %s (%d timed runs)", stage, device, s.N),
		Columns: []table.Column{
			{Name: "stage"}, {Name: "p50", Unit: "ms"}, {Name: "p90", Unit: "ms"}, {Name: "p99", Unit: "ms"},
			{Name: "min", Unit: "ms"}, {Name: "max", Unit: "ms"}, {Name: "throughput", Unit: "jobs/s"}, {Name: "peak RSS", Unit: "MiB"},
		},
		Notes: []string{"Percentiles are nearest-rank over the timed runs; warm-up runs are excluded. Peak RSS is the process's high-water mark."},
	}
	if stage == "matte" {
		t.Notes = append(t.Notes, fmt.Sprintf("Model %s at %d px.", p.Matte.Model, p.Matte.Resolution))
	}
	rss := table.Number(float64(m.rss)/(1<<20), 0)
	t.AddRow(table.Text(stage), table.Number(s.P50*1e3, 1), table.Number(s.P90*1e3, 1), table.Number(s.P99*1e3, 1),
		table.Number(s.Min*1e3, 1), table.Number(s.Max*1e3, 1), table.Number(1/s.Mean, 3), rss)
	if d := m.device; d != nil {
		t.AddRow(table.Text(stage+" (device)"), table.Number(d.P50*1e3, 3), table.Number(d.P90*1e3, 3), table.Number(d.P99*1e3, 3),
			table.Number(d.Min*1e3, 3), table.Number(d.Max*1e3, 3), table.Number(1/d.Mean, 1), rss)
		t.Notes = append(t.Notes, "The device row is GPU time from CUDA events (render: the whole batch; fit: forward, loss, backward and Adam, without densification and host work).")
	}
	if m.gpuTotal > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("GPU memory in use after the runs: %d MiB of %d MiB (all processes).", m.gpuUsed>>20, m.gpuTotal>>20))
	}
	return t
}

func writeBenchTxt(path string, meta results.Meta, stage string, p configs.Profile, m benchMeasures) error {
	s := m.wall
	params := []table.KeyValue{{Key: "stage", Value: stage}}
	if stage == "matte" {
		params = append(params, table.KeyValue{Key: "model", Value: p.Matte.Model})
	}
	f := table.BenchFile{
		Config: meta.BenchConfig("splatbench"),
		Better: map[string]string{"jobs/s": "higher"},
		Lines: []table.BenchLine{{
			Name: "Stage", Params: params, Procs: runtime.GOMAXPROCS(0), Iters: s.N,
			Metrics: []table.Metric{
				{Value: s.Mean * 1e9, Unit: "ns/op"}, {Value: s.P50 * 1e9, Unit: "p50-ns/op"},
				{Value: s.P90 * 1e9, Unit: "p90-ns/op"}, {Value: s.P99 * 1e9, Unit: "p99-ns/op"},
				{Value: 1 / s.Mean, Unit: "jobs/s"}, {Value: float64(m.rss), Unit: "peak-RSS-B"},
			},
		}},
	}
	if d := m.device; d != nil {
		f.Lines[0].Metrics = append(f.Lines[0].Metrics, table.Metric{Value: d.P50 * 1e9, Unit: "device-p50-ns/op"},
			table.Metric{Value: d.P90 * 1e9, Unit: "device-p90-ns/op"})
	}
	if m.gpuTotal > 0 {
		f.Lines[0].Metrics = append(f.Lines[0].Metrics, table.Metric{Value: float64(m.gpuUsed), Unit: "gpu-mem-B"})
	}
	return atomicfile.WriteWith(path, 0o644, func(w io.Writer) error { return table.WriteBench(w, f) })
}

// newBar returns a progress bar on a terminal and a silent one otherwise.
func newBar(w io.Writer, n int, what string) *progressbar.ProgressBar {
	if !isTerminal(w) {
		return progressbar.NewOptions(n, progressbar.OptionSetWriter(io.Discard))
	}
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
}

// placements asks ONNX Runtime where every GPU session of this run placed
// its nodes (one profiled run each, after the timed runs): one note line per
// model, recorded in the run's device facts; a CPU fallback is a warning in
// the log and in the record.
func placements(ctx context.Context, e *env, meta *results.Meta, card string) ([]string, []*ort.Placement, error) {
	rt, err := ort.Current()
	if err != nil {
		return nil, nil, nil // no model ran through ONNX Runtime
	}
	ps, err := rt.Placements(ctx)
	var notes, warns []string
	if err != nil {
		// The timings stand; only the placement is unknown.
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		e.log.Warn("onnx runtime placement unknown", "err", err)
		notes = append(notes, "ORT placement unknown: "+err.Error())
	}
	for _, pl := range ps {
		line := fmt.Sprintf("%s: %s", pl.Model, pl)
		notes = append(notes, "ORT placement "+line+floorNote(pl, card)+".")
		if meta.Device == nil {
			meta.Device = map[string]string{}
		}
		meta.Device["ort_placement "+pl.Model] = pl.String()
		if pl.Fallback() {
			warns = append(warns, line)
			e.log.Warn("onnx runtime ran part of a GPU model on the CPU", "model", pl.Model, "provider", pl.Provider, "placement", pl.String())
		}
	}
	if len(warns) > 0 {
		meta.Device["ort_warning"] = "CPU fallback: " + strings.Join(warns, "; ")
		notes = append(notes, fmt.Sprintf("WARNING: %d model(s) ran part of their work on the CPU (see above); splatbench models check --provider cuda lists the operators.", len(warns)))
	}
	return notes, ps, nil
}

// gpuName is the first CUDA device's name, "" without one.
func gpuName(e *env) string {
	infos, err := cuda.Discover(e.log)
	if err != nil || len(infos) == 0 {
		return ""
	}
	return infos[0].Name
}

// floorNote is "; one run at NVIDIA H200's datasheet peaks: FLOP floor 22.1
// ms, graph roofline 31.0 ms", or "" for a card whose peaks are unknown.
func floorNote(pl *ort.Placement, card string) string {
	r, ok := cuda.RatesOf(card)
	if !ok {
		return ""
	}
	c, roof := pl.Floor(r.FLOPs, r.Bandwidth)
	return fmt.Sprintf("; one run at %s's datasheet peaks: FLOP floor %.2f ms, graph roofline %.2f ms", card,
		c.Seconds()*1e3, roof.Seconds()*1e3)
}

// workNote says what model work one job did (each GPU model's profiled run
// times its runs a job) and, on a card whose peaks are known, how far the
// p50 (seconds) is from that work's floors.
func workNote(ps []*ort.Placement, jobs int, p50 float64, card string) string {
	rates, known := cuda.RatesOf(card)
	w := ort.WorkPerJob(ps, jobs, rates.FLOPs, rates.Bandwidth)
	if w.Models == 0 || w.Bytes == 0 {
		return ""
	}
	s := fmt.Sprintf("Model work a job (%d GPU model(s), from ORT's profile × runs a job): %.3g TFLOP, %.3g GB moved.",
		w.Models, w.FLOPs/1e12, w.Bytes/1e9)
	if !known || w.Compute <= 0 {
		return s
	}
	return s + fmt.Sprintf(" At %s's datasheet peaks (%.0f TFLOP/s, %.3g TB/s): FLOP floor %.1f ms, graph roofline %.1f ms "+
		"(each kernel at the slower of its FLOPs and its bytes); p50 is %.1f× the FLOP floor, %.1f× the roofline.",
		card, rates.FLOPs/1e12, rates.Bandwidth/1e12, w.Compute.Seconds()*1e3, w.Roofline.Seconds()*1e3,
		p50/w.Compute.Seconds(), p50/w.Roofline.Seconds())
}
