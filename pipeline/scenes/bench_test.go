package scenes

import "testing"

func BenchmarkBuild(b *testing.B) {
	s, err := Get("snowman")
	if err != nil {
		b.Fatal(err)
	}
	const n = DefaultCount
	for b.Loop() {
		s.Build(1, n)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "gaussians/s")
}
