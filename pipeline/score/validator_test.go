package score

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/internal/benchtest"
)

func TestValidatorScore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                    string
		iqa, align, ssim, lpips float64
		want                    float64
	}{
		{"alignment below gate scores zero", 1, 0.2999, 1, 1, 0},
		{"zero alignment scores zero", 1, 0, 1, 1, 0},
		{"at the gate, sigmoids at their midpoints", 0.8, 0.3, 0.83, 0.7, 0.75*0.8 + 0.2*0.3 + 0.025*0.5 + 0.025*0.7*0.5},
		{"all high; text alignment may exceed 1", 1, 2, 1, 1, 0.75 + 0.4 + 0.025*0.997401 + 0.025*0.999877},
		{"low consistency barely counts", 0.5, 1, 0, 0, 0.375 + 0.2 + 0.025/(1+math.Exp(35*0.83))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := ValidatorScore(tc.iqa, tc.align, tc.ssim, tc.lpips)
			if math.Abs(got-tc.want) > 1e-6 {
				t.Errorf("ValidatorScore(%v, %v, %v, %v) = %.7f, want %.7f", tc.iqa, tc.align, tc.ssim, tc.lpips, got, tc.want)
			}
		})
	}
	if got := NeuronFidelity(ValidatorScore(1, 2, 1, 1)); got != 1 {
		t.Errorf("NeuronFidelity = %v, want 1", got)
	}
}

func cluster(n int, extra ...float64) []float64 {
	xs := make([]float64, 0, n+len(extra))
	for i := range n {
		xs = append(xs, 0.5+float64(i)/1024) // exact binary fractions
	}
	return append(xs, extra...)
}

func TestOutlierFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []float64
		want    []float64
		wantErr bool
	}{
		{"one far value dropped", cluster(15, 0.2), cluster(15), false},
		{"two far values dropped", cluster(14, 0.0, 0.1), cluster(14), false},
		{"all equal kept", []float64{0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3}, []float64{0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3}, false},
		{"three equal outliers survive (ties at the threshold)", append(cluster(13), -0.1, -0.1, -0.1), append([]float64{-0.1, -0.1, -0.1}, cluster(13)...), false},
		{"too few values", []float64{1, 2, 3, 4, 5}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ValidatorOutliers.Filter(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Filter error = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Filter (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := (OutlierFilter{K: 5, Contamination: 0.7}).Filter(cluster(16)); err == nil {
		t.Error("contamination 0.7 accepted")
	}
}

func TestGeoMean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"single", []float64{0.4}, 0.4},
		{"pair", []float64{0.25, 1}, 0.5},
		{"zero", []float64{0.9, 0, 0.8}, 0},
		{"negative", []float64{0.9, -0.1}, math.NaN()},
		{"empty", nil, math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := GeoMean(tc.in)
			if !cmp.Equal(got, tc.want, cmp.Comparer(func(a, b float64) bool {
				return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) < 1e-12
			})) {
				t.Errorf("GeoMean(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestAlignment(t *testing.T) {
	t.Parallel()
	flat := func(n int, v float64, extra ...float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = v
		}
		return append(xs, extra...)
	}
	tests := []struct {
		name      string
		cos       []float64
		text, img float64
	}{
		{"uniform", flat(16, 0.2), 0.2 / 0.35, 0.2},
		{"one negative view filtered", flat(15, 0.2, -0.1), 0.2 / 0.35, 0.2},
		{"three negative views kept: text clips to 0, image is NaN", flat(13, 0.2, -0.1, -0.1, -0.1), 0, math.NaN()},
	}
	eq := cmp.Comparer(func(a, b float64) bool { return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) < 1e-12 })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			text, err := TextAlignment(tc.cos)
			if err != nil {
				t.Fatal(err)
			}
			img, err := ImageAlignment(tc.cos)
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(text, tc.text, eq) || !cmp.Equal(img, tc.img, eq) {
				t.Errorf("text, image alignment = %v, %v; want %v, %v", text, img, tc.text, tc.img)
			}
		})
	}
}

func TestQuantize8(t *testing.T) {
	t.Parallel()
	got := Quantize8([]float32{-0.1, 0, 0.5, 0.999, 1, 1.5})
	want := []float32{0, 0, 127.0 / 255, 254.0 / 255, 1, 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Quantize8 (-want +got):\n%s", diff)
	}
}

