package matte

import (
	"context"
	"fmt"
	"image"
	"math"
	"sync"
	"sync/atomic"

	"github.com/splatbench/splatbench/internal/parallel"
)

// Keyed says what Key did to a matte.
type Keyed struct {
	// Applied is false when the key was not trusted (Reason says why) and
	// the matte was left as it was.
	Applied bool
	Reason  string
	// Removed is the number of pixels the matte called object (alpha ≥ ½)
	// that the key made background; Added, background pixels it made object.
	Removed, Added int
}

// fillAlpha is the least matte alpha (of 255) a pixel needs to be filled
// in by Key's addInside: the network must have half-seen it.
const fillAlpha = 26

// keyBin is the colour quantum of the background palette (8-bit units).
const keyBin = 4

// Key refines a matte (straight alpha) with the picture's own background:
// the colours seen along the image border where the matte says background
// form a palette; every pixel whose colour is within tol (8-bit units, per
// channel) of a palette colour and that is connected to the border
// through such pixels is background. This removes what a matting network
// keeps of a plain, gradient or patterned backdrop (stripes between a
// table's legs, checks under a cone), which a product picture's backdrop
// usually is.
//
// The key is not trusted, and the matte returned as it was, when the
// object covers more than half of the border (the palette would be the
// object's) or when the flood would leave less than a quarter of the
// matte's object (the object has the backdrop's colours).
//
// When addInside is set, the object then grows, within its bounding box,
// into the pixels next to it whose colour is not the backdrop's and to
// which the network gave some alpha (at least 0.1): they become object
// (alpha 1), a plate or a stem the network half lost; a shadow the
// network half kept becomes object too. Then, within the box grown by
// half its size, it grows into pixels the network did not see at all
// whose colour is neither the backdrop's nor a shade of it (a part lost
// whole); if that would add more than the object has, it is clutter and
// undone.
func Key(img *image.NRGBA, tol float64, addInside bool) (*image.NRGBA, Keyed, error) {
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
	g := keyGrid{img: img, w: w, h: h, bw: max(1, min(w, h)/100), workers: 1}
	if w*h >= keyParallelPixels {
		g.workers = 0
	}

	// The palette: the colours of the border pixels the matte calls
	// background, a bit per colour bin.
	var palette keyPalette
	ring, bg := 0, 0
	g.border(func(y, x0, x1 int) {
		ring += x1 - x0
		row := pixRow(img, y, x0, x1)
		for x := range len(row) / 4 {
			if p := [4]uint8(row[4*x : 4*x+4]); p[3] < 128 {
				bg++
				palette.add(p)
			}
		}
	})
	if 2*bg < ring {
		return img, Keyed{Reason: fmt.Sprintf("the object covers %d%% of the image border", 100*(ring-bg)/ring)}, nil
	}
	near := palette.dilate(int(math.Ceil(tol / keyBin)))

	// Each pixel's state: its colour is near the palette, its alpha.
	g.st = make([]uint8, w*h)
	var object atomic.Int64
	parallel.For(h, g.workers, func(lo, hi int) {
		n := 0
		for y := lo; y < hi; y++ {
			st, row := g.st[y*w:y*w+w], pixRow(img, y, 0, w)
			for x := range st {
				p := [4]uint8(row[4*x : 4*x+4])
				s := uint8(0)
				if near.has(p) {
					s = stBG
				}
				if p[3] >= 128 {
					s |= stObj
					n++
				}
				if p[3] >= fillAlpha {
					s |= stHalf
				}
				st[x] = s
			}
		}
		object.Add(int64(n))
	})

	// The backdrop: what the border's near-palette pixels reach through
	// near-palette pixels.
	var k Keyed
	all := keyRect{0, 0, w, h}
	g.border(func(y, x0, x1 int) {
		for x := x0; x < x1; x++ {
			if g.st[y*w+x]&(stBG|stReached) == stBG {
				_, obj := g.fill(all, x, y, stBG|stReached, stBG, stReached, stObj)
				k.Removed += obj
			}
		}
	})
	if obj := int(object.Load()); 4*(obj-k.Removed) < obj {
		return img, Keyed{Reason: fmt.Sprintf("the backdrop's colours cover %d of the matte's %d object pixels", k.Removed, obj)}, nil
	}

	accept := uint8(0) // the states other than stReached whose alpha becomes 255
	if addInside {
		kept := int(object.Load()) - k.Removed
		box := g.object()
		// Half-seen pixels of other colours, within the object's box.
		k.Added += g.grow(box, stHalf, stGrown)
		accept = stGrown
		// Unseen pixels that are neither the backdrop's colour nor a
		// shade of it (a shadow), within the box grown by a half of its
		// size: a part the network lost whole (a blue box on a blue
		// checker). At most as many as the object had; more is clutter,
		// not a part.
		mx, my := (box.x1-box.x0)/2, (box.y1-box.y0)/2
		box2 := keyRect{max(0, box.x0-mx), max(0, box.y0-my), min(w, box.x1+mx), min(h, box.y1+my)}
		if box.x0 >= box.x1 {
			box2 = box // nothing to grow from
		}
		g.markNotShade(box2, tol)
		if more := g.grow(box2, stNotShade, stMore); more <= kept {
			k.Added += more
			accept |= stMore
		}
	}

	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	parallel.For(h, g.workers, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			o := out.Pix[y*out.Stride : y*out.Stride+4*w]
			copy(o, img.Pix[y*img.Stride:y*img.Stride+4*w])
			for x, s := range g.st[y*w : y*w+w] {
				switch {
				case s&stReached != 0:
					o[4*x+3] = 0
				case s&accept != 0:
					o[4*x+3] = 255
				}
			}
		}
	})
	k.Applied = true
	return out, k, nil
}

