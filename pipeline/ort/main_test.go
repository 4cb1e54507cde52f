package ort

import (
	"log/slog"
	"os"
	"sync"
	"testing"
)

var (
	testOnce sync.Once
	testRT   *Runtime
	testErr  error
	testSkip string
)

// requireEnv is orttest.RequireEnv (which this package's own tests cannot
// import): when set (make test sets it), a missing library fails the test.
const requireEnv = "SPLATBENCH_REQUIRE_ORT"

// missing skips t, or fails it when requireEnv is set.
func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(requireEnv) != "" {
		t.Fatalf("%s (%s is set: make setup installs it)", msg, requireEnv)
	}
	t.Skip(msg + " (run make setup)")
}

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
		missing(t, "no ONNX Runtime library: "+testSkip)
	}
	if testErr != nil {
		t.Fatal(testErr)
	}
	return testRT
}
