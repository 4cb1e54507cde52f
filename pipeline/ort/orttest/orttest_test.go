package orttest

import (
	"testing"
)

// outcome records how a test ended, in place of a real testing.T.
type outcome struct {
	testing.TB
	failed, skipped bool
}

type stop struct{}

func (o *outcome) Helper()                {}
func (o *outcome) Fatalf(string, ...any)  { o.failed = true; panic(stop{}) }
func (o *outcome) Skip(...any)            { o.skipped = true; panic(stop{}) }
func (o *outcome) Skipf(string, ...any)   { o.skipped = true; panic(stop{}) }
func (o *outcome) run(f func(testing.TB)) { defer func() { _ = recover() }(); f(o) }

// TestMissing: a missing library or model skips, and fails when
// RequireEnv is set (make test sets it).
func TestMissing(t *testing.T) {
	tests := []struct {
		name, env   string
		call        func(testing.TB)
		fail, skips bool
	}{
		{"skip", "", func(tb testing.TB) { Missing(tb, "no %s", "library") }, false, true},
		{"required", "1", func(tb testing.TB) { Missing(tb, "no %s", "library") }, true, false},
		{"model skip", "", func(tb testing.TB) { SetupModel(tb, "no-such-model.onnx") }, false, true},
		{"model required", "1", func(tb testing.TB) { SetupModel(tb, "no-such-model.onnx") }, true, false},
		{"test data required", "1", func(tb testing.TB) { TestData(tb, "testdata/none.onnx") }, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(RequireEnv, tc.env)
			o := &outcome{TB: t}
			o.run(tc.call)
			if o.failed != tc.fail || o.skipped != tc.skips {
				t.Errorf("failed %v, skipped %v; want %v, %v", o.failed, o.skipped, tc.fail, tc.skips)
			}
		})
	}
}
