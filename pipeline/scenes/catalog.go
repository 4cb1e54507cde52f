package scenes

// catalog lists the built-in scenes in their fixed order. Geometry is in
// arbitrary units (about 1 across); build re-centres and rescales it.
var catalog = []struct {
	name, prompt string
	parts        func() []part
}{
	{"red-cube", "a red cube", func() []part {
		return []part{piece(box{vec3{0.5, 0.5, 0.5}}, solid(red)).turn(rotY(25))}
	}},
	{"blue-sphere", "a blue sphere", func() []part {
		return []part{piece(sphere(0.5), solid(blue))}
	}},
	{"green-torus", "a green torus", func() []part {
		return []part{piece(ring(0.35, 0.15), solid(green)).turn(rotX(55))}
	}},
	{"yellow-cone", "a yellow cone", func() []part {
		return []part{
			piece(frustum{R0: 0.45, Y0: -0.5, R1: 0, Y1: 0.5}, solid(yellow)),
			piece(disc(0.45, -0.5, true), solid(yellow)),
		}
	}},
	{"blue-mug", "a blue mug", mug},
	{"torus-on-plate", "a green torus on a white plate", func() []part {
		return []part{
			piece(disc(0.5, 0, false), solid(white)),
			piece(frustum{R0: 0.5, Y0: -0.04, R1: 0.5, Y1: 0}, solid(white)),
			piece(disc(0.5, -0.04, true), solid(white)),
			piece(ring(0.28, 0.1), solid(green)).move(0, 0.1, 0),
		}
	}},
	{"sphere-on-box", "a blue sphere on a yellow box", func() []part {
		return []part{
			piece(box{vec3{0.35, 0.25, 0.35}}, solid(yellow)).turn(rotY(20)).move(0, -0.25, 0),
			piece(sphere(0.3), solid(blue)).move(0, 0.3, 0),
		}
	}},
	{"striped-cylinder", "a striped orange cylinder", func() []part {
		return []part{
			piece(frustum{R0: 0.3, Y0: -0.5, R1: 0.3, Y1: 0.5}, stripes(orange, white, 1, 0.125)),
			piece(disc(0.3, 0.5, false), solid(orange)),
			piece(disc(0.3, -0.5, true), solid(orange)),
		}
	}},
	{"checkered-cube", "a checkered cube", func() []part {
		return []part{piece(box{vec3{0.5, 0.5, 0.5}}, checker(black, white, 0.25)).turn(rotY(-30))}
	}},
	{"snowman", "a snowman", snowman},
	{"red-mushroom", "a red mushroom", func() []part {
		capY := -0.15
		return []part{
			piece(frustum{R0: 0.12, Y0: -0.45, R1: 0.1, Y1: 0.05}, solid(cream)),
			piece(disc(0.12, -0.45, true), solid(cream)),
			piece(sphereZone{R: 0.4, Y0: 0.1, Y1: 0.4}, spots(red, white, 0.2)).move(0, capY, 0),
			piece(annulus{R0: 0.1, R1: 0.387, Y: 0.1, Down: true}, solid(cream)).move(0, capY, 0),
		}
	}},
	{"wooden-table", "a wooden table", func() []part {
		ps := []part{piece(box{vec3{0.5, 0.03, 0.32}}, wood).move(0, 0.2, 0)}
		for _, x := range []float64{-0.44, 0.44} {
			for _, z := range []float64{-0.26, 0.26} {
				ps = append(ps, piece(box{vec3{0.03, 0.22, 0.03}}, wood).move(x, -0.05, z))
			}
		}
		return ps
	}},
	{"purple-capsule", "a purple capsule", func() []part {
		return []part{
			piece(frustum{R0: 0.2, Y0: -0.3, R1: 0.2, Y1: 0.3}, solid(purple)).turn(rotZ(50)),
			piece(sphereZone{R: 0.2, Y0: 0, Y1: 0.2}, solid(purple)).move(0, 0.3, 0).turn(rotZ(50)),
			piece(sphereZone{R: 0.2, Y0: -0.2, Y1: 0}, solid(purple)).move(0, -0.3, 0).turn(rotZ(50)),
		}
	}},
	{"box-stack", "a stack of three boxes", func() []part {
		return []part{
			piece(box{vec3{0.4, 0.15, 0.4}}, solid(red)).move(0, -0.3, 0),
			piece(box{vec3{0.3, 0.12, 0.3}}, solid(green)).turn(rotY(20)).move(0, -0.03, 0),
			piece(box{vec3{0.2, 0.1, 0.2}}, solid(blue)).turn(rotY(40)).move(0, 0.19, 0),
		}
	}},
	{"lamp", "a lamp", func() []part {
		return []part{
			piece(disc(0.25, -0.5, true), solid(grey)),
			piece(frustum{R0: 0.25, Y0: -0.5, R1: 0.22, Y1: -0.44}, solid(grey)),
			piece(disc(0.22, -0.44, false), solid(grey)),
			piece(frustum{R0: 0.025, Y0: -0.44, R1: 0.025, Y1: 0.1}, solid(silver)),
			piece(sphere(0.07), solid(bulb)).move(0, 0.13, 0),
			piece(frustum{R0: 0.3, Y0: 0.02, R1: 0.17, Y1: 0.4}, solid(cream)),
			piece(frustum{R0: 0.29, Y0: 0.02, R1: 0.16, Y1: 0.4, Inward: true}, solid(cream)),
		}
	}},
	{"chess-pawn", "a chess pawn", func() []part {
		return []part{
			piece(disc(0.3, -0.5, true), solid(ebony)),
			piece(frustum{R0: 0.3, Y0: -0.5, R1: 0.3, Y1: -0.42}, solid(ebony)),
			piece(frustum{R0: 0.3, Y0: -0.42, R1: 0.2, Y1: -0.32}, solid(ebony)),
			piece(frustum{R0: 0.2, Y0: -0.32, R1: 0.09, Y1: 0.1}, solid(ebony)),
			piece(ring(0.12, 0.035), solid(ebony)).move(0, 0.1, 0),
			piece(sphereZone{R: 0.15, Y0: -0.12, Y1: 0.15}, solid(ebony)).move(0, 0.25, 0),
		}
	}},
	{"cactus-pot", "a green cactus in a terracotta pot", func() []part {
		body := ribs(green, darkGreen, 8)
		return []part{
			piece(frustum{R0: 0.22, Y0: -0.5, R1: 0.3, Y1: -0.1}, solid(terracotta)),
			piece(disc(0.22, -0.5, true), solid(terracotta)),
			piece(ring(0.3, 0.03), solid(terracotta)).move(0, -0.1, 0),
			piece(disc(0.29, -0.13, false), solid(soil)),
			piece(frustum{R0: 0.1, Y0: -0.13, R1: 0.1, Y1: 0.35}, body),
			piece(sphereZone{R: 0.1, Y0: 0, Y1: 0.1}, body).move(0, 0.35, 0),
			piece(frustum{R0: 0.05, Y0: 0, R1: 0.05, Y1: 0.14}, body).turn(rotZ(-90)).move(0.08, 0.05, 0),
			piece(frustum{R0: 0.05, Y0: 0.05, R1: 0.05, Y1: 0.25}, body).move(0.22, 0, 0),
			piece(sphereZone{R: 0.05, Y0: 0, Y1: 0.05}, body).move(0.22, 0.25, 0),
		}
	}},
	{"traffic-cone", "an orange traffic cone", func() []part {
		return []part{
			piece(box{vec3{0.35, 0.025, 0.35}}, solid(orange)).move(0, -0.475, 0),
			piece(frustum{R0: 0.22, Y0: -0.45, R1: 0.04, Y1: 0.5}, band(orange, white, -0.05, 0.15)),
			piece(disc(0.04, 0.5, false), solid(orange)),
		}
	}},
	{"pink-donut", "a pink frosted donut", func() []part {
		return []part{piece(ring(0.3, 0.14), icing(pink, dough)).turn(rotX(25))}
	}},
}

