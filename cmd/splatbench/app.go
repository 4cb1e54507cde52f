package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// Exit codes, mapped from errors in exitCode.
const (
	exitOK       = 0
	exitFailure  = 1   // the work failed (bad model, bad file, run error)
	exitUsage    = 2   // bad command line or configuration; a command not built yet
	exitCanceled = 130 // interrupted (Ctrl-C); finished work was written
)

var (
	// errUsage marks command-line mistakes.
	errUsage = errors.New("usage")
	// errNotBuilt marks subcommands whose capability has not landed yet.
	errNotBuilt = errors.New("not built yet")
)

// usageErrorf returns an error that exits with exitUsage.
func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// command is one subcommand: its help text, flags and run function.
type command struct {
	name    string
	summary string
	usage   string // "splatbench bench [flags]"
	long    string // what it does, exit status, examples
	flags   func(fs *pflag.FlagSet)
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: its output streams, logger and the
// global options.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	global         *globalOptions
	args           []string // the full command line, for run metadata
}

func commands() map[string]*command {
	cmds := map[string]*command{}
	for _, c := range []*command{
		benchCommand(), tuneCommand(), mineCommand(), serveCommand(), validatorCommand(),
		renderCommand(), viewCommand(), scoreCommand(), plyCommand(), modelsCommand(), doctorCommand(),
		versionCommand(), orchestrateCommand(), workerCommand(), workersCommand(), threejsCommand(),
	} {
		cmds[c.name] = c
	}
	return cmds
}

// run is main without os.Exit, so tests can drive the command in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			if c, ok := cmds[args[1]]; ok {
				printHelp(stdout, c)
				return exitOK
			}
		}
		printUsage(stdout, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "splatbench: unknown command %q (see splatbench help)\n", args[0])
		return exitUsage
	}
	g := &globalOptions{}
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	if c.flags != nil {
		c.flags(fs)
	}
	g.addFlags(fs)
	help := fs.BoolP("help", "h", false, "show help for this command")
	if err := fs.Parse(args[1:]); err != nil {
		fmt.Fprintf(stderr, "splatbench %s: %v (see splatbench %s --help)\n", c.name, err, c.name)
		return exitUsage
	}
	if *help {
		printHelp(stdout, c)
		return exitOK
	}
	log, closeLog, err := g.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "splatbench: %v\n", err)
		return exitUsage
	}
	defer closeLog()
	e := &env{stdout: stdout, stderr: stderr, log: log, global: g, args: append([]string{"splatbench"}, args...)}
	err = c.run(ctx, e, fs.Args())
	code := exitCode(ctx, err)
	if err != nil {
		msg := err.Error()
		if code == exitCanceled {
			msg = "interrupted; finished work was written"
		}
		fmt.Fprintf(stderr, "splatbench %s: %s\n", c.name, strings.TrimPrefix(msg, "usage: "))
	}
	return code
}

// exitCode is the one place errors become exit codes.
func exitCode(ctx context.Context, err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled) || (ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled)):
		return exitCanceled
	case errors.Is(err, errUsage), errors.Is(err, errNotBuilt), isConfigError(err):
		return exitUsage
	default:
		return exitFailure
	}
}

func printUsage(w io.Writer, cmds map[string]*command) {
	fmt.Fprint(w, `splatbench — benchmark, tune and mine a text-to-3D Gaussian-splat pipeline
for Bittensor subnet 17 (404-GEN).

Usage: splatbench <command> [flags] [args]

Commands:
`)
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprint(w, `
Run 'splatbench <command> --help' for a command's flags and examples.
`)
}

func printHelp(w io.Writer, c *command) {
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SortFlags = false
	if c.flags != nil {
		c.flags(fs)
	}
	g := &globalOptions{}
	g.addFlags(fs)
	fmt.Fprintf(w, "%s\n\nUsage: %s\n\n%s\n\nFlags:\n%s", c.summary, c.usage, strings.TrimSpace(c.long), fs.FlagUsages())
}

// isTerminal reports whether w is a terminal (for progress bars and log format).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
