package fit

import "math"

// tap is one source index and its weight in an output sample.
type tap struct {
	i int
	w float64
}

// areaTaps returns, for each of the m output samples of a line of n
// source samples, the exact area-overlap weights (normalised to sum 1):
// output j covers source interval [j·n/m, (j+1)·n/m).
func areaTaps(n, m int) [][]tap {
	out := make([][]tap, m)
	s := float64(n) / float64(m)
	for j := range m {
		a, b := float64(j)*s, float64(j+1)*s
		var ts []tap
		for i := int(math.Floor(a)); i < n && float64(i) < b; i++ {
			w := math.Min(b, float64(i+1)) - math.Max(a, float64(i))
			if w > 1e-12 {
				ts = append(ts, tap{i, w / s})
			}
		}
		out[j] = ts
	}
	return out
}

// resizeView resamples a view to w×h by exact area averaging of
// premultiplied colour and alpha (so background colour under transparent
// pixels never bleeds in), then un-premultiplies. The camera's intrinsics
// are scaled with the image; its pose is unchanged.
func resizeView(v View, w, h int) View {
	sw, sh := v.Camera.Width, v.Camera.Height
	if sw == w && sh == h {
		return v
	}
	// Planes: premultiplied R, G, B and alpha, row-major sw×sh.
	const planes = 4
	src := make([]float64, planes*sw*sh)
	for p, a := range v.Alpha {
		for c := range 3 {
			src[planes*p+c] = float64(v.RGB[3*p+c]) * float64(a)
		}
		src[planes*p+3] = float64(a)
	}
	tx, ty := areaTaps(sw, w), areaTaps(sh, h)
	mid := make([]float64, planes*w*sh)
	for y := range sh {
		for x, ts := range tx {
			for _, t := range ts {
				for c := range planes {
					mid[planes*(y*w+x)+c] += t.w * src[planes*(y*sw+t.i)+c]
				}
			}
		}
	}
	dst := make([]float64, planes*w*h)
	for y, ts := range ty {
		for _, t := range ts {
			for x := range w {
				for c := range planes {
					dst[planes*(y*w+x)+c] += t.w * mid[planes*(t.i*w+x)+c]
				}
			}
		}
	}
	out := View{Camera: v.Camera, RGB: make([]float32, 3*w*h), Alpha: make([]float32, w*h)}
	kx, ky := float64(w)/float64(sw), float64(h)/float64(sh)
	out.Camera.Width, out.Camera.Height = w, h
	out.Camera.Fx *= kx
	out.Camera.Cx *= kx
	out.Camera.Fy *= ky
	out.Camera.Cy *= ky
	for p := range w * h {
		a := dst[planes*p+3]
		out.Alpha[p] = float32(min(max(a, 0), 1))
		if a > 1e-9 {
			for c := range 3 {
				out.RGB[3*p+c] = float32(min(max(dst[planes*p+c]/a, 0), 1))
			}
		}
	}
	return out
}

// fitSize returns the size a w×h view is resampled to so that its longest
// side is resolution (aspect ratio kept, at least 1 pixel per side).
func fitSize(w, h, resolution int) (int, int) {
	if resolution <= 0 || max(w, h) == resolution {
		return w, h
	}
	s := float64(resolution) / float64(max(w, h))
	return max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
}
