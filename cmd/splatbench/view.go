package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/results/viewer"
)

func viewCommand() *command {
	var listen string
	return &command{
		name:    "view",
		summary: "show a PLY/SPZ in the interactive 3D viewer (serves it on loopback)",
		usage:   "splatbench view FILE.ply|FILE.spz [--listen 127.0.0.1:0]",
		long: `Serves FILE and the 3D viewer (the one of serve's web page and the tune report)
on a loopback address and prints the URL to open; Ctrl-C stops it. The viewer's
files come from the set-up (make setup).

Examples:
  splatbench view model.ply
  splatbench view model.spz --listen 127.0.0.1:8094`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&listen, "listen", "127.0.0.1:0", "loopback address to serve on (port 0: any free one)")
		},
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) != 1 {
				return usageErrorf("view takes one PLY or SPZ file")
			}
			name := args[0]
			if _, err := viewer.Type(name); err != nil {
				return usageErrorf("%v", err)
			}
			data, err := os.ReadFile(name)
			if err != nil {
				return err
			}
			c, _, err := splat.ReadFile(name)
			if err != nil {
				return err
			}
			assets, err := viewer.Load(ort.CacheDir())
			if err != nil {
				return err
			}
			h, err := viewer.FileHandler(assets, name, data)
			if err != nil {
				return err
			}
			ln, err := viewer.ListenLoopback(ctx, listen)
			if err != nil {
				return usageErrorf("%v", err)
			}
			fmt.Fprintf(e.stdout, "%s (%d Gaussians): open http://%s/  (Ctrl-C stops)\n", name, c.Len(), ln.Addr())
			return viewer.Serve(ctx, ln, h)
		},
	}
}
