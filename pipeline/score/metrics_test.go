package score

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func randImage(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

func constImage(n int, v float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = v
	}
	return x
}

func TestPSNR(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	img := randImage(r, 300)
	tests := []struct {
		name    string
		a, b    []float32
		want    float64
		wantErr bool
	}{
		{"identical", img, img, MaxPSNR, false},
		{"mse 0.01 is 20 dB", constImage(12, 0.5), constImage(12, 0.6), 20, false},
		{"mse 1 is 0 dB", constImage(5, 0), constImage(5, 1), 0, false},
		{"mse 1e-4 is 40 dB", constImage(7, 0.25), constImage(7, 0.26), 40, false},
		{"length mismatch", constImage(3, 0), constImage(4, 0), 0, true},
		{"empty", nil, nil, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := PSNR(tc.a, tc.b)
			if tc.wantErr {
				if !errors.Is(err, ErrShape) {
					t.Fatalf("PSNR error = %v, want ErrShape", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 1e-4 {
				t.Errorf("PSNR = %v, want %v", got, tc.want)
			}
		})
	}
}

// naiveSSIM evaluates the SSIM definition directly: for every valid window
// position, Gaussian-weighted means, variances and covariance over the
// 11×11 window, per channel, averaged.
func naiveSSIM(a, b []float32, w, h, ch int) float64 {
	var g2 [SSIMWindow][SSIMWindow]float64
	var s float64
	for i := range SSIMWindow {
		for j := range SSIMWindow {
			di, dj := float64(i-5), float64(j-5)
			g2[i][j] = math.Exp(-(di*di + dj*dj) / (2 * 1.5 * 1.5))
			s += g2[i][j]
		}
	}
	c1, c2 := 0.01*0.01, 0.03*0.03
	var total float64
	var cnt int
	for c := range ch {
		for y := 0; y+SSIMWindow <= h; y++ {
			for x := 0; x+SSIMWindow <= w; x++ {
				var ma, mb float64
				for i := range SSIMWindow {
					for j := range SSIMWindow {
						k := ((y+i)*w+x+j)*ch + c
						ma += g2[i][j] / s * float64(a[k])
						mb += g2[i][j] / s * float64(b[k])
					}
				}
				var va, vb, cov float64
				for i := range SSIMWindow {
					for j := range SSIMWindow {
						k := ((y+i)*w+x+j)*ch + c
						da, db := float64(a[k])-ma, float64(b[k])-mb
						va += g2[i][j] / s * da * da
						vb += g2[i][j] / s * db * db
						cov += g2[i][j] / s * da * db
					}
				}
				total += (2*ma*mb + c1) * (2*cov + c2) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
				cnt++
			}
		}
	}
	return total / float64(cnt)
}

func TestSSIMKnownAnswers(t *testing.T) {
	t.Parallel()
	const w, h = 24, 19
	r := rand.New(rand.NewPCG(3, 4))
	img := randImage(r, w*h*3)
	inv := make([]float32, len(img))
	shift := make([]float32, len(img))
	for i, v := range img {
		inv[i] = 1 - v
		shift[i] = v*0.5 + 0.25
	}
	lum := func(x, y float64) float64 { c1 := 1e-4; return (2*x*y + c1) / (x*x + y*y + c1) }
	tests := []struct {
		name string
		a, b []float32
		want float64
		tol  float64
	}{
		{"identical", img, img, 1, 1e-12},
		{"constant 0.5 vs 0.6", constImage(w*h*3, 0.5), constImage(w*h*3, 0.6), lum(0.5, float64(float32(0.6))), 1e-9},
		{"constant 0 vs 1", constImage(w*h*3, 0), constImage(w*h*3, 1), lum(0, 1), 1e-9},
		{"black vs black", constImage(w*h*3, 0), constImage(w*h*3, 0), 1, 1e-12},
		{"inverted matches definition", img, inv, naiveSSIM(img, inv, w, h, 3), 1e-9},
		{"affine matches definition", img, shift, naiveSSIM(img, shift, w, h, 3), 1e-9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := SSIM(tc.a, tc.b, w, h, 3)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > tc.tol {
				t.Errorf("SSIM = %.12f, want %.12f", got, tc.want)
			}
		})
	}
	if s, _ := SSIM(img, inv, w, h, 3); s >= 0 {
		t.Errorf("SSIM of an image and its negative = %v, want < 0", s)
	}
}

func TestSSIMMatchesDefinitionRandom(t *testing.T) {
	t.Parallel()
	for seed := range uint64(5) {
		r := rand.New(rand.NewPCG(seed, 9))
		w, h, ch := 11+r.IntN(10), 11+r.IntN(10), 1+r.IntN(3)
		a := randImage(r, w*h*ch)
		b := make([]float32, len(a))
		for i, v := range a {
			b[i] = min(max(v+0.2*(r.Float32()-0.5), 0), 1)
		}
		got, err := SSIM(a, b, w, h, ch)
		if err != nil {
			t.Fatal(err)
		}
		if want := naiveSSIM(a, b, w, h, ch); math.Abs(got-want) > 1e-9 {
			t.Errorf("seed %d %dx%dx%d: SSIM = %.12f, definition gives %.12f", seed, w, h, ch, got, want)
		}
		back, _ := SSIM(b, a, w, h, ch)
		if math.Abs(got-back) > 1e-12 {
			t.Errorf("seed %d: SSIM not symmetric: %v vs %v", seed, got, back)
		}
	}
}

func TestSSIMMonotoneInNoise(t *testing.T) {
	t.Parallel()
	const w, h = 32, 32
	r := rand.New(rand.NewPCG(5, 6))
	img := randImage(r, w*h*3)
	noise := randImage(r, w*h*3)
	prev := 1.0
	for _, amp := range []float32{0.05, 0.1, 0.2, 0.4} {
		b := make([]float32, len(img))
		for i := range img {
			b[i] = img[i] + amp*(noise[i]-0.5)
		}
		s, err := SSIM(img, b, w, h, 3)
		if err != nil {
			t.Fatal(err)
		}
		if s >= prev {
			t.Errorf("noise %v: SSIM %v not below %v", amp, s, prev)
		}
		prev = s
	}
}

func TestSSIMErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		n, w, h, c int
	}{
		{"too narrow", 10 * 20 * 3, 10, 20, 3},
		{"too short", 20 * 10 * 3, 20, 10, 3},
		{"wrong length", 100, 11, 11, 3},
		{"no channels", 0, 11, 11, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img := make([]float32, tc.n)
			if _, err := SSIM(img, img, tc.w, tc.h, tc.c); !errors.Is(err, ErrShape) {
				t.Errorf("SSIM error = %v, want ErrShape", err)
			}
		})
	}
}

func TestMaskIoU(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		pred, truth []float32
		thr         float32
		want        float64
		wantErr     bool
	}{
		{"identical", []float32{0, 1, 1, 0}, []float32{0, 1, 1, 0}, 0.5, 1, false},
		{"disjoint", []float32{1, 0}, []float32{0, 1}, 0.5, 0, false},
		{"half", []float32{1, 1, 0, 0}, []float32{1, 0, 0, 0}, 0.5, 0.5, false},
		{"soft values thresholded", []float32{0.6, 0.4, 0.9}, []float32{0.5, 0.49, 1}, 0.5, 1, false},
		{"both empty", []float32{0, 0}, []float32{0.1, 0}, 0.5, 1, false},
		{"one third", []float32{1, 1, 1}, []float32{0, 1, 0}, 0.5, 1.0 / 3, false},
		{"mismatch", []float32{1}, []float32{1, 0}, 0.5, 0, true},
		{"empty", nil, nil, 0.5, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := MaskIoU(tc.pred, tc.truth, tc.thr)
			if (err != nil) != tc.wantErr {
				t.Fatalf("MaskIoU error = %v, wantErr %v", err, tc.wantErr)
			}
			if math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("MaskIoU = %v, want %v", got, tc.want)
			}
		})
	}
}
