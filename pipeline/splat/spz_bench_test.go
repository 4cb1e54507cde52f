package splat

import (
	"bytes"
	"io"
	"testing"
)

// SetBytes is the size of the PLY the SPZ stands for, so MB/s compares
// with the PLY benchmarks.
func BenchmarkWriteSPZ(b *testing.B) {
	c := codecRandCloud(100, benchGaussians, 0)
	for _, o := range []SPZOptions{{}, {Container: SPZGzip}} {
		b.Run(o.Container.String(), func(b *testing.B) {
			b.SetBytes(int64(len(mustWritePLY(b, c))))
			size := len(mustWriteSPZ(b, c, o))
			for b.Loop() {
				if err := WriteSPZ(io.Discard, c, o); err != nil {
					b.Fatal(err)
				}
			}
			reportGaussians(b, benchGaussians)
			b.ReportMetric(float64(size), "spz-bytes")
		})
	}
}

func BenchmarkReadSPZ(b *testing.B) {
	c := codecRandCloud(100, benchGaussians, 0)
	for _, o := range []SPZOptions{{}, {Container: SPZGzip}} {
		b.Run(o.Container.String(), func(b *testing.B) {
			data := mustWriteSPZ(b, c, o)
			b.SetBytes(int64(len(mustWritePLY(b, c))))
			for b.Loop() {
				if _, _, err := ReadSPZ(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
			reportGaussians(b, benchGaussians)
		})
	}
}