// keyParallelPixels is the least picture (in pixels) whose per-pixel
// passes Key spreads over the cores.
const keyParallelPixels = 1 << 16

// The bits of a pixel's state in Key.
const (
	stBG       = 1 << iota // its colour is within tol of the palette
	stObj                  // the matte's alpha ≥ 128
	stHalf                 // the matte's alpha ≥ fillAlpha
	stReached              // the backdrop: flooded from the border
	stOn                   // object after the key (alpha ≥ 128), while growing
	stGrown                // made object by the first grow
	stMore                 // made object by the second grow
	stNotShade             // (in the second grow's box) neither background colour nor a shade of it
)

// keyRect is the pixels x0 ≤ x < x1, y0 ≤ y < y1.
type keyRect struct{ x0, y0, x1, y1 int }

// keyGrid is Key's working state: the picture and a state byte a pixel.
type keyGrid struct {
	img     *image.NRGBA
	w, h    int
	bw      int     // the border's width
	workers int     // for parallel.For
	st      []uint8 // w×h states, row by row
	stack   []int   // fill's seeds
}

// pixRow is the bytes of row y's pixels x0 ≤ x < x1, 4 a pixel.
func pixRow(img *image.NRGBA, y, x0, x1 int) []uint8 {
	return img.Pix[y*img.Stride+4*x0 : y*img.Stride+4*x1]
}

// border calls f with every run x0 ≤ x < x1 of row y in the picture's
// border (the pixels less than bw from an edge), row by row.
func (g *keyGrid) border(f func(y, x0, x1 int)) {
	for y := range g.h {
		if y < g.bw || y >= g.h-g.bw {
			f(y, 0, g.w)
		} else {
			f(y, 0, g.bw)
			f(y, g.w-g.bw, g.w)
		}
	}
}

