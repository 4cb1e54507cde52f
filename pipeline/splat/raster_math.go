package splat

import "math"

// fastExp returns e^x with a relative error below 2e-7 (a degree-6 Taylor
// polynomial after reduction by ln 2); it returns 0 below −87 and saturates
// at e^88. It is the compositing loop's exponential; math.Exp in float64
// costs several times more.
func fastExp(x float32) float32 {
	if x < -87 {
		return 0
	}
	x = min(x, 88)
	const (
		log2e = 1.4426950408889634
		ln2hi = 0.693145751953125
		ln2lo = 1.4286068203094172321e-6
	)
	t := x * log2e
	if t < 0 {
		t -= 0.5
	} else {
		t += 0.5
	}
	k := float32(int32(t)) // round to nearest
	r := x - k*ln2hi - k*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return p * math.Float32frombits(uint32(int32(k)+127)<<23)
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

func floor32(x float32) float32 { return float32(math.Floor(float64(x))) }
func ceil32(x float32) float32  { return float32(math.Ceil(float64(x))) }

// truncI32 converts like a C float-to-int cast (toward zero), saturating far
// outside the image instead of wrapping.
func truncI32(x float32) int32 {
	const lim = 1 << 30
	if x > lim {
		return lim
	}
	if x < -lim {
		return -lim
	}
	return int32(x)
}

func ln64(x float64) float64 { return math.Log(x) }
