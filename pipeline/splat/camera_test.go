package splat

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func project3(c Camera, p [3]float64) (u, v, z float64) {
	var x [3]float64
	for i := range 3 {
		x[i] = c.R[3*i]*p[0] + c.R[3*i+1]*p[1] + c.R[3*i+2]*p[2] + c.T[i]
	}
	return c.Fx*x[0]/x[2] + c.Cx, c.Fy*x[1]/x[2] + c.Cy, x[2]
}

func TestFocalFromFOV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		size int
		fov  float64
		want float64
	}{
		{518, 90, 259},
		{518, 49.1, 518 / (2 * math.Tan(49.1*math.Pi/360))},
		{100, 60, 50 * math.Sqrt(3)},
	}
	for _, tt := range tests {
		if got := FocalFromFOV(tt.size, tt.fov); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("FocalFromFOV(%d, %v) = %v, want %v", tt.size, tt.fov, got, tt.want)
		}
	}
}

func TestLookAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		eye, target   [3]float64
		up            [3]float64
		right, downPt [3]float64 // a point that must land right of / below the centre
	}{
		{"from +Z", [3]float64{0, 0, 3}, [3]float64{}, [3]float64{0, 1, 0}, [3]float64{1, 0, 0}, [3]float64{0, -1, 0}},
		{"from +X", [3]float64{3, 0, 0}, [3]float64{}, [3]float64{0, 1, 0}, [3]float64{0, 0, -1}, [3]float64{0, -1, 0}},
		{"from above, up parallel", [3]float64{0, 3, 0}, [3]float64{}, [3]float64{0, 1, 0}, [3]float64{}, [3]float64{}},
		{"off-centre target", [3]float64{1, 2, 3}, [3]float64{0.5, -0.2, 0.1}, [3]float64{0, 1, 0}, [3]float64{}, [3]float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := LookAt(tt.eye, tt.target, tt.up, 64, 48, 60)
			if diff := cmp.Diff(tt.eye, c.Position(), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("Position() (-want +got):\n%s", diff)
			}
			// R is a rotation: R Rᵀ = I and det = +1.
			for i := range 3 {
				for j := range 3 {
					d := c.R[3*i]*c.R[3*j] + c.R[3*i+1]*c.R[3*j+1] + c.R[3*i+2]*c.R[3*j+2]
					if want := b2f(i == j); math.Abs(d-want) > 1e-12 {
						t.Errorf("(R Rᵀ)[%d][%d] = %v", i, j, d)
					}
				}
			}
			if det := dot3(cross3([3]float64(c.R[0:3]), [3]float64(c.R[3:6])), [3]float64(c.R[6:9])); math.Abs(det-1) > 1e-12 {
				t.Errorf("det R = %v", det)
			}
			u, v, z := project3(c, tt.target)
			if math.Abs(u-32) > 1e-9 || math.Abs(v-24) > 1e-9 || z <= 0 {
				t.Errorf("target projects to (%v, %v) at depth %v, want the image centre in front", u, v, z)
			}
			if tt.right != ([3]float64{}) {
				if u, _, _ := project3(c, tt.right); u <= 32 {
					t.Errorf("%v projects to u=%v, want right of centre", tt.right, u)
				}
				if _, v, _ := project3(c, tt.downPt); v <= 24 {
					t.Errorf("%v projects to v=%v, want below centre (OpenCV y down)", tt.downPt, v)
				}
			}
			if want := FocalFromFOV(48, 60); c.Fx != want || c.Fy != want {
				t.Errorf("focal (%v, %v), want %v from the vertical fov", c.Fx, c.Fy, want)
			}
		})
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestValidatorCameras(t *testing.T) {
	t.Parallel()
	cams := ValidatorCameras()
	if len(cams) != 16 {
		t.Fatalf("%d cameras, want 16", len(cams))
	}
	f := 518 / (2 * math.Tan(49.1/2*math.Pi/180))
	for i, c := range cams {
		az := float64(i) * 24 * math.Pi / 180
		e := -15 * math.Pi / 180
		want := [3]float64{2.5 * math.Cos(e) * math.Sin(az), -2.5 * math.Sin(e), 2.5 * math.Cos(e) * math.Cos(az)}
		if diff := cmp.Diff(want, c.Position(), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
			t.Errorf("view %d position (-want +got):\n%s", i, diff)
		}
		if c.Width != 518 || c.Height != 518 || c.Cx != 259 || c.Cy != 259 || math.Abs(c.Fx-f) > 1e-12 || c.Fx != c.Fy {
			t.Errorf("view %d intrinsics %d×%d f=(%v,%v) c=(%v,%v)", i, c.Width, c.Height, c.Fx, c.Fy, c.Cx, c.Cy)
		}
		if u, v, _ := project3(c, [3]float64{}); math.Abs(u-259) > 1e-9 || math.Abs(v-259) > 1e-9 {
			t.Errorf("view %d: origin at (%v, %v), want (259, 259)", i, u, v)
		}
		// World +Y must point to the image top.
		if _, v, _ := project3(c, [3]float64{0, 0.5, 0}); v >= 259 {
			t.Errorf("view %d: +Y projects below the centre (v=%v)", i, v)
		}
	}
	if cams[0].Position()[1] <= 0 {
		t.Errorf("elevation −15° must put the camera on +Y, got %v", cams[0].Position())
	}
	if diff := cmp.Diff(cams[0], cams[15], cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("azimuths 0 and 360 should coincide (-0 +15):\n%s", diff)
	}
}

