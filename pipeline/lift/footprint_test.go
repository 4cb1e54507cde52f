package lift

import (
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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

// TestFillOverlap: hand-made convex polygons on a 5×5 canvas, either
// winding, partly or wholly off it, and every section of footprintCases
// against a brute-force clip of its polygon to each pixel's square.
func TestFillOverlap(t *testing.T) {
	const w, h = 5, 5
	px := func(xy ...int) []int {
		var out []int
		for i := 0; i < len(xy); i += 2 {
			out = append(out, xy[i+1]*w+xy[i])
		}
		return out
	}
	rect := func(x0, y0, x1, y1 float64) [][2]float64 {
		return [][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
	}
	for _, tc := range []struct {
		name string
		pts  [][2]float64
		want []int // x, y pairs
	}{
		{"inside one pixel", rect(1.2, 1.2, 1.8, 1.8), px(1, 1)},
		{"across four pixels", rect(0.5, 0.5, 1.5, 1.5), px(0, 0, 1, 0, 0, 1, 1, 1)},
		{"clockwise", [][2]float64{{0.5, 0.5}, {0.5, 1.5}, {1.5, 1.5}, {1.5, 0.5}}, px(0, 0, 1, 0, 0, 1, 1, 1)},
		{"triangle", [][2]float64{{0.5, 0.5}, {3.5, 0.5}, {0.5, 2.5}}, px(0, 0, 1, 0, 2, 0, 3, 0, 0, 1, 1, 1, 2, 1, 0, 2, 1, 2)},
		{"thin, within a row", rect(0.2, 2.1, 3.8, 2.2), px(0, 2, 1, 2, 2, 2, 3, 2)},
		{"edges on pixel borders", rect(1, 1, 2, 2), px(1, 1, 2, 1, 1, 2, 2, 2)},
		{"off the top left", rect(-2, -2, 1.5, 0.5), px(0, 0, 1, 0)},
		{"off the bottom right", rect(3.5, 4.5, 9, 9), px(3, 4, 4, 4)},
		{"off the canvas", rect(5.5, 1, 7, 2), nil},
		{"none", nil, nil},
	} {
		got := slices.Sorted(slices.Values(fillOverlap(tc.pts, w, h)))
		if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: pixels (-want +got):\n%s", tc.name, diff)
		}
	}
	for _, tc := range footprintCases(t) {
		for i, sc := range tc.secs {
			if sc.rad == 0 || i%3 != 0 { // every third keeps it quick
				continue
			}
			pts := tc.g.outlinePolygon(sc)
			got := tc.g.footprint(sc, tc.n, tc.n)
			// Every pixel of the polygon's bounding box, one more all round
			// (a pixel outside it, listed, fails as unseen).
			x0, y0, x1, y1 := tc.n, tc.n, -1, -1
			for _, q := range pts {
				x0, x1 = min(x0, int(math.Floor(q[0]))-1), max(x1, int(math.Floor(q[0]))+1)
				y0, y1 = min(y0, int(math.Floor(q[1]))-1), max(y1, int(math.Floor(q[1]))+1)
			}
			listed := map[int]bool{}
			for _, p := range got {
				listed[p] = true
			}
			for y := max(0, y0); y <= min(tc.n-1, y1); y++ {
				for x := max(0, x0); x <= min(tc.n-1, x1); x++ {
					p := y*tc.n + x
					meets, area := clipSquare(pts, float64(x), float64(y))
					if listed[p] && !meets || !listed[p] && area > 1e-9 {
						t.Fatalf("%s, row %d: pixel (%d, %d) listed %v, the polygon meets it %v (area %.3g)", tc.name, sc.y, x, y, listed[p], meets, area)
					}
					delete(listed, p)
				}
			}
			for p := range listed {
				t.Fatalf("%s, row %d: pixel (%d, %d) listed, far from the polygon", tc.name, sc.y, p%tc.n, p/tc.n)
			}
		}
	}
}

// clipSquare clips the convex polygon pts to the square [x, x+1]×[y, y+1]
// (Sutherland–Hodgman) and says whether anything is left (a touch counts,
// to 1e-9) and its area.
func clipSquare(pts [][2]float64, x, y float64) (bool, float64) {
	const eps = 1e-9
	for _, e := range []struct {
		axis int
		at   float64
		keep float64 // +1: keep ≥ at; −1: keep ≤ at
	}{{0, x, 1}, {0, x + 1, -1}, {1, y, 1}, {1, y + 1, -1}} {
		var out [][2]float64
		inside := func(p [2]float64) bool { return e.keep*(p[e.axis]-e.at) >= -eps }
		for i, a := range pts {
			b := pts[(i+1)%len(pts)]
			if inside(a) {
				out = append(out, a)
			}
			if inside(a) != inside(b) {
				f := (e.at - a[e.axis]) / (b[e.axis] - a[e.axis])
				out = append(out, [2]float64{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])})
			}
		}
		pts = out
	}
	var area float64
	for i, a := range pts {
		b := pts[(i+1)%len(pts)]
		area += a[0]*b[1] - b[0]*a[1]
	}
	return len(pts) > 0, math.Abs(area) / 2
}
