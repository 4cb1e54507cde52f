package lift

import "math"

// outlinePoints is how many points, equally spaced along it, describe a
// non-round cross-section's outline.
const outlinePoints = 256

// outline is the shape of the level cross-sections at scale 1, in
// (right, depth) coordinates: a circle, or a superellipse
// |u|^p + |v|^p = 1 (large p: a square with rounded corners) turned about
// the vertical; either stretched by the depth scale along the depth axis.
type outline struct {
	round bool
	turn  float64                   // radians about the vertical (not round)
	ds    float64                   // depth scale
	pts   [outlinePoints][2]float64 // equally spaced along the outline (not round)
	perim float64                   // length at scale 1 (round: an upper bound)
}

// circle returns the round outline of depth scale ds.
func circle(ds float64) *outline {
	// 2π·max(1, ds) bounds the ellipse's perimeter: samples spaced by it
	// are at most a spacing apart.
	return &outline{round: true, ds: ds, perim: 2 * math.Pi * max(1, ds)}
}

// square returns the superellipse outline of exponent p turned by turn
// radians about the vertical, depth scale ds.
func square(p, turn, ds float64) *outline {
	const fine = 4096
	var raw [fine + 1][2]float64
	sn, cs := math.Sincos(turn)
	for k := range fine + 1 {
		st, ct := math.Sincos(2 * math.Pi * float64(k) / fine)
		u := math.Copysign(math.Pow(math.Abs(ct), 2/p), ct)
		v := math.Copysign(math.Pow(math.Abs(st), 2/p), st)
		raw[k] = [2]float64{u*cs - v*sn, (u*sn + v*cs) * ds}
	}
	var cum [fine + 1]float64
	for k := 1; k <= fine; k++ {
		cum[k] = cum[k-1] + math.Hypot(raw[k][0]-raw[k-1][0], raw[k][1]-raw[k-1][1])
	}
	o := &outline{turn: turn, ds: ds, perim: cum[fine]}
	j := 0
	for i := range outlinePoints {
		at := o.perim * float64(i) / outlinePoints
		for j < fine-1 && cum[j+1] < at {
			j++
		}
		f := 0.0
		if seg := cum[j+1] - cum[j]; seg > 0 {
			f = (at - cum[j]) / seg
		}
		o.pts[i] = [2]float64{raw[j][0] + f*(raw[j+1][0]-raw[j][0]), raw[j][1] + f*(raw[j+1][1]-raw[j][1])}
	}
	return o
}

// point returns the outline's point a share f (in [0, 1]) of the way
// round: (along right, along depth).
func (o *outline) point(f float64) [2]float64 {
	if o.round {
		s, c := math.Sincos(2 * math.Pi * f)
		return [2]float64{c, o.ds * s}
	}
	x := f * outlinePoints
	i := int(math.Floor(x))
	t := x - float64(i)
	a, b := o.pts[i%outlinePoints], o.pts[(i+1)%outlinePoints]
	return [2]float64{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
}
