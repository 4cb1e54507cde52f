package splat

import "math"

// NormalizeForValidator applies, in place, the scene normalisation the
// subnet-17 validator runs before rendering (docs/protocol.md §3.2,
// transform_gs_data), quirks included:
//   - the axis-aligned extent of the centres is measured and
//     scaling = 1.5 / (largest extent);
//   - centres are recentred by the SCALAR mean of all x, y and z coordinates
//     together (not a per-axis centroid), then multiplied by scaling;
//   - scales are multiplied by scaling (LogScale += ln scaling);
//   - activated opacities are multiplied by 1/scaling and clipped to [0, 1].
//
// The cloud stays pre-activation, so opacity is written back as a logit; an
// opacity clipped to 1 becomes Logit(1) (α = 1−1e-6, see Logit). An empty
// cloud or one whose centres all coincide (zero extent) is left unchanged.
func NormalizeForValidator(c *Cloud) {
	n := c.Len()
	if n == 0 {
		return
	}
	lo := [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi := [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	var sum float64
	for i := range n {
		for a := range 3 {
			v := float64(c.Pos[3*i+a])
			lo[a], hi[a] = min(lo[a], v), max(hi[a], v)
			sum += v
		}
	}
	extent := max(hi[0]-lo[0], hi[1]-lo[1], hi[2]-lo[2])
	if extent <= 0 {
		return
	}
	scaling := ValidatorExtent / extent
	mean := sum / float64(3*n)
	logS := float32(math.Log(scaling))
	for i := range 3 * n {
		c.Pos[i] = float32((float64(c.Pos[i]) - mean) * scaling)
		c.LogScale[i] += logS
	}
	for i := range n {
		o := float64(Sigmoid(c.OpacityLogit[i])) / scaling
		c.OpacityLogit[i] = Logit(float32(min(max(o, 0), 1)))
	}
}

// CentreAndScale moves c's centres so their per-axis mean is the origin
// and multiplies positions and scales so the largest axis-aligned extent
// of the centres is extent (zero extent: only centred). With extent
// ValidatorExtent, NormalizeForValidator is then a no-op: its scalar-mean
// recentring finds the origin, its scaling is 1 and so its opacity
// division changes nothing.
func CentreAndScale(c *Cloud, extent float64) {
	n := c.Len()
	if n == 0 {
		return
	}
	var mean [3]float64
	lo := [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi := [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	for i := range n {
		for a := range 3 {
			v := float64(c.Pos[3*i+a])
			mean[a] += v
			lo[a], hi[a] = min(lo[a], v), max(hi[a], v)
		}
	}
	k := 1.0
	if e := max(hi[0]-lo[0], hi[1]-lo[1], hi[2]-lo[2]); e > 0 {
		k = extent / e
	}
	ls := float32(math.Log(k))
	for i := range n {
		for a := range 3 {
			c.Pos[3*i+a] = float32((float64(c.Pos[3*i+a]) - mean[a]/float64(n)) * k)
			c.LogScale[3*i+a] += ls
		}
	}
}
