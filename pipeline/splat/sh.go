package splat

// Real spherical-harmonics constants of the 3DGS convention
// (docs/algorithms.md §4.1).
const (
	shC0 = 0.28209479177387814
	shC1 = 0.4886025119029199
)

var (
	shC2 = [5]float32{1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396}
	shC3 = [7]float32{-0.5900435899266435, 2.890611442640554, -0.4570457994644658, 0.3731763325901154,
		-0.4570457994644658, 1.445305721320277, -0.5900435899266435}
)

// shBasis writes the first SHCoeffs(deg) basis values for the unit direction
// (x, y, z) into b, in the 3DGS order and sign convention.
func shBasis(x, y, z float32, deg int, b *[16]float32) {
	b[0] = shC0
	if deg < 1 {
		return
	}
	b[1] = -shC1 * y
	b[2] = shC1 * z
	b[3] = -shC1 * x
	if deg < 2 {
		return
	}
	xx, yy, zz := x*x, y*y, z*z
	b[4] = shC2[0] * x * y
	b[5] = shC2[1] * y * z
	b[6] = shC2[2] * (2*zz - xx - yy)
	b[7] = shC2[3] * x * z
	b[8] = shC2[4] * (xx - yy)
	if deg < 3 {
		return
	}
	b[9] = shC3[0] * y * (3*xx - yy)
	b[10] = shC3[1] * x * y * z
	b[11] = shC3[2] * y * (4*zz - xx - yy)
	b[12] = shC3[3] * z * (2*zz - 3*xx - 3*yy)
	b[13] = shC3[4] * x * (4*zz - xx - yy)
	b[14] = shC3[5] * z * (xx - yy)
	b[15] = shC3[6] * x * (xx - 3*yy)
}

// shBasisGrad writes ∂b_k/∂(x, y, z) for k ≥ 1 (the DC term is constant),
// treating x, y, z as independent.
func shBasisGrad(x, y, z float32, deg int, g *[16][3]float32) {
	if deg < 1 {
		return
	}
	g[1] = [3]float32{0, -shC1, 0}
	g[2] = [3]float32{0, 0, shC1}
	g[3] = [3]float32{-shC1, 0, 0}
	if deg < 2 {
		return
	}
	xx, yy, zz := x*x, y*y, z*z
	g[4] = [3]float32{shC2[0] * y, shC2[0] * x, 0}
	g[5] = [3]float32{0, shC2[1] * z, shC2[1] * y}
	g[6] = [3]float32{-2 * shC2[2] * x, -2 * shC2[2] * y, 4 * shC2[2] * z}
	g[7] = [3]float32{shC2[3] * z, 0, shC2[3] * x}
	g[8] = [3]float32{2 * shC2[4] * x, -2 * shC2[4] * y, 0}
	if deg < 3 {
		return
	}
	g[9] = [3]float32{shC3[0] * 6 * x * y, shC3[0] * 3 * (xx - yy), 0}
	g[10] = [3]float32{shC3[1] * y * z, shC3[1] * x * z, shC3[1] * x * y}
	g[11] = [3]float32{-2 * shC3[2] * x * y, shC3[2] * (4*zz - xx - 3*yy), 8 * shC3[2] * y * z}
	g[12] = [3]float32{-6 * shC3[3] * x * z, -6 * shC3[3] * y * z, shC3[3] * (6*zz - 3*xx - 3*yy)}
	g[13] = [3]float32{shC3[4] * (4*zz - 3*xx - yy), -2 * shC3[4] * x * y, 8 * shC3[4] * x * z}
	g[14] = [3]float32{2 * shC3[5] * x * z, -2 * shC3[5] * y * z, shC3[5] * (xx - yy)}
	g[15] = [3]float32{shC3[6] * 3 * (xx - yy), -6 * shC3[6] * x * y, 0}
}

// shColor evaluates RGB = max(0, Σ_k b_k·sh_k + 0.5) for one Gaussian whose
// coefficients are sh (coefficient-major, K per channel of the cloud, of
// which the first SHCoeffs(deg) are used). clamped gets bit c set when
// channel c was clamped at 0.
func shColor(sh []float32, b *[16]float32, deg int) (rgb [3]float32, clamped uint8) {
	nk := SHCoeffs(deg)
	for k := range nk {
		bk := b[k]
		rgb[0] += bk * sh[3*k]
		rgb[1] += bk * sh[3*k+1]
		rgb[2] += bk * sh[3*k+2]
	}
	for c := range 3 {
		rgb[c] += 0.5
		if rgb[c] < 0 {
			rgb[c] = 0
			clamped |= 1 << c
		}
	}
	return rgb, clamped
}
