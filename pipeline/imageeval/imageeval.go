// Package imageeval measures image-to-3D on the built-in reference scenes:
// it makes an image prompt from a scene's front view (composited on a
// plain or textured background) and compares a generated cloud with the
// scene's ground truth the way the subnet-17 validator looks at it: both
// normalised as the validator normalises (largest extent 1.5, scalar-mean
// recentring), rendered from the validator's 16 cameras, then mask IoU,
// PSNR and SSIM per view, averaged.
package imageeval

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"sync"

	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/score"
	"github.com/splatbench/splatbench/pipeline/splat"
	"github.com/splatbench/splatbench/prompts"
	"github.com/splatbench/splatbench/results/atomicfile"
)

// Background is the colour renders are composited on (the validator's white).
var Background = [3]float32{1, 1, 1}

// Backdrop is what an image prompt's object sits on: a plain colour or one
// of the scenes' textured backgrounds.
type Backdrop struct {
	// Plain, when Textured is false, is the flat background colour.
	Plain    color.NRGBA
	Textured bool
	Kind     scenes.BackgroundKind
	Seed     int64
}

// Backdrops are the backgrounds the corpus cycles through: white, a mid
// grey, and the four textured kinds.
var Backdrops = []Backdrop{
	{Plain: color.NRGBA{255, 255, 255, 255}},
	{Textured: true, Kind: scenes.Checker, Seed: 11},
	{Plain: color.NRGBA{128, 128, 128, 255}},
	{Textured: true, Kind: scenes.Noise, Seed: 12},
	{Textured: true, Kind: scenes.Gradient, Seed: 13},
	{Textured: true, Kind: scenes.Stripes, Seed: 14},
}

func (b Backdrop) String() string {
	if b.Textured {
		return fmt.Sprintf("%s/%d", b.Kind, b.Seed)
	}
	return fmt.Sprintf("plain#%02x%02x%02x", b.Plain.R, b.Plain.G, b.Plain.B)
}

// FrontCamera is the camera image prompts are rendered from and that the
// image-prompt path assumes: the scenes' first training view (azimuth 0,
// elevation −15°, the validator's field of view, radius framing an extent-1
// scene as the validator frames an extent-1.5 one) at size×size.
func FrontCamera(size int) splat.Camera { return scenes.TrainViews(1, size)[0] }

// Prompt renders scene's ground truth (seed) from FrontCamera(size) and
// composites it on bd: the image prompt, opaque RGB. It also returns the
// ground-truth cloud.
func Prompt(ctx context.Context, sc scenes.Scene, seed int64, size int, bd Backdrop) (*image.NRGBA, *splat.Cloud, error) {
	gt := sc.Build(seed, 0)
	fg, err := Cutout(ctx, sc, gt, size)
	if err != nil {
		return nil, nil, err
	}
	if bd.Textured {
		img, _ := scenes.Composite(fg, scenes.Background{Kind: bd.Kind, Seed: bd.Seed})
		return img, gt, nil
	}
	out := image.NewNRGBA(fg.Bounds())
	draw.Draw(out, out.Bounds(), image.NewUniform(bd.Plain), image.Point{}, draw.Src)
	draw.Draw(out, out.Bounds(), fg, image.Point{}, draw.Over)
	return out, gt, nil
}

// Cutout renders the scene cloud gt from FrontCamera(size) and keeps its
// alpha: a front view with a perfect matte, the object alone.
func Cutout(ctx context.Context, sc scenes.Scene, gt *splat.Cloud, size int) (*image.NRGBA, error) {
	ims, err := sc.Views(ctx, gt, []splat.Camera{FrontCamera(size)}, splat.RenderOptions{Background: Background, SHDegree: -1})
	if err != nil {
		return nil, err
	}
	return scenes.Foreground(ims[0], Background), nil
}

// Result is one comparison on the validator's views: means over the views.
type Result struct {
	IoU  float64 `json:"iou"`
	PSNR float64 `json:"psnr"`
	SSIM float64 `json:"ssim"`
}

// Views renders cloud as the validator does (a normalised copy, the 16
// validator cameras at size×size, gsplat mode, SH degree 0, white
// background). size 518 is the validator's; smaller sizes keep the
// cameras' field of view.
func Views(ctx context.Context, cloud *splat.Cloud, size int, render score.RenderFunc) ([]*splat.Image, error) {
	if cloud == nil || cloud.Len() == 0 {
		return nil, fmt.Errorf("imageeval: empty cloud")
	}
	if render == nil {
		render = splat.RenderBatch
	}
	c := cloud.Clone()
	splat.NormalizeForValidator(c)
	cams := ValidatorCameras(size)
	return render(ctx, c, cams, splat.RenderOptions{Background: Background, Mode: splat.ModeGsplat, SHDegree: 0})
}

// ValidatorCameras are splat.ValidatorCameras at size×size (same field of
// view, principal point at the centre).
func ValidatorCameras(size int) []splat.Camera {
	cams := splat.ValidatorCameras()
	if size == splat.ValidatorSize {
		return cams
	}
	k := float64(size) / float64(splat.ValidatorSize)
	for i := range cams {
		c := &cams[i]
		c.Width, c.Height = size, size
		c.Fx, c.Fy = c.Fx*k, c.Fy*k
		c.Cx, c.Cy = float64(size/2), float64(size/2)
	}
	return cams
}

