package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/pipeline/score"
	"github.com/splatbench/splatbench/pipeline/splat"
)

type scoreOptions struct {
	profileOptions
	prompt string
}

func scoreCommand() *command {
	o := &scoreOptions{}
	return &command{
		name:    "score",
		summary: "score a PLY/SPZ the way the validator does (gates, renders, consistency)",
		usage:   "splatbench score FILE [--prompt TEXT]",
		long: `Checks the validator's validity gates, renders the validator's 16 views (its
normalisation, cameras and gsplat conventions) and computes the multi-view
consistency SSIM between consecutive views with its outlier filter and geometric
mean. With score.clip_model set it also scores the views against --prompt with
CLIP (the validator's alignment). The validator's quality model is not available:
that part is reported as not computed, never guessed.

Exit status: 0 scored, 1 a gate failed or the file is bad, 2 bad usage.

Examples:
  splatbench score model.ply
  splatbench score model.spz --prompt "a red cube"`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&o.prompt, "prompt", "", "the prompt the file was generated for (for CLIP alignment)")
			o.profileOptions.addFlags(fs)
		},
		run: func(ctx context.Context, e *env, args []string) error { return runScore(ctx, e, o, args) },
	}
}

func runScore(ctx context.Context, e *env, o *scoreOptions, args []string) error {
	if len(args) != 1 {
		return usageErrorf("score takes one PLY or SPZ file")
	}
	p, err := o.load(e.global)
	if err != nil {
		return err
	}
	if p.Score.ClipModel != "" && o.prompt == "" {
		return usageErrorf("score.clip_model is set: pass the prompt the file was made for with --prompt")
	}
	c, info, err := splat.ReadFile(args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "file:        %s (%s, %d Gaussians)\n", args[0], info.Format, c.Len())
	if err := printGate(e.stdout, args[0], c, info); err != nil {
		return err
	}
	splat.NormalizeForValidator(c)
	opt := splat.RenderOptions{Background: [3]float32{1, 1, 1}, Mode: splat.ModeGsplat, SHDegree: 0}
	ims, err := splat.RenderBatch(ctx, c, splat.ValidatorCameras(), opt)
	if err != nil {
		return err
	}
	views := make([][]float32, len(ims))
	for i, im := range ims {
		views[i] = score.Quantize8(im.RGB)
	}
	cons, err := score.ConsistencySSIM(ctx, views, ims[0].Width, ims[0].Height)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "consistency: SSIM %.4f over %d of %d view pairs (validator's outlier filter and geometric mean)\n", cons.SSIM, len(cons.Kept), len(cons.Pairs))
	if p.Score.ClipModel == "" {
		fmt.Fprintln(e.stdout, "alignment:   not computed (no score.clip_model configured)")
		fmt.Fprintln(e.stdout, "quality:     not computed (the validator's IQA model is not available)")
		fmt.Fprintln(e.stdout, "final score: not computed: it needs the models above")
		return nil
	}
	b := pipeline.NewBuilder(e.log, p.OrtLib)
	defer b.Close()
	clip, err := b.CLIP(ctx, p)
	if err != nil {
		return err
	}
	c, _, err = splat.ReadFile(args[0]) // unnormalised: the scorer normalises as the validator does
	if err != nil {
		return err
	}
	r, err := b.Renderer(p) // the profile's device renders the 16 views
	if err != nil {
		return err
	}
	res, err := clip.Score(ctx, c, o.prompt, r.Render)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "alignment:   %.4f (CLIP, %d views, the validator's outlier filter and geometric mean, /0.35)\n", res.Alignment, len(res.PerView))
	fmt.Fprintln(e.stdout, "quality:     not computed (the validator's IQA model is not available)")
	fmt.Fprintf(e.stdout, "score:       %.4f (%s: alignment only, 0 below the 0.3 gate); accept at %.2f: %v\n", res.Score, score.CLIPScoreName, p.Score.Threshold, res.Accept)
	return nil
}
