package score

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// CLIP's image normalisation (openai/CLIP clip.py _transform; OpenCLIP's
// OPENAI_DATASET_MEAN/STD), docs/algorithms.md §3.2.
var (
	CLIPMean = [3]float64{0.48145466, 0.4578275, 0.40821073}
	CLIPStd  = [3]float64{0.26862954, 0.26130258, 0.27577711}
)

// Preprocess selects how a render becomes a CLIP input.
type Preprocess int

const (
	// PreprocessCLIP is CLIP's own transform: resize the shortest side to
	// the input size with PIL's bicubic (a = −0.5, support widened when
	// downsampling, i.e. antialiased), centre crop, mean/std normalisation.
	// The resized image is rounded to 8 bits once (PIL rounds after each
	// of its two passes).
	PreprocessCLIP Preprocess = iota
	// PreprocessValidator is what the SN17 validator does at three-gen-subnet
	// HEAD (docs/protocol.md §3.4, docs/algorithms.md §3.1): torch
	// F.interpolate bicubic (a = −0.75, align_corners=False, no antialias)
	// straight to size×size (no crop), then Normalize with the mean AND the
	// std multiplied by 3 — the validator's quirk, equivalent to feeding
	// x/3 to the standard normalisation. It computes in float32 where the
	// validator uses fp16.
	PreprocessValidator
)

// String names the mode.
func (p Preprocess) String() string {
	switch p {
	case PreprocessCLIP:
		return "clip"
	case PreprocessValidator:
		return "validator"
	}
	return fmt.Sprintf("Preprocess(%d)", int(p))
}

// ParsePreprocess reads "clip" or "validator" ("" is "clip").
func ParsePreprocess(s string) (Preprocess, error) {
	switch s {
	case "", "clip":
		return PreprocessCLIP, nil
	case "validator":
		return PreprocessValidator, nil
	}
	return 0, fmt.Errorf("CLIP preprocessing %q: want clip or validator", s)
}

// Apply turns an interleaved RGB image (len 3·w·h, values 0..1) into a
// normalised CHW tensor of 3·size·size values.
func (p Preprocess) Apply(rgb []float32, w, h, size int) ([]float32, error) {
	if err := p.check(rgb, w, h, size); err != nil {
		return nil, err
	}
	out := make([]float32, 3*size*size)
	s := scratchPool.Get().(*resizeScratch)
	p.applyInto(out, rgb, w, h, size, s)
	scratchPool.Put(s)
	return out, nil
}

// check is Apply's argument check.
func (p Preprocess) check(rgb []float32, w, h, size int) error {
	if w < 1 || h < 1 || len(rgb) != 3*w*h {
		return fmt.Errorf("CLIP preprocessing: image %d×%d with %d values, want %d", w, h, len(rgb), 3*w*h)
	}
	if size < 1 {
		return fmt.Errorf("CLIP preprocessing: input size %d", size)
	}
	if p != PreprocessCLIP && p != PreprocessValidator {
		return fmt.Errorf("CLIP preprocessing: unknown mode %d", int(p))
	}
	return nil
}

// applyInto is Apply writing the CHW tensor into dst (3·size·size
// values), the arguments checked. The resize streams: each output row is
// resized, rounded (CLIP) and normalised as soon as the rows its taps
// read are, straight into dst; PreprocessCLIP resizes only the output
// rows and columns its centre crop keeps. Every value is computed as the
// plain resize then crop computes it, each sum in the same order, so the
// result is the same bit for bit.
func (p Preprocess) applyInto(dst, rgb []float32, w, h, size int, s *resizeScratch) {
	n := size * size
	planes := [3][]float32{dst[:n], dst[n : 2*n], dst[2*n : 3*n]}
	switch p {
	case PreprocessCLIP:
		// torchvision Resize(size): the short side becomes size, the long
		// side int(size·long/short); then CenterCrop with round((d−size)/2).
		rw, rh := size, size
		if w < h {
			rh = int(float64(size) * float64(h) / float64(w))
		} else if h < w {
			rw = int(float64(size) * float64(w) / float64(h))
		}
		left := int(math.Round(float64(rw-size) / 2))
		top := int(math.Round(float64(rh-size) / 2))
		xs := cachedTaps(pilKernel, w, rw).sub(left, left+size)
		ys := cachedTaps(pilKernel, h, rh).sub(top, top+size)
		s.resize(rgb, w, h, xs, ys, func(y int, acc []float64) {
			r, g, b, acc := outRow(&planes, y, size, acc)
			for x := range r {
				a := acc[3*x : 3*x+3 : 3*x+3]
				r[x] = clip8(&clipLUT[0], a[0], 0)
				g[x] = clip8(&clipLUT[1], a[1], 1)
				b[x] = clip8(&clipLUT[2], a[2], 2)
			}
		})
	case PreprocessValidator:
		var mean, std [3]float64
		for c := range 3 {
			mean[c], std[c] = 3*CLIPMean[c], 3*CLIPStd[c]
		}
		xs, ys := cachedTaps(torchKernel, w, size), cachedTaps(torchKernel, h, size)
		s.resize(rgb, w, h, xs, ys, func(y int, acc []float64) {
			r, g, b, acc := outRow(&planes, y, size, acc)
			for x := range r {
				a := acc[3*x : 3*x+3 : 3*x+3]
				r[x] = float32((float64(float32(a[0])) - mean[0]) / std[0])
				g[x] = float32((float64(float32(a[1])) - mean[1]) / std[1])
				b[x] = float32((float64(float32(a[2])) - mean[2]) / std[2])
			}
		})
	}
}

