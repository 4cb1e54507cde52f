package fit

import "math"

// expLR is the log-linear learning-rate decay of 3DGS/DreamGaussian
// (get_expon_lr_func with no delay): lr(step) = exp((1−t)·ln init + t·ln
// final) with t = clamp(step/maxSteps, 0, 1). maxSteps 0 means constant
// init. init and final must be > 0.
func expLR(init, final float64, maxSteps, step int) float64 {
	if maxSteps <= 0 {
		return init
	}
	t := min(max(float64(step)/float64(maxSteps), 0), 1)
	return math.Exp((1-t)*math.Log(init) + t*math.Log(final))
}

// activeSHDegree is the SH degree switched on at iteration it (1-based):
// 3DGS raises it by one every interval iterations, up to maxDeg.
func activeSHDegree(it, interval, maxDeg int) int {
	if maxDeg == 0 || interval <= 0 {
		return maxDeg
	}
	return min(maxDeg, (it-1)/interval)
}
