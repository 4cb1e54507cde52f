package fit

import (
	"fmt"

	"github.com/splatbench/splatbench/pipeline/splat"
)

// state is everything the fit keeps per Gaussian: the cloud, Adam's first
// and second moments for each cloud array, and the densification
// statistics. Every row operation (keep, append) goes through columns so
// that all of them stay the same length and in the same order.
type state struct {
	cloud *splat.Cloud
	// Adam moments, same layout as the cloud arrays.
	mPos, vPos     []float32
	mScale, vScale []float32
	mRot, vRot     []float32
	mOpa, vOpa     []float32
	mSH, vSH       []float32
	// gradAccum sums |dL/dμ2D| over the steps each Gaussian was visible;
	// denom counts those steps.
	gradAccum, denom []float32
	// adamSteps is Adam's step count (shared by all groups, as in PyTorch,
	// where concatenating or replacing a tensor keeps the step).
	adamSteps int
}

// column is one per-Gaussian array and its stride (values per Gaussian).
// param columns are copied on append; the others (optimiser state and
// statistics) start at zero for new Gaussians, as in 3DGS.
type column struct {
	name   string
	ptr    *[]float32
	stride int
	param  bool
}

func newState(c *splat.Cloud) *state {
	n := c.Len()
	z := func(k int) []float32 { return make([]float32, k*n) }
	sh := 3 * c.K()
	return &state{
		cloud: c,
		mPos:  z(3), vPos: z(3),
		mScale: z(3), vScale: z(3),
		mRot: z(4), vRot: z(4),
		mOpa: z(1), vOpa: z(1),
		mSH: z(sh), vSH: z(sh),
		gradAccum: z(1), denom: z(1),
	}
}

func (s *state) columns() []column {
	c := s.cloud
	sh := 3 * c.K()
	return []column{
		{"Pos", &c.Pos, 3, true},
		{"LogScale", &c.LogScale, 3, true},
		{"Rot", &c.Rot, 4, true},
		{"OpacityLogit", &c.OpacityLogit, 1, true},
		{"SH", &c.SH, sh, true},
		{"mPos", &s.mPos, 3, false}, {"vPos", &s.vPos, 3, false},
		{"mScale", &s.mScale, 3, false}, {"vScale", &s.vScale, 3, false},
		{"mRot", &s.mRot, 4, false}, {"vRot", &s.vRot, 4, false},
		{"mOpa", &s.mOpa, 1, false}, {"vOpa", &s.vOpa, 1, false},
		{"mSH", &s.mSH, sh, false}, {"vSH", &s.vSH, sh, false},
		{"gradAccum", &s.gradAccum, 1, false}, {"denom", &s.denom, 1, false},
	}
}

// len is the number of Gaussians.
func (s *state) len() int { return s.cloud.Len() }

// check reports the first column whose length disagrees with the count.
func (s *state) check() error {
	n := s.len()
	for _, col := range s.columns() {
		if len(*col.ptr) != col.stride*n {
			return fmt.Errorf("fit state: column %s has %d values, want %d for %d Gaussians", col.name, len(*col.ptr), col.stride*n, n)
		}
	}
	return nil
}

// keep compacts every column to the rows with keep[i] true, in order.
func (s *state) keep(keep []bool) {
	for _, col := range s.columns() {
		a, k := *col.ptr, col.stride
		w := 0
		for i, ok := range keep {
			if ok {
				if w != i {
					copy(a[w*k:(w+1)*k], a[i*k:(i+1)*k])
				}
				w++
			}
		}
		*col.ptr = a[:w*k]
	}
}

// appendCopies appends one new row per entry of src: parameter columns copy
// row src[j], the optimiser and statistics columns get zeros. It returns
// the index of the first new row.
func (s *state) appendCopies(src []int) int {
	first := s.len()
	for _, col := range s.columns() {
		a, k := *col.ptr, col.stride
		a = growLen(a, len(src)*k)
		base := first * k
		for j, i := range src {
			dst := a[base+j*k : base+(j+1)*k]
			if col.param {
				copy(dst, a[i*k:(i+1)*k])
			} else {
				clear(dst)
			}
		}
		*col.ptr = a
	}
	return first
}

// growLen extends a by n elements, reusing capacity when it can.
func growLen(a []float32, n int) []float32 {
	if cap(a)-len(a) >= n {
		return a[:len(a)+n]
	}
	b := make([]float32, len(a)+n, (len(a)+n)*5/4+16)
	copy(b, a)
	return b
}

// resetStats clears the densification statistics.
func (s *state) resetStats() {
	clear(s.gradAccum)
	clear(s.denom)
}
