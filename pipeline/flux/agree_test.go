package flux

import (
	"cmp"
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort"
)

// TestTransformersAgree checks a rewritten export against the plain one:
// the transformers of $SPLATBENCH_FLUX_DIR (make_gpu_models.py --attention
// mha, the attentions fused) and $SPLATBENCH_FLUX_REF_DIR (the same weights,
// plain attention) each run one denoising step on the same noise, text and
// timestep, on the providers of $SPLATBENCH_FLUX_PROVIDERS (default
// cuda,cpu) at the first size of $SPLATBENCH_FLUX_RES (default 512). Their
// velocities must agree to 1 % of the reference's RMS (1e-5 for float32
// exports). Skipped unless both
// directories are set (tools/gpu_sweep.sh sets them; docs/perf/ort-gpu.md).
func TestTransformersAgree(t *testing.T) {
	dir, ref := os.Getenv("SPLATBENCH_FLUX_DIR"), os.Getenv("SPLATBENCH_FLUX_REF_DIR")
	if dir == "" || ref == "" {
		t.Skip("SPLATBENCH_FLUX_DIR and SPLATBENCH_FLUX_REF_DIR are not both set")
	}
	res, err := strconv.Atoi(strings.Split(cmp.Or(os.Getenv("SPLATBENCH_FLUX_RES"), "512"), ",")[0])
	if err != nil {
		t.Fatalf("SPLATBENCH_FLUX_RES: %v", err)
	}
	providers := strings.Split(cmp.Or(os.Getenv("SPLATBENCH_FLUX_PROVIDERS"), "cuda,cpu"), ",")
	ct, tt := realTokenizers(t)
	ctx := context.Background()
	var (
		text  encoding
		v     [2][]float32
		dtype ort.DType
	)
	for i, d := range []string{ref, dir} {
		f, err := New(ctx, testRuntime(t), Options{Dir: d, Steps: 4, Resolution: res, Providers: providers}, ct, tt, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// One encoding for both: the comparison is of the transformers alone.
			if text, err = f.encode(ctx, "a red cube on a wooden table"); err != nil {
				f.Close()
				t.Fatal(err)
			}
		}
		x := Pack(Noise(1, f.grid), f.grid)
		roundTo(f.latentT, x)
		dtype = f.latentT
		out, err := f.sess[stageTransformer].Run(ctx, x, text.context, text.pooled, []float32{1}, f.imgIDs, f.txtIDs)
		t.Logf("%s: transformer on %v", d, f.Providers()[stageTransformer])
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		v[i] = out[0]
	}
	if len(v[0]) != len(v[1]) {
		t.Fatalf("velocities of %d and %d values", len(v[0]), len(v[1]))
	}
	var sum, diff, worst float64
	for j := range v[0] {
		d := float64(v[1][j] - v[0][j])
		sum += float64(v[0][j]) * float64(v[0][j])
		diff += d * d
		worst = max(worst, math.Abs(d))
	}
	rms, rmsDiff := math.Sqrt(sum/float64(len(v[0]))), math.Sqrt(diff/float64(len(v[0])))
	t.Logf("%d values at %d px: reference RMS %.4g, RMS difference %.3g (%.2e of it), largest difference %.3g",
		len(v[0]), res, rms, rmsDiff, rmsDiff/rms, worst)
	// fp16 and bf16 kernels round differently fused and unfused; float32
	// ones agree to rounding (1e-8 on the smoke exports), where a dropped
	// bias shows at 5e-4.
	tol := 1e-2
	if dtype == ort.Float32 {
		tol = 1e-5
	}
	if !(rmsDiff <= tol*rms) {
		t.Errorf("the transformers of %s and %s differ by %.2e of the reference's RMS, want at most %.0e", dir, ref, rmsDiff/rms, tol)
	}
}
