package pod

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Device is one GPU as the start-up health check sees it.
type Device interface {
	// Index is the GPU's index on the host.
	Index() int
	// Name is the card's name.
	Name() string
	// MemInfo returns the free and total device memory in bytes.
	MemInfo() (free, total uint64, err error)
	// Bench runs a short fixed workload and returns its throughput
	// (HealthRule.Unit, higher is better).
	Bench(ctx context.Context) (float64, error)
}

// HealthRule says when a GPU is healthy. A GPU passes when its benchmark
// ran, its throughput is at least MinThroughput and at least PeerFraction
// of the host's median (a throttled or degraded card among good ones), and
// at least MinFreeFraction of its memory is free (another process holding
// memory); the host passes when every GPU passes and there are at least
// ExpectGPUs of them.
type HealthRule struct {
	Benchmark       string  // what Bench measures, for the payload
	Unit            string  // Bench's unit
	ExpectGPUs      int     // 0: any number, including none (a CPU pod)
	MinThroughput   float64 // absolute floor; 0: none
	PeerFraction    float64 // of the median; 0: no peer check
	MinFreeFraction float64 // of total memory; 0: no memory check
	Timeout         time.Duration
}

// DefaultHealthRule: half the median throughput, 85 % of memory free, 2
// minutes for the whole check.
func DefaultHealthRule() HealthRule {
	return HealthRule{PeerFraction: 0.5, MinFreeFraction: 0.85, Timeout: 2 * time.Minute}
}

// GPUHealth is one GPU's line of the health report.
type GPUHealth struct {
	ID         int     `json:"gpu_id"`
	Name       string  `json:"name,omitempty"`
	Throughput float64 `json:"throughput"`
	FreeGB     float64 `json:"free_vram_gb"`
	TotalGB    float64 `json:"total_vram_gb"`
	Passed     bool    `json:"passed"`
	Reason     string  `json:"reason,omitempty"`
}

// HealthReport is the start-up check's outcome; /status sends it as the
// payload of ready and of replace.
type HealthReport struct {
	Benchmark           string      `json:"benchmark"`
	Unit                string      `json:"unit,omitempty"`
	ThresholdThroughput float64     `json:"threshold_throughput"`
	MinFreeFraction     float64     `json:"min_free_fraction"`
	AllPassed           bool        `json:"all_passed"`
	GPUs                []GPUHealth `json:"gpus"`
	Reason              string      `json:"reason,omitempty"`
	Seconds             float64     `json:"seconds"`
}

// CheckHealth benchmarks every device at once (each is its own GPU) within
// rule.Timeout and judges them by rule. It never fails: a device whose
// memory query or benchmark fails is a GPU that did not pass.
func CheckHealth(ctx context.Context, devs []Device, rule HealthRule) *HealthReport {
	start := time.Now()
	if rule.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, rule.Timeout)
		defer cancel()
	}
	gpus := make([]GPUHealth, len(devs))
	errs := make([]error, len(devs))
	var wg sync.WaitGroup
	for i, d := range devs {
		wg.Go(func() {
			g := GPUHealth{ID: d.Index(), Name: d.Name()}
			free, total, err := d.MemInfo()
			if err == nil {
				g.FreeGB, g.TotalGB = float64(free)/1e9, float64(total)/1e9
				g.Throughput, err = d.Bench(ctx)
			}
			gpus[i], errs[i] = g, err
		})
	}
	wg.Wait()
	rep := rule.judge(gpus, errs)
	rep.Seconds = time.Since(start).Seconds()
	return rep
}

// judge applies the rule to measured GPUs; errs[i] is GPU i's failure.
func (rule HealthRule) judge(gpus []GPUHealth, errs []error) *HealthReport {
	rep := &HealthReport{Benchmark: rule.Benchmark, Unit: rule.Unit, MinFreeFraction: rule.MinFreeFraction, GPUs: gpus, AllPassed: true}
	var ok []float64
	for i, g := range gpus {
		if errs[i] == nil {
			ok = append(ok, g.Throughput)
		}
	}
	floor := rule.MinThroughput
	if len(ok) > 0 && rule.PeerFraction > 0 {
		slices.Sort(ok)
		med := ok[len(ok)/2]
		if len(ok)%2 == 0 {
			med = (ok[len(ok)/2-1] + ok[len(ok)/2]) / 2
		}
		floor = max(floor, rule.PeerFraction*med)
	}
	rep.ThresholdThroughput = floor
	for i := range gpus {
		g := &gpus[i]
		switch {
		case errs[i] != nil:
			g.Reason = clip(errs[i].Error(), 200)
		case g.Throughput < floor:
			g.Reason = fmt.Sprintf("throughput %.3g %s below %.3g", g.Throughput, rule.Unit, floor)
		case rule.MinFreeFraction > 0 && g.FreeGB < rule.MinFreeFraction*g.TotalGB:
			g.Reason = fmt.Sprintf("%.1f of %.1f GB free, below %.0f %%", g.FreeGB, g.TotalGB, 100*rule.MinFreeFraction)
		default:
			g.Passed = true
		}
		if !g.Passed {
			rep.AllPassed = false
		}
	}
	if len(gpus) < rule.ExpectGPUs {
		rep.AllPassed = false
		rep.Reason = fmt.Sprintf("%d GPU(s) found, %d expected", len(gpus), rule.ExpectGPUs)
	} else if !rep.AllPassed {
		rep.Reason = "a GPU failed the start-up check"
	}
	return rep
}
