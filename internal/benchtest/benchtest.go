// Package benchtest times variants of one piece of work against a baseline
// in the same benchmark run, as the project's benchmarks report speed: each
// variant's time per run and the baseline's time over it.
package benchtest

import "testing"

// Case is one variant: its sub-benchmark name and one run of its work.
type Case struct {
	Name string
	Run  func() error
}

// Ratio times each case in a sub-benchmark of its name, reporting
// milliseconds per run (as unit) and the first case's time over this one's
// ("speedup"): the first case is the baseline.
func Ratio(b *testing.B, unit string, cases ...Case) {
	b.Helper()
	var base float64
	for _, c := range cases {
		b.Run(c.Name, func(b *testing.B) {
			for b.Loop() {
				if err := c.Run(); err != nil {
					b.Fatal(err)
				}
			}
			ms := float64(b.Elapsed().Microseconds()) / 1e3 / float64(b.N)
			if base == 0 {
				base = ms
			}
			b.ReportMetric(ms, unit)
			b.ReportMetric(base/ms, "speedup")
		})
	}
}
