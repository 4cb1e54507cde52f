//go:build gpu

package cuda

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// chunkedForward runs d.Forward with fitChunkLen = chunkLen and returns the
// images, the trace, the per-pixel final T and last contributor, the
// largest chunk count of a tile and the number of re-walks of chunks after
// a tile's first.
func chunkedForward(t *testing.T, d *Device, dc *DeviceCloud, cams []splat.Camera, opt splat.RenderOptions,
	chunkLen int) ([]*splat.Image, *Trace, []float32, []int32, int, uint32) {
	t.Helper()
	oldLen, oldCount := fitChunkLen, countRewalks
	fitChunkLen, countRewalks = chunkLen, true
	defer func() { fitChunkLen, countRewalks = oldLen, oldCount }()
	ims, tr, err := d.Forward(context.Background(), dc, cams, opt)
	if err != nil {
		t.Fatal(err)
	}
	npix := len(cams) * cams[0].Width * cams[0].Height
	finalT := make([]float32, npix)
	last := make([]int32, npix)
	d.mu.Lock()
	defer d.mu.Unlock()
	ws := &d.ws
	tc := make([]uint32, 2*tr.b.views*tr.b.tilesPerVw)
	var rw [1]uint32
	for _, err := range []error{download(d, finalT, ws.finalT.ptr), download(d, last, ws.last.ptr),
		download(d, tc, ws.tileChunk.ptr), download(d, rw[:], ws.rewalks.ptr), d.sync()} {
		if err != nil {
			t.Fatal(err)
		}
	}
	most := 0
	for i := 1; i < len(tc); i += 2 {
		most = max(most, int(tc[i]))
	}
	return ims, tr, finalT, last, most, rw[0]
}

// TestChunkedMatchesCPU: the fit path's chunked raster (tiles split into
// chunks rasterised by separate blocks, merged in order, the backward
// walking each chunk from the merge's state) against the CPU engine, on a
// dense cloud whose tiles hold many chunks and whose pixels mostly stop
// (T·(1−α) ≤ stopAt) inside a chunk after the first: images ≥ 45 dB, every
// gradient group ≤ 2e-3 relative; and against the same device's one-chunk
// walk: the same last contributor for ≥ 99.9 % of the pixels (float
// products in another order may move a stop decision that sits on the
// threshold) and, where it is the same, final T within 1e-5.
func TestChunkedMatchesCPU(t *testing.T) {
	d := openDevice(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		n, deg   int
		mode     splat.Mode
		views    int
		w, h     int
		chunkLen int
	}{
		{"classic sh0 chunks of 256", 20000, 0, splat.ModeClassic, 2, 64, 48, 256},
		{"classic sh1 chunks of 37", 6000, 1, splat.ModeClassic, 2, 72, 56, 37},
		{"gsplat sh0 chunks of 100", 12000, 0, splat.ModeGsplat, 3, 80, 80, 100},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := randomCloud(uint64(300+i), tt.n, tt.deg, 0.5, 0.08)
			cams := splat.OrbitCameras(tt.views, 2.0, -15, 50, tt.w, tt.h)
			opt := splat.RenderOptions{Background: [3]float32{0.3, 0.6, 0.9}, Mode: tt.mode, SHDegree: -1}
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			npix := tt.w * tt.h
			dRGB, dA := randomUpstream(rng, tt.views, npix)
			want := splat.NewGrads(c)
			wantIms := make([]*splat.Image, tt.views)
			for v := range tt.views {
				im, tr, err := splat.Forward(ctx, c, cams[v], opt)
				if err != nil {
					t.Fatal(err)
				}
				wantIms[v] = im
				if err := splat.Backward(ctx, tr, dRGB[v], dA[v], want); err != nil {
					t.Fatal(err)
				}
			}
			dc, err := d.Upload(c)
			if err != nil {
				t.Fatal(err)
			}
			defer dc.Free()
			// The one-chunk walk first (its trace goes stale at once).
			_, _, oneT, oneLast, oneMost, _ := chunkedForward(t, d, dc, cams, opt, 1<<30)
			if oneMost != 1 {
				t.Fatalf("chunk length 2^30: a tile of %d chunks", oneMost)
			}
			ims, tr, finalT, last, most, rewalks := chunkedForward(t, d, dc, cams, opt, tt.chunkLen)
			t.Logf("chunk length %d: up to %d chunks per tile, %d re-walks after a tile's first chunk", tt.chunkLen, most, rewalks)
			if most < 3 {
				t.Errorf("the cloud's longest tile has %d chunks, want ≥ 3", most)
			}
			if rewalks == 0 {
				t.Errorf("no pixel stopped inside a chunk after the first: the case is not covered")
			}
			for v := range cams {
				pr, pa := psnr(ims[v].RGB, wantIms[v].RGB), psnr(ims[v].Alpha, wantIms[v].Alpha)
				t.Logf("view %d: RGB %.1f dB, alpha %.1f dB", v, pr, pa)
				if pr < 45 || pa < 45 {
					t.Errorf("view %d: PSNR RGB %.1f dB, alpha %.1f dB, want ≥ 45", v, pr, pa)
				}
			}
			same, worstT := 0, 0.0
			for p := range last {
				if last[p] == oneLast[p] {
					same++
					worstT = max(worstT, float64(abs32(finalT[p]-oneT[p])))
				}
			}
			t.Logf("last contributor equal to the one-chunk walk's for %d of %d pixels; final T within %.2e", same, len(last), worstT)
			if float64(same) < 0.999*float64(len(last)) {
				t.Errorf("last contributor differs from the one-chunk walk for %d of %d pixels", len(last)-same, len(last))
			}
			if worstT > 1e-5 {
				t.Errorf("final T differs from the one-chunk walk by %.2e", worstT)
			}
			got := splat.NewGrads(c)
			if err := d.Backward(ctx, tr, dRGB, dA, got); err != nil {
				t.Fatal(err)
			}
			checkGrads(t, got, want, 2e-3, "the CPU")
		})
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