// quantize8Serial is Quantize8 on one core, as it was before session 12:
// the reference of TestQuantize8MatchesSerial and BenchmarkQuantize8's
// baseline.
func quantize8Serial(x []float32) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		v = min(max(v, 0), 1)
		out[i] = float32(math.Floor(float64(v)*255)) / 255
	}
	return out
}

// TestQuantize8MatchesSerial: the parallel Quantize8 gives bit for bit what
// the serial loop gives, on a validator view's worth of random values (the
// parallel path) and on the edges: every k/255 and its neighbours, ±0, out
// of range, ±Inf and NaN.
func TestQuantize8MatchesSerial(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	x := make([]float32, 518*518*3)
	for i := range x {
		x[i] = float32(r.NormFloat64()*0.4 + 0.5)
	}
	edges := []float32{float32(math.Copysign(0, -1)), 0, 1, 1.5, -2, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for k := range 256 {
		v := float32(k) / 255
		edges = append(edges, v, math.Nextafter32(v, 0), math.Nextafter32(v, 1))
	}
	for _, in := range [][]float32{x, edges} {
		want, got := quantize8Serial(in), Quantize8(in)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("Quantize8(%v) = %v at %d, the serial loop gives %v", in[i], got[i], i, want[i])
			}
		}
	}
}

// BenchmarkQuantize8: one 518² validator view, the serial loop (the
// baseline) against Quantize8 and against quantising in place, as
// ValidatorViews does, in one run (in place, the values after the first
// run are quantised already: the same work).
func BenchmarkQuantize8(b *testing.B) {
	x := make([]float32, 518*518*3)
	for i := range x {
		x[i] = float32(i%1000) / 999
	}
	benchtest.Ratio(b, "ms/view",
		benchtest.Case{Name: "serial", Run: func() error { quantize8Serial(x); return nil }},
		benchtest.Case{Name: "now", Run: func() error { Quantize8(x); return nil }},
		benchtest.Case{Name: "in place", Run: func() error { quantize8(x, x); return nil }},
	)
}

func TestFidelity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		psnr, ssim float64
		want       float64
	}{
		{"perfect", MaxPSNR, 1, 1},
		{"floor", 15, 0.5, 0},
		{"below floor", 5, 0.1, 0},
		{"midway", 27.5, 0.75, 0.5},
		{"psnr only", 40, 0.5, 0.5},
		{"nan ssim counts nothing", 40, math.NaN(), 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := NewFidelity(tc.psnr, tc.ssim).Score; math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("Score(%v dB, %v) = %v, want %v", tc.psnr, tc.ssim, got, tc.want)
			}
		})
	}
	r := rand.New(rand.NewPCG(9, 10))
	a := randImage(r, 20*20*3)
	f, err := CompareViews(context.Background(), [][]float32{a, a}, [][]float32{a, a}, 20, 20)
	if err != nil {
		t.Fatal(err)
	}
	if f != (Fidelity{PSNR: MaxPSNR, SSIM: 1, Score: 1}) {
		t.Errorf("CompareViews of identical views = %+v", f)
	}
	if _, err := CompareViews(context.Background(), [][]float32{a}, nil, 20, 20); err == nil {
		t.Error("view count mismatch accepted")
	}
}

func BenchmarkSSIM518(b *testing.B) {
	const w, h = 518, 518
	r := rand.New(rand.NewPCG(11, 12))
	x, y := randImage(r, w*h*3), randImage(r, w*h*3)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SSIM(x, y, w, h, 3); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w*h)*float64(b.N)/b.Elapsed().Seconds(), "pixels/s")
}

func BenchmarkConsistencySSIM16x518(b *testing.B) {
	const w, h = 518, 518
	r := rand.New(rand.NewPCG(13, 14))
	views := make([][]float32, 16)
	for i := range views {
		views[i] = randImage(r, w*h*3)
	}
	for b.Loop() {
		if _, err := ConsistencySSIM(context.Background(), views, w, h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(16*float64(w*h)*float64(b.N)/b.Elapsed().Seconds(), "pixels/s")
}
