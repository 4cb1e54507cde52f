package splat

import (
	"math"
)

// SPZ quantisation, as the subnet's fork encodes it (docs/protocol.md §4.3,
// docs/protocol.md §4.3). Every step is computed in float32 like the C++ encoder;
// explicit float32 conversions stop the compiler fusing multiply-adds.

const (
	spzDefaultFracBits = 12
	spzColorScale      = 38.25 // 0.15f * 255.0f in float32
	spzSH1Bucket       = 8     // 5 bits for the first 9 SH bytes of a point
	spzSHRestBucket    = 16    // 4 bits for the rest
	spzSH1Bytes        = 9
)

// spzU8 rounds half away from zero and clamps to 0..255.
func spzU8(x float32) uint8 {
	if !(x > 0) { // also NaN
		return 0
	}
	if x >= 255 {
		return 255
	}
	return uint8(math.Round(float64(x)))
}

// spzPackPos returns the 24-bit two's-complement fixed-point value of v. As
// in the reference encoder there is no clamp: out-of-range values wrap.
func spzPackPos(v float32, fracBits int) [3]byte {
	scaled := float32(v * float32(int32(1)<<fracBits))
	var q int64
	switch {
	case scaled >= 1<<62:
		q = 1 << 62
	case scaled <= -(1 << 62):
		q = -(1 << 62)
	default:
		q = int64(math.Round(float64(scaled)))
	}
	return [3]byte{byte(q), byte(q >> 8), byte(q >> 16)}
}

func spzUnpackPos(b []byte, fracBits int) float32 {
	q := int32(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16) << 8 >> 8
	return float32(q) / float32(int32(1)<<fracBits)
}

func spzPackAlpha(logit float32) uint8 {
	a := float32(1) / (1 + float32(math.Exp(float64(-logit))))
	return spzU8(float32(a * 255))
}

// spzUnpackAlpha inverts the sigmoid; 0 and 255 map to finite logits
// (Logit clamps to 1e-6..1-1e-6) so the cloud stays valid.
func spzUnpackAlpha(b uint8) float32 { return Logit(float32(b) / 255) }

func spzPackColor(dc float32) uint8 {
	return spzU8(float32(float32(dc*spzColorScale) + 127.5))
}

func spzUnpackColor(b uint8) float32 { return (float32(b)/255 - 0.5) / 0.15 }

func spzPackScale(logScale float32) uint8 {
	return spzU8(float32(float32(logScale+10) * 16))
}

func spzUnpackScale(b uint8) float32 { return float32(b)/16 - 10 }

// spzNormXYZW reorders a PLY (w, x, y, z) quaternion to (x, y, z, w) and
// normalises it in float32.
func spzNormXYZW(q []float32) [4]float32 {
	x, y, z, w := q[1], q[2], q[3], q[0]
	n := float32(math.Sqrt(float64(float32(float32(float32(x*x)+float32(y*y))+float32(z*z)) + float32(w*w))))
	return [4]float32{x / n, y / n, z / n, w / n}
}

// spzPackRotFirstThree is the v1/v2 rotation: x, y, z of the unit
// quaternion with w ≥ 0, each as round(c·127.5 + 127.5).
func spzPackRotFirstThree(q []float32) [3]byte {
	u := spzNormXYZW(q)
	s := float32(127.5)
	if u[3] < 0 {
		s = -127.5
	}
	return [3]byte{
		spzU8(float32(float32(u[0]*s) + 127.5)),
		spzU8(float32(float32(u[1]*s) + 127.5)),
		spzU8(float32(float32(u[2]*s) + 127.5)),
	}
}

// spzUnpackRotFirstThree returns a (w, x, y, z) quaternion.
func spzUnpackRotFirstThree(b []byte) [4]float32 {
	x := float32(b[0])/127.5 - 1
	y := float32(b[1])/127.5 - 1
	z := float32(b[2])/127.5 - 1
	w := float32(math.Sqrt(float64(max(0, 1-(x*x+y*y+z*z)))))
	return [4]float32{w, x, y, z}
}

const spzSqrtHalf = 0.70710678118654752440

// spzPackRotSmallest3 is the v3+ rotation: a u32 whose top two bits index
// the largest-magnitude component of (x, y, z, w), made positive; the other
// three follow in index order as sign + 9-bit magnitude fields, the first in
// bits 20-29.
func spzPackRotSmallest3(q []float32) uint32 {
	u := spzNormXYZW(q)
	big := 0
	for i := 1; i < 4; i++ {
		if abs32(u[i]) > abs32(u[big]) {
			big = i
		}
	}
	neg := u[big] < 0
	out := uint32(big) << 30
	shift := 20
	for i := range 4 {
		if i == big {
			continue
		}
		c := u[i]
		if neg {
			c = -c
		}
		mag := uint32(min(511, math.Round(511*float64(abs32(c))/spzSqrtHalf)))
		field := mag
		if c < 0 {
			field |= 1 << 9
		}
		out |= field << shift
		shift -= 10
	}
	return out
}

// spzUnpackRotSmallest3 returns a (w, x, y, z) quaternion.
func spzUnpackRotSmallest3(v uint32) [4]float32 {
	big := int(v >> 30)
	var xyzw [4]float32
	sum := float32(0)
	shift := 20
	for i := range 4 {
		if i == big {
			continue
		}
		field := (v >> shift) & 0x3ff
		shift -= 10
		c := float32(spzSqrtHalf * float64(field&0x1ff) / 511)
		if field&(1<<9) != 0 {
			c = -c
		}
		xyzw[i] = c
		sum += c * c
	}
	xyzw[big] = float32(math.Sqrt(float64(max(0, 1-sum))))
	return [4]float32{xyzw[3], xyzw[0], xyzw[1], xyzw[2]}
}

// spzPackSH quantises one SH coefficient; bucket is 8 (5 bits) or 16 (4 bits).
func spzPackSH(x float32, bucket int) uint8 {
	x = min(max(x, -1000), 1000) // beyond this the clamp below decides anyway
	q := int(math.Round(float64(float32(x*128)))) + 128
	q = (q + bucket/2) / bucket * bucket
	return uint8(min(max(q, 0), 255))
}

func spzUnpackSH(b uint8) float32 { return (float32(b) - 128) / 128 }

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// float16 decoding for version-1 positions.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch exp {
	case 0:
		// subnormal or zero
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
