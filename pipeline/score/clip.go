package score

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/splatbench/splatbench/pipeline/models"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// The CLIP self-check mirrors the validator's CLIP era at three-gen-subnet
// HEAD 5fc61f1 (docs/protocol.md §3.4; the 2024-12-21 gate and weights,
// with the 2025-04-14 alignment model): 16 views rendered as the validator
// renders them, per-view cosine similarity with the prompt, then
// TextAlignment (KNN outlier filter, clip to [0,1], geometric mean, /0.35).
//
// The validator's final score is 0.75·IQA + 0.2·alignment + SSIM and LPIPS
// terms (ValidatorScore). IQA (a DINOv2 quality head, 75 % of the weight)
// and LPIPS need models this check does not have, and no stand-in value is
// invented for them. The score reported here is therefore named
// "validator-clip" and is alignment-only:
//
//	0                      if the validity gates fail or alignment < 0.3 (the validator's gate)
//	min(alignment, 1)      otherwise
//
// It ranks results by the one model-based term the miner can compute; it
// is not the validator's number, and a threshold on it (the profile's
// score.threshold) is a threshold on alignment.
const CLIPScoreName = "validator-clip"

// CLIP model defaults.
const (
	CLIPContext   = 77  // text sequence length (CLIP and OpenCLIP context)
	CLIPInputSize = 224 // image side (the validator's img_preproc_res)
	// DefaultThreshold is the validator's accept threshold (docs/protocol.md §3.5).
	DefaultThreshold = 0.6
)

// CLIPTokenizer is what the scorer needs of a tokenizer; pipeline/tokenizer's
// CLIP BPE tokenizer satisfies it. Encode adds the specials and never
// truncates; Pad cuts or pads to n and says how many tokens were cut.
type CLIPTokenizer interface {
	Encode(text string) ([]int64, error)
	Pad(ids []int64, n int) (padded, mask []int64, dropped int)
}

// CLIPOptions configure the scorer.
type CLIPOptions struct {
	// Dir holds the split towers as transformers.js / Optimum export them:
	// text_model.onnx and vision_model.onnx, in Dir or in Dir/onnx.
	Dir string
	// TextModel and ImageModel name the files directly (override Dir).
	TextModel, ImageModel string
	// Providers is the execution-provider order (cpu is always the last resort).
	Providers []string
	// Threads is ORT's intra-op thread count (0: one per core).
	Threads int
	// Tokenizer turns prompts into ids for the text tower (required).
	Tokenizer CLIPTokenizer
	// ImageSize is the tower's input side when the model leaves it dynamic
	// (0: 224).
	ImageSize int
	// Preprocess is PreprocessCLIP (CLIP's own transform, default) or
	// PreprocessValidator (the validator's interpolate and ×3 quirk).
	Preprocess Preprocess
	// Threshold is the accept/skip score (0: 0.6).
	Threshold float64
	// RenderWorkers is the renderer's worker count (0: GOMAXPROCS).
	RenderWorkers int
}

// CLIPResult is one scored cloud.
type CLIPResult struct {
	Alignment float64          // the validator's text alignment (can exceed 1)
	Score     float64          // validator-clip score (see CLIPScoreName)
	PerView   []float64        // cosine similarity of each of the 16 views with the prompt
	Gate      splat.GateReport // validity gates; a failed gate scores 0
	Accept    bool             // gate passed and Score ≥ Threshold
	Truncated bool             // the prompt was cut to the text tower's length
	Render    time.Duration    // normalise + 16 renders
	Encode    time.Duration    // preprocessing + image (and text) towers
}

// CLIP is a loaded pair of CLIP towers. It is safe for concurrent use.
type CLIP struct {
	opts   CLIPOptions
	text   *ort.Session
	image  *ort.Session
	masked bool // the text tower takes attention_mask
	seq    int  // text length
	size   int  // image side
	batch  int  // views per image-tower run
	log    *slog.Logger
	mu     sync.Mutex
	cached map[string]textEmbedding
}

type textEmbedding struct {
	emb       []float32
	truncated bool
}

