package generate

import "math"

// The judge's camera (runtime specification): at (0, 0.3, 3.5) looking at
// the origin, Y up, vertical fov 17.5°, square frame.
var (
	camPos                  = [3]float64{0, 0.3, 3.5}
	camFwd, camRight, camUp [3]float64
	tanHalf                 = math.Tan(17.5 / 2 * math.Pi / 180)
)

func init() {
	camFwd = norm([3]float64{-camPos[0], -camPos[1], -camPos[2]})
	camRight = norm(cross(camFwd, [3]float64{0, 1, 0}))
	camUp = cross(camRight, camFwd)
}

// toPlane maps a frame position (u, v in 0..1, v down) to the point on the
// plane z = z0 that the judge's camera sees there.
func toPlane(u, v, z0 float64) (x, y float64) {
	nx, ny := (2*u-1)*tanHalf, (1-2*v)*tanHalf
	var d [3]float64
	for i := range 3 {
		d[i] = camFwd[i] + nx*camRight[i] + ny*camUp[i]
	}
	t := (z0 - camPos[2]) / d[2]
	return camPos[0] + t*d[0], camPos[1] + t*d[1]
}

// project maps a world point to frame coordinates (u, v in 0..1, v down).
func project(p [3]float64) (u, v float64) {
	d := [3]float64{p[0] - camPos[0], p[1] - camPos[1], p[2] - camPos[2]}
	z := dot(d, camFwd)
	return 0.5 + dot(d, camRight)/(z*tanHalf)/2, 0.5 - dot(d, camUp)/(z*tanHalf)/2
}

func dot(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
func norm(a [3]float64) [3]float64 {
	l := math.Sqrt(dot(a, a))
	return [3]float64{a[0] / l, a[1] / l, a[2] / l}
}
