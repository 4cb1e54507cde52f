package matte

import (
	"fmt"
	"image"
	"math"
)

// keyRef is Key as it was before it was made faster (commit 315134a): a
// generic depth-first flood with a visit callback per pixel. It stays here,
// test-only, as the reference that TestKeyMatchesReference holds Key to
// bit for bit and that BenchmarkKey measures Key against.
func keyRef(img *image.NRGBA, tol float64, addInside bool) (*image.NRGBA, Keyed, error) {
	if img == nil {
		return nil, Keyed{}, fmt.Errorf("matte: key: no image")
	}
	if !(tol >= 0 && tol <= 128) {
		return nil, Keyed{}, fmt.Errorf("matte: key: tolerance %v outside 0..128", tol)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 3 || h < 3 {
		return img, Keyed{Reason: fmt.Sprintf("image %d×%d too small to key", w, h)}, nil
	}
	px := func(i int) []uint8 { return img.Pix[(i/w)*img.Stride+4*(i%w):][:4] }
	bw := max(1, min(w, h)/100)
	border := func(x, y int) bool { return x < bw || y < bw || x >= w-bw || y >= h-bw }

	const n = 256 / keyBin
	bin := func(p []uint8) int { return (int(p[0])/keyBin*n+int(p[1])/keyBin)*n + int(p[2])/keyBin }
	palette := make([]bool, n*n*n)
	ring, bg := 0, 0
	for y := range h {
		for x := range w {
			if !border(x, y) {
				continue
			}
			ring++
			if p := px(y*w + x); p[3] < 128 {
				bg++
				palette[bin(p)] = true
			}
		}
	}
	if 2*bg < ring {
		return img, Keyed{Reason: fmt.Sprintf("the object covers %d%% of the image border", 100*(ring-bg)/ring)}, nil
	}
	near := dilate3Ref(palette, n, int(math.Ceil(tol/keyBin)))

	isBG := make([]bool, w*h)
	for i := range isBG {
		isBG[i] = near[bin(px(i))]
	}
	reached := make([]bool, w*h)
	var seeds []int
	for y := range h {
		for x := range w {
			if i := y*w + x; border(x, y) && isBG[i] {
				reached[i] = true
				seeds = append(seeds, i)
			}
		}
	}
	spreadRef(w, seeds, image.Rect(0, 0, w, h), func(j int) bool {
		if !isBG[j] || reached[j] {
			return false
		}
		reached[j] = true
		return true
	})
	var k Keyed
	object := 0
	for i, r := range reached {
		if px(i)[3] >= 128 {
			object++
			if r {
				k.Removed++
			}
		}
	}
	if 4*(object-k.Removed) < object {
		return img, Keyed{Reason: fmt.Sprintf("the backdrop's colours cover %d of the matte's %d object pixels", k.Removed, object)}, nil
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		copy(out.Pix[y*out.Stride:y*out.Stride+4*w], img.Pix[y*img.Stride:y*img.Stride+4*w])
	}
	for i, r := range reached {
		if r {
			out.Pix[4*i+3] = 0
		}
	}
	if addInside {
		kept := 0
		x0, y0, x1, y1 := w, h, -1, -1
		for i := range reached {
			if out.Pix[4*i+3] >= 128 {
				kept++
				x, y := i%w, i/w
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
		// grow makes object, from the object outwards, every pixel inside
		// r that is not the backdrop's colour and for which ok holds.
		grow := func(r image.Rectangle, ok func(j int) bool) []int {
			var added, seeds []int
			for i := range reached {
				if out.Pix[4*i+3] >= 128 {
					seeds = append(seeds, i)
				}
			}
			spreadRef(w, seeds, r, func(j int) bool {
				if a := &out.Pix[4*j+3]; *a < 128 && !isBG[j] && ok(j) {
					*a = 255
					added = append(added, j)
					return true
				}
				return false
			})
			return added
		}
		// Half-seen pixels of other colours, within the object's box.
		k.Added += len(grow(image.Rect(x0, y0, x1+1, y1+1), func(j int) bool { return out.Pix[4*j+3] >= fillAlpha }))
		// Unseen pixels that are neither the backdrop's colour nor a
		// shade of it (a shadow), within the box grown by a quarter: a
		// part the network lost whole (a blue box on a blue checker). At
		// most as many as the object had; more is clutter, not a part.
		shade := shadeTestRef(img, w, h, border, tol)
		mx, my := (x1-x0+1)/2, (y1-y0+1)/2
		more := grow(image.Rect(x0-mx, y0-my, x1+1+mx, y1+1+my).Intersect(image.Rect(0, 0, w, h)), func(j int) bool { return !shade(px(j)) })
		if len(more) > kept {
			for _, j := range more {
				out.Pix[4*j+3] = px(j)[3]
			}
		} else {
			k.Added += len(more)
		}
	}
	k.Applied = true
	return out, k, nil
}

// spread visits, depth-first from seeds (indices into a grid w wide),
// the 4-neighbours inside r of every visited pixel; visit marks a pixel
// and says whether to go on from it.
func spreadRef(w int, seeds []int, r image.Rectangle, visit func(j int) bool) {
	stack := append([]int(nil), seeds...)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := i%w, i/w
		for _, q := range [4]image.Point{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
			if q.In(r) && visit(q.Y*w+q.X) {
				stack = append(stack, q.Y*w+q.X)
			}
		}
	}
}

// dilate3 grows the set occ on an n×n×n grid by r cells along each axis
// (a box), separably.
func dilate3Ref(occ []bool, n, r int) []bool {
	if r == 0 {
		return occ
	}
	cur := occ
	for axis := range 3 {
		stride := []int{n * n, n, 1}[axis]
		next := make([]bool, len(cur))
		for i, v := range cur {
			if !v {
				continue
			}
			c := (i / stride) % n
			for d := max(0, c-r); d <= min(n-1, c+r); d++ {
				next[i+(d-c)*stride] = true
			}
		}
		cur = next
	}
	return cur
}

// shadeTest returns a test of whether a colour is the backdrop's in
// shadow: a darker (or equal) colour of the same chromaticity as a border
// pixel the matte calls background, within tol, or nearly black.
func shadeTestRef(img *image.NRGBA, w, h int, border func(x, y int) bool, tol float64) func(p []uint8) bool {
	const n = 64
	cell := func(p []uint8) (int, int) {
		s := int(p[0]) + int(p[1]) + int(p[2])
		return int(p[0]) * (n - 1) / max(s, 1), int(p[1]) * (n - 1) / max(s, 1)
	}
	bright := make([]int, n*n) // brightest border sum per chromaticity cell, −1: none
	for i := range bright {
		bright[i] = -1
	}
	for y := range h {
		for x := range w {
			p := img.Pix[y*img.Stride+4*x:][:4]
			if !border(x, y) || p[3] >= 128 {
				continue
			}
			cr, cg := cell(p)
			s := int(p[0]) + int(p[1]) + int(p[2])
			for dr := -1; dr <= 1; dr++ {
				for dg := -1; dg <= 1; dg++ {
					if r, g := cr+dr, cg+dg; r >= 0 && g >= 0 && r < n && g < n {
						bright[r*n+g] = max(bright[r*n+g], s)
					}
				}
			}
		}
	}
	slack := int(3 * tol)
	return func(p []uint8) bool {
		s := int(p[0]) + int(p[1]) + int(p[2])
		if s < 60 {
			return true
		}
		cr, cg := cell(p)
		b := bright[cr*n+cg]
		return b >= 0 && s <= b+slack
	}
}