func mug() []part {
	return []part{
		piece(frustum{R0: 0.3, Y0: -0.35, R1: 0.3, Y1: 0.35}, solid(blue)),
		piece(frustum{R0: 0.27, Y0: -0.31, R1: 0.27, Y1: 0.35, Inward: true}, solid(blue)),
		piece(disc(0.3, -0.35, true), solid(blue)),
		piece(disc(0.27, -0.31, false), solid(blue)),
		piece(annulus{R0: 0.27, R1: 0.3, Y: 0.35}, solid(blue)),
		// The handle: half a ring turned into the XY plane, on the +X side.
		piece(torus{R: 0.16, T: 0.04, U0: -75, U1: 75}, solid(blue)).turn(rotX(90)).move(0.3, 0, 0),
	}
}

// cutY is the height, relative to sphere a's centre, of the plane in which
// spheres a (centre ya, radius ra) and b (above it) intersect.
func cutY(ya, ra, yb, rb float64) float64 {
	d := yb - ya
	return (d*d + ra*ra - rb*rb) / (2 * d)
}

func snowman() []part {
	const (
		y0, r0 = -0.3, 0.3
		y1, r1 = 0.12, 0.22
		y2, r2 = 0.42, 0.15
	)
	c01, c12 := cutY(y0, r0, y1, r1), cutY(y1, r1, y2, r2)
	ps := []part{
		piece(sphereZone{R: r0, Y0: -r0, Y1: c01}, solid(white)).move(0, y0, 0),
		piece(sphereZone{R: r1, Y0: y0 + c01 - y1, Y1: c12}, solid(white)).move(0, y1, 0),
		piece(sphereZone{R: r2, Y0: y1 + c12 - y2, Y1: r2}, solid(white)).move(0, y2, 0),
		piece(ring(0.14, 0.035), solid(red)).move(0, y1+c12+0.005, 0),
		// Carrot nose along +Z: the frustum's +Y axis turned onto +Z.
		piece(frustum{R0: 0.035, Y0: 0, R1: 0, Y1: 0.15}, solid(orange)).turn(rotX(90)).move(0, y2, 0.13),
	}
	for _, x := range []float64{-0.05, 0.05} {
		ps = append(ps, piece(sphere(0.025), solid(black)).move(x, y2+0.05, 0.125))
	}
	for _, b := range [][2]float64{{0.2, 0.195}, {0.1, 0.21}, {0, 0.175}} {
		ps = append(ps, piece(sphere(0.022), solid(black)).move(0, b[0], b[1]))
	}
	return ps
}
