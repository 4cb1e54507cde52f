package pipeline

import (
	"fmt"
	"maps"
	"slices"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/flux"
	"github.com/splatbench/splatbench/pipeline/matte"
	"github.com/splatbench/splatbench/pipeline/ort"
	"github.com/splatbench/splatbench/pipeline/score"
)

// ModelFiles lists the ONNX files of the models the profile names, stage
// by stage: the FLUX parts, the matting network, the multi-view model and
// the CLIP towers. A model that cannot be found is an error naming the
// profile field.
func ModelFiles(p configs.Profile) ([]string, error) {
	var out []string
	if p.Text2Img.Source == "flux" {
		files, err := fluxFiles(p)
		if err != nil {
			return nil, err
		}
		for _, k := range slices.Sorted(maps.Keys(files)) {
			out = append(out, files[k])
		}
	}
	if p.Matte.Enabled {
		path, err := mattePath(p)
		if err != nil {
			return nil, err
		}
		out = append(out, path)
	}
	if p.Views.Model != "" {
		out = append(out, p.ModelPath(p.Views.Model))
	}
	if p.Score.ClipModel != "" {
		text, image, err := clipFiles(p)
		if err != nil {
			return nil, err
		}
		out = append(out, text, image)
	}
	return out, nil
}

// fluxFiles are the FLUX parts' files of text2img.model, by part.
func fluxFiles(p configs.Profile) (map[string]string, error) {
	files, err := flux.ModelFiles(p.ModelPath(p.Text2Img.Model))
	if err != nil {
		return nil, fmt.Errorf("text2img.model: %w", err)
	}
	return files, nil
}

// mattePath is matte.model's ONNX file.
func mattePath(p configs.Profile) (string, error) {
	path, err := matte.ModelPath(p.ModelPath(p.Matte.Model))
	if err != nil {
		return "", fmt.Errorf("matte.model: %w", err)
	}
	return path, nil
}

// clipFiles are score.clip_model's two towers.
func clipFiles(p configs.Profile) (text, image string, err error) {
	text, image, err = score.CLIPFiles(p.ModelPath(p.Score.ClipModel))
	if err != nil {
		return "", "", fmt.Errorf("score.clip_model: %w", err)
	}
	return text, image, nil
}

// RandomWeightFiles are the profile's model files (ModelFiles) marked as
// having random weights (ort.WeightsKey): made for timing, they turn out
// noise. It reads each file's metadata, not its weights.
func RandomWeightFiles(p configs.Profile) ([]string, error) {
	files, err := ModelFiles(p)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		md, err := ort.ReadMetadata(f)
		if err != nil {
			return nil, err
		}
		if md[ort.WeightsKey] == ort.RandomWeights {
			out = append(out, f)
		}
	}
	return out, nil
}
