package matte

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"math"
	"math/bits"
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
			n += classify(g.st[y*w:y*w+w], pixRow(img, y, 0, w), near)
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
			g.outRow(out.Pix[y*out.Stride:y*out.Stride+4*w], pixRow(img, y, 0, w), g.st[y*w:y*w+w], accept)
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
// at a time, 8 states a word where it can, and keeps one seed for each
// run of the rows above and below.
func (g *keyGrid) fill(r keyRect, x, y int, mask, want, set, count uint8) (n, counted int) {
	w, st := g.w, g.st
	m := match{mask: mask, want: want}
	setW, countW := uint64(set)*ones, uint64(count)*ones
	stack := append(g.stack[:0], y*w+x)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !m.is(st[i]) {
			continue
		}
		y := i / w
		row := st[y*w+r.x0 : y*w+r.x1]
		x := i - y*w - r.x0
		lo, hi := x, x+1
		for lo >= 8 && m.all(load8(row[lo-8:])) {
			lo -= 8
		}
		for lo > 0 && m.is(row[lo-1]) {
			lo--
		}
		for hi+8 <= len(row) && m.all(load8(row[hi:])) {
			hi += 8
		}
		for hi < len(row) && m.is(row[hi]) {
			hi++
		}
		j := lo
		for ; j+8 <= hi; j += 8 {
			v := load8(row[j:])
			counted += bits.OnesCount64(v & countW)
			binary.LittleEndian.PutUint64(row[j:], v|setW)
		}
		for ; j < hi; j++ {
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
			base := ny*w + r.x0 + lo
			next := st[base : base+hi-lo]
			in := false
			j := 0
			for j < len(next) {
				if j+8 <= len(next) {
					v := load8(next[j:])
					if m.all(v) {
						if !in {
							stack = append(stack, base+j)
							in = true
						}
						j += 8
						continue
					}
					if !m.any(v) {
						in = false
						j += 8
						continue
					}
				}
				if !m.is(next[j]) {
					in = false
				} else if !in {
					stack = append(stack, base+j)
					in = true
				}
				j++
			}
		}
	}
	g.stack = stack
	return n, counted
}

// ones has a 1 in each byte: uint64(b)*ones is 8 bytes b.
const ones = 0x0101010101010101

func load8(b []uint8) uint64 { return binary.LittleEndian.Uint64(b) }

// match is the test s&mask == want of a state s, also on the 8 states of
// a word.
type match struct{ mask, want uint8 }

func (m match) is(s uint8) bool { return s&m.mask == m.want }

// all says whether all 8 states of v match.
func (m match) all(v uint64) bool { return v&(uint64(m.mask)*ones) == uint64(m.want)*ones }

