package plot

import (
	"math"
	"math/rand/v2"
	"strconv"
)

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func itoa(i int) string { return strconv.Itoa(i) }

// paretoMinMax is a brute-force front for (minimise X, maximise Y), for
// test data only.
func paretoMinMax(ps []Point) []Point {
	var front []Point
	for i, p := range ps {
		dominated := false
		for j, q := range ps {
			if i != j && q.X <= p.X && q.Y >= p.Y && (q.X < p.X || q.Y > p.Y) {
				dominated = true
				break
			}
		}
		if !dominated {
			front = append(front, p)
		}
	}
	return front
}

func distSamples() []Sample {
	var a, b []float64
	for i := range 50 {
		a = append(a, 0.25+0.002*float64(i%25))
		b = append(b, 0.27+0.003*float64((i*7)%20))
	}
	return []Sample{{Name: "fast", Values: a}, {Name: "quality", Values: b}}
}

// trialCloud is a seeded latency/score cloud with its brute-force front.
func trialCloud() (points, front []Point) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 60 {
		lat := 1 + 9*rng.Float64()
		score := 0.18 + 0.015*lat - 0.05*rng.Float64()
		points = append(points, Point{X: round3(lat), Y: round3(score), Label: "t" + itoa(i)})
	}
	return points, paretoMinMax(points)
}
