package benchtest

import (
	"testing"
	"time"
)

// BenchmarkRatio shows the reports: the case doing twice the baseline's
// work reports a speedup near 0.5.
func BenchmarkRatio(b *testing.B) {
	Ratio(b, "ms/op",
		Case{"once", func() error { time.Sleep(time.Millisecond); return nil }},
		Case{"twice", func() error { time.Sleep(2 * time.Millisecond); return nil }},
	)
}