// outRow is output row y of the three planes and acc cut to its length
// (the equal lengths let the compiler drop the loops' bounds checks).
func outRow(planes *[3][]float32, y, size int, acc []float64) (r, g, b []float32, a []float64) {
	o := y * size
	r = planes[0][o : o+size]
	return r, planes[1][o : o+len(r)], planes[2][o : o+len(r)], acc[:3*len(r)]
}

// clipLUT[c][q] is channel c's normalised value of the 8-bit level q.
var clipLUT = func() (lut [3][256]float32) {
	for c := range 3 {
		for q := range 256 {
			lut[c][q] = clipNorm(float64(q), c)
		}
	}
	return lut
}()

// clipNorm normalises the 8-bit level q (0..255, or NaN) of channel c.
func clipNorm(q float64, c int) float32 {
	return float32((float64(float32(q/255)) - CLIPMean[c]) / CLIPStd[c])
}

// level is PreprocessCLIP's 8-bit level of a resized sample a: a rounded
// to float32, times 255, rounded half away from zero, clamped to 0..255.
func level(a float64) float64 {
	return min(max(math.Round(float64(float32(a))*255), 0), 255)
}

// levelStep[q] is the least float64 whose level is q or more (q =
// 1..255); levelStep[0] is −∞ and levelStep[256] +∞. level is monotone,
// so a's level is the q with levelStep[q] ≤ a < levelStep[q+1].
var levelStep = func() (t [257]float64) {
	t[0], t[256] = math.Inf(-1), math.Inf(1)
	for q := 1; q < 256; q++ {
		// Bisect over the positive float64s, ordered as their bits are.
		lo, hi := uint64(0), math.Float64bits(math.Inf(1)) // level(lo) < q ≤ level(hi)
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if level(math.Float64frombits(mid)) >= float64(q) {
				hi = mid
			} else {
				lo = mid
			}
		}
		t[q] = math.Float64frombits(hi)
	}
	return t
}()

// clip8 is PreprocessCLIP's value of the resized sample a of channel c:
// clipLUT[c][level(a)], found by comparing a with the level steps (it
// costs less than level's float32 round trip, whose conversions chain
// from one sample to the next on amd64).
func clip8(lut *[256]float32, a float64, c int) float32 {
	switch {
	case a >= levelStep[255]:
		return lut[255]
	case a >= levelStep[1]:
		q := int(a*255 + 0.5) // a is in (0, 1): level(a) or one off it
		for a < levelStep[q] {
			q--
		}
		for a >= levelStep[q+1] {
			q++
		}
		return lut[q&255]
	case a == a:
		return lut[0]
	}
	return clipNorm(a, c) // NaN
}

