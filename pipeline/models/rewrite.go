package models

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/splatbench/splatbench/pipeline/ort"
)

// A rewrite is one of tools/make_gpu_models.py's graph rewrites (--fuse-from:
// the graph copied, the weights linked) that measurably speeds a stage's
// model on the CUDA provider. A probe whose profile ran the operator it
// replaces says so, with the command.
type rewrite struct {
	stage string // the models registry's stage
	op    string // the exporter's operator the rewrite replaces
	flags string // make_gpu_models.py's flags
	part  string // the FLUX directory's part it rewrites
	gain  string // what it measured
}

var rewrites = []rewrite{
	{
		stage: "flux/transformer", op: "Softmax", part: "transformer.opt",
		flags: "--attention mha --gelu fast --rope fused --linears split --norms fused --skip-bias fused --layout bsnh",
		gain: "a full-depth step 1.59× faster at 512² and 1.95× at 1024² on an H100 by the first four, then 1.05× at 1024² by --norms, " +
			"1.07× at 512² and 1.04× at 1024² by --layout (4.3 GB more weights), 1.01× by --skip-bias",
	},
	{
		stage: "flux/vae-decoder", op: "InstanceNormalization", part: "vae.opt",
		flags: "--groupnorm fused",
		gain:  "the decode 1.45× faster on an H100",
	},
}

// rewriteHint is the advice for the model at path, found fitting stage,
// whose probe p ran on a GPU provider: "" when no rewrite applies. The
// command names the FLUX directory when path sits in one (DIR/flux/PART/).
func rewriteHint(stage, path string, p *ort.Placement) string {
	if p == nil || p.Provider == ort.CPU {
		return ""
	}
	for _, r := range rewrites {
		if r.stage != stage || p.OpTime[r.op] == 0 {
			continue
		}
		from := "DIR"
		if part := filepath.Dir(path); filepath.Base(part) == r.part && filepath.Base(filepath.Dir(part)) == "flux" {
			from = filepath.Dir(filepath.Dir(part))
		}
		return fmt.Sprintf("it runs the exported %s nodes, which python3 tools/make_gpu_models.py OUT %s --fuse-from %s rewrites as ONNX Runtime's fused operators "+
			"into OUT/flux/%s, to use with %s's other parts (%s; docs/perf/ort-gpu.md)",
			r.op, r.flags, from, r.part, from, r.gain)
	}
	return ""
}

// graphHint says whether the profile's cuda_graph can capture the FLUX
// transformer as probe p ran it on the CUDA provider. ONNX Runtime allows
// shape arithmetic on the CPU in a CUDA graph, but refuses one whose run
// copies tensors between the host and the GPU (Memcpy nodes: a CPU node
// that works on the GPU's data). "" for other stages and providers
// (cuda_graph covers the transformer alone).
func graphHint(stage string, p *ort.Placement) string {
	if p == nil || p.Provider != ort.CUDA || stage != "flux/transformer" {
		return ""
	}
	var copies []string
	for _, op := range []string{"MemcpyFromHost", "MemcpyToHost"} {
		if _, ok := p.OpTime[op]; ok {
			copies = append(copies, op)
		}
	}
	if len(copies) > 0 {
		return fmt.Sprintf("cuda_graph cannot capture it: ONNX Runtime refuses a CUDA graph whose run copies between the host and the GPU (%s)", strings.Join(copies, ", "))
	}
	return "its run copies nothing between the host and the GPU, so cuda_graph can capture it (a step 1.08× faster at 512² on an H200)"
}
