package scenes

import "math"

// vec3 is a point or direction in float64.
type vec3 [3]float64

func (a vec3) add(b vec3) vec3      { return vec3{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func (a vec3) sub(b vec3) vec3      { return vec3{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func (a vec3) scale(s float64) vec3 { return vec3{a[0] * s, a[1] * s, a[2] * s} }
func (a vec3) dot(b vec3) float64   { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func (a vec3) length() float64      { return math.Sqrt(a.dot(a)) }
func (a vec3) cross(b vec3) vec3 {
	return vec3{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func (a vec3) unit() vec3 {
	n := a.length()
	if n == 0 {
		return vec3{0, 1, 0}
	}
	return a.scale(1 / n)
}

// mat3 is a row-major 3×3 matrix.
type mat3 [9]float64

var identity = mat3{1, 0, 0, 0, 1, 0, 0, 0, 1}

func (m mat3) apply(v vec3) vec3 {
	return vec3{
		m[0]*v[0] + m[1]*v[1] + m[2]*v[2],
		m[3]*v[0] + m[4]*v[1] + m[5]*v[2],
		m[6]*v[0] + m[7]*v[1] + m[8]*v[2],
	}
}

func (m mat3) mul(n mat3) mat3 {
	var r mat3
	for i := range 3 {
		for j := range 3 {
			r[3*i+j] = m[3*i]*n[j] + m[3*i+1]*n[3+j] + m[3*i+2]*n[6+j]
		}
	}
	return r
}

func deg(d float64) float64 { return d * math.Pi / 180 }

// rotX, rotY and rotZ are right-handed rotations by angle degrees.
func rotX(angle float64) mat3 {
	s, c := math.Sincos(deg(angle))
	return mat3{1, 0, 0, 0, c, -s, 0, s, c}
}

func rotY(angle float64) mat3 {
	s, c := math.Sincos(deg(angle))
	return mat3{c, 0, s, 0, 1, 0, -s, 0, c}
}

func rotZ(angle float64) mat3 {
	s, c := math.Sincos(deg(angle))
	return mat3{c, -s, 0, s, c, 0, 0, 0, 1}
}

// frameQuat returns the unit quaternion (w, x, y, z) of the rotation whose
// columns are the orthonormal right-handed frame (t1, t2, n): it maps the
// local x, y, z axes to t1, t2, n.
func frameQuat(t1, t2, n vec3) [4]float64 {
	// Rotation matrix R with columns t1, t2, n; element Rij = col j, row i.
	r00, r01, r02 := t1[0], t2[0], n[0]
	r10, r11, r12 := t1[1], t2[1], n[1]
	r20, r21, r22 := t1[2], t2[2], n[2]
	var q [4]float64
	switch tr := r00 + r11 + r22; {
	case tr > 0:
		s := 2 * math.Sqrt(tr+1)
		q = [4]float64{s / 4, (r21 - r12) / s, (r02 - r20) / s, (r10 - r01) / s}
	case r00 > r11 && r00 > r22:
		s := 2 * math.Sqrt(1+r00-r11-r22)
		q = [4]float64{(r21 - r12) / s, s / 4, (r01 + r10) / s, (r02 + r20) / s}
	case r11 > r22:
		s := 2 * math.Sqrt(1+r11-r00-r22)
		q = [4]float64{(r02 - r20) / s, (r01 + r10) / s, s / 4, (r12 + r21) / s}
	default:
		s := 2 * math.Sqrt(1+r22-r00-r11)
		q = [4]float64{(r10 - r01) / s, (r02 + r20) / s, (r12 + r21) / s, s / 4}
	}
	if q[0] < 0 { // canonical sign
		for i := range q {
			q[i] = -q[i]
		}
	}
	return q
}

// tangentFrame returns an orthonormal right-handed frame (t1, t2, n) around
// the unit normal n, spun by angle radians about n.
func tangentFrame(n vec3, angle float64) (vec3, vec3) {
	a := vec3{1, 0, 0}
	if math.Abs(n[0]) > 0.9 {
		a = vec3{0, 1, 0}
	}
	u := a.sub(n.scale(a.dot(n))).unit()
	v := n.cross(u)
	s, c := math.Sincos(angle)
	t1 := u.scale(c).add(v.scale(s))
	t2 := n.cross(t1)
	return t1, t2
}