// any says whether some state of v matches: whether (v&mask)^want has a
// zero byte.
func (m match) any(v uint64) bool {
	d := v&(uint64(m.mask)*ones) ^ uint64(m.want)*ones
	return (d-ones)&^d&(0x80*ones) != 0
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
			first, last := -1, -1
			x := 0
			for ; x+8 <= len(row); x += 8 {
				v := load8(row[x:])
				// stObj and not stReached, at stObj's bit of each byte.
				on := v & (stObj * ones) &^ (v >> 2 & (stObj * ones))
				if on == 0 {
					continue
				}
				binary.LittleEndian.PutUint64(row[x:], v|on<<3)
				if first < 0 {
					first = x + bits.TrailingZeros64(on)/8
				}
				last = x + (63-bits.LeadingZeros64(on))/8
			}
			for ; x < len(row); x++ {
				if s := row[x]; s&(stObj|stReached) == stObj {
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

// outRow writes a row of Key's picture: the row in, with alpha 0 on the
// pixels reached and 255 on those with a bit of accept.
func (g *keyGrid) outRow(o, in, st []uint8, accept uint8) {
	const noAlpha = 0x00ffffff00ffffff
	x := 0
	for ; x+8 <= len(st); x += 8 {
		v := load8(st[x:])
		o, in := o[4*x:4*x+32], in[4*x:4*x+32]
		switch {
		case v&(uint64(stReached|accept)*ones) == 0:
			for k := 0; k < 32; k += 8 {
				binary.LittleEndian.PutUint64(o[k:], load8(in[k:]))
			}
			continue
		case v&(stReached*ones) == stReached*ones:
			for k := 0; k < 32; k += 8 {
				binary.LittleEndian.PutUint64(o[k:], load8(in[k:])&noAlpha)
			}
			continue
		}
		copy(o, in)
		for k, s := range st[x : x+8] {
			if s&stReached != 0 {
				o[4*k+3] = 0
			} else if s&accept != 0 {
				o[4*k+3] = 255
			}
		}
	}
	copy(o[4*x:], in[4*x:])
	for ; x < len(st); x++ {
		if s := st[x]; s&stReached != 0 {
			o[4*x+3] = 0
		} else if s&accept != 0 {
			o[4*x+3] = 255
		}
	}
}

// grow makes object (stOn, and the bit mark), from the object outwards,
// every pixel inside r that is not object, not of the backdrop's colour
// and has the bit ok, and says how many it made.
func (g *keyGrid) grow(r keyRect, ok, mark uint8) int {
	const mask = stOn | stBG
	w, st := g.w, g.st
	n := 0
	m := match{mask: mask | ok, want: ok}
	for y := r.y0; y < r.y1; y++ {
		for x := r.x0; x < r.x1; x++ {
			i := y*w + x
			if x+8 <= r.x1 && !m.any(load8(st[i:])) {
				x += 7
				continue
			}
			if !m.is(st[i]) {
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
			for x := 0; x < len(st); x++ {
				if x+8 <= len(st) && !(match{mask: stOn | stBG}).any(load8(st[x:])) {
					x += 7
					continue
				}
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

// classify sets the states st of a row of pixels px (4 bytes each): stBG
// if the colour is in near, stObj and stHalf by alpha. It returns how
// many have stObj.
func classify(st, px []uint8, near *keyPalette) int {
	n := uint32(0)
	for len(st) >= 4 && len(px) >= 16 {
		s0, n0 := near.state(binary.LittleEndian.Uint32(px[0:]))
		s1, n1 := near.state(binary.LittleEndian.Uint32(px[4:]))
		s2, n2 := near.state(binary.LittleEndian.Uint32(px[8:]))
		s3, n3 := near.state(binary.LittleEndian.Uint32(px[12:]))
		binary.LittleEndian.PutUint32(st, s0|s1<<8|s2<<16|s3<<24)
		n += n0 + n1 + n2 + n3
		st, px = st[4:], px[16:]
	}
	for x := range st {
		s, o := near.state(binary.LittleEndian.Uint32(px[4*x:]))
		st[x] = uint8(s)
		n += o
	}
	return int(n)
}

// keyPalette and state take a bin for the top 6 bits of a channel: this
// fails to compile unless keyBin is 4.
var _ = [1]struct{}{}[keyBin-4]

// state is the state of a pixel v (red in the low byte, alpha in the
// high): stBG if its colour is in the palette, stObj and stHalf by alpha;
// and 1 if it has stObj, else 0.
func (p *keyPalette) state(v uint32) (uint32, uint32) {
	// keyBin is 4: the bins are the top 6 bits of each channel.
	bg := uint32(p[v&0xfc<<4|v>>10&0x3f]>>(v>>18&0x3f)) & 1
	a := v >> 24
	// a ≥ fillAlpha: a+256-fillAlpha reaches bit 8.
	return bg | a>>7<<1 | (a+256-fillAlpha)>>8<<2, a >> 7
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

// shadeCell is the chromaticity cell of a colour: red and green over the
// sum, in 64ths. It divides by multiplying with shadeRecip.
func shadeCell(p [4]uint8) (int, int) {
	r := shadeRecip[int(p[0])+int(p[1])+int(p[2])]
	return int(uint64(p[0]) * (shadeCells - 1) * r >> 32), int(uint64(p[1]) * (shadeCells - 1) * r >> 32)
}

// shadeRecip[s] is ⌊2³²/max(s, 1)⌋+1: for n < 2¹⁴, n·shadeRecip[s]>>32 is
// n/max(s, 1) rounded down (the error, under n/2³² < 2⁻¹⁸, is less than
// the 1/s a fraction falls short of the next whole number).
var shadeRecip = func() (t [3*255 + 1]uint64) {
	for s := range t {
		t[s] = 1<<32/uint64(max(s, 1)) + 1
	}
	return t
}()

func newShadeTest(g *keyGrid, tol float64) *shadeTest {
	const n = shadeCells
	t := &shadeTest{slack: int(3 * tol)}
	// The brightest border sum in each cell, then in each cell and its 8
	// neighbours.
	var cell [n * n]int
	for i := range cell {
		cell[i] = -1
	}
	g.border(func(y, x0, x1 int) {
		row := pixRow(g.img, y, x0, x1)
		for x := range len(row) / 4 {
			p := [4]uint8(row[4*x : 4*x+4])
			if p[3] >= 128 {
				continue
			}
			cr, cg := shadeCell(p)
			cell[cr*n+cg] = max(cell[cr*n+cg], int(p[0])+int(p[1])+int(p[2]))
		}
	})
	for cr := range n {
		for cg := range n {
			b := -1
			for r := max(0, cr-1); r <= min(n-1, cr+1); r++ {
				for g := max(0, cg-1); g <= min(n-1, cg+1); g++ {
					b = max(b, cell[r*n+g])
				}
			}
			t.bright[cr*n+cg] = b
		}
	}
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
