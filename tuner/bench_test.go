package tuner

import (
	"math/rand/v2"
	"testing"

	"github.com/splatbench/splatbench/results"
)

func BenchmarkFronts(b *testing.B) {
	r := rand.New(rand.NewPCG(11, 12))
	pts := make([][]float64, 1000)
	for i := range pts {
		pts[i] = []float64{r.Float64(), r.Float64()}
	}
	b.Run("Front2D/n=1000", func(b *testing.B) {
		for b.Loop() {
			if _, err := Front2D(pts); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(pts))*float64(b.N)/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("NonDominatedSort/n=1000", func(b *testing.B) {
		for b.Loop() {
			if _, err := NonDominatedSort(pts); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(pts))*float64(b.N)/b.Elapsed().Seconds(), "points/s")
	})
}

func BenchmarkAggregate(b *testing.B) {
	// 200 points × 3 prompts × 5 repeats = 3000 records.
	var pts []Point
	var recs []results.Record
	for i := range 200 {
		it := 100 + 10*i
		pts = append(pts, NewPoint(map[string]any{"fit.iterations": it}))
		for k := range 15 {
			rec := trialRecs(it, []float64{float64(it) / 100}, []float64{float64(k) / 15})[0]
			rec.ID = TrialID(pts[i], "p1", k, false)
			rec.Repeat = k
			recs = append(recs, rec)
		}
	}
	opt := AggregateOptions{Threshold: 0.6, Reward: DefaultRewardModel(2, 8)}
	for b.Loop() {
		Aggregate(pts, recs, opt)
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