// applyViews preprocesses square n×n views on up to workers goroutines
// into one batch tensor (the views' CHW tensors one after another).
func (p Preprocess) applyViews(views [][]float32, n, size, workers int) ([]float32, error) {
	per := 3 * size * size
	buf := make([]float32, len(views)*per)
	var g errgroup.Group
	g.SetLimit(max(workers, 1))
	for k, v := range views {
		g.Go(func() error {
			if err := p.check(v, n, n, size); err != nil {
				return fmt.Errorf("view %d: %w", k, err)
			}
			s := scratchPool.Get().(*resizeScratch)
			p.applyInto(buf[k*per:(k+1)*per], v, n, n, size, s)
			scratchPool.Put(s)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return buf, nil
}

// tapTable holds the taps of every output sample of a 1-D resize, flat:
// output i reads the source samples idx[off[i]:off[i+1]] with the weights
// w[off[i]:off[i+1]], in that order; lo[i] and hi[i] are the lowest and
// highest of them.
type tapTable struct {
	off    []int32
	idx    []int32
	w      []float64
	lo, hi []int32
}

// n is the number of outputs.
func (t tapTable) n() int { return len(t.lo) }

// sub is the table of outputs a..b−1 (output a becomes output 0).
func (t tapTable) sub(a, b int) tapTable {
	return tapTable{off: t.off[a : b+1], idx: t.idx, w: t.w, lo: t.lo[a:b], hi: t.hi[a:b]}
}

// add appends one output's taps.
func (t *tapTable) add(idx []int32, w []float64) {
	if len(t.off) == 0 {
		t.off = append(t.off, 0)
	}
	t.idx, t.w = append(t.idx, idx...), append(t.w, w...)
	t.off = append(t.off, int32(len(t.idx)))
	lo, hi := int32(0), int32(0)
	if len(idx) > 0 {
		lo, hi = slices.Min(idx), slices.Max(idx)
	}
	t.lo, t.hi = append(t.lo, lo), append(t.hi, hi)
}

// kernel names a tap table's resampling filter.
type kernel int

const (
	pilKernel   kernel = iota // pilTaps
	torchKernel               // torchTaps
)

type tapKey struct {
	k       kernel
	in, out int
}

// tapCache memoises tap tables, which depend only on the kernel and the
// sizes; it stops taking new ones at about tapCacheMax tables.
var (
	tapCache    sync.Map // tapKey → tapTable
	tapCacheLen atomic.Int32
)

const tapCacheMax = 64

// cachedTaps is the tap table of kernel k from in samples to out.
func cachedTaps(k kernel, in, out int) tapTable {
	key := tapKey{k, in, out}
	if t, ok := tapCache.Load(key); ok {
		return t.(tapTable)
	}
	var t tapTable
	switch k {
	case pilKernel:
		t = pilTaps(in, out)
	case torchKernel:
		t = torchTaps(in, out)
	default:
		panic(fmt.Sprintf("score: kernel %d", int(k)))
	}
	if tapCacheLen.Load() < tapCacheMax {
		if _, loaded := tapCache.LoadOrStore(key, t); !loaded {
			tapCacheLen.Add(1)
		}
	}
	return t
}

// hBlock is how many source rows the horizontal pass resizes at once,
// reading each tap's index and weight once for all of them.
const hBlock = 2

// resizeScratch is the working memory of resize, kept between calls.
type resizeScratch struct {
	src  []float64 // hBlock source rows, as float64, pixel-major: 3·hBlock values a column
	ring []float64 // horizontally resized rows, row i in slot i mod its length, then a spare
	acc  []float64 // one vertically resized row
}

var scratchPool = sync.Pool{New: func() any { return new(resizeScratch) }}

func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

// resize applies separable weights to an interleaved RGB image, rows
// first (x), then columns (y), and hands each output row y, interleaved
// (3·xs.n() values), to emit. Each tap's weight is applied to all three
// channels at once, and the column pass runs along whole rows; every
// output sums its taps in their order, from 0, in float64, so the result
// is that of resizing each plane on its own. Source rows are resized
// horizontally as the output rows first need them, hBlock at a time, into
// a ring of as many rows as the column taps' windows need.
func (s *resizeScratch) resize(rgb []float32, w, h int, xs, ys tapTable, emit func(y int, acc []float64)) {
	ow, oh := xs.n(), ys.n()
	if ow == 0 || oh == 0 {
		return
	}
	n3 := 3 * ow
	// The ring: after output y's rows are resized, rows start..done are,
	// and output y reads rows lo[y]..hi[y], which must not yet be
	// overwritten; one block's rows take different slots.
	start := int(slices.Min(ys.lo))
	ring, done, reach := min(hBlock, h), start-1, -1
	for y := range oh {
		reach = max(reach, int(ys.hi[y]))
		for done < reach {
			done += hBlock
		}
		ring = max(ring, min(done, h-1)-int(ys.lo[y])+1)
	}
	colLo, colHi := int(slices.Min(xs.lo)), int(slices.Max(xs.hi))
	s.src = grow(s.src, 3*hBlock*w)
	s.ring = grow(s.ring, (ring+1)*n3)
	s.acc = grow(s.acc, n3)
	acc := s.acc
	row := func(i int) []float64 {
		if i >= h {
			i = ring // the spare: a row past the image, resized and unused
		} else {
			i %= ring
		}
		return s.ring[i*n3 : (i+1)*n3]
	}
	next := start
	for y := range oh {
		for next <= int(ys.hi[y]) {
			s.convert(rgb, w, h, next, colLo, colHi)
			hpass(s.src, xs, [hBlock][]float64{row(next), row(next + 1)})
			next += hBlock
		}
		clear(acc)
		ti, tw := ys.idx[ys.off[y]:ys.off[y+1]], ys.w[ys.off[y]:ys.off[y+1]]
		tw = tw[:len(ti)]
		k := 0
		for ; k+4 <= len(ti); k += 4 {
			vpass4(acc, row(int(ti[k])), row(int(ti[k+1])), row(int(ti[k+2])), row(int(ti[k+3])), tw[k], tw[k+1], tw[k+2], tw[k+3])
		}
		for ; k < len(ti); k++ {
			vpass1(acc, row(int(ti[k])), tw[k])
		}
		emit(y, acc)
	}
}

// convert puts source rows r0 and r0+1 (past the image: the last row
// again), columns lo..hi, into s.src as float64.
func (s *resizeScratch) convert(rgb []float32, w, h, r0, lo, hi int) {
	const m = 3 * hBlock
	y0, y1 := min(r0, h-1), min(r0+1, h-1)
	n := hi - lo + 1
	p0, p1 := rgb[3*(y0*w+lo):3*(y0*w+hi+1)], rgb[3*(y1*w+lo):3*(y1*w+hi+1)]
	p0, p1 = p0[:3*n], p1[:3*n]
	d := s.src[m*lo : m*(hi+1)]
	d = d[:m*n]
	for i := range n {
		a, b, q := p0[3*i:3*i+3:3*i+3], p1[3*i:3*i+3:3*i+3], d[m*i:m*i+m:m*i+m]
		q[0], q[1], q[2] = float64(a[0]), float64(a[1]), float64(a[2])
		q[3], q[4], q[5] = float64(b[0]), float64(b[1]), float64(b[2])
	}
}

// hpass resizes the hBlock rows in src (pixel-major, as convert writes
// them) horizontally into dst's rows, interleaved.
func hpass(src []float64, xs tapTable, dst [hBlock][]float64) {
	const m = 3 * hBlock
	d0, d1 := dst[0], dst[1]
	for x := range xs.n() {
		ti, tw := xs.idx[xs.off[x]:xs.off[x+1]], xs.w[xs.off[x]:xs.off[x+1]]
		tw = tw[:len(ti)]
		var a0, a1, a2, a3, a4, a5 float64
		for k, i := range ti {
			wt, j := tw[k], m*int(i)
			p := src[j : j+m : j+m]
			a0 += wt * p[0]
			a1 += wt * p[1]
			a2 += wt * p[2]
			a3 += wt * p[3]
			a4 += wt * p[4]
			a5 += wt * p[5]
		}
		o := 3 * x
		q := d0[o : o+3 : o+3]
		q[0], q[1], q[2] = a0, a1, a2
		q = d1[o : o+3 : o+3]
		q[0], q[1], q[2] = a3, a4, a5
	}
}

// vpass4 adds w0·s0, w1·s1, w2·s2 and w3·s3 to acc, in that order.
func vpass4(acc, s0, s1, s2, s3 []float64, w0, w1, w2, w3 float64) {
	s0, s1, s2, s3 = s0[:len(acc)], s1[:len(acc)], s2[:len(acc)], s3[:len(acc)]
	for j, a := range acc {
		a += w0 * s0[j]
		a += w1 * s1[j]
		a += w2 * s2[j]
		a += w3 * s3[j]
		acc[j] = a
	}
}

// vpass1 adds w0·s0 to acc.
func vpass1(acc, s0 []float64, w0 float64) {
	s0 = s0[:len(acc)]
	for j, a := range acc {
		acc[j] = a + w0*s0[j]
	}
}

// cubic is the Keys cubic convolution kernel with parameter a.
func cubic(x, a float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// pilTaps are PIL's resample coefficients for BICUBIC (a = −0.5,
// support 2 scaled by the downsampling factor, normalised, edges cut).
func pilTaps(in, out int) tapTable {
	scale := float64(in) / float64(out)
	fs := max(scale, 1)
	support := 2 * fs
	var t tapTable
	var idx []int32
	var ws []float64
	for i := range out {
		center := (float64(i) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		idx, ws = idx[:0], ws[:0]
		var sum float64
		for j := lo; j < hi; j++ {
			wt := cubic((float64(j)-center+0.5)/fs, -0.5)
			idx, ws = append(idx, int32(j)), append(ws, wt)
			sum += wt
		}
		if sum != 0 {
			for k := range ws {
				ws[k] /= sum
			}
		}
		t.add(idx, ws)
	}
	return t
}

// torchTaps are torch's upsample_bicubic2d coefficients with
// align_corners=False and no antialias: source x = (i + 0.5)·scale − 0.5,
// four taps around floor(x) with a = −0.75, indices clamped to the edge.
func torchTaps(in, out int) tapTable {
	scale := float64(in) / float64(out)
	var t tapTable
	for i := range out {
		src := (float64(i)+0.5)*scale - 0.5
		x0 := math.Floor(src)
		f := src - x0
		var idx [4]int32
		var ws [4]float64
		for k := range 4 {
			idx[k] = int32(min(max(int(x0)-1+k, 0), in-1))
			ws[k] = cubic(f+1-float64(k), -0.75)
		}
		t.add(idx[:], ws[:])
	}
	return t
}
