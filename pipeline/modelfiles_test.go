package pipeline

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/configs"
)

// TestRandomWeightFiles: the tiny models (marked random) are found through
// the profile fields that name them; a profile naming none has none, and
// a missing model is an error naming its field.
func TestRandomWeightFiles(t *testing.T) {
	fluxDir, clipDir := tinyModels(t)
	withModels := configs.DefaultProfile()
	withModels.Text2Img.Source, withModels.Text2Img.Model = "flux", fluxDir
	withModels.Matte.Enabled = false
	withModels.Score.ClipModel = clipDir
	missing := withModels
	missing.Text2Img.Model = filepath.Join(t.TempDir(), "none")
	noModels := configs.DefaultProfile()
	noModels.Matte.Enabled = false
	tests := []struct {
		name    string
		p       configs.Profile
		want    []string
		wantErr string
	}{
		{"tiny models", withModels, []string{
			filepath.Join(fluxDir, "clip.opt", "model.onnx"), filepath.Join(fluxDir, "t5.opt", "model.onnx"),
			filepath.Join(fluxDir, "transformer.opt", "model.onnx"), filepath.Join(fluxDir, "vae.opt", "model.onnx"),
			filepath.Join(clipDir, "text_model.onnx"), filepath.Join(clipDir, "vision_model.onnx"),
		}, ""},
		{"no models", noModels, nil, ""},
		{"missing flux folder", missing, nil, "text2img.model"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RandomWeightFiles(tc.p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("random-weight files (-want +got):\n%s", d)
			}
		})
	}
}
