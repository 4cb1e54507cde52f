package fit

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// shC0 is the degree-0 SH constant: RGB = 0.5 + shC0·dc.
const shC0 = 0.28209479177387814

// initOpacity is DreamGaussian's initial opacity.
const initOpacity = 0.1

// minSqDist floors the k-NN mean squared distance, as 3DGS does
// (clamp_min(distCUDA2, 1e-7)), so coincident points get a finite scale.
const minSqDist = 1e-7

// initSphere is DreamGaussian's random-blob initialisation: n Gaussians
// uniform in a ball of the given radius (r = radius·∛u, uniform direction),
// SH DC uniform in [0, 1/255) per channel (colour ≈ 0.5 grey, as
// DreamGaussian's random shs/255), higher SH bands zero, opacity 0.1,
// identity rotation and an isotropic scale of
// √(mean squared distance to the 3 nearest neighbours).
func initSphere(n int, radius float64, shDegree int, rng *rand.Rand) *splat.Cloud {
	c := splat.NewCloud(n, shDegree)
	for i := range n {
		p := randInBall(rng, radius)
		c.Pos[3*i], c.Pos[3*i+1], c.Pos[3*i+2] = float32(p[0]), float32(p[1]), float32(p[2])
		k := c.K()
		for ch := range 3 {
			c.SH[3*k*i+ch] = rng.Float32() / 255
		}
	}
	finishInit(c)
	return c
}

// randInBall returns a point uniform in the ball of radius r at the origin.
func randInBall(rng *rand.Rand, r float64) [3]float64 {
	for {
		d := [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		l := math.Sqrt(d[0]*d[0] + d[1]*d[1] + d[2]*d[2])
		if l < 1e-12 {
			continue
		}
		s := r * math.Cbrt(rng.Float64()) / l
		return [3]float64{d[0] * s, d[1] * s, d[2] * s}
	}
}

// finishInit sets opacity, rotation and k-NN scales of an initial cloud
// whose positions and colours are set.
func finishInit(c *splat.Cloud) {
	logit := splat.Logit(initOpacity)
	d2 := knnMeanSqDist(c.Pos, 3)
	for i := range c.Len() {
		c.OpacityLogit[i] = logit
		c.Rot[4*i], c.Rot[4*i+1], c.Rot[4*i+2], c.Rot[4*i+3] = 1, 0, 0, 0
		ls := float32(0.5 * math.Log(math.Max(d2[i], minSqDist)))
		c.LogScale[3*i], c.LogScale[3*i+1], c.LogScale[3*i+2] = ls, ls, ls
	}
}

// maskThreshold is the alpha above which a pixel counts as object.
const maskThreshold = 0.5

// maskAttemptsPerPoint bounds the rejection sampling of initMask.
const maskAttemptsPerPoint = 200

// errEmptyHull is returned when no candidate point lands inside every mask.
var errEmptyHull = errors.New("fit: mask init: no point of the init sphere projects inside every view's mask")

// initMask carves the views' masks out of the init ball (a visual hull):
// candidate points are drawn uniformly in the ball of the given radius and
// kept only if, in every view, they lie in front of the camera (z > 0.2),
// project inside the image, and land on a pixel whose alpha is ≥ 0.5 (the
// pixel containing the projection; pixel (i, j) covers [i, i+1)×[j, j+1)).
// With one view this is the mask back-projected over the depth range that
// the ball covers along each ray. Each kept point takes the straight colour
// of its pixel in view 0 (the reference view) as its SH DC; opacity,
// rotation and scale are as in initSphere.
//
// At most 200·n candidates are drawn; if fewer than n are kept the cloud
// is smaller (densification grows it). No kept point at all is an error.
func initMask(views []View, n int, radius float64, shDegree int, rng *rand.Rand) (*splat.Cloud, error) {
	if len(views) == 0 {
		return nil, fmt.Errorf("fit: mask init: no views")
	}
	pos := make([]float32, 0, 3*n)
	col := make([]float32, 0, 3*n)
	for range maskAttemptsPerPoint * n {
		if len(pos) == 3*n {
			break
		}
		p := randInBall(rng, radius)
		ref := -1
		for vi, v := range views {
			pix, ok := maskPixel(v, p)
			if !ok {
				ref = -1
				break
			}
			if vi == 0 {
				ref = pix
			}
		}
		if ref < 0 {
			continue
		}
		pos = append(pos, float32(p[0]), float32(p[1]), float32(p[2]))
		col = append(col, views[0].RGB[3*ref:3*ref+3]...)
	}
	m := len(pos) / 3
	if m == 0 {
		return nil, errEmptyHull
	}
	c := splat.NewCloud(m, shDegree)
	copy(c.Pos, pos)
	k := c.K()
	for i := range m {
		for ch := range 3 {
			c.SH[3*k*i+ch] = (col[3*i+ch] - 0.5) / shC0
		}
	}
	finishInit(c)
	return c, nil
}

// maskPixel projects world point p into view v and returns the index of
// the pixel it lands on if that pixel's alpha is ≥ maskThreshold.
func maskPixel(v View, p [3]float64) (int, bool) {
	cam := v.Camera
	r, t := cam.R, cam.T
	x := r[0]*p[0] + r[1]*p[1] + r[2]*p[2] + t[0]
	y := r[3]*p[0] + r[4]*p[1] + r[5]*p[2] + t[1]
	z := r[6]*p[0] + r[7]*p[1] + r[8]*p[2] + t[2]
	if z <= 0.2 {
		return 0, false
	}
	u := math.Floor(cam.Fx*x/z + cam.Cx)
	w := math.Floor(cam.Fy*y/z + cam.Cy)
	if u < 0 || w < 0 || u >= float64(cam.Width) || w >= float64(cam.Height) {
		return 0, false
	}
	pix := int(w)*cam.Width + int(u)
	return pix, v.Alpha[pix] >= maskThreshold
}

// initFrom returns a copy of init at SH degree shDegree (higher bands
// dropped or added as zero).
func initFrom(init *splat.Cloud, shDegree int) *splat.Cloud {
	if init.SHDegree == shDegree {
		return init.Clone()
	}
	n := init.Len()
	c := splat.NewCloud(n, shDegree)
	copy(c.Pos, init.Pos)
	copy(c.LogScale, init.LogScale)
	copy(c.Rot, init.Rot)
	copy(c.OpacityLogit, init.OpacityLogit)
	ki, kc := init.K(), c.K()
	for i := range n {
		copy(c.SH[3*kc*i:3*kc*i+3*min(ki, kc)], init.SH[3*ki*i:3*ki*i+3*min(ki, kc)])
	}
	return c
}
