package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/spf13/pflag"

	"github.com/splatbench/splatbench/results"
)

// version is set at build time with -ldflags "-X main.version=v0.1.0".
var version = "dev"

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version, Go version and git commit",
		usage:   "splatbench version",
		long: `Prints splatbench's version, the Go toolchain that built it and the git commit
of the source (with "+dirty" when the tree had uncommitted changes).

Example:
  splatbench version`,
		flags: func(*pflag.FlagSet) {},
		run: func(_ context.Context, e *env, args []string) error {
			if len(args) > 0 {
				return usageErrorf("version takes no arguments")
			}
			fmt.Fprintf(e.stdout, "splatbench %s (%s, commit %s, %s/%s)\n", version, runtime.Version(), commit(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// commit returns the VCS revision the binary was built from.
func commit() string { return results.ReadBuild().Commit }
