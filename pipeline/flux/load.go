package flux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/splatbench/splatbench/pipeline/models"
	"github.com/splatbench/splatbench/pipeline/ort"
)

// The four models of a FLUX export, in the order they are loaded: the small
// ones first, so that a wrong directory fails before the transformer's
// gigabytes are read.
const (
	stageCLIP        = "flux/clip"
	stageT5          = "flux/t5"
	stageVAE         = "flux/vae-decoder"
	stageTransformer = "flux/transformer"
)

var loadOrder = []string{stageCLIP, stageT5, stageVAE, stageTransformer}

// modelFiles are the candidate paths of each model in BFL's ONNX layout
// (black-forest-labs/FLUX.1-schnell-onnx, flux util.py
// download_onnx_models_for_trt): the first that exists is used. The
// transformer ships per precision (bf16, fp8, fp4); a flat
// transformer.opt/model.onnx (the tiny test models, own exports) wins.
var modelFiles = map[string][]string{
	stageCLIP: {"clip.opt/model.onnx"},
	stageT5:   {"t5.opt/model.onnx"},
	stageVAE:  {"vae.opt/model.onnx"},
	stageTransformer: {
		"transformer.opt/model.onnx",
		"transformer.opt/bf16/model.onnx",
		"transformer.opt/fp8/model.onnx",
		"transformer.opt/fp4/model.onnx",
	},
}

// DirError is a model directory that does not fit: every missing file and
// every signature difference of every model, one line each.
type DirError struct {
	Dir      string
	Size     string // the image size the shapes were checked for, "512×512"
	Problems []string
}

func (e *DirError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flux: model directory %s does not fit FLUX.1-schnell at %s (%d problem", e.Dir, e.Size, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, p := range e.Problems {
		b.WriteString("\n  " + p)
	}
	return b.String()
}

// findFiles resolves each model's path; missing ones become problems.
func findFiles(dir string) (map[string]string, []string) {
	paths := map[string]string{}
	var probs []string
	for _, st := range loadOrder {
		for _, rel := range modelFiles[st] {
			p := filepath.Join(dir, filepath.FromSlash(rel))
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				paths[st] = p
				break
			}
		}
		if paths[st] == "" {
			probs = append(probs, fmt.Sprintf("%s: missing (%s; looked for %s)", st, stageAbout(st), strings.Join(modelFiles[st], ", ")))
		}
	}
	return paths, probs
}

func stageAbout(name string) string {
	st, _ := models.Lookup(name)
	return st.About
}

// specFor is the registry's spec for a stage with every shape made
// concrete for batch 1, this grid and T5 length: static shapes let ort
// preallocate the tensors and return bf16/fp16 outputs intact.
func specFor(stage string, g Grid, seq int) (ort.Spec, error) {
	st, ok := models.Lookup(stage)
	if !ok {
		return ort.Spec{}, fmt.Errorf("flux: stage %s is not in the models registry", stage)
	}
	L, S := int64(g.Tokens()), int64(seq)
	shapes := map[string][]int64{}
	switch stage {
	case stageCLIP:
		shapes = map[string][]int64{"input_ids": {1, CLIPSeqLen}, "pooled_embeddings": {1, CLIPPooledDim}}
	case stageT5:
		shapes = map[string][]int64{"input_ids": {1, S}, "text_embeddings": {1, S, T5Dim}}
	case stageTransformer:
		shapes = map[string][]int64{
			"hidden_states": {1, L, PackedFeatures}, "encoder_hidden_states": {1, S, T5Dim},
			"pooled_projections": {1, CLIPPooledDim}, "timestep": {1},
			"img_ids": {L, 3}, "txt_ids": {S, 3}, "latent": {1, L, PackedFeatures},
		}
	case stageVAE:
		shapes = map[string][]int64{
			"latent": {1, LatentChannels, int64(g.H), int64(g.W)},
			"images": {1, 3, int64(8 * g.H), int64(8 * g.W)},
		}
	}
	sp := ort.Spec{Inputs: slices.Clone(st.Spec.Inputs), Outputs: slices.Clone(st.Spec.Outputs)}
	for _, ts := range [][]ort.Tensor{sp.Inputs, sp.Outputs} {
		for i := range ts {
			s, ok := shapes[ts[i].Name]
			if !ok || len(s) != len(ts[i].Shape) {
				return ort.Spec{}, fmt.Errorf("flux: registry tensor %s %q %v has no concrete shape here", stage, ts[i].Name, ts[i].Shape)
			}
			ts[i].Shape = s
		}
	}
	return sp, nil
}

// vaeCUDAOptions are the VAE decoder's CUDA provider options: cuDNN's
// convolutions in NHWC, the layout the fused GroupNorms (make_gpu_models.py
// --groupnorm fused) work in, so the two stop transposing between them.
// Decode 1.32× faster at 1024² and 1.39× at 512² on an H100 (session 18,
// docs/perf/ort-gpu.md); the plain VAE ran as fast either way (session 12).
// The transformer's step was slower with it, so only the VAE has it.
var vaeCUDAOptions = map[string]string{"prefer_nhwc": "1"}

// loadAll opens the four sessions. Until one fails each model is loaded;
// after a failure the rest are only inspected, so the error still lists
// every problem of the directory without loading big models for nothing.
// On any problem every opened session is closed.
func loadAll(ctx context.Context, rt *ort.Runtime, opts Options, g Grid) (map[string]*ort.Session, error) {
	paths, probs := findFiles(opts.Dir)
	var so []ort.SessionOption
	if opts.Threads > 0 {
		so = append(so, ort.WithIntraOpThreads(opts.Threads))
	}
	sessions := map[string]*ort.Session{}
	closeAll := func() {
		for _, s := range sessions {
			_ = s.Close()
		}
	}
	for _, st := range loadOrder {
		path := paths[st]
		if path == "" {
			continue
		}
		sp, err := specFor(st, g, opts.MaxSeqLen)
		if err != nil {
			closeAll()
			return nil, err
		}
		if len(probs) > 0 {
			sig, err := rt.Inspect(path)
			if err != nil {
				probs = append(probs, fmt.Sprintf("%s: %v", st, err))
				continue
			}
			for _, p := range sig.Mismatches(sp) {
				probs = append(probs, fmt.Sprintf("%s: %s: %s", st, path, p))
			}
			continue
		}
		sso := so
		switch {
		case st == stageTransformer && opts.Graph != nil:
			sso = append(slices.Clone(so), ort.WithCUDAGraph(opts.Graph))
		case st == stageVAE:
			sso = append(slices.Clone(so), ort.WithCUDAOptions(vaeCUDAOptions))
		}
		s, err := rt.NewSession(ctx, path, sp, opts.Providers, sso...)
		var mm *ort.MismatchError
		switch {
		case errors.As(err, &mm):
			for _, p := range mm.Problems {
				probs = append(probs, fmt.Sprintf("%s: %s: %s", st, path, p))
			}
		case ctx.Err() != nil:
			closeAll()
			return nil, fmt.Errorf("flux: loading %s: %w", path, ctx.Err())
		case err != nil:
			probs = append(probs, fmt.Sprintf("%s: %v", st, err))
		default:
			sessions[st] = s
		}
	}
	if len(probs) > 0 {
		closeAll()
		return nil, &DirError{Dir: opts.Dir, Size: fmt.Sprintf("%d×%d", 8*g.W, 8*g.H), Problems: probs}
	}
	return sessions, nil
}