// NewCLIP loads and checks both towers (one error lists every signature
// problem of both files).
func NewCLIP(ctx context.Context, rt *ort.Runtime, opts CLIPOptions, log *slog.Logger) (*CLIP, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if rt == nil {
		return nil, errors.New("clip: no ONNX Runtime (ort.Init)")
	}
	if opts.Tokenizer == nil {
		return nil, errors.New("clip: no tokenizer")
	}
	if opts.Threshold == 0 {
		opts.Threshold = DefaultThreshold
	}
	if opts.ImageSize == 0 {
		opts.ImageSize = CLIPInputSize
	}
	if opts.Preprocess != PreprocessCLIP && opts.Preprocess != PreprocessValidator {
		return nil, fmt.Errorf("clip: unknown preprocessing %d", int(opts.Preprocess))
	}
	textPath, err := towerPath(opts.TextModel, opts.Dir, "text_model.onnx")
	if err != nil {
		return nil, err
	}
	imagePath, err := towerPath(opts.ImageModel, opts.Dir, "vision_model.onnx")
	if err != nil {
		return nil, err
	}
	c := &CLIP{opts: opts, log: log, cached: map[string]textEmbedding{}}
	textSpec, imageSpec, probs := c.specs(rt, textPath, imagePath)
	if len(probs) > 0 {
		return nil, fmt.Errorf("clip: the towers do not fit (%d problems):\n  %s", len(probs), strings.Join(probs, "\n  "))
	}
	var so []ort.SessionOption
	if opts.Threads > 0 {
		so = append(so, ort.WithIntraOpThreads(opts.Threads))
	}
	if c.text, err = rt.NewSession(ctx, textPath, textSpec, opts.Providers, so...); err != nil {
		return nil, fmt.Errorf("clip: %w", err)
	}
	if c.image, err = rt.NewSession(ctx, imagePath, imageSpec, opts.Providers, so...); err != nil {
		c.text.Close()
		return nil, fmt.Errorf("clip: %w", err)
	}
	log.Info("clip loaded", "text", textPath, "image", imagePath, "masked", c.masked, "seq", c.seq, "size", c.size,
		"batch", c.batch, "preprocess", opts.Preprocess.String(), "provider", c.image.Provider())
	// A GPU provider's one-time costs belong to the load, not the first score.
	for _, s := range []*ort.Session{c.text, c.image} {
		if s.Provider() == ort.CPU {
			continue
		}
		if err := s.WarmUp(ctx); err != nil {
			return nil, errors.Join(fmt.Errorf("clip: %w", err), c.Close())
		}
	}
	return c, nil
}

// towerPath resolves a tower file: the explicit path, else dir/name, else
// dir/onnx/name.
func towerPath(explicit, dir, name string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if dir == "" {
		return "", fmt.Errorf("clip: no model directory (score.clip_model) and no %s given", name)
	}
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, "onnx", name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("clip: %s not found in %s or %s", name, dir, filepath.Join(dir, "onnx"))
}

// specs inspects both towers and builds batch-concrete specs from the
// registry ("clip/text" or "clip/text-masked", "clip/image"), sizing the
// dynamic dimensions: text length 77 unless fixed by the model, image side
// ImageSize unless fixed, image batch 16 (all views in one run) when
// dynamic.
func (c *CLIP) specs(rt *ort.Runtime, textPath, imagePath string) (ort.Spec, ort.Spec, []string) {
	var probs []string
	var textSpec, imageSpec ort.Spec
	if sig, err := rt.Inspect(textPath); err != nil {
		probs = append(probs, err.Error())
	} else {
		stage := "clip/text"
		for _, in := range sig.Inputs {
			if in.Name == "attention_mask" {
				stage, c.masked = "clip/text-masked", true
			}
		}
		st, _ := models.Lookup(stage)
		c.seq = fixedDim(sig.Inputs, "input_ids", 1, CLIPContext)
		textSpec = concrete(st.Spec, sig, map[string][]int64{
			"input_ids": {1, int64(c.seq)}, "attention_mask": {1, int64(c.seq)}})
		for _, p := range sig.Mismatches(textSpec) {
			probs = append(probs, fmt.Sprintf("%s: %s", textPath, p))
		}
	}
	if sig, err := rt.Inspect(imagePath); err != nil {
		probs = append(probs, err.Error())
	} else {
		st, _ := models.Lookup("clip/image")
		c.size = fixedDim(sig.Inputs, "pixel_values", 2, c.opts.ImageSize)
		c.batch = fixedDim(sig.Inputs, "pixel_values", 0, splat.ValidatorViews)
		imageSpec = concrete(st.Spec, sig, map[string][]int64{
			"pixel_values": {int64(c.batch), 3, int64(c.size), int64(c.size)}})
		for _, p := range sig.Mismatches(imageSpec) {
			probs = append(probs, fmt.Sprintf("%s: %s", imagePath, p))
		}
	}
	return textSpec, imageSpec, probs
}

