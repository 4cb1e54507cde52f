package ort

import (
	"math"
	"testing"
)

func float32Inf() float32 { return float32(math.Inf(1)) }

// TestFloat16RoundTrip checks every binary16 value: widening is exact and
// narrowing gives the bits back.
func TestFloat16RoundTrip(t *testing.T) {
	t.Parallel()
	for h := range 1 << 16 {
		f := Float16Value(uint16(h))
		got := Float16Bits(f)
		if f != f { // NaN
			if got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Errorf("NaN %#04x came back as %#04x", h, got)
			}
			continue
		}
		if got != uint16(h) {
			t.Errorf("%#04x -> %v -> %#04x", h, f, got)
		}
	}
}

// TestFillReadHalves: a float16 or bfloat16 tensor filled from float32
// holds Float16Bits/BFloat16Bits of every value (fill inlines the normal
// range), and read gives back the exact widening, across every range:
// zero, subnormal halves, ties, the largest finite, overflow, Inf, NaN.
func TestFillReadHalves(t *testing.T) {
	testRuntime(t)
	src := []float32{0, float32(math.Copysign(0, -1)), 1e-8, 3e-8, 6.1e-5, 6.104e-5, 0.1, -0.1, 1, 1.00048828125,
		1.000732421875, 65504, 65519, 65520, -65536, 1e9, float32Inf(), -float32Inf(), float32(math.NaN()), 3.14159}
	for _, dt := range []DType{Float16, BFloat16} {
		v, err := newValue(dt, []int64{int64(len(src))})
		if err != nil {
			t.Fatal(err)
		}
		fill(v, src)
		got, err := read(v)
		v.Destroy()
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range src {
			want := Float16Value(Float16Bits(x))
			if dt == BFloat16 {
				want = BFloat16Value(BFloat16Bits(x))
			}
			if math.Float32bits(got[i]) != math.Float32bits(want) && !(got[i] != got[i] && want != want) {
				t.Errorf("%s: %g came back as %g, want %g", dt, x, got[i], want)
			}
		}
	}
}

func TestFloat16Rounding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3c00},
		{1 + 1.0/2048, 0x3c00},             // tie, to even (down)
		{1 + 3.0/2048, 0x3c02},             // tie, to even (up)
		{1 + 1.0/2048 + 1.0/65536, 0x3c01}, // above the tie
		{65504, 0x7bff},
		{65520, 0x7c00}, // rounds up to Inf
		{-1e9, 0xfc00},
		{float32(math.Ldexp(1, -24)), 0x0001},
		{float32(math.Ldexp(1, -25)), 0x0000},      // tie, to even (zero)
		{float32(math.Ldexp(1.5, -25)), 0x0001},    // above the tie
		{float32(math.Ldexp(1023, -24)), 0x03ff},   // largest subnormal
		{float32(math.Ldexp(1023.5, -24)), 0x0400}, // rounds into the normals
		{float32(math.Copysign(0, -1)), 0x8000},
	}
	for _, tt := range tests {
		if got := Float16Bits(tt.in); got != tt.want {
			t.Errorf("Float16Bits(%g) = %#04x, want %#04x", tt.in, got, tt.want)
		}
	}
}

func TestBFloat16(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, to even
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, to even (up)
		{math.Float32frombits(0x3f808001), 0x3f81},
		{-2, 0xc000},
	}
	for _, tt := range tests {
		if got := BFloat16Bits(tt.in); got != tt.want {
			t.Errorf("BFloat16Bits(%g) = %#04x, want %#04x", tt.in, got, tt.want)
		}
		if back := BFloat16Value(tt.want); BFloat16Bits(back) != tt.want {
			t.Errorf("round trip of %#04x failed", tt.want)
		}
	}
	if nan := BFloat16Value(BFloat16Bits(float32(math.NaN()))); nan == nan {
		t.Error("NaN did not stay NaN")
	}
}

// FuzzFloat16Bits checks that narrowing picks the nearest binary16 value
// (ties to even) for any float32 in range.
func FuzzFloat16Bits(f *testing.F) {
	for _, seed := range []float32{0, 1, -1.5, 65504, 6.1e-5, 5.96e-8, 3.14159, 1e-7} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, x float32) {
		if x != x || math.Abs(float64(x)) >= 65520 {
			return
		}
		h := Float16Bits(x)
		got := float64(Float16Value(h))
		err := math.Abs(got - float64(x))
		for _, n := range []uint16{h - 1, h + 1} {
			if n&0x7c00 == 0x7c00 { // Inf/NaN neighbours
				continue
			}
			alt := math.Abs(float64(Float16Value(n)) - float64(x))
			if alt < err || (alt == err && n&1 == 0 && h&1 == 1 && (n^h)&0x8000 == 0) {
				t.Fatalf("Float16Bits(%g) = %#04x (%g), but %#04x (%g) is nearer or the even tie", x, h, got, n, Float16Value(n))
			}
		}
	})
}

// BenchmarkHalves times the host's share of feeding a FLUX step on a GPU
// and reading its answer: one step's float32 inputs at 1024² (the 4096×64
// latent and the 256×4096 T5 context) converted into a float16 tensor
// (fill), and a float16 tensor of that size widened back (read), against
// the float32 copies of the same values (the baseline, in the same run).
func BenchmarkHalves(b *testing.B) {
	testRuntime(b)
	const n = 4096*64 + 256*4096
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(i%1000) / 1000
	}
	for _, dt := range []DType{Float32, Float16} {
		v, err := newValue(dt, []int64{n})
		if err != nil {
			b.Fatal(err)
		}
		defer v.Destroy()
		fill(v, src)
		b.Run("fill/"+dt.String(), func(b *testing.B) {
			for b.Loop() {
				fill(v, src)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/value")
		})
		b.Run("read/"+dt.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := read(v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/value")
		})
	}
}
