package splat

import (
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/splatbench/splatbench/internal/benchtest"
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

// BenchmarkSPZPack packs a picture job's cloud (20 000 Gaussians, degree 0)
// on one goroutine, the baseline, and on as many as WriteSPZ uses.
func BenchmarkSPZPack(b *testing.B) {
	c := codecRandCloud(100, 20_000, 0)
	o := SPZOptions{Version: 3, FractionalBits: 12}
	benchtest.Ratio(b, "ms/op",
		benchtest.Case{Name: "one", Run: func() error { spzPack(c, o, 1); return nil }},
		benchtest.Case{Name: "all", Run: func() error {
			spzPack(c, o, spzPackWorkers(c.Len()))
			return nil
		}},
	)
}

// BenchmarkSPZEncoder compresses a picture job's packed cloud (20 000
// Gaussians) with an encoder made for the call, the baseline, and with the
// shared one.
func BenchmarkSPZEncoder(b *testing.B) {
	payload := bytes.Join(spzPack(codecRandCloud(100, 20_000, 0), SPZOptions{Version: 3, FractionalBits: 12}, 1), nil)
	benchtest.Ratio(b, "ms/op",
		benchtest.Case{Name: "new", Run: func() error {
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
			if err != nil {
				return err
			}
			enc.EncodeAll(payload, nil)
			return enc.Close()
		}},
		benchtest.Case{Name: "shared", Run: func() error {
			enc, err := spzEncoder(1)
			if err != nil {
				return err
			}
			enc.EncodeAll(payload, nil)
			return nil
		}},
	)
}