func TestOrbitCameras(t *testing.T) {
	t.Parallel()
	cams := OrbitCameras(8, 2, -15, 49.1, 64, 64)
	for i, c := range cams {
		p := c.Position()
		want := OrbitPosition(2, 45*float64(i), -15)
		if diff := cmp.Diff(want, p, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
			t.Errorf("view %d (-want +got):\n%s", i, diff)
		}
		for j := range i {
			q := cams[j].Position()
			if math.Hypot(p[0]-q[0], p[2]-q[2]) < 1e-6 {
				t.Errorf("views %d and %d coincide", i, j)
			}
		}
	}
}

func TestNormalizeForValidator(t *testing.T) {
	t.Parallel()
	c := NewCloud(3, 0)
	copy(c.Pos, []float32{0, 0, 0, 3, 1, 0, 0, 2, 1}) // extent (3, 2, 1) → scaling 0.5; scalar mean 7/9
	copy(c.LogScale, []float32{0, 0, 0, -1, -1, -1, 1, 2, 3})
	copy(c.OpacityLogit, []float32{Logit(0.2), Logit(0.6), Logit(0.01)})
	NormalizeForValidator(c)
	mean := float32(7.0 / 9)
	wantPos := []float32{-mean / 2, -mean / 2, -mean / 2, (3 - mean) / 2, (1 - mean) / 2, -mean / 2, -mean / 2, (2 - mean) / 2, (1 - mean) / 2}
	ln := float32(math.Log(0.5))
	wantLS := []float32{ln, ln, ln, -1 + ln, -1 + ln, -1 + ln, 1 + ln, 2 + ln, 3 + ln}
	approx := cmpopts.EquateApprox(1e-5, 1e-6)
	if diff := cmp.Diff(wantPos, c.Pos, approx); diff != "" {
		t.Errorf("positions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantLS, c.LogScale, approx); diff != "" {
		t.Errorf("log scales (-want +got):\n%s", diff)
	}
	// Opacity ×(1/0.5), clipped at 1.
	got := []float32{c.Opacity(0), c.Opacity(1), c.Opacity(2)}
	if diff := cmp.Diff([]float32{0.4, 1, 0.02}, got, cmpopts.EquateApprox(1e-4, 1e-5)); diff != "" {
		t.Errorf("opacities (-want +got):\n%s", diff)
	}
	// Degenerate clouds are left alone.
	one := NewCloud(1, 0)
	one.Pos[0] = 5
	NormalizeForValidator(one)
	NormalizeForValidator(NewCloud(0, 0))
	if one.Pos[0] != 5 {
		t.Errorf("a zero-extent cloud was changed: %v", one.Pos)
	}
}
