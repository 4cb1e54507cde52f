//go:build gpu

package cuda

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// TestDevicesRenderConcurrently opens every GPU (one primary context
// each) and renders the same cloud on all of them at once, several batches
// per device from its own goroutine: each device must match the CPU, and
// devices of one model must agree bit for bit (the kernels have no
// atomics in the forward path). Skipped on one-GPU machines.
func TestDevicesRenderConcurrently(t *testing.T) {
	infos, err := Discover(quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) < 2 {
		t.Skipf("%d GPU(s); needs 2", len(infos))
	}
	ctx := context.Background()
	c := randomCloud(11, 20000, 0, 0.6, 0.03)
	cams := splat.OrbitCameras(4, 2.2, -20, 50, 256, 256)
	opt := splat.RenderOptions{Mode: splat.ModeGsplat, SHDegree: -1, Background: [3]float32{1, 1, 1}}
	want, err := splat.RenderBatch(ctx, c, cams, opt)
	if err != nil {
		t.Fatal(err)
	}
	devs := make([]*Device, len(infos))
	for i := range devs {
		d, err := Open(i, quietLog())
		if err != nil {
			t.Fatalf("Open(%d): %v", i, err)
		}
		t.Cleanup(func() { d.Close() })
		devs[i] = d
	}
	const rounds = 5
	got := make([][]*splat.Image, len(devs))
	errs := make([]error, len(devs))
	var wg sync.WaitGroup
	for i, d := range devs {
		wg.Go(func() {
			for range rounds {
				ims, err := d.Render(ctx, c, cams, opt)
				if err != nil {
					errs[i] = err
					return
				}
				got[i] = ims
			}
		})
	}
	wg.Wait()
	for i, d := range devs {
		if errs[i] != nil {
			t.Fatalf("device %d (%s): %v", i, d.Info().Name, errs[i])
		}
		for v := range cams {
			if p := psnr(got[i][v].RGB, want[v].RGB); p < 45 {
				t.Errorf("device %d view %d: PSNR %.1f dB against the CPU", i, v, p)
			}
		}
		if i == 0 || d.Info().Name != devs[0].Info().Name {
			continue
		}
		for v := range cams {
			if !slices.Equal(got[i][v].RGB, got[0][v].RGB) {
				t.Errorf("device %d view %d differs from device 0 (PSNR %.1f dB)", i, v, psnr(got[i][v].RGB, got[0][v].RGB))
			}
		}
	}
	t.Logf("%d devices × %d rounds of %d views agree", len(devs), rounds, len(cams))
}
