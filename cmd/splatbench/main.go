// Command splatbench benchmarks, tunes and runs a text-to-3D Gaussian-splat
// pipeline for miners on Bittensor subnet 17 (404-GEN).
//
// This package is the only place that reads flags, environment variables and
// signals, builds loggers and calls os.Exit; the work lives in the packages
// it wires together.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
