package models

import (
	"context"
	"fmt"
	"slices"

	"github.com/splatbench/splatbench/pipeline/ort"
)

// probeDims are the sizes a probe run gives the dimensions a stage leaves
// dynamic, by stage and tensor (batch is 1 everywhere): FLUX at 512²
// (1024 image tokens, a 64² latent), CLIP at 224 px and 77 tokens.
var probeDims = map[string]map[string][]int64{
	"flux/transformer": {"hidden_states": {1, 1024, 64}, "img_ids": {1024, 3}},
	"flux/vae-decoder": {"latent": {1, 16, 64, 64}},
	"clip/image":       {"pixel_values": {1, 3, 224, 224}},
	"clip/text":        {"input_ids": {1, 77}},
	"clip/text-masked": {"input_ids": {1, 77}, "attention_mask": {1, 77}},
	"clip/joint":       {"input_ids": {1, 77}, "attention_mask": {1, 77}, "pixel_values": {1, 3, 224, 224}},
}

// ProbeShapes gives every input of the model concrete sizes for a probe
// run as stage: the model's own where it fixes them, else probeDims, else 1.
func ProbeShapes(sig *ort.Signature, stage string) []ort.Tensor {
	in := make([]ort.Tensor, len(sig.Inputs))
	for i, t := range sig.Inputs {
		shape := slices.Clone(t.Shape)
		def := probeDims[stage][t.Name]
		for d, v := range shape {
			switch {
			case v >= 0:
			case d < len(def) && len(def) == len(shape):
				shape[d] = def[d]
			default:
				shape[d] = 1
			}
		}
		in[i] = ort.T(t.Name, t.DType, shape...)
	}
	return in
}

// Probe checks the model at path (CheckFile) and, when it fits a stage, runs
// it once on provider with ORT's profiler to find which nodes the provider
// did not take. The Finding is CheckFile's, with the placement appended to
// its message and Warn when the CPU ran real work (ort.Placement.Fallback)
// or the provider could not run the model at all.
func Probe(ctx context.Context, rt *ort.Runtime, path, provider string) (Finding, *ort.Placement, error) {
	f, err := CheckFile(ctx, rt, path)
	if err != nil || f.Status == Fail {
		return f, nil, err
	}
	sig, err := rt.Inspect(path)
	if err != nil {
		return f, nil, err
	}
	var outs []string
	for _, o := range sig.Outputs {
		outs = append(outs, o.Name)
	}
	provider = ort.NormalizeProvider(provider)
	p, err := rt.Probe(ctx, path, ProbeShapes(sig, f.Stage), outs, provider)
	if err != nil {
		if ctx.Err() != nil {
			return f, nil, ctx.Err()
		}
		f.Status = Warn
		f.Message += fmt.Sprintf("; %s probe failed: %v", provider, err)
		return f, nil, nil
	}
	f.Message += fmt.Sprintf("; on %s: %s", provider, p)
	if p.Fallback() {
		f.Status = Warn
		f.Message += fmt.Sprintf("; %s lacks kernels for what ran on the CPU", provider)
	}
	for _, h := range []string{rewriteHint(f.Stage, path, p), graphHint(f.Stage, p)} {
		if h != "" {
			f.Message += "; " + h
		}
	}
	return f, p, nil
}
