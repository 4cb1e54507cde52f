package ort

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/splatbench/splatbench/internal/benchtest"
)

// TestConvertChunked: encode and decode, which split a large tensor over
// goroutines, give every type the bytes and values of one serial pass.
func TestConvertChunked(t *testing.T) {
	const n = 3*convertChunk + 123
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(r.NormFloat64() * 300)
	}
	src[5], src[n-1] = float32(math.NaN()), float32(math.Inf(-1))
	for _, d := range dtypeNames {
		want := make([]byte, n*d.size)
		encodeSerial(d.d, want, src)
		got := make([]byte, n*d.size)
		encode(d.d, got, src)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encode differs from one serial pass", d.name)
		}
		back := decode(d.d, got)
		ref := make([]float32, n)
		decodeSerial(d.d, ref, want)
		if len(back) != n {
			t.Fatalf("%s: decode gave %d values, want %d", d.name, len(back), n)
		}
		for i := range ref {
			if math.Float32bits(back[i]) != math.Float32bits(ref[i]) {
				t.Errorf("%s: decode's value %d is %v, one serial pass %v", d.name, i, back[i], ref[i])
				break
			}
		}
	}
}

// BenchmarkConvertChunked: the float16 conversions of one FLUX step's
// inputs at 1024² with a 512-token T5 context (the 4096×64 latent and the
// 512×4096 context) and of the VAE's 3×1024² picture, serial (the baseline,
// in the same run; decode allocating its result as decode does) and split
// over goroutines.
func BenchmarkConvertChunked(b *testing.B) {
	for _, c := range []struct {
		name string
		n    int
	}{{"step-inputs", 4096*64 + 512*4096}, {"vae-picture", 3 * 1024 * 1024}} {
		src := make([]float32, c.n)
		for i := range src {
			src[i] = float32(i%1000) / 1000
		}
		buf := make([]byte, 2*c.n)
		b.Run("encode/"+c.name, func(b *testing.B) {
			benchtest.Ratio(b, "ms/op",
				benchtest.Case{Name: "serial", Run: func() error { encodeSerial(Float16, buf, src); return nil }},
				benchtest.Case{Name: "chunked", Run: func() error { encode(Float16, buf, src); return nil }})
		})
		b.Run("decode/"+c.name, func(b *testing.B) {
			benchtest.Ratio(b, "ms/op",
				benchtest.Case{Name: "serial", Run: func() error { decodeSerial(Float16, make([]float32, c.n), buf); return nil }},
				benchtest.Case{Name: "chunked", Run: func() error { decode(Float16, buf); return nil }})
		})
	}
}
