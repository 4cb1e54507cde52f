package flux

import "fmt"

// MaxSteps is the most Euler steps schnell is distilled for (its model
// card: 1–4 steps).
const MaxSteps = 4

// Schedule returns schnell's timesteps for n steps: linspace(1, 0, n+1),
// with no resolution-dependent shift (docs/algorithms.md §1.4; the
// shift belongs to dev). Step i goes from t[i] to t[i+1].
func Schedule(n int) ([]float64, error) {
	if n < 1 || n > MaxSteps {
		return nil, fmt.Errorf("flux: %d steps; schnell runs 1..%d", n, MaxSteps)
	}
	ts := make([]float64, n+1)
	for i := range ts {
		ts[i] = 1 - float64(i)/float64(n)
	}
	return ts, nil
}
