package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/pipeline/splat"
)

var errGateFailed = errors.New("gate check failed")

type plyOptions struct{ format string }

func plyCommand() *command {
	o := &plyOptions{}
	return &command{
		name:    "ply",
		summary: "inspect, check and convert PLY/SPZ Gaussian-splat files",
		usage:   "splatbench ply info|check|convert FILE [OUT]",
		long: `info     counts, SH degree, bounds, opacity and scale statistics, gate verdict
check    the validator's validity gates and the SPZ encoder's PLY gate; exit 1 on a fail
convert  PLY <-> SPZ; the output format comes from OUT's extension or --format
         (ply, spz = the subnet's zstd fork, spz-gzip = Niantic's legacy container)

Files are recognised by content, not by extension.

Examples:
  splatbench ply info model.ply
  splatbench ply check model.ply
  splatbench ply convert model.ply model.spz`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&o.format, "format", "", "convert: output format (ply, spz, spz-gzip); default from OUT's extension")
		},
		run: func(ctx context.Context, e *env, args []string) error { return runPLY(ctx, e, o, args) },
	}
}

func runPLY(_ context.Context, e *env, o *plyOptions, args []string) error {
	if len(args) < 2 {
		return usageErrorf("ply needs a verb and a file: info|check FILE, convert IN OUT")
	}
	verb, path := args[0], args[1]
	switch verb {
	case "info", "check":
		if len(args) != 2 {
			return usageErrorf("ply %s takes one file", verb)
		}
	case "convert":
		if len(args) != 3 {
			return usageErrorf("ply convert takes IN and OUT")
		}
	default:
		return usageErrorf("unknown ply verb %q (want info, check or convert)", verb)
	}
	c, info, err := splat.ReadFile(path)
	if err != nil {
		return err
	}
	switch verb {
	case "info":
		printCloudInfo(e.stdout, path, c, info)
		return nil
	case "check":
		return printGate(e.stdout, path, c, info)
	}
	out := args[2]
	f := splat.Format(o.format)
	if f == "" {
		if f, err = splat.FormatFromPath(out); err != nil {
			return usageErrorf("%v; or pass --format", err)
		}
	}
	if err := splat.WriteFile(out, c, f); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s (%s, %d Gaussians) -> %s (%s)\n", path, info.Format, c.Len(), out, f)
	return nil
}

func printCloudInfo(w io.Writer, path string, c *splat.Cloud, info splat.FileInfo) {
	fmt.Fprintf(w, "file:       %s\nformat:     %s\n", path, info.Format)
	if info.PLY != nil {
		fmt.Fprintf(w, "encoding:   %s, %d properties, normals %v\n", info.PLY.Format, len(info.PLY.Properties), info.PLY.HasNormals)
		if note := info.PLY.Note(); note != "" {
			fmt.Fprintf(w, "note:       %s\n", note)
		}
	}
	if info.SPZ != nil {
		fmt.Fprintf(w, "encoding:   %s v%d, %d fractional bits, antialiased %v\n", info.SPZ.Container, info.SPZ.Version, info.SPZ.FractionalBits, info.SPZ.Antialiased)
	}
	n := c.Len()
	fmt.Fprintf(w, "gaussians:  %d\nsh degree:  %d\n", n, c.SHDegree)
	if n == 0 {
		return
	}
	lo := [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi := [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	for i := range n {
		for a := range 3 {
			v := float64(c.Pos[3*i+a])
			lo[a], hi[a] = min(lo[a], v), max(hi[a], v)
		}
	}
	fmt.Fprintf(w, "bounds:     x [%.4g, %.4g]  y [%.4g, %.4g]  z [%.4g, %.4g]\n", lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
	var opSum, scSum float64
	for i := range n {
		opSum += float64(c.Opacity(i))
		s := c.Scale(i)
		scSum += float64(max(s[0], s[1], s[2]))
	}
	fmt.Fprintf(w, "opacity:    mean %.3f\nscale:      mean largest axis %.4g\n", opSum/float64(n), scSum/float64(n))
	g := splat.CheckGate(c)
	fmt.Fprintf(w, "gate:       %s\n", verdict(g))
}

func verdict(g splat.GateReport) string {
	if g.OK {
		return "pass"
	}
	return fmt.Sprintf("FAIL (%d reasons)", len(g.Reasons))
}

func printGate(w io.Writer, path string, c *splat.Cloud, info splat.FileInfo) error {
	g := splat.CheckGate(c)
	fmt.Fprintf(w, "%s: validator gates: %s\n", path, verdict(g))
	for _, r := range g.Reasons {
		fmt.Fprintf(w, "  fail: %s\n", r)
	}
	for _, r := range g.Warnings {
		fmt.Fprintf(w, "  warn: %s\n", r)
	}
	if !g.OK {
		return fmt.Errorf("%s: %w", path, errGateFailed)
	}
	return nil
}
