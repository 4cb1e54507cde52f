//go:build gpu

package cuda

import (
	"flag"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

var ptxDirFlag = flag.String("ptxdir", "", "load kernels/*.ptx from this folder instead of the embedded PTX")

func TestMain(m *testing.M) {
	flag.Parse()
	ptxDir = *ptxDirFlag
	os.Exit(m.Run())
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openDevice opens GPU 0; under the gpu tag a missing device is a failure.
func openDevice(tb testing.TB) *Device {
	tb.Helper()
	d, err := Open(0, quietLog())
	if err != nil {
		tb.Fatalf("Open(0): %v", err)
	}
	tb.Cleanup(func() {
		if err := d.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return d
}

// randomCloud makes n Gaussians in a cube of half-side ext, sizes around
// size·ext, random rotations, opacities in (0.05, 0.95) and SH colours
// with small higher bands.
func randomCloud(seed uint64, n, deg int, ext, size float64) *splat.Cloud {
	rng := rand.New(rand.NewPCG(seed, 9))
	c := splat.NewCloud(n, deg)
	k := c.K()
	for i := range n {
		for a := range 3 {
			c.Pos[3*i+a] = float32(ext * (2*rng.Float64() - 1))
			c.LogScale[3*i+a] = float32(math.Log(size * ext * (0.3 + rng.Float64())))
		}
		for a := range 4 {
			c.Rot[4*i+a] = float32(rng.NormFloat64())
		}
		c.OpacityLogit[i] = splat.Logit(float32(0.05 + 0.9*rng.Float64()))
		for j := range 3 * k {
			s := 0.15
			if j < 3 {
				s = 1.2
			}
			c.SH[3*k*i+j] = float32(s * rng.NormFloat64())
		}
	}
	return c
}

// psnr compares two float buffers as images in [0, 1].
func psnr(a, b []float32) float64 {
	var se float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		se += d * d
	}
	mse := se / float64(len(a))
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(1/mse)
}

// relErr is ‖a − b‖ / ‖b‖.
func relErr(a, b []float32) float64 {
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// checkGrads compares every gradient group of got with want by relative L2
// error and fails those above tol; what names the reference in messages.
func checkGrads(t *testing.T, got, want *splat.Grads, tol float64, what string) {
	t.Helper()
	for _, g := range []struct {
		name      string
		got, want []float32
	}{
		{"pos", got.Pos, want.Pos}, {"logScale", got.LogScale, want.LogScale}, {"rot", got.Rot, want.Rot},
		{"opacity", got.OpacityLogit, want.OpacityLogit}, {"sh", got.SH, want.SH}, {"meanNDC", got.MeanNDC, want.MeanNDC},
	} {
		e := relErr(g.got, g.want)
		t.Logf("%-8s relative error %.2e against %s", g.name, e, what)
		if e > tol {
			t.Errorf("%s: relative error %.2e against %s > %.0e", g.name, e, what, tol)
		}
	}
}

// checkImages compares each view's RGB and alpha with want by PSNR and
// fails views below minDB; what names the device side in messages.
func checkImages(t *testing.T, got, want []*splat.Image, minDB float64, what string) {
	t.Helper()
	for v := range want {
		pr, pa := psnr(got[v].RGB, want[v].RGB), psnr(got[v].Alpha, want[v].Alpha)
		t.Logf("view %d: RGB %.1f dB, alpha %.1f dB (%s)", v, pr, pa, what)
		if pr < minDB || pa < minDB {
			t.Errorf("view %d: PSNR RGB %.1f dB, alpha %.1f dB with %s, want ≥ %.0f", v, pr, pa, what, minDB)
		}
	}
}

// randomUpstream draws dL/dRGB and dL/dα for views images of npix pixels,
// uniform in [−1, 1), view by view (RGB, then alpha).
func randomUpstream(rng *rand.Rand, views, npix int) (dRGB, dA [][]float32) {
	dRGB, dA = make([][]float32, views), make([][]float32, views)
	for v := range views {
		dRGB[v], dA[v] = make([]float32, 3*npix), make([]float32, npix)
		for j := range dRGB[v] {
			dRGB[v][j] = float32(2*rng.Float64() - 1)
		}
		for j := range dA[v] {
			dA[v][j] = float32(2*rng.Float64() - 1)
		}
	}
	return dRGB, dA
}
