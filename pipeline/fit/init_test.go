package fit

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/splatbench/splatbench/pipeline/splat"
)

func bruteKNN(pos []float32, k int) []float64 {
	n := len(pos) / 3
	out := make([]float64, n)
	for i := range n {
		var d []float64
		for j := range n {
			if j == i {
				continue
			}
			dx := float64(pos[3*j] - pos[3*i])
			dy := float64(pos[3*j+1] - pos[3*i+1])
			dz := float64(pos[3*j+2] - pos[3*i+2])
			d = append(d, dx*dx+dy*dy+dz*dz)
		}
		slices.Sort(d)
		d = d[:min(k, len(d))]
		s := 0.0
		for _, v := range d {
			s += v
		}
		if len(d) > 0 {
			out[i] = s / float64(len(d))
		}
	}
	return out
}

func TestKNNMatchesBruteForce(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 11))
	flat := make([]float32, 3*200)
	for i := range 200 {
		flat[3*i], flat[3*i+1] = r.Float32(), r.Float32()
	}
	line := make([]float32, 3*50)
	for i := range 50 {
		line[3*i+2] = float32(i*i) * 0.01
	}
	clustered := make([]float32, 3*300)
	for i := range 300 {
		off := float32(0)
		if i%2 == 0 {
			off = 100
		}
		for a := range 3 {
			clustered[3*i+a] = off + float32(r.NormFloat64())*0.01
		}
	}
	tests := []struct {
		name string
		pos  []float32
	}{
		{"empty", nil},
		{"one", []float32{1, 2, 3}},
		{"two", []float32{0, 0, 0, 3, 4, 0}},
		{"duplicates", []float32{1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1}},
		{"uniform ball", initSphere(500, 0.5, 0, r).Pos},
		{"flat", flat},
		{"line", line},
		{"two far clusters", clustered},
	}
	for _, tc := range tests {
		got := knnMeanSqDist(tc.pos, 3)
		want := bruteKNN(tc.pos, 3)
		if len(got) != len(want) {
			t.Fatalf("%s: %d results, want %d", tc.name, len(got), len(want))
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-9*math.Max(1, want[i]) {
				t.Errorf("%s: point %d: %g, want %g", tc.name, i, got[i], want[i])
				break
			}
		}
	}
}

func TestInitSphere(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	c := initSphere(4000, 0.5, 1, r)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 4000 || c.SHDegree != 1 {
		t.Fatalf("len %d degree %d", c.Len(), c.SHDegree)
	}
	inner := 0
	k := c.K()
	for i := range c.Len() {
		p := c.Pos[3*i : 3*i+3]
		rad := math.Sqrt(float64(p[0]*p[0] + p[1]*p[1] + p[2]*p[2]))
		if rad > 0.5 {
			t.Fatalf("point %d at radius %v > 0.5", i, rad)
		}
		if rad < 0.25 {
			inner++
		}
		if o := c.Opacity(i); math.Abs(float64(o)-0.1) > 1e-6 {
			t.Fatalf("opacity %v, want 0.1", o)
		}
		for ch := range 3 {
			dc := c.SH[3*k*i+ch]
			if dc < 0 || dc >= 1.0/255 {
				t.Fatalf("DC %v outside [0, 1/255)", dc)
			}
			for j := 1; j < k; j++ {
				if c.SH[3*(k*i+j)+ch] != 0 {
					t.Fatal("higher SH band not zero")
				}
			}
		}
		if l := c.LogScale[3*i : 3*i+3]; l[0] != l[1] || l[1] != l[2] {
			t.Fatalf("scale not isotropic: %v", l)
		}
	}
	// Uniform in volume: P(r < R/2) = 1/8.
	if f := float64(inner) / 4000; math.Abs(f-0.125) > 0.03 {
		t.Errorf("fraction inside half radius %v, want ≈ 0.125", f)
	}
	// k-NN scale ≈ spacing: for 4000 points in a 0.5 ball, (V/n)^(1/3) ≈ 0.03.
	if s := math.Exp(float64(c.LogScale[0])); s < 0.005 || s > 0.1 {
		t.Errorf("initial scale %v, want about the point spacing", s)
	}
}

// diskView is a w×w view from cam whose alpha is 1 inside a disk of radius
// rad pixels around the centre, coloured (0.8, 0.2, 0.4).
func diskView(cam splat.Camera, rad float64) View {
	w, h := cam.Width, cam.Height
	v := View{Camera: cam, RGB: make([]float32, 3*w*h), Alpha: make([]float32, w*h)}
	for y := range h {
		for x := range w {
			dx, dy := float64(x)+0.5-float64(w)/2, float64(y)+0.5-float64(h)/2
			if dx*dx+dy*dy <= rad*rad {
				p := y*w + x
				v.Alpha[p] = 1
				v.RGB[3*p], v.RGB[3*p+1], v.RGB[3*p+2] = 0.8, 0.2, 0.4
			}
		}
	}
	return v
}

func TestInitMask(t *testing.T) {
	t.Parallel()
	cams := splat.OrbitCameras(3, 2.5, -15, 49.1, 40, 40)
	views := make([]View, len(cams))
	for i, c := range cams {
		views[i] = diskView(c, 6)
	}
	r := rand.New(rand.NewPCG(3, 4))
	c, err := initMask(views, 300, 0.5, 0, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 300 {
		t.Fatalf("got %d Gaussians, want 300", c.Len())
	}
	for i := range c.Len() {
		p := [3]float64{float64(c.Pos[3*i]), float64(c.Pos[3*i+1]), float64(c.Pos[3*i+2])}
		for vi, v := range views {
			if _, ok := maskPixel(v, p); !ok {
				t.Fatalf("Gaussian %d at %v is outside view %d's mask", i, p, vi)
			}
		}
		for ch, want := range []float32{0.8, 0.2, 0.4} {
			if got := 0.5 + shC0*c.SH[3*i+ch]; math.Abs(float64(got-want)) > 1e-5 {
				t.Fatalf("Gaussian %d channel %d colour %v, want %v", i, ch, got, want)
			}
		}
	}

	// An empty mask cannot be carved.
	empty := diskView(cams[0], 0)
	if _, err := initMask([]View{empty}, 10, 0.5, 0, r); !errors.Is(err, errEmptyHull) {
		t.Errorf("empty mask: err = %v, want errEmptyHull", err)
	}
}
