package scenes

import (
	"math"
	"math/rand/v2"
)

// surface is an analytic surface in its local frame (Y up) that can be
// sampled uniformly by area.
type surface interface {
	area() float64
	// sample returns a point drawn uniformly by area.
	sample(r *rand.Rand) point
}

// point is a surface sample: position, outward unit normal, and the
// distances to the surface's boundary so that Gaussians near an edge can be
// kept from overhanging it. T1 is a unit tangent (zero when the surface has
// no boundary nearby), D1 the distance to the edge along T1 and D2 along
// N×T1; both are +Inf where there is no edge that way.
type point struct {
	P, N, T1 vec3
	D1, D2   float64
}

var inf = math.Inf(1)

func closed(p, n vec3) point { return point{P: p, N: n, D1: inf, D2: inf} }

// sphereZone is the part of a sphere of radius R between heights Y0 < Y1
// (Archimedes: area is uniform in y). Y0 = −R, Y1 = R is the whole sphere.
type sphereZone struct{ R, Y0, Y1 float64 }

func sphere(r float64) sphereZone { return sphereZone{r, -r, r} }

func (s sphereZone) area() float64 { return 2 * math.Pi * s.R * (s.Y1 - s.Y0) }

func (s sphereZone) sample(r *rand.Rand) point {
	y := s.Y0 + (s.Y1-s.Y0)*r.Float64()
	phi := 2 * math.Pi * r.Float64()
	rho := math.Sqrt(max(s.R*s.R-y*y, 0))
	sn, cs := math.Sincos(phi)
	p := vec3{rho * cs, y, rho * sn}
	pt := closed(p, p.unit())
	// Cut circles: distance along the meridian (arc length).
	lat := math.Asin(min(max(y/s.R, -1), 1))
	d := inf
	if s.Y0 > -s.R {
		d = min(d, s.R*(lat-math.Asin(s.Y0/s.R)))
	}
	if s.Y1 < s.R {
		d = min(d, s.R*(math.Asin(s.Y1/s.R)-lat))
	}
	if d < inf {
		// The meridian tangent, pointing up the sphere.
		pt.T1 = vec3{-y / s.R * cs, rho / s.R, -y / s.R * sn}.unit()
		pt.D1 = d
	}
	return pt
}

// frustum is the side of a truncated cone around the Y axis: radius R0 at
// height Y0, R1 at Y1 (either may be 0; equal radii make a cylinder).
// Inward flips the normal, for the inside wall of a mug or a lamp shade.
type frustum struct {
	R0, Y0, R1, Y1 float64
	Inward         bool
}

func (f frustum) area() float64 {
	return math.Pi * (f.R0 + f.R1) * math.Hypot(f.R1-f.R0, f.Y1-f.Y0)
}

func (f frustum) sample(r *rand.Rand) point {
	rmax := max(f.R0, f.R1)
	var t, rad float64
	for { // area density ∝ radius: rejection on t
		t = r.Float64()
		rad = f.R0 + (f.R1-f.R0)*t
		if r.Float64()*rmax <= rad {
			break
		}
	}
	phi := 2 * math.Pi * r.Float64()
	sn, cs := math.Sincos(phi)
	y := f.Y0 + (f.Y1-f.Y0)*t
	// In the (radial, y) plane the side runs along (R1−R0, Y1−Y0); its
	// outward normal is (Y1−Y0, −(R1−R0)).
	nr, ny := f.Y1-f.Y0, -(f.R1 - f.R0)
	l := math.Hypot(nr, ny)
	nr, ny = nr/l, ny/l
	if f.Inward {
		nr, ny = -nr, -ny
	}
	pt := point{P: vec3{rad * cs, y, rad * sn}, N: vec3{nr * cs, ny, nr * sn}, D2: inf}
	// Along the slant toward the nearer rim; an apex (radius 0) is no rim.
	slant := math.Hypot(f.R1-f.R0, f.Y1-f.Y0)
	pt.T1 = vec3{(f.R1 - f.R0) * cs, f.Y1 - f.Y0, (f.R1 - f.R0) * sn}.scale(1 / slant)
	pt.D1 = inf
	if f.R0 > 0 {
		pt.D1 = t * slant
	}
	if f.R1 > 0 {
		pt.D1 = min(pt.D1, (1-t)*slant)
	}
	return pt
}

// annulus is a flat ring R0 ≤ ρ ≤ R1 at height Y facing +Y (Down: −Y).
type annulus struct {
	R0, R1, Y float64
	Down      bool
}

func disc(r, y float64, down bool) annulus { return annulus{0, r, y, down} }

func (a annulus) area() float64 { return math.Pi * (a.R1*a.R1 - a.R0*a.R0) }

func (a annulus) sample(r *rand.Rand) point {
	rho := math.Sqrt(a.R0*a.R0 + (a.R1*a.R1-a.R0*a.R0)*r.Float64())
	sn, cs := math.Sincos(2 * math.Pi * r.Float64())
	n := vec3{0, 1, 0}
	if a.Down {
		n = vec3{0, -1, 0}
	}
	d := a.R1 - rho
	if a.R0 > 0 {
		d = min(d, rho-a.R0)
	}
	return point{P: vec3{rho * cs, a.Y, rho * sn}, N: n, T1: vec3{cs, 0, sn}, D1: d, D2: inf}
}

// torus has its ring in the XZ plane around the Y axis: ring radius R,
// tube radius T. U0 < U1 limit the ring angle (measured from +X toward +Z)
// in degrees; 0 and 360 make the whole ring.
type torus struct{ R, T, U0, U1 float64 }

func ring(r, t float64) torus { return torus{r, t, 0, 360} }

func (t torus) area() float64 { return 4 * math.Pi * math.Pi * t.R * t.T * (t.U1 - t.U0) / 360 }

func (t torus) sample(r *rand.Rand) point {
	var v float64
	for { // area density ∝ R + T·cos v
		v = 2 * math.Pi * r.Float64()
		if r.Float64()*(t.R+t.T) <= t.R+t.T*math.Cos(v) {
			break
		}
	}
	u := deg(t.U0 + (t.U1-t.U0)*r.Float64())
	su, cu := math.Sincos(u)
	sv, cv := math.Sincos(v)
	n := vec3{cv * cu, sv, cv * su}
	return closed(vec3{(t.R + t.T*cv) * cu, t.T * sv, (t.R + t.T*cv) * su}, n)
}

// box is an axis-aligned box with half extents H centred at the origin.
type box struct{ H vec3 }

func (b box) faceArea(axis int) float64 { return 4 * b.H[(axis+1)%3] * b.H[(axis+2)%3] }

func (b box) area() float64 { return 2 * (b.faceArea(0) + b.faceArea(1) + b.faceArea(2)) }

func (b box) sample(r *rand.Rand) point {
	x := r.Float64() * b.area() / 2
	axis := 0
	for axis < 2 && x > b.faceArea(axis) {
		x -= b.faceArea(axis)
		axis++
	}
	sign := 1.0
	if r.IntN(2) == 0 {
		sign = -1
	}
	var p, n, t1 vec3
	p[axis] = sign * b.H[axis]
	n[axis] = sign
	k1, k2 := (axis+1)%3, (axis+2)%3
	p[k1] = (2*r.Float64() - 1) * b.H[k1]
	p[k2] = (2*r.Float64() - 1) * b.H[k2]
	t1[k1] = 1
	// N×T1 is ±the k2 axis, so D2 is the distance along k2.
	return point{P: p, N: n, T1: t1, D1: b.H[k1] - math.Abs(p[k1]), D2: b.H[k2] - math.Abs(p[k2])}
}
