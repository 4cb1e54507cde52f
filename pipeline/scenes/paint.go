package scenes

import "math"

// paint gives the albedo (RGB, 0..1) of a surface point from its local
// position and normal. Paints are pure functions of geometry, so textures
// are the same for every seed.
type paint func(p, n vec3) vec3

// Palette. Values are display RGB in 0..1.
var (
	red        = vec3{0.85, 0.12, 0.10}
	blue       = vec3{0.15, 0.30, 0.85}
	green      = vec3{0.15, 0.62, 0.20}
	darkGreen  = vec3{0.08, 0.40, 0.12}
	yellow     = vec3{0.95, 0.85, 0.15}
	orange     = vec3{1.00, 0.50, 0.05}
	white      = vec3{0.95, 0.95, 0.93}
	black      = vec3{0.08, 0.08, 0.08}
	purple     = vec3{0.55, 0.20, 0.75}
	pink       = vec3{0.95, 0.50, 0.68}
	cream      = vec3{0.93, 0.88, 0.72}
	dough      = vec3{0.82, 0.60, 0.32}
	terracotta = vec3{0.76, 0.38, 0.22}
	soil       = vec3{0.30, 0.20, 0.12}
	grey       = vec3{0.35, 0.35, 0.38}
	silver     = vec3{0.72, 0.72, 0.75}
	lightWood  = vec3{0.70, 0.48, 0.26}
	darkWood   = vec3{0.45, 0.27, 0.12}
	ebony      = vec3{0.14, 0.11, 0.10}
	bulb       = vec3{1.00, 0.95, 0.70}
)

func solid(c vec3) paint { return func(vec3, vec3) vec3 { return c } }

func mix(a, b vec3, t float64) vec3 { return a.scale(1 - t).add(b.scale(t)) }

// stripes alternates a and b in bands of width w along axis.
func stripes(a, b vec3, axis int, w float64) paint {
	return func(p, _ vec3) vec3 {
		if int(math.Floor(p[axis]/w))&1 == 0 {
			return a
		}
		return b
	}
}

// band paints c between heights y0 and y1 and base elsewhere.
func band(base, c vec3, y0, y1 float64) paint {
	return func(p, _ vec3) vec3 {
		if p[1] >= y0 && p[1] < y1 {
			return c
		}
		return base
	}
}

// checker is a 3D checkerboard of cells of side s; on a box face it draws a
// 2D checkerboard. The half-cell offset keeps cell borders off the faces.
func checker(a, b vec3, s float64) paint {
	return func(p, _ vec3) vec3 {
		k := 0
		for _, x := range p {
			k += int(math.Floor(x/s + 0.5))
		}
		if k&1 == 0 {
			return a
		}
		return b
	}
}

// wood is light wood with wavy darker grain running along X.
func wood(p, _ vec3) vec3 {
	g := math.Sin(60*p[2] + 6*math.Sin(7*p[0]) + 20*p[1])
	return mix(lightWood, darkWood, 0.5+0.5*g*g*g)
}

// ribs shades vertical ribs around the Y axis, as on a cactus.
func ribs(a, b vec3, count float64) paint {
	return func(p, _ vec3) vec3 {
		t := 0.5 + 0.5*math.Cos(count*math.Atan2(p[2], p[0]))
		return mix(a, b, t*t)
	}
}

// spots paints round white dots of angular radius rad at fixed directions
// on a cap centred at the origin.
func spots(base, dot vec3, rad float64) paint {
	dirs := make([]vec3, 0, 12)
	for i := range 12 { // a golden-angle spiral over the upper hemisphere
		y := 1 - (float64(i)+0.5)/12*0.9
		phi := float64(i) * 2.399963
		rho := math.Sqrt(1 - y*y)
		dirs = append(dirs, vec3{rho * math.Cos(phi), y, rho * math.Sin(phi)})
	}
	cosR := math.Cos(rad)
	return func(p, _ vec3) vec3 {
		u := p.unit()
		for _, d := range dirs {
			if u.dot(d) > cosR {
				return dot
			}
		}
		return base
	}
}

// icing paints the upper side of a torus (local normal) with a wavy edge,
// with sprinkles picked by a hash of the position cell.
func icing(top, bottom vec3) paint {
	sprinkle := []vec3{{1, 1, 1}, {0.2, 0.5, 0.95}, {1, 0.85, 0.1}, {0.3, 0.8, 0.3}}
	return func(p, n vec3) vec3 {
		u := math.Atan2(p[2], p[0])
		if n[1] < -0.15+0.12*math.Sin(7*u) {
			return bottom
		}
		h := cellHash(p, 28)
		if h%23 == 0 {
			return sprinkle[(h/23)%uint64(len(sprinkle))]
		}
		return top
	}
}

// cellHash hashes the integer cell of p at the given cells per unit.
func cellHash(p vec3, perUnit float64) uint64 {
	h := uint64(1469598103934665603)
	for _, x := range p {
		h ^= uint64(int64(math.Floor(x * perUnit)))
		h *= 1099511628211
	}
	return h ^ h>>29
}