// fill sets the bits set on every pixel inside r that is 4-connected to
// (x, y) through pixels inside r whose state s has s&mask == want,
// (x, y) included; set must make that false. It returns how many pixels
// it set and how many of those had a bit of count. It fills a row's run
// at a time and keeps one seed for each run of the rows above and below.
func (g *keyGrid) fill(r keyRect, x, y int, mask, want, set, count uint8) (n, counted int) {
	w, st := g.w, g.st
	stack := append(g.stack[:0], y*w+x)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if st[i]&mask != want {
			continue
		}
		y := i / w
		row := st[y*w+r.x0 : y*w+r.x1]
		x := i - y*w - r.x0
		lo, hi := x, x+1
		for lo > 0 && row[lo-1]&mask == want {
			lo--
		}
		for hi < len(row) && row[hi]&mask == want {
			hi++
		}
		for j := lo; j < hi; j++ {
			if row[j]&count != 0 {
				counted++
			}
			row[j] |= set
		}
		n += hi - lo
		for _, ny := range [2]int{y - 1, y + 1} {
			if ny < r.y0 || ny >= r.y1 {
				continue
			}
			base := ny*w + r.x0
			next := st[base+lo : base+hi]
			in := false
			for j, s := range next {
				if s&mask != want {
					in = false
				} else if !in {
					stack = append(stack, base+lo+j)
					in = true
				}
			}
		}
	}
	g.stack = stack
	return n, counted
}

// object marks stOn the pixels that are object after the backdrop is
// keyed out (alpha ≥ 128, not reached) and returns their bounding box
// (empty, x0 ≥ x1, when there are none).
func (g *keyGrid) object() keyRect {
	var mu sync.Mutex
	box := keyRect{g.w, g.h, 0, 0}
	parallel.For(g.h, g.workers, func(lo, hi int) {
		b := keyRect{g.w, g.h, 0, 0}
		for y := lo; y < hi; y++ {
			row := g.st[y*g.w : y*g.w+g.w]
			first := -1
			last := -1
			for x, s := range row {
				if s&(stObj|stReached) == stObj {
					row[x] = s | stOn
					if first < 0 {
						first = x
					}
					last = x
				}
			}
			if first >= 0 {
				b = keyRect{min(b.x0, first), min(b.y0, y), max(b.x1, last+1), max(b.y1, y+1)}
			}
		}
		mu.Lock()
		box = keyRect{min(box.x0, b.x0), min(box.y0, b.y0), max(box.x1, b.x1), max(box.y1, b.y1)}
		mu.Unlock()
	})
	return box
}

// grow makes object (stOn, and the bit mark), from the object outwards,
// every pixel inside r that is not object, not of the backdrop's colour
// and has the bit ok, and says how many it made.
func (g *keyGrid) grow(r keyRect, ok, mark uint8) int {
	const mask = stOn | stBG
	w, st := g.w, g.st
	n := 0
	for y := r.y0; y < r.y1; y++ {
		for x := r.x0; x < r.x1; x++ {
			i := y*w + x
			if st[i]&(mask|ok) != ok {
				continue
			}
			if x > 0 && st[i-1]&stOn != 0 || x+1 < w && st[i+1]&stOn != 0 ||
				y > 0 && st[i-w]&stOn != 0 || y+1 < g.h && st[i+w]&stOn != 0 {
				m, _ := g.fill(r, x, y, mask|ok, ok, stOn|mark, 0)
				n += m
			}
		}
	}
	return n
}

// markNotShade sets stNotShade on the pixels inside r that are neither
// object nor of the backdrop's colour and whose colour is not a shade of
// the backdrop (see shadeTest).
func (g *keyGrid) markNotShade(r keyRect, tol float64) {
	shade := newShadeTest(g, tol)
	parallel.For(r.y1-r.y0, g.workers, func(lo, hi int) {
		for y := r.y0 + lo; y < r.y0+hi; y++ {
			st, row := g.st[y*g.w+r.x0:y*g.w+r.x1], pixRow(g.img, y, r.x0, r.x1)
			for x := range st {
				if st[x]&(stOn|stBG) == 0 && !shade.is([4]uint8(row[4*x:4*x+4])) {
					st[x] |= stNotShade
				}
			}
		}
	})
}

// keyPalette is a set of colour bins (keyBin wide a channel): bit b of
// word r<<6|g holds bin (r, g, b).
type keyPalette [keyBins * keyBins]uint64

