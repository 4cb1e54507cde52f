package splat

import (
	"bytes"
	"io"
	"testing"
)

const benchGaussians = 50_000

func reportGaussians(b *testing.B, n int) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "gaussians/s")
}

func BenchmarkWritePLY(b *testing.B) {
	c := codecRandCloud(100, benchGaussians, 0)
	b.SetBytes(int64(len(mustWritePLY(b, c))))
	for b.Loop() {
		if err := WritePLY(io.Discard, c); err != nil {
			b.Fatal(err)
		}
	}
	reportGaussians(b, benchGaussians)
}

func BenchmarkReadPLY(b *testing.B) {
	data := mustWritePLY(b, codecRandCloud(100, benchGaussians, 0))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := ReadPLY(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	reportGaussians(b, benchGaussians)
}
