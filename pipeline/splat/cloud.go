// Package splat owns the Gaussian cloud and everything that reads, writes,
// projects and rasterises it on the CPU: PLY and SPZ codecs, cameras, the
// tile rasteriser forward and backward pass. It is pure Go.
package splat

import (
	"errors"
	"fmt"
	"math"
)

// MaxSHDegree is the highest spherical-harmonics degree a cloud may carry.
const MaxSHDegree = 3

// SHCoeffs returns the number of SH coefficients per colour channel for a
// degree: 1, 4, 9 or 16.
func SHCoeffs(degree int) int { return (degree + 1) * (degree + 1) }

// Cloud is a set of 3D Gaussians stored as a struct of arrays, with every
// attribute kept pre-activation, exactly as the 3DGS PLY stores it.
//
// For Gaussian i:
//   - Pos[3i:3i+3] is the mean (x, y, z);
//   - LogScale[3i:3i+3] is log σ per axis (activate with exp);
//   - Rot[4i:4i+4] is a quaternion (w, x, y, z), not necessarily unit length;
//   - OpacityLogit[i] is logit(α) (activate with sigmoid);
//   - SH[i*3*K : (i+1)*3*K] holds K = SHCoeffs(SHDegree) coefficients per
//     channel, coefficient-major: SH[(i*K+k)*3+c] is coefficient k of
//     channel c. Coefficient 0 is the DC term (RGB = 0.5 + C0·dc).
type Cloud struct {
	SHDegree     int
	Pos          []float32
	LogScale     []float32
	Rot          []float32
	OpacityLogit []float32
	SH           []float32
}

// NewCloud allocates a zero cloud of n Gaussians with identity rotations.
func NewCloud(n, shDegree int) *Cloud {
	c := &Cloud{
		SHDegree:     shDegree,
		Pos:          make([]float32, 3*n),
		LogScale:     make([]float32, 3*n),
		Rot:          make([]float32, 4*n),
		OpacityLogit: make([]float32, n),
		SH:           make([]float32, 3*SHCoeffs(shDegree)*n),
	}
	for i := range n {
		c.Rot[4*i] = 1
	}
	return c
}

// Len returns the number of Gaussians.
func (c *Cloud) Len() int { return len(c.OpacityLogit) }

// K returns the SH coefficients per channel.
func (c *Cloud) K() int { return SHCoeffs(c.SHDegree) }

// Clone returns a deep copy.
func (c *Cloud) Clone() *Cloud {
	return &Cloud{
		SHDegree:     c.SHDegree,
		Pos:          append([]float32(nil), c.Pos...),
		LogScale:     append([]float32(nil), c.LogScale...),
		Rot:          append([]float32(nil), c.Rot...),
		OpacityLogit: append([]float32(nil), c.OpacityLogit...),
		SH:           append([]float32(nil), c.SH...),
	}
}

// Opacity returns sigmoid(OpacityLogit[i]).
func (c *Cloud) Opacity(i int) float32 { return Sigmoid(c.OpacityLogit[i]) }

// Scale returns exp(LogScale) for Gaussian i.
func (c *Cloud) Scale(i int) [3]float32 {
	s := c.LogScale[3*i : 3*i+3]
	return [3]float32{exp32(s[0]), exp32(s[1]), exp32(s[2])}
}

// UnitRot returns Gaussian i's quaternion normalised to unit length.
func (c *Cloud) UnitRot(i int) [4]float32 {
	q := c.Rot[4*i : 4*i+4]
	n := float32(math.Sqrt(float64(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])))
	if n == 0 {
		return [4]float32{1, 0, 0, 0}
	}
	return [4]float32{q[0] / n, q[1] / n, q[2] / n, q[3] / n}
}

// Sigmoid is the logistic function.
func Sigmoid(x float32) float32 { return 1 / (1 + exp32(-x)) }

// Logit is the inverse of Sigmoid; p is clamped to (1e-6, 1-1e-6).
func Logit(p float32) float32 {
	p = min(max(p, 1e-6), 1-1e-6)
	return float32(math.Log(float64(p / (1 - p))))
}

func exp32(x float32) float32 { return float32(math.Exp(float64(x))) }

// ErrInvalidCloud is wrapped by every error Validate returns.
var ErrInvalidCloud = errors.New("invalid Gaussian cloud")

// Validate checks array lengths, SH degree, finiteness and that every
// quaternion has a non-zero norm. The error names the first bad Gaussian
// and attribute.
func (c *Cloud) Validate() error {
	n := c.Len()
	if c.SHDegree < 0 || c.SHDegree > MaxSHDegree {
		return fmt.Errorf("%w: SH degree %d outside 0..%d", ErrInvalidCloud, c.SHDegree, MaxSHDegree)
	}
	for _, a := range []struct {
		name string
		v    []float32
		per  int
	}{
		{"position", c.Pos, 3}, {"scale", c.LogScale, 3}, {"rotation", c.Rot, 4},
		{"opacity", c.OpacityLogit, 1}, {"sh", c.SH, 3 * c.K()},
	} {
		if len(a.v) != a.per*n {
			return fmt.Errorf("%w: %s has %d values, want %d for %d Gaussians", ErrInvalidCloud, a.name, len(a.v), a.per*n, n)
		}
		for j, x := range a.v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: Gaussian %d: %s is %v", ErrInvalidCloud, j/a.per, a.name, x)
			}
		}
	}
	for i := range n {
		q := c.Rot[4*i : 4*i+4]
		if q[0] == 0 && q[1] == 0 && q[2] == 0 && q[3] == 0 {
			return fmt.Errorf("%w: Gaussian %d: rotation quaternion is zero", ErrInvalidCloud, i)
		}
	}
	return nil
}
