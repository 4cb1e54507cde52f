//go:build gpu

package cuda

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// binState is a render's binning as the device left it: per (view,
// Gaussian) the tile count, rectangle, mean and conic/opacity, and the
// tile-sorted Gaussian lists (ranges per tile over vals).
type binState struct {
	touched []uint32
	rects   []int32
	xy      []float32
	conicOp []float32
	ranges  []uint32
	vals    []uint32
}

// renderBinned renders cams with tileCull = cull and downloads the binning.
func renderBinned(t *testing.T, d *Device, dc *DeviceCloud, cams []splat.Camera, opt splat.RenderOptions,
	cull bool) ([]*splat.Image, Timing, binState) {
	t.Helper()
	old := tileCull
	tileCull = cull
	defer func() { tileCull = old }()
	ims, tm, err := d.RenderDevice(context.Background(), dc, cams, opt)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.lastBin
	total := b.views * b.n
	st := binState{touched: make([]uint32, total), rects: make([]int32, 4*total), xy: make([]float32, 2*total),
		conicOp: make([]float32, 4*total), ranges: make([]uint32, 2*b.views*b.tilesPerVw), vals: make([]uint32, b.instances)}
	ws := &d.ws
	errs := []error{download(d, st.touched, ws.touched.ptr), download(d, st.rects, ws.rects.ptr),
		download(d, st.xy, ws.xy.ptr), download(d, st.conicOp, ws.conicOp.ptr), download(d, st.ranges, ws.ranges.ptr)}
	if b.instances > 0 {
		errs = append(errs, download(d, st.vals, b.vals))
	}
	for _, err := range append(errs, d.sync()) {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ims, tm, st
}

// stretched is randomCloud with every Gaussian's first axis scaled by
// stretch: thin, rotated needles, whose tile rectangles hold many tiles
// the ellipse misses.
func stretched(seed uint64, n int, ext, size, stretch float64) *splat.Cloud {
	c := randomCloud(seed, n, 0, ext, size)
	for i := range n {
		c.LogScale[3*i] += float32(math.Log(stretch))
	}
	return c
}

// TestTileCullExact: bin's tile cull (binTiles) against the unculled
// binning of the same device, per case:
//   - every Render output (RGB, alpha, depth) bit-identical, and ≥ 80 dB
//     against splat.RenderBatch (the unculled renders give 113–133 dB);
//   - fewer instances, and each tile's list the unculled list less the
//     dropped pairs, in the same order;
//   - every dropped (Gaussian, tile) pair checked on the host in float64
//     at every pixel centre of the tile inside the image: o·exp(power) <
//     0.995/255, so the rasterisers' α test would skip it at every pixel;
//   - the fit path (Forward/Backward, chunks of 37) culled against
//     unculled: images ≥ 100 dB apart, gradients within 1e-4 relative.
func TestTileCullExact(t *testing.T) {
	d := openDevice(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		c     *splat.Cloud
		mode  splat.Mode
		w, h  int
		views int
		bg    [3]float32
	}{
		{"gsplat", randomCloud(701, 4000, 0, 0.6, 0.04), splat.ModeGsplat, 200, 150, 3, [3]float32{1, 1, 1}},
		{"classic", randomCloud(702, 4000, 0, 0.6, 0.04), splat.ModeClassic, 97, 131, 2, [3]float32{0.2, 0.5, 0.8}},
		{"gsplat needles", stretched(703, 3000, 0.6, 0.03, 6), splat.ModeGsplat, 256, 200, 3, [3]float32{0.5, 0.5, 0.5}},
		{"classic needles", stretched(704, 3000, 0.6, 0.03, 6), splat.ModeClassic, 160, 120, 2, [3]float32{0, 0, 0}},
		{"gsplat small, validator-like", randomCloud(705, 20000, 0, 0.5, 0.008), splat.ModeGsplat, 130, 130, 4, [3]float32{1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cams := splat.OrbitCameras(tt.views, 2.2, -20, 50, tt.w, tt.h)
			opt := splat.RenderOptions{Background: tt.bg, Mode: tt.mode, SHDegree: -1}
			dc, err := d.Upload(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			defer dc.Free()
			ref, tmRef, sr := renderBinned(t, d, dc, cams, opt, false)
			got, tm, sc := renderBinned(t, d, dc, cams, opt, true)
			want, err := splat.RenderBatch(ctx, tt.c, cams, opt)
			if err != nil {
				t.Fatal(err)
			}
			worst := math.Inf(1)
			for v := range cams {
				if !slices.Equal(got[v].RGB, ref[v].RGB) || !slices.Equal(got[v].Alpha, ref[v].Alpha) ||
					!slices.Equal(got[v].Depth, ref[v].Depth) {
					t.Errorf("view %d: culled render differs from the unculled one", v)
				}
				worst = min(worst, psnr(got[v].RGB, want[v].RGB), psnr(got[v].Alpha, want[v].Alpha))
			}
			t.Logf("instances %d -> %d (%.1f %% fewer); worst PSNR vs CPU %.1f dB", tmRef.Instances, tm.Instances,
				100*(1-float64(tm.Instances)/float64(tmRef.Instances)), worst)
			if worst < 80 {
				t.Errorf("culled render vs CPU: worst PSNR %.1f dB, want ≥ 80", worst)
			}
			if tm.Instances >= tmRef.Instances {
				t.Errorf("culled instances %d, unculled %d: nothing dropped", tm.Instances, tmRef.Instances)
			}
			checkCull(t, cams, sr, sc)
		})
	}
	t.Run("fit path", func(t *testing.T) {
		c := randomCloud(706, 8000, 1, 0.5, 0.05)
		cams := splat.OrbitCameras(3, 2.0, -15, 50, 96, 80)
		opt := splat.RenderOptions{Background: [3]float32{0.3, 0.6, 0.9}, Mode: splat.ModeGsplat, SHDegree: -1}
		dc, err := d.Upload(c)
		if err != nil {
			t.Fatal(err)
		}
		defer dc.Free()
		rng := rand.New(rand.NewPCG(7, 1))
		npix := 96 * 80
		dRGB, dA := randomUpstream(rng, len(cams), npix)
		run := func(cull bool) ([]*splat.Image, *splat.Grads, int) {
			oldCull, oldLen := tileCull, fitChunkLen
			tileCull, fitChunkLen = cull, 37
			defer func() { tileCull, fitChunkLen = oldCull, oldLen }()
			ims, tr, err := d.Forward(ctx, dc, cams, opt)
			if err != nil {
				t.Fatal(err)
			}
			g := splat.NewGrads(c)
			if err := d.Backward(ctx, tr, dRGB, dA, g); err != nil {
				t.Fatal(err)
			}
			return ims, g, tr.b.instances
		}
		refIms, refG, refN := run(false)
		ims, g, n := run(true)
		t.Logf("instances %d -> %d", refN, n)
		if n >= refN {
			t.Errorf("culled instances %d, unculled %d", n, refN)
		}
		for v := range cams {
			pr, pa := psnr(ims[v].RGB, refIms[v].RGB), psnr(ims[v].Alpha, refIms[v].Alpha)
			t.Logf("view %d: RGB %.1f dB, alpha %.1f dB against the unculled fit path", v, pr, pa)
			if pr < 100 || pa < 100 {
				t.Errorf("view %d: RGB %.1f dB, alpha %.1f dB against the unculled fit path, want ≥ 100", v, pr, pa)
			}
		}
		checkGrads(t, g, refG, 1e-4, "the unculled gradients")
		if !slices.Equal(g.Visible, refG.Visible) {
			t.Errorf("visible flags differ from the unculled run")
		}
	})
}

// checkCull compares the culled binning sc with the unculled sr of the
// same batch (see TestTileCullExact).
func checkCull(t *testing.T, cams []splat.Camera, sr, sc binState) {
	t.Helper()
	w, h := cams[0].Width, cams[0].Height
	tilesX, tilesY := (w+tileSize-1)/tileSize, (h+tileSize-1)/tileSize
	tiles := tilesX * tilesY
	n := len(sr.touched) / len(cams)
	kept := map[[2]uint32]bool{}
	bad := 0
	for vt := range len(cams) * tiles {
		lr := sr.vals[sr.ranges[2*vt]:sr.ranges[2*vt+1]]
		lc := sc.vals[sc.ranges[2*vt]:sc.ranges[2*vt+1]]
		j := 0 // lc must be a subsequence of lr
		for _, g := range lr {
			if j < len(lc) && lc[j] == g {
				j++
			}
		}
		if j != len(lc) {
			if bad++; bad <= 3 {
				t.Errorf("tile %d: culled list is not the unculled list less some entries", vt)
			}
		}
		for _, g := range lc {
			kept[[2]uint32{g, uint32(vt % tiles)}] = true
		}
	}
	var dropped, pixels, large int
	worst := 0.0
	for gi := range sr.touched {
		if sr.touched[gi] == 0 { // not binned
			continue
		}
		r := sr.rects[4*gi : 4*gi+4]
		area := uint32((r[1] - r[0]) * (r[3] - r[2]))
		if area > 32 { // MASK_TILES: binTiles in both kernels
			large++
		}
		if sr.touched[gi] != area || sc.touched[gi] > area {
			t.Fatalf("Gaussian %d: touched %d unculled, %d culled, rectangle %v", gi, sr.touched[gi], sc.touched[gi], r)
		}
		mx, my := float64(sc.xy[2*gi]), float64(sc.xy[2*gi+1])
		A, B, C, op := float64(sc.conicOp[4*gi]), float64(sc.conicOp[4*gi+1]), float64(sc.conicOp[4*gi+2]), float64(sc.conicOp[4*gi+3])
		var k uint32
		for ty := int(r[2]); ty < int(r[3]); ty++ {
			for tx := int(r[0]); tx < int(r[1]); tx++ {
				if kept[[2]uint32{uint32(gi), uint32(ty*tilesX + tx)}] {
					k++
					continue
				}
				dropped++
				for py := ty * tileSize; py < min(ty*tileSize+tileSize, h); py++ {
					for px := tx * tileSize; px < min(tx*tileSize+tileSize, w); px++ {
						dx, dy := mx-(float64(px)+0.5), my-(float64(py)+0.5)
						a := op * math.Exp(-0.5*(A*dx*dx+C*dy*dy)-B*dx*dy) * 255
						pixels++
						worst = max(worst, a)
					}
				}
			}
		}
		if k != sc.touched[gi] {
			t.Fatalf("Gaussian %d (view %d): %d tiles in the lists, touched says %d", gi%n, gi/n, k, sc.touched[gi])
		}
	}
	t.Logf("%d pairs dropped (%d Gaussians of > 32 tiles), %d pixel centres checked: largest 255·α among them %.4f",
		dropped, large, pixels, worst)
	if worst >= 0.995 {
		t.Errorf("a dropped pair reaches 255·α = %.4f at some pixel centre, want < 0.995", worst)
	}
}
