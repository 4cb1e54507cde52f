package flux

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/splatbench/splatbench/pipeline/ort"
)

// Options configure the stage. Zero values take schnell's defaults.
type Options struct {
	// Dir is the model directory in BFL's ONNX layout: clip.opt/model.onnx,
	// t5.opt/model.onnx, transformer.opt/[bf16|fp8|fp4/]model.onnx,
	// vae.opt/model.onnx.
	Dir string
	// Steps is the number of Euler steps, 1..4 (0: 4).
	Steps int
	// Resolution is the square image side in pixels, a multiple of 16
	// (0: 512). The transformer's token count is (Resolution/16)².
	Resolution int
	// MaxSeqLen is the T5 sequence length (0: 256, what schnell uses).
	MaxSeqLen int
	// Providers is the execution-provider order (cpu is always the last
	// resort).
	Providers []string
	// Threads is ORT's intra-op thread count per session (0: one per core).
	Threads int
	// Graph, when set, runs the transformer, if the CUDA provider serves
	// it, as a CUDA graph with its tensors in this memory of the same GPU
	// (ort.WithCUDAGraph; a cuda.Context). The encoders and the VAE run as
	// before: as graphs they measured slower (docs/gpu.md).
	Graph ort.DeviceMemory
}

func (o *Options) defaults() error {
	if o.Dir == "" {
		return errors.New("flux: no model directory (text2img.model)")
	}
	if o.Steps == 0 {
		o.Steps = MaxSteps
	}
	if o.Resolution == 0 {
		o.Resolution = 512
	}
	if o.MaxSeqLen == 0 {
		o.MaxSeqLen = DefaultT5Len
	}
	if o.Resolution > 4096 {
		return fmt.Errorf("flux: resolution %d over 4096", o.Resolution)
	}
	if o.MaxSeqLen < 1 || o.MaxSeqLen > 512 {
		return fmt.Errorf("flux: max_seq_len %d outside 1..512", o.MaxSeqLen)
	}
	return nil
}

// Timings is what one generation measured.
type Timings struct {
	Text   time.Duration   // CLIP + T5 encoders
	Steps  []time.Duration // one per transformer call
	Decode time.Duration   // VAE decoder
	Total  time.Duration
	Tokens TextInfo // how the prompt was tokenised
}

// Denoise is the total transformer time.
func (t Timings) Denoise() time.Duration {
	var d time.Duration
	for _, s := range t.Steps {
		d += s
	}
	return d
}

// Flux is a loaded FLUX.1-schnell. It is safe for concurrent use; runs on
// each model are serialised by its session.
type Flux struct {
	opts      Options
	grid      Grid
	clipTok   Tokenizer
	t5Tok     Tokenizer
	sess      map[string]*ort.Session
	latentT   ort.DType // the transformer's hidden_states element type
	imgIDs    []float32
	txtIDs    []float32
	log       *slog.Logger
	closeOnce sync.Once
}

// encoding is a prompt's encoding by the text encoders.
type encoding struct {
	pooled  []float32 // [768]
	context []float32 // [seq·4096]
	info    TextInfo
}

// New loads the four models from opts.Dir after checking every signature
// against the models registry at this resolution and T5 length (a
// directory that does not fit gives one *DirError listing every problem).
// clipTok feeds CLIP (77 ids), t5Tok feeds T5 (MaxSeqLen ids).
func New(ctx context.Context, rt *ort.Runtime, opts Options, clipTok, t5Tok Tokenizer, log *slog.Logger) (*Flux, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if rt == nil {
		return nil, errors.New("flux: no ONNX Runtime (ort.Init)")
	}
	if clipTok == nil || t5Tok == nil {
		return nil, errors.New("flux: both a CLIP and a T5 tokenizer are needed")
	}
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if _, err := Schedule(opts.Steps); err != nil {
		return nil, err
	}
	g, err := NewGrid(opts.Resolution, opts.Resolution)
	if err != nil {
		return nil, err
	}
	sess, err := loadAll(ctx, rt, opts, g)
	if err != nil {
		return nil, err
	}
	f := &Flux{
		opts: opts, grid: g, clipTok: clipTok, t5Tok: t5Tok, sess: sess,
		latentT: sess[stageTransformer].Inputs()[0].DType,
		imgIDs:  ImageIDs(g), txtIDs: TextIDs(opts.MaxSeqLen), log: log,
	}
	log.Info("flux loaded", "dir", opts.Dir, "steps", opts.Steps, "resolution", opts.Resolution,
		"tokens", g.Tokens(), "latent_dtype", f.latentT.String(), "providers", f.Providers())
	if err := f.warmUp(ctx, false); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return f, nil
}

// warmUp runs each model once on zeros at the stage's shapes, which specFor
// makes static: every model, or (cpu false) those a GPU provider serves. A
// GPU provider's first runs pay one-time costs (cuDNN's algorithm searches,
// the arenas' growth) that would otherwise land in the first job of a
// miner's serve or mine. A transformer bound as a CUDA graph counts this run
// among the two before its capture.
func (f *Flux) warmUp(ctx context.Context, cpu bool) error {
	for _, st := range loadOrder {
		if s := f.sess[st]; cpu || s.Provider() != ort.CPU {
			if err := s.WarmUp(ctx); err != nil {
				return fmt.Errorf("flux: %w", err)
			}
		}
	}
	return nil
}

// Providers names the execution provider serving each model.
func (f *Flux) Providers() map[string]string {
	out := map[string]string{}
	for st, s := range f.sess {
		out[st] = s.Provider()
	}
	return out
}

// Provider is the execution provider of the transformer, which does most of
// a generation's work ("cpu", "cuda", ...).
func (f *Flux) Provider() string { return f.sess[stageTransformer].Provider() }

