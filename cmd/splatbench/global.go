package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	logFormat string
	logFile   string
	logLevel  string
	out       string
	ortLib    string
}

func (g *globalOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&g.out, "out", "runs", "directory that run directories are written under")
	fs.StringVar(&g.ortLib, "ort-lib", "", "path of libonnxruntime.so (default: $SPLATBENCH_ORT_LIB, then the set-up cache)")
	fs.StringVar(&g.logFormat, "log-format", "", "log format: text or json (default text on a terminal, json otherwise when --log-file is set)")
	fs.StringVar(&g.logFile, "log-file", "", "write logs to this file instead of standard error")
	fs.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

// logger builds the process's one logger; nothing else in the program
// constructs one.
func (g *globalOptions) logger(stderr io.Writer) (*slog.Logger, func(), error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, nil, fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", errUsage, g.logLevel)
	}
	w, closer := stderr, func() {}
	if g.logFile != "" {
		f, err := os.OpenFile(g.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("--log-file: %w", err)
		}
		w, closer = f, func() { f.Close() }
	}
	format := strings.ToLower(g.logFormat)
	if format == "" {
		format = "text"
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), closer, nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), closer, nil
	default:
		closer()
		return nil, nil, fmt.Errorf("%w: --log-format %q: want text or json", errUsage, g.logFormat)
	}
}
