//go:build gpu

package cuda

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// longestList is the longest tile list of a binning.
func longestList(st binState) int {
	most := 0
	for i := 0; i < len(st.ranges); i += 2 {
		most = max(most, int(st.ranges[i+1]-st.ranges[i]))
	}
	return most
}

// TestLocalSortExact: bin's local sort (instances in index order, sorted by
// tile, each tile's list then sorted by (depth bits, view·n + index) in one
// block: tileDepthSort) against the global per-view depth sort on the same
// device: the same tile ranges, every tile's list the same Gaussians in the
// same order, bit-identical Render outputs; on the validator preset (lists
// ≤ 4096, shared memory only) and on dense clouds whose centre tiles hold
// more than 2·4096 entries (the chunked path with merges in global memory).
// The fit path (Forward/Backward, chunks of 128) on a dense cloud:
// bit-identical images, final T and last contributors, gradients within
// 1e-5 relative (the backward's float atomics add in no fixed order).
func TestLocalSortExact(t *testing.T) {
	d := openDevice(t)
	ctx := context.Background()
	withSort := func(local bool, f func()) {
		old, oldFit := localSort, localSortFit
		localSort, localSortFit = local, local
		defer func() { localSort, localSortFit = old, oldFit }()
		f()
	}
	tests := []struct {
		name    string
		c       *splat.Cloud
		cams    []splat.Camera
		opt     splat.RenderOptions
		minLong int
	}{
		{"validator preset", randomCloud(1, 200_000, 0, 0.5, 0.008), splat.ValidatorCameras(),
			splat.RenderOptions{Background: [3]float32{1, 1, 1}, Mode: splat.ModeGsplat, SHDegree: 0}, 100},
		{"dense classic", randomCloud(801, 40_000, 0, 0.3, 0.1), splat.OrbitCameras(2, 2.0, -15, 50, 64, 64),
			splat.RenderOptions{Background: [3]float32{0.2, 0.4, 0.6}, Mode: splat.ModeClassic, SHDegree: -1}, 2*4096 + 1},
		{"dense gsplat, 97x75", randomCloud(802, 30_000, 1, 0.4, 0.08), splat.OrbitCameras(3, 2.0, -20, 50, 97, 75),
			splat.RenderOptions{Background: [3]float32{1, 1, 1}, Mode: splat.ModeGsplat, SHDegree: -1}, 4096 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dc, err := d.Upload(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			defer dc.Free()
			var ref, got []*splat.Image
			var sr, sl binState
			withSort(false, func() { ref, _, sr = renderBinned(t, d, dc, tt.cams, tt.opt, true) })
			withSort(true, func() { got, _, sl = renderBinned(t, d, dc, tt.cams, tt.opt, true) })
			long := longestList(sr)
			t.Logf("%d instances, longest tile list %d", len(sr.vals), long)
			if long < tt.minLong {
				t.Errorf("longest tile list %d, want ≥ %d (the case does not cover its path)", long, tt.minLong)
			}
			if !slices.Equal(sl.ranges, sr.ranges) {
				t.Fatalf("tile ranges differ from the depth-sort path's")
			}
			bad := 0
			for i := 0; i < len(sr.ranges); i += 2 {
				a, b := sr.ranges[i], sr.ranges[i+1]
				if !slices.Equal(sl.vals[a:b], sr.vals[a:b]) {
					if bad++; bad <= 3 {
						t.Errorf("tile %d (%d entries): list differs from the depth-sort path's", i/2, b-a)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d tiles' lists differ", bad)
			}
			for v := range tt.cams {
				if !slices.Equal(got[v].RGB, ref[v].RGB) || !slices.Equal(got[v].Alpha, ref[v].Alpha) ||
					!slices.Equal(got[v].Depth, ref[v].Depth) {
					t.Errorf("view %d: render differs from the depth-sort path's", v)
				}
			}
		})
	}
	t.Run("fit path", func(t *testing.T) {
		c := randomCloud(803, 40_000, 1, 0.3, 0.1)
		cams := splat.OrbitCameras(3, 2.0, -15, 50, 80, 72)
		opt := splat.RenderOptions{Background: [3]float32{0.3, 0.6, 0.9}, Mode: splat.ModeGsplat, SHDegree: -1}
		dc, err := d.Upload(c)
		if err != nil {
			t.Fatal(err)
		}
		defer dc.Free()
		rng := rand.New(rand.NewPCG(8, 1))
		npix := cams[0].Width * cams[0].Height
		dRGB, dA := randomUpstream(rng, len(cams), npix)
		run := func(local bool) ([]*splat.Image, *splat.Grads, []float32, []int32, int) {
			var ims []*splat.Image
			var g *splat.Grads
			var finalT []float32
			var last []int32
			var most int
			withSort(local, func() {
				var tr *Trace
				ims, tr, finalT, last, most, _ = chunkedForward(t, d, dc, cams, opt, 128)
				g = splat.NewGrads(c)
				if err := d.Backward(ctx, tr, dRGB, dA, g); err != nil {
					t.Fatal(err)
				}
			})
			return ims, g, finalT, last, most
		}
		refIms, refG, refT, refLast, most := run(false)
		ims, g, finalT, last, _ := run(true)
		t.Logf("up to %d chunks of 128 per tile", most)
		if most <= 2*4096/128 {
			t.Errorf("longest tile has %d chunks of 128, want > 64 (lists over 2·4096)", most)
		}
		for v := range cams {
			if !slices.Equal(ims[v].RGB, refIms[v].RGB) || !slices.Equal(ims[v].Alpha, refIms[v].Alpha) ||
				!slices.Equal(ims[v].Depth, refIms[v].Depth) {
				t.Errorf("view %d: fit-path image differs from the depth-sort path's", v)
			}
		}
		if !slices.Equal(last, refLast) || !slices.Equal(finalT, refT) {
			t.Errorf("last contributors or final T differ from the depth-sort path's")
		}
		checkGrads(t, g, refG, 1e-5, "the depth-sort path's gradients")
		if !slices.Equal(g.Visible, refG.Visible) {
			t.Errorf("visible flags differ from the depth-sort path's")
		}
	})
}

// BenchmarkValidator16x518_200kDepthSort: BenchmarkValidator16x518_200k
// on the global depth-sort path (localSort off), for same-binary timings.
func BenchmarkValidator16x518_200kDepthSort(b *testing.B) {
	old := localSort
	localSort = false
	defer func() { localSort = old }()
	BenchmarkValidator16x518_200k(b)
}

// BenchmarkFitIter4x256_50kLocalSort: BenchmarkFitIter4x256_50k with the
// fit path on the local sort (localSortFit on; off by default).
func BenchmarkFitIter4x256_50kLocalSort(b *testing.B) {
	old := localSortFit
	localSortFit = true
	defer func() { localSortFit = old }()
	BenchmarkFitIter4x256_50k(b)
}
