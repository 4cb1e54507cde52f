package main

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"io"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/results/atomicfile"
)

type renderOptions struct {
	preset string
	out    string
	views  int
	size   int
	cols   int
}

func renderCommand() *command {
	o := &renderOptions{}
	return &command{
		name:    "render",
		summary: "render a PLY/SPZ from several views into one contact-sheet PNG",
		usage:   "splatbench render FILE [--preset validator|orbit] -o grid.png",
		long: `Renders a Gaussian-splat file with the CPU rasteriser and tiles the views into one
PNG. The validator preset reproduces subnet 17's validation renders exactly: the
scene normalised as the validator does (largest extent 1.5, its centring quirk),
16 views at 518 px on an orbit of radius 2.5, fov 49.1°, elevation -15°, white
background, SH degree 0, gsplat conventions. The orbit preset renders --views
evenly spaced views at --size px in the classic 3DGS conventions, as they are.

Examples:
  splatbench render model.ply -o grid.png
  splatbench render model.spz --preset orbit --views 8 --size 256 -o orbit.png`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&o.preset, "preset", "validator", "camera preset: validator or orbit")
			fs.StringVarP(&o.out, "output", "o", "grid.png", "output PNG")
			fs.IntVar(&o.views, "views", 8, "orbit preset: number of views")
			fs.IntVar(&o.size, "size", 256, "orbit preset: image size in pixels")
			fs.IntVar(&o.cols, "cols", 4, "contact sheet columns")
		},
		run: func(ctx context.Context, e *env, args []string) error { return runRender(ctx, e, o, args) },
	}
}

func runRender(ctx context.Context, e *env, o *renderOptions, args []string) error {
	if len(args) != 1 {
		return usageErrorf("render takes one PLY or SPZ file")
	}
	if o.cols < 1 || o.views < 1 || o.size < 8 {
		return usageErrorf("--cols and --views must be >= 1, --size >= 8")
	}
	c, _, err := splat.ReadFile(args[0])
	if err != nil {
		return err
	}
	var sheet *image.NRGBA
	views := 16
	switch o.preset {
	case "validator":
		sheet, err = splat.ValidatorSheet(ctx, c, o.cols)
	case "orbit":
		views = o.views
		cams := splat.OrbitCameras(o.views, 2.5, -15, 49.1, o.size, o.size)
		sheet, err = splat.Sheet(ctx, c, cams, splat.RenderOptions{SHDegree: -1}, o.cols)
	default:
		return usageErrorf("unknown --preset %q (want validator or orbit)", o.preset)
	}
	if err != nil {
		return err
	}
	if err := writePNG(o.out, sheet); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d views of %d Gaussians (%s preset) -> %s\n", args[0], views, c.Len(), o.preset, o.out)
	return nil
}

func writePNG(path string, img image.Image) error {
	return atomicfile.WriteWith(path, 0o644, func(w io.Writer) error { return png.Encode(w, img) })
}
