package flux

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"github.com/splatbench/splatbench/internal/parallel"
)

// Latent and VAE constants (docs/algorithms.md §1.3, BFL
// modules/autoencoder.py).
const (
	LatentChannels = 16     // z_channels
	PackedFeatures = 64     // 16 channels × 2 × 2 per token
	VAEScale       = 0.3611 // scale_factor
	VAEShift       = 0.1159 // shift_factor
	// noiseStream is the PCG stream constant; the seed is the state.
	noiseStream = 0x666c75782d6e7365 // "flux-nse"
)

// Grid is the latent geometry of a square or rectangular image whose sides
// are multiples of 16: the latent is LatentChannels × H × W with H = h/8,
// and packing makes Rows × Cols tokens (Rows = H/2).
type Grid struct {
	H, W       int // latent height and width
	Rows, Cols int // packed token grid
}

// NewGrid returns the grid of a width × height image. Both must be positive
// multiples of 16 (BFL rounds down to 16; here a wrong size is an error).
func NewGrid(width, height int) (Grid, error) {
	if width < 16 || height < 16 || width%16 != 0 || height%16 != 0 {
		return Grid{}, fmt.Errorf("flux: image size %d×%d: both sides must be positive multiples of 16", width, height)
	}
	return Grid{H: height / 8, W: width / 8, Rows: height / 16, Cols: width / 16}, nil
}

// Tokens is the packed sequence length L.
func (g Grid) Tokens() int { return g.Rows * g.Cols }

// LatentLen is the number of values in one unpacked (or packed) latent.
func (g Grid) LatentLen() int { return LatentChannels * g.H * g.W }

// Noise returns a standard-normal latent [16, H, W] (channel-major, as
// torch.randn(1, 16, H, W) lays it out) from seed. The generator is PCG
// (math/rand/v2, state seed, a fixed stream) and Box–Muller on pairs of
// uniforms; it does not reproduce torch's generator (see the package doc).
func Noise(seed int64, g Grid) []float32 {
	r := rand.New(rand.NewPCG(uint64(seed), noiseStream))
	out := make([]float32, g.LatentLen())
	for i := 0; i < len(out); i += 2 {
		// u1 in (0, 1] keeps the log finite; u2 in [0, 1).
		u1 := 1 - r.Float64()
		u2 := r.Float64()
		rad := math.Sqrt(-2 * math.Log(u1))
		s, c := math.Sincos(2 * math.Pi * u2)
		out[i] = float32(rad * c)
		if i+1 < len(out) {
			out[i+1] = float32(rad * s)
		}
	}
	return out
}

// Pack rearranges a latent [16, H, W] into tokens [L, 64]:
// `c (h ph) (w pw) -> (h w) (c ph pw)` with ph = pw = 2 (BFL sampling.py).
func Pack(latent []float32, g Grid) []float32 {
	out := make([]float32, len(latent))
	for r := range g.Rows {
		for q := range g.Cols {
			tok := out[(r*g.Cols+q)*PackedFeatures:]
			for c := range LatentChannels {
				for ph := range 2 {
					row := latent[(c*g.H+2*r+ph)*g.W+2*q:]
					tok[c*4+ph*2] = row[0]
					tok[c*4+ph*2+1] = row[1]
				}
			}
		}
	}
	return out
}

// Unpack is the inverse of Pack.
func Unpack(tokens []float32, g Grid) []float32 {
	out := make([]float32, len(tokens))
	for r := range g.Rows {
		for q := range g.Cols {
			tok := tokens[(r*g.Cols+q)*PackedFeatures:]
			for c := range LatentChannels {
				for ph := range 2 {
					row := out[(c*g.H+2*r+ph)*g.W+2*q:]
					row[0] = tok[c*4+ph*2]
					row[1] = tok[c*4+ph*2+1]
				}
			}
		}
	}
	return out
}

// ImageIDs returns the image position ids [L, 3]: (0, row, col) on the
// packed grid, row-major (BFL sampling.py:prepare).
func ImageIDs(g Grid) []float32 {
	ids := make([]float32, 3*g.Tokens())
	for r := range g.Rows {
		for q := range g.Cols {
			i := 3 * (r*g.Cols + q)
			ids[i+1], ids[i+2] = float32(r), float32(q)
		}
	}
	return ids
}

// TextIDs returns the text position ids [n, 3], all zeros.
func TextIDs(n int) []float32 { return make([]float32, 3*n) }

// ToVAE applies the inverse latent scaling, z/0.3611 + 0.1159, in place:
// what the decoder expects (the exported decoder does not include it).
func ToVAE(latent []float32) {
	for i, z := range latent {
		latent[i] = z/VAEScale + VAEShift
	}
}

// ToImage converts a decoded image [3, H, W] in [−1, 1] to 8-bit RGB as
// the BFL CLI does: clamp to [−1, 1], then 127.5·(x + 1) truncated (torch's
// .byte()); NaN becomes 0. Alpha is 255.
func ToImage(chw []float32, width, height int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	// Rows on every core: a 1024² picture took 18 ms of one core on the
	// GPU host (session 18).
	parallel.For(height, 0, func(y0, y1 int) { toImageRows(img, chw, y0, y1) })
	return img
}

// toImageRows is ToImage's rows [y0, y1).
func toImageRows(img *image.NRGBA, chw []float32, y0, y1 int) {
	width, plane := img.Rect.Dx(), img.Rect.Dx()*img.Rect.Dy()
	for y := y0; y < y1; y++ {
		row := img.Pix[y*img.Stride:]
		for x := range width {
			for c := range 3 {
				v := chw[c*plane+y*width+x]
				if !(v > -1) { // NaN too
					v = -1
				}
				v = min(v, 1)
				row[4*x+c] = uint8(127.5 * (v + 1))
			}
			row[4*x+3] = 255
		}
	}
}
