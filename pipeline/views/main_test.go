package views

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort"
)

var (
	rtOnce sync.Once
	rt     *ort.Runtime
	rtErr  error
	rtSkip string
)

// testRuntime loads ONNX Runtime as the program finds it; the test is
// skipped only when no library is installed (CI runs make setup first).
func testRuntime(t testing.TB) *ort.Runtime {
	t.Helper()
	rtOnce.Do(func() {
		path, _, err := ort.FindLibrary("")
		if err != nil {
			rtSkip = err.Error()
			return
		}
		rt, rtErr = ort.Init(path, slog.New(slog.DiscardHandler))
	})
	if rtSkip != "" {
		t.Skip("no ONNX Runtime library: " + rtSkip)
	}
	if rtErr != nil {
		t.Fatal(rtErr)
	}
	return rt
}
