//go:build gpu

package cuda

import (
	"context"
	"math"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/pipeline/splat"
)

func TestDiscover(t *testing.T) {
	infos, err := Discover(quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) == 0 {
		t.Fatal("no devices")
	}
	for _, in := range infos {
		t.Logf("device %d: %s, cc %s, %.1f GiB, %d SMs, driver CUDA %s", in.Index, in.Name, in.ComputeCapability(),
			float64(in.TotalMemory)/(1<<30), in.SMs, in.DriverString())
		if in.Name == "" || in.TotalMemory == 0 || in.CCMajor < 7 {
			t.Errorf("implausible info %+v", in)
		}
	}
	if _, err := Open(len(infos), quietLog()); err == nil {
		t.Errorf("Open(%d) of a missing device succeeded", len(infos))
	}
}

// TestRenderMatchesCPU renders random clouds on the device and with
// splat.RenderBatch and requires PSNR ≥ 45 dB on RGB and alpha per view.
func TestRenderMatchesCPU(t *testing.T) {
	d := openDevice(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		n, deg int
		mode   splat.Mode
		w, h   int
		views  int
		bg     [3]float32
	}{
		{"classic sh0", 3000, 0, splat.ModeClassic, 200, 150, 3, [3]float32{0, 0, 0}},
		{"gsplat sh0", 3000, 0, splat.ModeGsplat, 200, 150, 3, [3]float32{1, 1, 1}},
		{"classic sh1", 2000, 1, splat.ModeClassic, 97, 131, 2, [3]float32{0.2, 0.5, 0.8}},
		{"gsplat sh2", 2000, 2, splat.ModeGsplat, 256, 256, 4, [3]float32{1, 1, 1}},
		{"classic sh3 dense", 20000, 3, splat.ModeClassic, 160, 120, 2, [3]float32{0, 0, 0}},
		{"gsplat sh3", 5000, 3, splat.ModeGsplat, 300, 200, 5, [3]float32{0.5, 0.5, 0.5}},
		{"empty cloud", 0, 0, splat.ModeGsplat, 64, 48, 2, [3]float32{1, 0, 0}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := randomCloud(uint64(100+i), tt.n, tt.deg, 0.6, 0.04)
			cams := splat.OrbitCameras(tt.views, 2.2, -20, 50, tt.w, tt.h)
			opt := splat.RenderOptions{Background: tt.bg, Mode: tt.mode, SHDegree: -1}
			got, tm, err := d.RenderTimed(ctx, c, cams, opt)
			if err != nil {
				t.Fatal(err)
			}
			want, err := splat.RenderBatch(ctx, c, cams, opt)
			if err != nil {
				t.Fatal(err)
			}
			checkImages(t, got, want, 45, "the embedded kernels")
			t.Logf("%d instances, %.3f ms device", tm.Instances, tm.DeviceMs)
		})
	}
}

// TestValidatorPreset renders the validator's 16 views (gsplat, SH 0,
// white) of a 30k cloud and compares with the CPU.
func TestValidatorPreset(t *testing.T) {
	d := openDevice(t)
	ctx := context.Background()
	c := randomCloud(7, 30000, 0, 0.5, 0.02)
	cams := splat.ValidatorCameras()
	opt := splat.RenderOptions{Background: [3]float32{1, 1, 1}, Mode: splat.ModeGsplat, SHDegree: 0}
	got, err := d.Render(ctx, c, cams, opt)
	if err != nil {
		t.Fatal(err)
	}
	want, err := splat.RenderBatch(ctx, c, cams, opt)
	if err != nil {
		t.Fatal(err)
	}
	worst := math.Inf(1)
	for v := range cams {
		worst = min(worst, psnr(got[v].RGB, want[v].RGB))
	}
	t.Logf("worst view RGB PSNR %.1f dB", worst)
	if worst < 45 {
		t.Errorf("worst view PSNR %.1f dB, want ≥ 45", worst)
	}
	// The score stage's render: no depth comes back, the rest is the same.
	opt.SkipDepth = true
	skip, err := d.Render(ctx, c, cams, opt)
	if err != nil {
		t.Fatal(err)
	}
	for v := range cams {
		if skip[v].Depth != nil || !gocmp.Equal(skip[v].RGB, got[v].RGB) || !gocmp.Equal(skip[v].Alpha, got[v].Alpha) {
			t.Fatalf("view %d with SkipDepth: depth %d values, same RGB %v, same alpha %v: want no depth, the same RGB and alpha",
				v, len(skip[v].Depth), gocmp.Equal(skip[v].RGB, got[v].RGB), gocmp.Equal(skip[v].Alpha, got[v].Alpha))
		}
	}
}

// TestFallbackKernelsLoad forces each fallback of the loader (the path
// for drivers older than the embedded PTX's ISA): the kernels compiled at
// run time by the machine's NVRTC for the device's architecture, and the
// embedded PTX with its .version lowered to 7.0. Each must load and render
// like the CPU.
func TestFallbackKernelsLoad(t *testing.T) {
	tests := []struct {
		source, wantPrefix string
	}{
		{sourceNVRTC, "NVRTC "},
		{sourceLowered, "lowered PTX 7.0"},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			forceSource = tt.source
			d := openDevice(t)
			forceSource = sourceAuto
			t.Logf("kernels: %s", d.PTXVariant())
			if !strings.HasPrefix(d.PTXVariant(), tt.wantPrefix) {
				t.Fatalf("variant %q, want %q…", d.PTXVariant(), tt.wantPrefix)
			}
			ctx := context.Background()
			c := randomCloud(3, 2000, 1, 0.6, 0.04)
			cams := splat.OrbitCameras(2, 2.2, -20, 50, 128, 96)
			opt := splat.RenderOptions{Mode: splat.ModeClassic, SHDegree: -1}
			got, err := d.Render(ctx, c, cams, opt)
			if err != nil {
				t.Fatal(err)
			}
			want, err := splat.RenderBatch(ctx, c, cams, opt)
			if err != nil {
				t.Fatal(err)
			}
			checkImages(t, got, want, 45, d.PTXVariant())
		})
	}
}

// TestEmbeddedKernelsLoad: on a current driver the embedded PTX loads as is.
func TestEmbeddedKernelsLoad(t *testing.T) {
	d := openDevice(t)
	t.Logf("kernels: %s (driver CUDA %s)", d.PTXVariant(), d.Info().DriverString())
	if d.PTXVariant() != "embedded PTX 7.8" {
		t.Errorf("variant %q, want the embedded PTX 7.8", d.PTXVariant())
	}
}

// TestCentreFirst checks the raster blocks' tile order: a permutation of
// every (view, tile), nearest the image centre first, views interleaved.
func TestCentreFirst(t *testing.T) {
	t.Parallel()
	if diff := gocmp.Diff([]uint32{1, 7, 4, 10, 0, 6, 2, 8, 3, 9, 5, 11}, centreFirst(2, 3, 2)); diff != "" {
		t.Errorf("2 views of 3×2 tiles (-want +got):\n%s", diff)
	}
	got := centreFirst(16, 33, 33)
	seen := make([]bool, len(got))
	for _, x := range got {
		if int(x) >= len(seen) || seen[x] {
			t.Fatalf("16 views of 33×33: %d out of range or twice", x)
		}
		seen[x] = true
	}
	if len(got) != 16*33*33 || got[0] != 16*33+16 {
		t.Errorf("16 views of 33×33: %d entries starting %d, want %d starting %d", len(got), got[0], 16*33*33, 16*33+16)
	}
}
