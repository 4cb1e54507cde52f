package results

import (
	"math"
	"slices"
)

// Percentile returns the nearest-rank percentile of sorted (ascending) as
// MLPerf loadgen computes it: the element at index floor(N·p), clamped to
// N-1. p is a fraction (0.9 for p90); p outside [0, 1] is clamped. It
// returns NaN for an empty slice. No interpolation is done, so the answer
// is always one of the samples.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if math.IsNaN(p) || p <= 0 {
		return sorted[0]
	}
	i := int(math.Floor(float64(n) * p))
	if i > n-1 || p >= 1 {
		i = n - 1
	}
	return sorted[i]
}

// Summary is the distribution of one measurement, as every report quotes
// it: count, extremes, mean and the p50/p90/p99 nearest-rank percentiles.
type Summary struct {
	N    int
	Min  float64
	Max  float64
	Mean float64
	P50  float64
	P90  float64
	P99  float64
}

// Summarize describes xs, which need not be sorted and is not modified.
// NaN samples are dropped (N counts the rest). With no samples, N is 0 and
// every other field is NaN.
func Summarize(xs []float64) Summary {
	s := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		nan := math.NaN()
		return Summary{Min: nan, Max: nan, Mean: nan, P50: nan, P90: nan, P99: nan}
	}
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	return Summary{
		N:    len(s),
		Min:  s[0],
		Max:  s[len(s)-1],
		Mean: sum / float64(len(s)),
		P50:  Percentile(s, 0.50),
		P90:  Percentile(s, 0.90),
		P99:  Percentile(s, 0.99),
	}
}
