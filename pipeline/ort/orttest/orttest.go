// Package orttest gives tests the process's ONNX Runtime, found the way the
// program finds it, and the models the set-up installs. Without them a
// test is skipped, unless RequireEnv is set (make test sets it, as the
// set-up installs both): then a missing library or model fails the test,
// so a broken set-up cannot pass as a run of skips.
package orttest

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort"
)

// RequireEnv, when non-empty, turns a missing ONNX Runtime library or
// set-up model into a test failure instead of a skip.
const RequireEnv = "SPLATBENCH_REQUIRE_ORT"

var (
	once sync.Once
	rt   *ort.Runtime
	err  error
	skip string
)

// Missing skips t because something the set-up installs is not there, or
// fails it when RequireEnv is set.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s (%s is set: make setup installs it)", msg, RequireEnv)
	}
	t.Skip(msg + " (run make setup)")
}

// Library returns the path of the ONNX Runtime library the program would
// load, or calls Missing.
func Library(t testing.TB) string {
	t.Helper()
	path, _, err := ort.FindLibrary("")
	if err != nil {
		Missing(t, "no ONNX Runtime library: %v", err)
	}
	return path
}

// Runtime returns the initialised runtime, or calls Missing without a
// library.
func Runtime(t testing.TB) *ort.Runtime {
	t.Helper()
	once.Do(func() {
		path, _, ferr := ort.FindLibrary("")
		if ferr != nil {
			skip = ferr.Error()
			return
		}
		rt, err = ort.Init(path, slog.New(slog.DiscardHandler))
	})
	if skip != "" {
		Missing(t, "no ONNX Runtime library: %s", skip)
	}
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// SetupModel returns the path of a model the set-up installs in the cache
// (name: "isnet-small.onnx", "isnet-medium.onnx"), or calls Missing.
func SetupModel(t testing.TB, name string) string {
	t.Helper()
	dir := ort.CacheDir()
	if dir == "" {
		Missing(t, "model %s: no cache directory", name)
	}
	p := filepath.Join(dir, "models", name)
	if _, err := os.Stat(p); err != nil {
		Missing(t, "model %s not installed: %v", name, err)
	}
	return p
}

// TestData returns path (a committed test model) if it exists, or calls
// Missing.
func TestData(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, "test model missing: %v", err)
	}
	return path
}
