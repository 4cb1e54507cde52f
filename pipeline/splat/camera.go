package splat

import "math"

// Camera is a pinhole camera in the OpenCV convention (x right, y down,
// z forward). A world point p maps to camera space as x_cam = R·p + T and to
// pixel coordinates (Fx·x/z + Cx, Fy·y/z + Cy), where pixel (i, j) covers
// [i, i+1)×[j, j+1) and is sampled at its centre (i+0.5, j+0.5).
type Camera struct {
	Width, Height  int
	Fx, Fy, Cx, Cy float64
	R              [9]float64 // world-to-camera rotation, row-major
	T              [3]float64
}

// Position returns the camera centre in world coordinates, −Rᵀ·T.
func (c Camera) Position() [3]float64 {
	r, t := c.R, c.T
	return [3]float64{
		-(r[0]*t[0] + r[3]*t[1] + r[6]*t[2]),
		-(r[1]*t[0] + r[4]*t[1] + r[7]*t[2]),
		-(r[2]*t[0] + r[5]*t[1] + r[8]*t[2]),
	}
}

// FocalFromFOV returns the focal length in pixels for an image side of
// sizePx pixels spanning fovDeg degrees: size/(2·tan(fov/2)).
func FocalFromFOV(sizePx int, fovDeg float64) float64 {
	return float64(sizePx) / (2 * math.Tan(fovDeg*math.Pi/360))
}

// LookAt builds a camera at eye looking at target with the given up vector.
// It forms the OpenGL look-at basis (right = forward × up, true up =
// right × forward, back = −forward) and converts it to OpenCV by negating
// camera axes 1 and 2, so the rows of R are (right, −up, forward). The focal
// length comes from the vertical field of view (square pixels) and the
// principal point is the image centre (w/2, h/2). If up is parallel to the
// viewing direction, a perpendicular up is substituted.
func LookAt(eye, target, up [3]float64, w, h int, fovYDeg float64) Camera {
	f := norm3(sub3(target, eye))
	s := cross3(f, up)
	if dot3(s, s) < 1e-18 {
		alt := [3]float64{0, 0, 1}
		if math.Abs(f[2]) > 0.9 {
			alt = [3]float64{1, 0, 0}
		}
		s = cross3(f, alt)
	}
	s = norm3(s)
	u := cross3(s, f)
	c := Camera{
		Width: w, Height: h,
		Cx: float64(w) / 2, Cy: float64(h) / 2,
		R: [9]float64{s[0], s[1], s[2], -u[0], -u[1], -u[2], f[0], f[1], f[2]},
	}
	c.Fy = FocalFromFOV(h, fovYDeg)
	c.Fx = c.Fy
	for i := range 3 {
		c.T[i] = -(c.R[3*i]*eye[0] + c.R[3*i+1]*eye[1] + c.R[3*i+2]*eye[2])
	}
	return c
}

// OrbitPosition is the validator's camera position formula for azimuth a and
// elevation e (degrees) at radius r: (r·cos e·sin a, −r·sin e, r·cos e·cos a).
// A negative elevation puts the camera above the XZ plane (on +Y).
func OrbitPosition(r, azimuthDeg, elevationDeg float64) [3]float64 {
	a, e := azimuthDeg*math.Pi/180, elevationDeg*math.Pi/180
	return [3]float64{r * math.Cos(e) * math.Sin(a), -r * math.Sin(e), r * math.Cos(e) * math.Cos(a)}
}

// OrbitCameras returns n cameras on the validator's orbit (same position
// formula and look-at as ValidatorCameras) with azimuths 360·i/n, i.e. n
// distinct angles that do not duplicate 0° and 360°.
func OrbitCameras(n int, radius, elevationDeg, fovYDeg float64, w, h int) []Camera {
	cams := make([]Camera, n)
	for i := range cams {
		az := 360 * float64(i) / float64(n)
		cams[i] = LookAt(OrbitPosition(radius, az, elevationDeg), [3]float64{}, [3]float64{0, 1, 0}, w, h, fovYDeg)
	}
	return cams
}

// The subnet-17 validator's render preset (docs/protocol.md §3.2).
const (
	ValidatorViews     = 16
	ValidatorSize      = 518
	ValidatorRadius    = 2.5
	ValidatorFOVDeg    = 49.1
	ValidatorElevation = -15.0
	ValidatorExtent    = 1.5
)

// ValidatorCameras returns the validator's 16 views exactly: 518×518 px,
// radius 2.5, vertical fov 49.1°, elevation −15° (camera above the object),
// azimuths linspace(0, 360, 16) — both 0° and 360° are included, so views 0
// and 15 coincide up to rounding — fx = fy = 518/(2·tan(fov/2)) and principal
// point (259, 259). Render them with ModeGsplat, SH degree 0 and a white
// background to reproduce the validator.
//
// Orientation (checked by TestValidatorOrientation): world +Y is toward the
// image top, and from azimuth 0 (camera on +Z looking toward −Z) world +X is
// on the image right.
func ValidatorCameras() []Camera {
	cams := make([]Camera, ValidatorViews)
	for i := range cams {
		az := 360 * float64(i) / float64(ValidatorViews-1)
		c := LookAt(OrbitPosition(ValidatorRadius, az, ValidatorElevation), [3]float64{}, [3]float64{0, 1, 0},
			ValidatorSize, ValidatorSize, ValidatorFOVDeg)
		c.Fx = FocalFromFOV(ValidatorSize, ValidatorFOVDeg)
		c.Fy = c.Fx
		c.Cx, c.Cy = ValidatorSize/2, ValidatorSize/2
		cams[i] = c
	}
	return cams
}

func sub3(a, b [3]float64) [3]float64 { return [3]float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func dot3(a, b [3]float64) float64    { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func cross3(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
func norm3(a [3]float64) [3]float64 {
	n := math.Sqrt(dot3(a, a))
	if n == 0 {
		return a
	}
	return [3]float64{a[0] / n, a[1] / n, a[2] / n}
}
