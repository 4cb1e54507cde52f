package results

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	hundred := make([]float64, 100) // 1..100
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	ten := hundred[:10] // 1..10
	tests := []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		// index floor(100*0.9) = 90 -> the 91st value, as loadgen does.
		{"p90 of 100", hundred, 0.90, 91},
		{"p50 of 100", hundred, 0.50, 51},
		{"p99 of 100", hundred, 0.99, 100},
		{"p999 of 100 clamps", hundred, 0.999, 100},
		{"p0", hundred, 0, 1},
		{"p100 clamps to last", hundred, 1, 100},
		{"p above 1 clamps", hundred, 1.5, 100},
		{"negative p clamps", hundred, -0.5, 1},
		// floor(10*0.9) = 9 -> last of ten.
		{"p90 of 10", ten, 0.90, 10},
		{"p50 of 10", ten, 0.50, 6},
		{"p25 of 10", ten, 0.25, 3},
		{"single", []float64{7}, 0.9, 7},
		{"p50 of 2", []float64{1, 2}, 0.5, 2},
		{"p49 of 2", []float64{1, 2}, 0.49, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(p=%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
	if got := Percentile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("Percentile(nil) = %v, want NaN", got)
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		{
			name: "unsorted ten",
			in:   []float64{10, 3, 1, 7, 2, 9, 4, 8, 6, 5},
			want: Summary{N: 10, Min: 1, Max: 10, Mean: 5.5, P50: 6, P90: 10, P99: 10},
		},
		{
			name: "NaN dropped",
			in:   []float64{nan, 2, 4, nan},
			want: Summary{N: 2, Min: 2, Max: 4, Mean: 3, P50: 4, P90: 4, P99: 4},
		},
		{
			name: "empty",
			in:   nil,
			want: Summary{Min: nan, Max: nan, Mean: nan, P50: nan, P90: nan, P99: nan},
		},
		{
			name: "all NaN",
			in:   []float64{nan},
			want: Summary{Min: nan, Max: nan, Mean: nan, P50: nan, P90: nan, P99: nan},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := append([]float64(nil), tt.in...)
			got := Summarize(in)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("Summarize mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.in, in, cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("Summarize modified its input:\n%s", diff)
			}
		})
	}
}

func TestSummarizeThousand(t *testing.T) {
	t.Parallel()
	// 1000 samples 0..999 in reverse: p50 = idx 500, p90 = 900, p99 = 990.
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = float64(999 - i)
	}
	got := Summarize(xs)
	want := Summary{N: 1000, Min: 0, Max: 999, Mean: 499.5, P50: 500, P90: 900, P99: 990}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
