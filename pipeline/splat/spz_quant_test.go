package splat

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Hand-computed vectors for the quantisation of docs/protocol.md §4.3.
func TestSPZQuantVectors(t *testing.T) {
	t.Parallel()
	pos := []struct {
		v    float32
		want [3]byte
	}{
		{0, [3]byte{0, 0, 0}},
		{1, [3]byte{0x00, 0x10, 0x00}},           // 4096
		{-1.0 / 4096, [3]byte{0xff, 0xff, 0xff}}, // -1
		{0.5 / 4096, [3]byte{1, 0, 0}},           // 0.5 rounds away from zero
		{-0.5 / 4096, [3]byte{0xff, 0xff, 0xff}}, // -0.5 → -1
		{2047.99, [3]byte{0xd7, 0xff, 0x7f}},     // 8388567 = 0x7fffd7
		{2048, [3]byte{0x00, 0x00, 0x80}},        // wraps to -2048
		{-3.25, [3]byte{0x00, 0x30, 0xff}},       // -13312 = 0xffcc00? see below
	}
	// -3.25·4096 = -13312 = 0xFFFFCC00 → low bytes 00 CC FF.
	pos[len(pos)-1].want = [3]byte{0x00, 0xcc, 0xff}
	for _, tt := range pos {
		if got := spzPackPos(tt.v, 12); got != tt.want {
			t.Errorf("spzPackPos(%v) = % x, want % x", tt.v, got, tt.want)
		}
	}
	if got := spzUnpackPos([]byte{0x00, 0x00, 0x80}, 12); got != -2048 {
		t.Errorf("spzUnpackPos(0x800000) = %v, want -2048", got)
	}
	u8 := []struct {
		name string
		got  uint8
		want uint8
	}{
		{"alpha logit 0 → 127.5 → 128", spzPackAlpha(0), 128},
		{"alpha logit -20", spzPackAlpha(-20), 0},
		{"alpha logit 20", spzPackAlpha(20), 255},
		{"color 0 → 127.5 → 128", spzPackColor(0), 128},
		{"color 1 → 165.75 → 166", spzPackColor(1), 166},
		{"color -3.34 → clamp 0", spzPackColor(-3.34), 0},
		{"color 3.34 → clamp 255", spzPackColor(3.34), 255},
		{"scale -10 → 0", spzPackScale(-10), 0},
		{"scale 0 → 160", spzPackScale(0), 160},
		{"scale -4.03 → 95.52 → 96", spzPackScale(-4.03), 96},
		{"scale 6 → clamp 255", spzPackScale(6), 255},
		{"scale -11 → clamp 0", spzPackScale(-11), 0},
		{"sh 0 (5 bit)", spzPackSH(0, 8), 128},
		{"sh 0.03 (5 bit): 132 → 136", spzPackSH(0.03, 8), 136},
		{"sh 0.03 (4 bit): 132 → 128", spzPackSH(0.03, 16), 128},
		{"sh 0.0625 (4 bit): 136 → 144", spzPackSH(0.0625, 16), 144},
		{"sh 0.99 (4 bit): 255 → 256 → 255", spzPackSH(0.99, 16), 255},
		{"sh -1.5: -64 → -56 → 0", spzPackSH(-1.5, 8), 0},
		{"sh -0.2 (5 bit): 102 → 104", spzPackSH(-0.2, 8), 104},
	}
	for _, tt := range u8 {
		if tt.got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	rot := []struct {
		q    []float32 // w, x, y, z
		want [3]byte
	}{
		{[]float32{1, 0, 0, 0}, [3]byte{128, 128, 128}},         // 127.5 → 128
		{[]float32{2, 0, 0, 0}, [3]byte{128, 128, 128}},         // normalised first
		{[]float32{-1, 0, 0, 0}, [3]byte{128, 128, 128}},        // negated for w ≥ 0 (-0·127.5+127.5)
		{[]float32{0, 1, 0, 0}, [3]byte{255, 128, 128}},         // w = 0 keeps sign
		{[]float32{-0.5, 0.5, -0.5, 0.5}, [3]byte{64, 191, 64}}, // negated: (-.5,.5,-.5) → 63.75, 191.25, 63.75
	}
	for _, tt := range rot {
		if got := spzPackRotFirstThree(tt.q); got != tt.want {
			t.Errorf("spzPackRotFirstThree(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestSPZSmallestThree(t *testing.T) {
	t.Parallel()
	// identity (w largest): index 3, all fields zero.
	if got := spzPackRotSmallest3([]float32{1, 0, 0, 0}); got != 3<<30 {
		t.Errorf("identity = %#x, want %#x", got, uint32(3<<30))
	}
	// x largest and negative → negated; y = 0.5/|q| … check by round trip.
	for _, q := range [][]float32{{0.1, -0.9, 0.3, 0.2}, {0.5, 0.5, 0.5, 0.5}, {0.2, 0.1, -0.95, 0.05}, {0.01, 0.02, 0.03, -0.99}} {
		got := spzUnpackRotSmallest3(spzPackRotSmallest3(q))
		if a := quatAngle(q, got[:]); a > 0.004 {
			t.Errorf("smallest-three round trip of %v: %v, angle %.4f rad", q, got, a)
		}
	}
}

func TestHalfToFloat32(t *testing.T) {
	t.Parallel()
	got := []float32{halfToFloat32(0x3c00), halfToFloat32(0xc000), halfToFloat32(0x0001), halfToFloat32(0x7bff), halfToFloat32(0x8000)}
	want := []float32{1, -2, 1.0 / (1 << 24), 65504, 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("halfToFloat32 (-want +got):\n%s", diff)
	}
	if !math.IsInf(float64(halfToFloat32(0x7c00)), 1) {
		t.Error("0x7c00 is not +Inf")
	}
}

// quatAngle is the rotation angle between two (w, x, y, z) quaternions.
func quatAngle(a, b []float32) float64 {
	var na, nb, dot float64
	for i := range 4 {
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
		dot += float64(a[i]) * float64(b[i])
	}
	d := math.Min(1, math.Abs(dot)/math.Sqrt(na*nb))
	return 2 * math.Acos(d)
}