// Runner is Provider with "+graph" when the transformer runs as a CUDA
// graph (ort.Session.Runner).
func (f *Flux) Runner() string { return f.sess[stageTransformer].Runner() }

// Options returns the options in use (defaults filled in).
func (f *Flux) Options() Options { return f.opts }

// Close releases the models.
func (f *Flux) Close() error {
	var errs []error
	f.closeOnce.Do(func() {
		for _, s := range f.sess {
			errs = append(errs, s.Close())
		}
	})
	return errors.Join(errs...)
}

// Generate makes one Resolution² image for prompt from seed with
// Options.Steps steps.
func (f *Flux) Generate(ctx context.Context, prompt string, seed int64) (*image.NRGBA, Timings, error) {
	return f.GenerateSteps(ctx, prompt, seed, f.opts.Steps)
}

// GenerateSteps is Generate with another step count (1..4), so a sweep
// over steps shares one set of loaded models.
func (f *Flux) GenerateSteps(ctx context.Context, prompt string, seed int64, steps int) (*image.NRGBA, Timings, error) {
	var tm Timings
	start := time.Now()
	if err := checkPrompt(prompt); err != nil {
		return nil, tm, err
	}
	sched, err := Schedule(steps)
	if err != nil {
		return nil, tm, err
	}
	text, err := f.encode(ctx, prompt)
	if err != nil {
		return nil, tm, err
	}
	tm.Tokens, tm.Text = text.info, time.Since(start)
	x := Pack(Noise(seed, f.grid), f.grid)
	roundTo(f.latentT, x)
	tr := f.sess[stageTransformer]
	for i := range len(sched) - 1 {
		if err := ctx.Err(); err != nil {
			return nil, tm, fmt.Errorf("flux: step %d: %w", i+1, err)
		}
		tCurr, tPrev := sched[i], sched[i+1]
		t0 := time.Now()
		out, err := tr.Run(ctx, x, text.context, text.pooled, []float32{float32(tCurr)}, f.imgIDs, f.txtIDs)
		if err != nil {
			return nil, tm, fmt.Errorf("flux: step %d of %d (t=%.4g): %w", i+1, len(sched)-1, tCurr, err)
		}
		v := out[0]
		if bad := nonFinite(v); bad > 0 {
			return nil, tm, fmt.Errorf("flux: step %d of %d (t=%.4g): the transformer returned %d non-finite values", i+1, len(sched)-1, tCurr, bad)
		}
		dt := float32(tPrev - tCurr)
		for j := range x {
			x[j] += dt * v[j]
		}
		roundTo(f.latentT, x)
		tm.Steps = append(tm.Steps, time.Since(t0))
		f.log.Debug("flux step", "step", i+1, "t", tCurr, "elapsed", tm.Steps[i])
	}
	z := Unpack(x, f.grid)
	ToVAE(z)
	t0 := time.Now()
	out, err := f.sess[stageVAE].Run(ctx, z)
	if err != nil {
		return nil, tm, fmt.Errorf("flux: VAE decode: %w", err)
	}
	tm.Decode = time.Since(t0)
	if bad := nonFinite(out[0]); bad > 0 {
		return nil, tm, fmt.Errorf("flux: VAE decode returned %d non-finite values", bad)
	}
	img := ToImage(out[0], f.opts.Resolution, f.opts.Resolution)
	tm.Total = time.Since(start)
	return img, tm, nil
}

// encode returns the prompt's CLIP pooled vector and T5 context. Every
// generation encodes its prompt, also the one the generation before had: a
// miner's job has a new prompt, so a measured job (bench, a tune's trials)
// must pay the encoders as a miner's does.
func (f *Flux) encode(ctx context.Context, prompt string) (encoding, error) {
	clipIDs, clipN, clipCut, err := tokenize(ctx, "CLIP", f.clipTok, prompt, CLIPSeqLen)
	if err != nil {
		return encoding{}, err
	}
	t5IDs, t5N, t5Cut, err := tokenize(ctx, "T5", f.t5Tok, prompt, f.opts.MaxSeqLen)
	if err != nil {
		return encoding{}, err
	}
	pooled, err := f.sess[stageCLIP].Run(ctx, clipIDs)
	if err != nil {
		return encoding{}, fmt.Errorf("flux: CLIP text encoder: %w", err)
	}
	ctxEmb, err := f.sess[stageT5].Run(ctx, t5IDs)
	if err != nil {
		return encoding{}, fmt.Errorf("flux: T5 text encoder: %w", err)
	}
	c := encoding{pooled: pooled[0], context: ctxEmb[0], info: TextInfo{
		CLIPTokens: clipN, T5Tokens: t5N, CLIPDropped: clipCut, T5Dropped: t5Cut,
	}}
	if c.info.Truncated() {
		f.log.Warn("prompt truncated to fit the text encoders", "clip_tokens", clipN, "clip_max", CLIPSeqLen, "clip_dropped", clipCut,
			"t5_tokens", t5N, "t5_max", f.opts.MaxSeqLen, "t5_dropped", t5Cut)
	}
	return c, nil
}

// roundTo rounds values to what a bf16 or fp16 tensor holds (the reference
// sampler keeps the latent in the model's dtype); float32 is left alone.
func roundTo(dt ort.DType, xs []float32) {
	switch dt {
	case ort.BFloat16:
		for i, x := range xs {
			xs[i] = ort.BFloat16Value(ort.BFloat16Bits(x))
		}
	case ort.Float16:
		for i, x := range xs {
			xs[i] = ort.Float16Value(ort.Float16Bits(x))
		}
	}
}

func nonFinite(xs []float32) int {
	n := 0
	for _, x := range xs {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			n++
		}
	}
	return n
}
