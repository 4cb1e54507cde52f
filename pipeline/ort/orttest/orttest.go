// Package orttest gives tests the process's ONNX Runtime, found the way the
// program finds it; a test is skipped only when no library is installed
// (CI runs make setup first, so there they run).
package orttest

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort"
)

var (
	once sync.Once
	rt   *ort.Runtime
	err  error
	skip string
)

// Runtime returns the initialised runtime, skipping t without a library.
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
		t.Skip("no ONNX Runtime library: " + skip)
	}
	if err != nil {
		t.Fatal(err)
	}
	return rt
}
