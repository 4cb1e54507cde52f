package ort

import (
	"log/slog"
	"sync"
	"testing"
)

var (
	testOnce sync.Once
	testRT   *Runtime
	testErr  error
	testSkip string
)

// testRuntime loads the library the way the program finds it, and skips the
// test only when no library is installed (CI runs make setup first).
func testRuntime(t testing.TB) *Runtime {
	t.Helper()
	testOnce.Do(func() {
		path, _, err := FindLibrary("")
		if err != nil {
			testSkip = err.Error()
			return
		}
		testRT, testErr = Init(path, slog.New(slog.DiscardHandler))
	})
	if testSkip != "" {
		t.Skip("no ONNX Runtime library: " + testSkip)
	}
	if testErr != nil {
		t.Fatal(testErr)
	}
	return testRT
}
