package flux

import (
	"cmp"
	"context"
	"image"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/ort"
)

// TestTransformersAgree checks a rewritten export against the plain one:
// the transformers of $SPLATBENCH_FLUX_DIR (make_gpu_models.py --attention
// mha and the other rewrites) and $SPLATBENCH_FLUX_REF_DIR (the same
// weights, plain) each run one denoising step on the same noise, text and
// timestep, on the providers of $SPLATBENCH_FLUX_PROVIDERS (default
// cuda,cpu) at the first size of $SPLATBENCH_FLUX_RES (default 512). Their
// velocities must agree to 1 % of the reference's RMS (1e-5 for float32
// exports). Skipped unless both directories are set (tools/gpu_sweep.sh
// sets them; docs/perf/ort-gpu.md).
func TestTransformersAgree(t *testing.T) {
	var text encoding
	agree(t, stageTransformer, func(ctx context.Context, f *Flux, first bool) ([]float32, error) {
		if first {
			// One encoding for both: the comparison is of the transformers alone.
			var err error
			if text, err = f.encode(ctx, "a red cube on a wooden table"); err != nil {
				return nil, err
			}
		}
		x := Pack(Noise(1, f.grid), f.grid)
		roundTo(f.latentT, x)
		out, err := f.sess[stageTransformer].Run(ctx, x, text.context, text.pooled, []float32{1}, f.imgIDs, f.txtIDs)
		if err != nil {
			return nil, err
		}
		return out[0], nil
	})
}

// TestVAEsAgree is TestTransformersAgree for the VAE decoders of the two
// directories (make_gpu_models.py --groupnorm fused against plain): both
// decode the same latent noise.
func TestVAEsAgree(t *testing.T) {
	agree(t, stageVAE, func(ctx context.Context, f *Flux, _ bool) ([]float32, error) {
		s := f.sess[stageVAE]
		z := Noise(1, f.grid)
		ToVAE(z)
		roundTo(s.Inputs()[0].DType, z)
		out, err := s.Run(ctx, z)
		if err != nil {
			return nil, err
		}
		return out[0], nil
	})
}

// agree runs part of the pipelines of $SPLATBENCH_FLUX_REF_DIR and
// $SPLATBENCH_FLUX_DIR through run (first: the reference's turn) and
// compares the outputs.
func agree(t *testing.T, part string, run func(ctx context.Context, f *Flux, first bool) ([]float32, error)) {
	t.Helper()
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
		v     [2][]float32
		dtype ort.DType
	)
	for i, d := range []string{ref, dir} {
		f, err := New(ctx, testRuntime(t), Options{Dir: d, Steps: 4, Resolution: res, Providers: providers}, ct, tt, nil)
		if err != nil {
			t.Fatal(err)
		}
		dtype = f.sess[part].Inputs()[0].DType
		v[i], err = run(ctx, f, i == 0)
		t.Logf("%s: %s on %v", d, part, f.Providers()[part])
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(v[0]) != len(v[1]) {
		t.Fatalf("outputs of %d and %d values", len(v[0]), len(v[1]))
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
		t.Errorf("the %ss of %s and %s differ by %.2e of the reference's RMS, want at most %.0e", part, dir, ref, rmsDiff/rms, tol)
	}
}

// TestCUDAGraphAgrees runs the models of $SPLATBENCH_FLUX_DIR on the CUDA
// provider at the first size of $SPLATBENCH_FLUX_RES (default 512), once
// with the transformer as a CUDA graph (Options.Graph) and once plainly,
// and wants the same images for the same seeds. The graph pipeline makes
// seeds 1, 2, 1, 2: ONNX Runtime captures the transformer's third run and
// replays it after, so a replay that read stale inputs would give a seed
// the other seed's image. Skipped unless the directory is set
// (tools/gpu_sweep.sh sets it).
func TestCUDAGraphAgrees(t *testing.T) {
	dir := os.Getenv("SPLATBENCH_FLUX_DIR")
	if dir == "" {
		t.Skip("SPLATBENCH_FLUX_DIR is not set")
	}
	res, err := strconv.Atoi(strings.Split(cmp.Or(os.Getenv("SPLATBENCH_FLUX_RES"), "512"), ",")[0])
	if err != nil {
		t.Fatalf("SPLATBENCH_FLUX_RES: %v", err)
	}
	mem, err := cuda.Retain(0)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Release()
	ct, tt := realTokenizers(t)
	ctx := context.Background()
	images := func(graph ort.DeviceMemory, seeds ...int64) []*image.NRGBA {
		f, err := New(ctx, testRuntime(t), Options{Dir: dir, Steps: 4, Resolution: res, Providers: []string{ort.CUDA}, Graph: graph}, ct, tt, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out []*image.NRGBA
		for _, s := range seeds {
			img, _, err := f.Generate(ctx, "a red cube on a wooden table", s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, img)
		}
		return out
	}
	plain := images(nil, 1, 2)
	graph := images(mem, 1, 2, 1, 2)
	t.Logf("plain seed 1 against seed 2: RMS %.3g (8-bit units)", pixelRMS(plain[0], plain[1]))
	for i, g := range graph {
		d := pixelRMS(plain[i%2], g)
		t.Logf("graph run %d (seed %d) against plain: RMS %.3g", i+1, i%2+1, d)
		if d > 1 {
			t.Errorf("graph run %d (seed %d) differs from the plain run by RMS %.3g, want at most 1", i+1, i%2+1, d)
		}
	}
}

// pixelRMS is the RMS difference of two same-size images' channels.
func pixelRMS(a, b *image.NRGBA) float64 {
	var sum float64
	for i := range a.Pix {
		d := float64(a.Pix[i]) - float64(b.Pix[i])
		sum += d * d
	}
	return math.Sqrt(sum / float64(len(a.Pix)))
}