// fixedDim is the model's size of dimension d of the named tensor when it
// is fixed, else def.
func fixedDim(ts []ort.Tensor, name string, d int, def int) int {
	for _, t := range ts {
		if t.Name == name && d < len(t.Shape) && t.Shape[d] > 0 {
			return int(t.Shape[d])
		}
	}
	return def
}

// concrete copies a registry spec with the given input shapes; outputs get
// the batch of the first input and keep the model's other dimensions (the
// embedding width), so fixed-width fp16 outputs stay static.
func concrete(spec ort.Spec, sig *ort.Signature, shapes map[string][]int64) ort.Spec {
	out := ort.Spec{}
	var batch int64 = -1
	for _, t := range spec.Inputs {
		if s, ok := shapes[t.Name]; ok {
			t.Shape = s
			if batch < 0 {
				batch = s[0]
			}
		}
		out.Inputs = append(out.Inputs, t)
	}
	for _, t := range spec.Outputs {
		shape := append([]int64(nil), t.Shape...)
		for _, m := range sig.Outputs {
			if m.Name == t.Name && len(m.Shape) == len(shape) {
				copy(shape, m.Shape)
			}
		}
		if len(shape) > 0 {
			shape[0] = batch
		}
		t.Shape = shape
		out.Outputs = append(out.Outputs, t)
	}
	return out
}

// Close releases both towers.
func (c *CLIP) Close() error {
	return errors.Join(c.text.Close(), c.image.Close())
}

// Threshold is the accept/skip threshold in use.
func (c *CLIP) Threshold() float64 { return c.opts.Threshold }

// RenderFunc renders views of a cloud: splat.RenderBatch, or a GPU's
// batched Render (pipeline passes its device's).
type RenderFunc func(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error)

// Score renders the validator's 16 views of cloud (a normalised copy; the
// cloud is not modified) with render (nil: splat.RenderBatch on
// RenderWorkers cores) and scores them against prompt.
func (c *CLIP) Score(ctx context.Context, cloud *splat.Cloud, prompt string, render RenderFunc) (CLIPResult, error) {
	var res CLIPResult
	if strings.TrimSpace(prompt) == "" {
		return res, errors.New("clip: empty prompt")
	}
	if cloud == nil {
		return res, errors.New("clip: no cloud")
	}
	res.Gate = splat.CheckGate(cloud)
	if err := cloud.Validate(); err != nil || cloud.Len() == 0 {
		// Nothing renderable: the gate says why; the score is 0.
		return res, nil
	}
	t0 := time.Now()
	if render == nil {
		render = cpuRender(c.opts.RenderWorkers)
	}
	views, err := ValidatorViews(ctx, cloud, render)
	if err != nil {
		return res, fmt.Errorf("clip: %w", err)
	}
	res.Render = time.Since(t0)
	t0 = time.Now()
	txt, err := c.textEmbedding(ctx, prompt)
	if err != nil {
		return res, err
	}
	res.Truncated = txt.truncated
	imgs, err := c.imageEmbeddings(ctx, views)
	if err != nil {
		return res, err
	}
	res.Encode = time.Since(t0)
	res.PerView = make([]float64, len(imgs))
	for i, e := range imgs {
		if len(e) != len(txt.emb) {
			return res, fmt.Errorf("clip: image embedding has %d values, text embedding %d: the towers are not a pair", len(e), len(txt.emb))
		}
		res.PerView[i] = cosine(e, txt.emb)
	}
	if res.Alignment, err = TextAlignment(res.PerView); err != nil {
		return res, fmt.Errorf("clip: %w", err)
	}
	if res.Gate.OK && res.Alignment >= AlignmentGate {
		res.Score = min(res.Alignment, 1)
	}
	res.Accept = res.Gate.OK && res.Score >= c.opts.Threshold
	return res, nil
}

