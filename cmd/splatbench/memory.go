package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/models"
)

// deviceMemoryOf reads the free memory of the GPUs a profile uses (none on a
// CPU-only machine). Tests replace it: the far side is the CUDA driver.
var deviceMemoryOf = func(ctx context.Context, b *pipeline.Builder, p configs.Profile) ([]pipeline.DeviceMemory, error) {
	return b.DeviceMemory(ctx, p)
}

// checkWorkers refuses (exit 2) a --workers count that the profile's
// memory plan does not fit on the GPUs it selects. Without a GPU, when
// the generations go to the job queue (remote: workers on other hosts), or
// when the plan cannot be made (a model file missing: building the
// pipeline says so), it checks nothing and says so at debug level.
func checkWorkers(ctx context.Context, e *env, b *pipeline.Builder, p configs.Profile, workers int, remote bool) error {
	if remote {
		e.log.Debug("--workers not checked against GPU memory: generations go to the job queue")
		return nil
	}
	devs, err := deviceMemoryOf(ctx, b, p)
	if err != nil || len(devs) == 0 {
		e.log.Debug("--workers not checked against GPU memory: no GPU", "device", p.Device, "err", err)
		return nil
	}
	plan, err := b.MemoryPlan(p)
	if err != nil {
		e.log.Debug("--workers not checked against GPU memory: no memory plan", "err", err)
		return nil
	}
	if err := plan.Check(workers, devs); err != nil {
		return usageErrorf("--workers %d: %v", workers, err)
	}
	e.log.Debug("workers fit GPU memory", "workers", workers, "peak_gib", float64(plan.Peak(workers))/pipeline.GiB)
	return nil
}

// memoryPlanCheck is doctor's line for the profile's memory plan: on a
// GPU machine for this machine's GPUs, otherwise as the profile would run
// on a GPU machine; with what fits on a 141 GB H200 and a 24 GB card.
func memoryPlanCheck(ctx context.Context, b *pipeline.Builder, p configs.Profile) check {
	devs, _ := deviceMemoryOf(ctx, b, p)
	plan, err := pipeline.PlanMemory(p, models.ReadWeights)
	where := "as on a GPU machine"
	if len(devs) > 0 {
		plan, err = b.MemoryPlan(p)
		where = "on this machine"
	}
	if err != nil {
		return check{"gpu memory", statusWarn, "no plan: " + err.Error(), "fix the model paths (splatbench models check)"}
	}
	if !plan.OnGPU() {
		return check{"gpu memory", statusOK, fmt.Sprintf("profile %s needs no GPU memory %s (nothing runs on a GPU)", p.Name, where), ""}
	}
	var parts []string
	for _, st := range plan.Stages {
		if st.OnGPU && st.Weights+st.Working > 0 {
			parts = append(parts, fmt.Sprintf("%s %s + %s", st.Stage, pipeline.FormatGiB(st.Weights), pipeline.FormatGiB(st.Working)))
		}
	}
	detail := fmt.Sprintf("profile %s %s, weights + working (estimates, docs/gpu.md): %s; whole job %s; fits ",
		p.Name, where, strings.Join(parts, ", "), pipeline.FormatGiB(plan.Peak(1)))
	status, fix := statusOK, ""
	var fits []string
	for _, d := range devs {
		n := plan.Fits(d)
		fits = append(fits, fmt.Sprintf("%s workers on this GPU %d (%s free)", pipeline.FormatFits(n), d.Index, pipeline.FormatGiB(d.Free)))
		if n == 0 {
			status, fix = statusWarn, "the profile does not fit this GPU: smaller models or resolution, or a bigger card"
		}
	}
	for _, c := range pipeline.RefCards {
		fits = append(fits, fmt.Sprintf("%s on a %s (%s whole pipelines)", pipeline.FormatFits(plan.Fits(c)), c.Name, pipeline.FormatFits(plan.Processes(c))))
	}
	return check{"gpu memory", status, detail + strings.Join(fits, " / "), fix}
}
