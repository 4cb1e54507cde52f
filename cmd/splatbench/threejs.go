package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/imagefile"
	"github.com/splatbench/splatbench/pipeline/matte"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/threejs/generate"
	"github.com/splatbench/splatbench/pipeline/threejs/render"
	"github.com/splatbench/splatbench/pipeline/threejs/validate"
	"github.com/splatbench/splatbench/results/atomicfile"
)

type threejsOptions struct {
	out       string
	noEnv     bool
	jsonOut   bool
	matte     string
	parts     int
	texture   bool
	fitIters  int
	profilePt int
}

func threejsCommand() *command {
	o := &threejsOptions{}
	d := generate.DefaultOptions()
	return &command{
		name:    "threejs",
		summary: "check, render or generate subnet-17 Three.js modules",
		usage:   "splatbench threejs check|render FILE.js | generate IMAGE",
		long: `check     the subnet's validator, locally: static rules, execution (5 s, 256 MB),
          post-run checks; each failure with its stage and rule code; exit 1 on a fail
render    the judge's canonical 1024² render (three@0.183.2 in headless Chromium) as PNG
generate  one picture -> a module (matte, parts, colour fit in the judge's camera),
          checked by the validator

Examples:
  splatbench threejs check model.js
  splatbench threejs render model.js -o model.png
  splatbench threejs generate prompt.png -o model.js`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVarP(&o.out, "output", "o", "", "render: PNG path (default FILE.png); generate: module path (default IMAGE.js)")
			fs.BoolVar(&o.noEnv, "no-env", false, "render without the stand-in studio environment map")
			fs.BoolVar(&o.jsonOut, "json", false, "check: print the report as JSON")
			fs.StringVar(&o.matte, "matte", "isnet-small", "generate: matting model for opaque pictures")
			fs.IntVar(&o.parts, "parts", d.Parts, "generate: most parts (draw calls)")
			fs.BoolVar(&o.texture, "texture", d.Texture, "generate: gradient DataTextures on revolved parts")
			fs.IntVar(&o.fitIters, "fit-iters", d.FitIters, "generate: colour-fit renders")
			fs.IntVar(&o.profilePt, "profile-points", d.ProfilePoints, "generate: most points per lathe profile")
		},
		run: func(ctx context.Context, e *env, args []string) error { return runThreejs(ctx, e, o, args) },
	}
}

func runThreejs(ctx context.Context, e *env, o *threejsOptions, args []string) error {
	if len(args) != 2 {
		return usageErrorf("threejs needs a verb and a file: check|render FILE.js, generate IMAGE")
	}
	verb, path := args[0], args[1]
	if verb != "check" && verb != "render" && verb != "generate" {
		return usageErrorf("unknown threejs verb %q (want check, render or generate)", verb)
	}
	assets, err := validate.FindAssets()
	if err != nil {
		return err
	}
	v, err := validate.New(assets, validate.Spec())
	if err != nil {
		return err
	}
	defer v.Close()
	switch verb {
	case "check":
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		r, err := v.Check(ctx, src)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if o.jsonOut {
			b, _ := json.MarshalIndent(r, "", "  ")
			fmt.Fprintln(e.stdout, string(b))
		} else {
			printThreejsReport(e, path, r)
		}
		if !r.OK() {
			return fmt.Errorf("%s: %w", path, errGateFailed)
		}
		return nil
	case "render":
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		r, err := v.Check(ctx, src)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if !r.OK() {
			printThreejsReport(e, path, r)
			return fmt.Errorf("%s: %w", path, r.Err())
		}
		rd, err := render.New(ctx, assets, render.Options{NoEnv: o.noEnv, Log: e.log})
		if err != nil {
			return err
		}
		defer rd.Close()
		res, err := rd.Render(ctx, src)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		out := o.out
		if out == "" {
			out = strings.TrimSuffix(path, ".js") + ".png"
		}
		if err := atomicfile.WriteFile(out, res.PNG, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: rendered in %v (generate %.0f ms) -> %s\n", path, res.Wall.Round(1e6), res.GenerateMs, out)
		return nil
	}
	img, err := imagefile.DecodeFile(path, imagefile.Limits{})
	if err != nil {
		return err
	}
	opt := generate.DefaultOptions()
	opt.Parts, opt.Texture, opt.FitIters, opt.ProfilePoints = o.parts, o.texture, o.fitIters, o.profilePt
	opt.Valid = v
	lib, _, err := ort.FindLibrary("")
	if err == nil {
		rt, err := ort.Init(lib, e.log)
		if err != nil {
			return err
		}
		m, err := matte.New(ctx, rt, matte.Options{Model: o.matte}, e.log)
		if err != nil {
			return err
		}
		defer m.Close()
		d := configs.DefaultProfile().Matte
		opt.Matter = matte.KeyedMatte{Matte: m, Tolerance: d.KeyTolerance, Fill: d.KeyFill}
	}
	if opt.FitIters > 0 {
		rd, err := render.New(ctx, assets, render.Options{NoEnv: o.noEnv, Log: e.log})
		if err != nil {
			return err
		}
		defer rd.Close()
		opt.Renderer = rd
	}
	mod, info, err := generate.Generate(ctx, img, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	out := o.out
	if out == "" {
		out = strings.TrimSuffix(path, ".png") + ".js"
	}
	if err := atomicfile.WriteFile(out, mod, 0o644); err != nil {
		return err
	}
	if info.Render != nil {
		shot := strings.TrimSuffix(out, ".js") + ".render.png"
		if err := atomicfile.WriteWith(shot, 0o644, func(w io.Writer) error { return png.Encode(w, info.Render) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "%s: %s, %d parts, %d bytes (%d literal), %v -> %s\n", path, info.Mode, info.Parts, info.Bytes, info.LiteralBytes, info.Elapsed.Round(1e6), out)
	return nil
}

func printThreejsReport(e *env, path string, r validate.Report) {
	if r.OK() {
		m := r.Metrics
		fmt.Fprintf(e.stdout, "%s: ok  %d bytes, %d literal bytes; %d vertices, %d draw calls, depth %d, %d instances, %d texture bytes; generate %.0f ms\n",
			path, r.SourceBytes, r.LiteralBytes, m.Vertices, m.DrawCalls, m.Depth, m.Instances, m.TextureBytes, r.GenerateMs)
		return
	}
	for _, f := range r.Failures {
		fmt.Fprintf(e.stdout, "%s: FAIL %s %s: %s\n", path, f.Stage, f.Rule, f.Detail)
	}
}
