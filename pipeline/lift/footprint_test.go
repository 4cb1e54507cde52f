package lift

import (
	"math"
	"slices"
	"testing"

	"github.com/splatbench/splatbench/internal/benchtest"
)

// footprintSampled is the footprint as the lift found it before: the
// filled section sampled half a pixel apart on rings from its centre out,
// each sample's pixel listed once (stamp has an entry per pixel, id is the
// section's own). The reference of TestFootprint and the baseline of
// BenchmarkFootprint.
func footprintSampled(g view, sc section, w, h int, stamp []int32, id int32) []int {
	var out []int
	step := g.px / 2
	for a := 0.0; a <= sc.rad; a += step {
		n := max(1, int(math.Ceil(sc.o.perim*a/step)))
		for k := range n {
			if i := g.pixel(g.on(sc.a, a, sc.o, float64(k)/float64(n)), w, h); i >= 0 && stamp[i] != id {
				stamp[i] = id
				out = append(out, i)
			}
		}
	}
	return out
}

// footprintCases are the sections of a revolved cylinder's silhouette with
// round and square outlines, and of a cube half out of the canvas.
func footprintCases(t testing.TB) []struct {
	name string
	g    view
	secs []section
	n    int
} {
	const n = 160
	var cases []struct {
		name string
		g    view
		secs []section
		n    int
	}
	for _, tc := range []struct {
		name  string
		hit   func(o, d [3]float64) bool
		shape string
		o     *outline
	}{
		{"cylinder, round", cylinderHit(0.35, 0.5), ShapeRevolve, circle(1)},
		{"cylinder, deep", cylinderHit(0.35, 0.5), ShapeRevolve, circle(1.6)},
		{"box, square turned", boxHit(cube(0.4), 0.3, [3]float64{}), ShapeAuto, square(8, 0.3, 1)},
		{"box off the edge", boxHit(cube(0.5), 0, [3]float64{0.9, 0, 0}), ShapeAuto, circle(1)},
	} {
		g, m := solidView(n, tc.hit)
		secs, err := fitSections(t.Context(), g, m, grown(m), tc.shape, tc.o, 0)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			name string
			g    view
			secs []section
			n    int
		}{tc.name, g, secs, n})
	}
	return cases
}

// TestFootprint: the outline's polygon covers every pixel the sampled
// section does (a few at most lost where the outline bulges past a chord),
// adds only pixels along the edge that the samples missed, and lists each
// pixel once.
func TestFootprint(t *testing.T) {
	for _, tc := range footprintCases(t) {
		var ref, lost, extra int
		stamp := make([]int32, tc.n*tc.n)
		for i, sc := range tc.secs {
			if sc.rad == 0 {
				continue
			}
			got := tc.g.footprint(sc, tc.n, tc.n)
			want := footprintSampled(tc.g, sc, tc.n, tc.n, stamp, int32(i+1))
			sorted := slices.Sorted(slices.Values(got))
			if len(slices.Compact(slices.Clone(sorted))) != len(got) {
				t.Fatalf("%s, row %d: a pixel listed twice", tc.name, sc.y)
			}
			kept := 0
			for _, p := range want {
				if _, ok := slices.BinarySearch(sorted, p); ok {
					kept++
				}
			}
			ref, lost, extra = ref+len(want), lost+len(want)-kept, extra+len(got)-kept
		}
		t.Logf("%s: %d sampled pixels, %d lost, %d added", tc.name, ref, lost, extra)
		if ref == 0 {
			t.Fatalf("%s: no sections", tc.name)
		}
		if lost*1000 > ref {
			t.Errorf("%s: %d of the %d sampled pixels are not in the footprint", tc.name, lost, ref)
		}
		if extra*5 > ref {
			t.Errorf("%s: %d pixels added to %d: more than the edge", tc.name, extra, ref)
		}
	}
}

// BenchmarkFootprint: every section's footprint, sampled (the baseline)
// against the outline's polygon, in one run.
func BenchmarkFootprint(b *testing.B) {
	tc := footprintCases(b)[0]
	stamp := make([]int32, tc.n*tc.n)
	run := func(f func(i int, sc section) []int) func() error {
		return func() error {
			for i, sc := range tc.secs {
				if sc.rad > 0 {
					f(i, sc)
				}
			}
			return nil
		}
	}
	benchtest.Ratio(b, "ms/lift",
		benchtest.Case{Name: "sampled", Run: func() error {
			clear(stamp) // as each lift starts with a new one
			return run(func(i int, sc section) []int { return footprintSampled(tc.g, sc, tc.n, tc.n, stamp, int32(i+1)) })()
		}},
		benchtest.Case{Name: "polygon", Run: run(func(_ int, sc section) []int { return tc.g.footprint(sc, tc.n, tc.n) })},
	)
}