const keyBins = 256 / keyBin

func (p *keyPalette) add(c [4]uint8) {
	p[int(c[0]/keyBin)*keyBins+int(c[1]/keyBin)] |= 1 << (c[2] / keyBin)
}

func (p *keyPalette) has(c [4]uint8) bool {
	return p[int(c[0]/keyBin)*keyBins+int(c[1]/keyBin)]>>(c[2]/keyBin)&1 != 0
}

// dilate returns the palette grown by r bins along each channel (a box).
func (p *keyPalette) dilate(r int) *keyPalette {
	if r == 0 {
		return p
	}
	const n = keyBins
	var a, b keyPalette
	for i, v := range p { // blue: within the word
		d := v
		for k := 1; k <= r; k++ {
			d |= v<<k | v>>k
		}
		a[i] = d
	}
	for i := range b { // green: the words of a red row
		rr, gg := i/n, i%n
		for g := max(0, gg-r); g <= min(n-1, gg+r); g++ {
			b[i] |= a[rr*n+g]
		}
	}
	for i := range a { // red
		rr, gg := i/n, i%n
		a[i] = 0
		for r2 := max(0, rr-r); r2 <= min(n-1, rr+r); r2++ {
			a[i] |= b[r2*n+gg]
		}
	}
	return &a
}

// shadeTest tells whether a colour is the backdrop's in shadow: a darker
// (or equal) colour of the same chromaticity as a border pixel the matte
// calls background, within tol, or nearly black.
type shadeTest struct {
	bright [shadeCells * shadeCells]int // brightest border sum per chromaticity cell, −1: none
	slack  int
}

const shadeCells = 64

func shadeCell(p [4]uint8) (int, int) {
	s := max(int(p[0])+int(p[1])+int(p[2]), 1)
	return int(p[0]) * (shadeCells - 1) / s, int(p[1]) * (shadeCells - 1) / s
}

func newShadeTest(g *keyGrid, tol float64) *shadeTest {
	const n = shadeCells
	t := &shadeTest{slack: int(3 * tol)}
	for i := range t.bright {
		t.bright[i] = -1
	}
	g.border(func(y, x0, x1 int) {
		row := pixRow(g.img, y, x0, x1)
		for x := range len(row) / 4 {
			p := [4]uint8(row[4*x : 4*x+4])
			if p[3] >= 128 {
				continue
			}
			cr, cg := shadeCell(p)
			s := int(p[0]) + int(p[1]) + int(p[2])
			for r := max(0, cr-1); r <= min(n-1, cr+1); r++ {
				for g := max(0, cg-1); g <= min(n-1, cg+1); g++ {
					t.bright[r*n+g] = max(t.bright[r*n+g], s)
				}
			}
		}
	})
	return t
}

func (t *shadeTest) is(p [4]uint8) bool {
	s := int(p[0]) + int(p[1]) + int(p[2])
	if s < 60 {
		return true
	}
	cr, cg := shadeCell(p)
	b := t.bright[cr*shadeCells+cg]
	return b >= 0 && s <= b+t.slack
}

// KeyedMatte is a network matte followed by Key: the one way a stage or
// command mattes an opaque picture. Tolerance 0 skips the key.
type KeyedMatte struct {
	*Matte
	Tolerance float64
	Fill      bool
}

// RunKeyed mattes img and keys its backdrop, and says what the key did.
func (k KeyedMatte) RunKeyed(ctx context.Context, img image.Image) (*image.NRGBA, Keyed, error) {
	rgba, err := k.Matte.Run(ctx, img)
	if err != nil || k.Tolerance == 0 {
		return rgba, Keyed{Reason: "no key"}, err
	}
	return Key(rgba, k.Tolerance, k.Fill)
}

// Run is RunKeyed without the account.
func (k KeyedMatte) Run(ctx context.Context, img image.Image) (*image.NRGBA, error) {
	out, _, err := k.RunKeyed(ctx, img)
	return out, err
}