// cpuRender is splat.RenderBatch on workers cores (0: GOMAXPROCS).
func cpuRender(workers int) RenderFunc {
	return func(ctx context.Context, c *splat.Cloud, cams []splat.Camera, opt splat.RenderOptions) ([]*splat.Image, error) {
		opt.Workers = workers
		return splat.RenderBatch(ctx, c, cams, opt)
	}
}

// ValidatorViews renders, with render (nil: splat.RenderBatch), the
// validator's views of cloud: a copy normalised as the validator does
// (splat.NormalizeForValidator), the 16 ValidatorCameras at 518², gsplat
// mode, SH degree 0, white background, each RGB quantised to 8 bits by
// truncation (Quantize8) in place: the returned slices are the renders'
// own, which render must not keep.
func ValidatorViews(ctx context.Context, cloud *splat.Cloud, render RenderFunc) ([][]float32, error) {
	if render == nil {
		render = cpuRender(0)
	}
	c := cloud.Clone()
	splat.NormalizeForValidator(c)
	ims, err := render(ctx, c, splat.ValidatorCameras(), splat.RenderOptions{
		Background: [3]float32{1, 1, 1}, Mode: splat.ModeGsplat, SHDegree: 0, SkipDepth: true,
	})
	if err != nil {
		return nil, fmt.Errorf("validator views: %w", err)
	}
	out := make([][]float32, len(ims))
	for i, im := range ims {
		quantize8(im.RGB, im.RGB) // the renders are this call's own
		out[i] = im.RGB
	}
	return out, nil
}

func (c *CLIP) textEmbedding(ctx context.Context, prompt string) (textEmbedding, error) {
	c.mu.Lock()
	e, ok := c.cached[prompt]
	c.mu.Unlock()
	if ok {
		return e, nil
	}
	raw, err := c.opts.Tokenizer.Encode(prompt)
	if err != nil {
		return e, fmt.Errorf("clip: tokenizer: %w", err)
	}
	ids, mask, dropped := c.opts.Tokenizer.Pad(raw, c.seq)
	if len(ids) != c.seq || len(mask) != c.seq {
		return e, fmt.Errorf("clip: tokenizer padded to %d ids (mask %d), the text tower takes %d", len(ids), len(mask), c.seq)
	}
	in := [][]float32{toFloat(ids)}
	if c.masked {
		in = append(in, toFloat(mask))
	}
	out, err := c.text.Run(ctx, in...)
	if err != nil {
		return e, fmt.Errorf("clip: text tower: %w", err)
	}
	e = textEmbedding{emb: out[0], truncated: dropped > 0}
	if e.truncated {
		c.log.Warn("prompt truncated for the CLIP text tower", "tokens", len(raw), "max", c.seq, "dropped", dropped)
	}
	c.mu.Lock()
	if len(c.cached) > 256 {
		clear(c.cached)
	}
	c.cached[prompt] = e
	c.mu.Unlock()
	return e, nil
}

// imageEmbeddings preprocesses the views (one view per core) and runs
// the image tower in batches of c.batch (the last batch padded by
// repeating its last view).
func (c *CLIP) imageEmbeddings(ctx context.Context, views [][]float32) ([][]float32, error) {
	out := make([][]float32, 0, len(views))
	for lo := 0; lo < len(views); lo += c.batch {
		batch := make([][]float32, c.batch)
		for k := range batch {
			batch[k] = views[min(lo+k, len(views)-1)]
		}
		buf, err := c.opts.Preprocess.applyViews(batch, splat.ValidatorSize, c.size, runtime.GOMAXPROCS(0))
		if err != nil {
			return nil, fmt.Errorf("clip: views %d-%d: %w", lo, lo+c.batch-1, err)
		}
		res, err := c.image.Run(ctx, buf)
		if err != nil {
			return nil, fmt.Errorf("clip: image tower: %w", err)
		}
		emb := res[0]
		if len(emb)%c.batch != 0 || len(emb) == 0 {
			return nil, fmt.Errorf("clip: image tower returned %d values for a batch of %d", len(emb), c.batch)
		}
		d := len(emb) / c.batch
		for k := 0; k < c.batch && lo+k < len(views); k++ {
			out = append(out, emb[k*d:(k+1)*d])
		}
	}
	return out, nil
}

func toFloat(ids []int64) []float32 {
	out := make([]float32, len(ids))
	for i, id := range ids {
		out[i] = float32(id)
	}
	return out
}

// cosine is the cosine similarity of a and b (0 when either is zero).
func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