// CompareClouds renders pred and truth on the validator's views at size
// (see Views, on the CPU) and compares them; it returns the views too.
func CompareClouds(ctx context.Context, pred, truth *splat.Cloud, size int) (Result, []*splat.Image, []*splat.Image, error) {
	pv, err := Views(ctx, pred, size, nil)
	if err != nil {
		return Result{}, nil, nil, err
	}
	tv, err := Views(ctx, truth, size, nil)
	if err != nil {
		return Result{}, nil, nil, err
	}
	r, err := Compare(ctx, pv, tv)
	return r, pv, tv, err
}

// Compare compares two sets of validator views (see Views): mask IoU at
// alpha ½, PSNR and SSIM of the 8-bit-truncated RGB, each averaged over
// the views.
func Compare(ctx context.Context, pred, truth []*splat.Image) (Result, error) {
	if len(pred) != len(truth) || len(pred) == 0 {
		return Result{}, fmt.Errorf("imageeval: %d views vs %d", len(pred), len(truth))
	}
	var r Result
	p, t := make([][]float32, len(pred)), make([][]float32, len(pred))
	for i := range pred {
		iou, err := score.MaskIoU(pred[i].Alpha, truth[i].Alpha, 0.5)
		if err != nil {
			return Result{}, fmt.Errorf("view %d: %w", i, err)
		}
		r.IoU += iou
		p[i], t[i] = score.Quantize8(pred[i].RGB), score.Quantize8(truth[i].RGB)
	}
	r.IoU /= float64(len(pred))
	f, err := score.CompareViews(ctx, p, t, pred[0].Width, pred[0].Height)
	if err != nil {
		return Result{}, err
	}
	r.PSNR, r.SSIM = f.PSNR, f.SSIM
	return r, nil
}

// Sheet tiles validator views into a 4×4 contact sheet.
func Sheet(views []*splat.Image) *image.NRGBA {
	ims := make([]*image.NRGBA, len(views))
	for i, v := range views {
		ims[i] = v.Opaque()
	}
	return splat.ContactSheet(ims, 4, 2)
}

// PromptSeed is the scene seed image prompts and their ground truth use.
const PromptSeed = 1

// PromptBackdrop is the backdrop of scene i (catalogue order) in the
// image-prompt corpus: the corpus cycles through Backdrops.
func PromptBackdrop(i int) Backdrop { return Backdrops[i%len(Backdrops)] }

// WriteScenePrompts writes the image-prompt corpus of the reference
// scenes into dir: each scene's front view at size×size on
// PromptBackdrop(i), as dir/NAME.png (rewritten when its bytes differ),
// and returns them as image prompts. An image prompt whose pixels are
// exactly one of these is recognised by Match and scored against its
// scene.
func WriteScenePrompts(ctx context.Context, dir string, size int) ([]prompts.Prompt, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []prompts.Prompt
	for i, sc := range scenes.All() {
		img, _, err := Prompt(ctx, sc, PromptSeed, size, PromptBackdrop(i))
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return nil, err
		}
		path := filepath.Join(dir, sc.Name+".png")
		if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, buf.Bytes()) {
			if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				return nil, err
			}
		}
		p := prompts.Image(path)
		p.Text = sc.Name
		out = append(out, p)
	}
	return out, nil
}

var matchTable = struct {
	sync.Mutex
	bySize map[int]map[[32]byte]int
}{bySize: map[int]map[[32]byte]int{}}

// Match reports whether img is exactly the corpus prompt of a reference
// scene (same size, same pixels) and which. The first call for a size
// renders the corpus at that size (19 front views); only square images
// of 16..2048 pixels are considered.
func Match(ctx context.Context, img *image.NRGBA) (scenes.Scene, Backdrop, bool, error) {
	b := img.Bounds()
	size := b.Dx()
	if size != b.Dy() || size < 16 || size > 2048 {
		return scenes.Scene{}, Backdrop{}, false, nil
	}
	matchTable.Lock()
	defer matchTable.Unlock()
	tbl, ok := matchTable.bySize[size]
	if !ok {
		tbl = map[[32]byte]int{}
		for i, sc := range scenes.All() {
			p, _, err := Prompt(ctx, sc, PromptSeed, size, PromptBackdrop(i))
			if err != nil {
				return scenes.Scene{}, Backdrop{}, false, err
			}
			tbl[pixelHash(p)] = i
		}
		matchTable.bySize[size] = tbl
	}
	i, ok := tbl[pixelHash(img)]
	if !ok {
		return scenes.Scene{}, Backdrop{}, false, nil
	}
	return scenes.All()[i], PromptBackdrop(i), true, nil
}

// pixelHash hashes img's pixels row by row (opaque images only differ in
// colour, and the alpha channel is hashed too).
func pixelHash(img *image.NRGBA) [32]byte {
	h := sha256.New()
	b := img.Bounds()
	for y := range b.Dy() {
		h.Write(img.Pix[y*img.Stride : y*img.Stride+4*b.Dx()])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
