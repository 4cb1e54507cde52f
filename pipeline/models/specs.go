// Package models is the registry of what each pipeline stage expects of a
// model file (input and output names, element types, shapes, with the
// document section each comes from) and the checker behind
// `splatbench models check [DIR|FILE]`: which stage each file fits and what
// is wrong with the ones that fit none.
package models

import (
	"slices"

	"github.com/splatbench/splatbench/pipeline/ort"
)

// Stage names a model slot in the pipeline and what it expects.
type Stage struct {
	Name   string // "matte/isnet", "flux/transformer", ...
	Spec   ort.Spec
	Source string // where the signature comes from (docs/algorithms.md section)
	About  string // one line for people
}

const (
	f32  = ort.Float32
	fp   = ort.Float32 | ort.Float16                // float weights or activations, either width
	bfp  = ort.Float32 | ort.Float16 | ort.BFloat16 // FLUX exports (bf16 in NVIDIA's)
	ids  = ort.Int32 | ort.Int64                    // token ids
	anyN = -1
)

// Specs lists every stage splatbench can load a model for.
var Specs = []Stage{
	{
		// docs/algorithms.md §2.3: imgly's ISNet, `input` [1,3,1024,1024]
		// float32 (the uint8-quantised and fp16 files both take float32),
		// `output` [1,1,1024,1024].
		Name: "matte/isnet", Source: "docs/algorithms.md §2.3",
		About: "background removal, IS-Net (imgly isnet-small/medium)",
		Spec: ort.Spec{
			Inputs:  []ort.Tensor{ort.T("input", f32, 1, 3, 1024, 1024)},
			Outputs: []ort.Tensor{ort.T("output", f32, 1, 1, 1024, 1024)},
		},
	},
	{
		// docs/algorithms.md §2.1: RMBG-2.0 official ONNX, `pixel_values` [B,3,1024,1024]
		// ImageNet-normalised, `alphas` [B,1,1024,1024] already sigmoid-ed.
		Name: "matte/birefnet", Source: "docs/algorithms.md §2.1",
		About: "background removal, BiRefNet / BRIA RMBG-2.0",
		Spec: ort.Spec{
			Inputs:  []ort.Tensor{ort.T("pixel_values", fp, anyN, 3, 1024, 1024)},
			Outputs: []ort.Tensor{ort.T("alphas", fp, anyN, 1, 1024, 1024)},
		},
	},
	{
		// docs/algorithms.md §1.5 table, CLIP row (BFL clip.opt/model.onnx): `input_ids` [B,77]
		// -> `pooled_embeddings` [B,768]; docs/algorithms.md §1.2: FLUX uses the pooled output.
		Name: "flux/clip", Source: "docs/algorithms.md §1.5",
		About: "FLUX.1 CLIP-L text encoder (pooled)",
		Spec: ort.Spec{
			Inputs:  []ort.Tensor{ort.T("input_ids", ids, anyN, 77)},
			Outputs: []ort.Tensor{ort.T("pooled_embeddings", bfp, anyN, 768)},
		},
	},
	{
		// docs/algorithms.md §1.5 table, T5 row: `input_ids` [B,256] (schnell) ->
		// `text_embeddings` [B,256,4096].
		Name: "flux/t5", Source: "docs/algorithms.md §1.5",
		About: "FLUX.1-schnell T5-XXL text encoder (256 tokens)",
		Spec: ort.Spec{
			Inputs:  []ort.Tensor{ort.T("input_ids", ids, anyN, 256)},
			Outputs: []ort.Tensor{ort.T("text_embeddings", bfp, anyN, 256, 4096)},
		},
	},
	{
		// docs/algorithms.md §1.5 table, transformer row; ids fp32 without a batch dimension;
		// schnell has no `guidance` input (a dev export fails as "not one this
		// stage feeds").
		Name: "flux/transformer", Source: "docs/algorithms.md §1.5",
		About: "FLUX.1-schnell MM-DiT transformer",
		Spec: ort.Spec{
			Inputs: []ort.Tensor{
				ort.T("hidden_states", bfp, anyN, anyN, 64),
				ort.T("encoder_hidden_states", bfp, anyN, 256, 4096),
				ort.T("pooled_projections", bfp, anyN, 768),
				ort.T("timestep", bfp, anyN),
				ort.T("img_ids", f32, anyN, 3),
				ort.T("txt_ids", f32, 256, 3),
			},
			Outputs: []ort.Tensor{ort.T("latent", bfp, anyN, anyN, 64)},
		},
	},
	{
		// docs/algorithms.md §1.5 table, VAE decoder row: `latent` [B,16,H/8,W/8] -> `images`
		// [B,3,H,W] in [-1,1] (docs/algorithms.md §1.3).
		Name: "flux/vae-decoder", Source: "docs/algorithms.md §1.5",
		About: "FLUX.1 VAE decoder",
		Spec: ort.Spec{
			Inputs:  []ort.Tensor{ort.T("latent", bfp, anyN, 16, anyN, anyN)},
			Outputs: []ort.Tensor{ort.T("images", bfp, anyN, 3, anyN, anyN)},
		},
	},
	{
		// docs/algorithms.md §3.3: transformers.js split tower onnx/vision_model.onnx (Optimum
		// names): `pixel_values` [B,3,H,W] -> `image_embeds` [B,D].
		Name: "clip/image", Source: "docs/algorithms.md §3.3",
		About: "CLIP image encoder for scoring",
		Spec: ort.Spec{
			Inputs:  []ort.Tensor{ort.T("pixel_values", fp, anyN, 3, anyN, anyN)},
			Outputs: []ort.Tensor{ort.T("image_embeds", fp, anyN, anyN)},
		},
	},
	{
		// docs/algorithms.md §3.3: onnx/text_model.onnx: `input_ids` [B,seq] -> `text_embeds` [B,D].
		Name: "clip/text", Source: "docs/algorithms.md §3.3",
		About: "CLIP text encoder for scoring",
		Spec: ort.Spec{
			Inputs:  []ort.Tensor{ort.T("input_ids", ids, anyN, anyN)},
			Outputs: []ort.Tensor{ort.T("text_embeds", fp, anyN, anyN)},
		},
	},
	{
		// docs/algorithms.md §3.3: the same text tower exported with Optimum's `attention_mask`.
		Name: "clip/text-masked", Source: "docs/algorithms.md §3.3",
		About: "CLIP text encoder for scoring (with attention mask)",
		Spec: ort.Spec{
			Inputs:  []ort.Tensor{ort.T("input_ids", ids, anyN, anyN), ort.T("attention_mask", ids, anyN, anyN)},
			Outputs: []ort.Tensor{ort.T("text_embeds", fp, anyN, anyN)},
		},
	},
	{
		// docs/algorithms.md §3.3: Optimum CLIPOnnxConfig, both towers in one model.
		Name: "clip/joint", Source: "docs/algorithms.md §3.3",
		About: "CLIP image and text towers in one model",
		Spec: ort.Spec{
			Inputs: []ort.Tensor{
				ort.T("input_ids", ids, anyN, anyN),
				ort.T("pixel_values", fp, anyN, 3, anyN, anyN),
				ort.T("attention_mask", ids, anyN, anyN),
			},
			Outputs: []ort.Tensor{ort.T("text_embeds", fp, anyN, anyN), ort.T("image_embeds", fp, anyN, anyN)},
		},
	},
}

// Lookup returns the stage with that name.
func Lookup(name string) (Stage, bool) {
	i := slices.IndexFunc(Specs, func(s Stage) bool { return s.Name == name })
	if i < 0 {
		return Stage{}, false
	}
	return Specs[i], true
}
