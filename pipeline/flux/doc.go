// Package flux is the text-to-image stage: FLUX.1-schnell run from its ONNX
// export (black-forest-labs/FLUX.1-schnell-onnx layout,
// docs/algorithms.md §1.5) through pipeline/ort. It owns the parts
// of the sampler that are not in the model files:
//
//   - text conditioning: CLIP-L pooled output (768) as the vector input and
//     T5-XXL's last hidden state (MaxSeqLen × 4096, 256 for schnell) as the
//     token context (docs/algorithms.md §1.2), from ids made by injected tokenizers;
//   - seeded Gaussian latent noise (16 × H/8 × W/8), the 2×2 packing into
//     64-feature tokens and the image/text position ids (docs/algorithms.md §1.3, §1.1);
//   - schnell's unshifted Euler schedule linspace(1, 0, n+1) and the
//     rectified-flow update x ← x + (t_prev − t_curr)·v (docs/algorithms.md §1.4);
//   - the VAE's scale and shift (z/0.3611 + 0.1159) before the decoder and
//     the [−1, 1] → 8-bit conversion after it (docs/algorithms.md §1.3).
//
// Every model's signature is checked before anything runs; a directory that
// does not fit gives one error listing every difference in every file.
// Activations cross the session boundary in whatever element type each
// model declares (float32, float16 or bfloat16; ort converts), and when the
// transformer is bf16 or fp16 the latent is rounded to that type after each
// step, as the reference sampler keeps it in the model's dtype.
//
// The noise cannot match torch's: BFL draws it with torch's CPU generator
// (Philox/MT19937 plus torch's own normal transform), which is not
// reproduced here. Noise is a PCG (math/rand/v2, seed and a fixed stream
// constant) feeding a Box–Muller transform in float64, stable across Go
// releases (architectures that fuse multiply-adds may differ in the last
// bit); the same seed gives the same image on a machine and provider,
// never the image torch gives for that seed.
package flux
