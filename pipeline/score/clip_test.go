package score

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
	"github.com/splatbench/splatbench/pipeline/ort/orttest"
	"github.com/splatbench/splatbench/pipeline/splat"
)

// Fake towers: the image embedding is the mean of each preprocessed
// channel ([B,3]); the text embedding is mean(ids)·(1, −1, 0.5).
var fakeTextDir = []float32{1, -1, 0.5}

func writeFakeTowers(t testing.TB, masked bool) string {
	t.Helper()
	dir := t.TempDir()
	in := []onnxtest.Value{onnxtest.V("input_ids", onnxtest.Int64, -1, -1)}
	if masked {
		in = append(in, onnxtest.V("attention_mask", onnxtest.Int64, -1, -1))
	}
	onnxtest.Model{
		Inputs:  in,
		Outputs: []onnxtest.Value{onnxtest.V("text_embeds", onnxtest.Float, -1, 3)},
		Inits:   []onnxtest.Init{{Name: "w", Shape: []int64{1, 3}, Values: fakeTextDir}},
		Nodes: []onnxtest.Node{
			{Op: "Cast", Inputs: []string{"input_ids"}, Outputs: []string{"f"}, Attrs: []onnxtest.Attr{{Name: "to", Kind: "i", Int: onnxtest.Float}}},
			{Op: "ReduceMean", Inputs: []string{"f"}, Outputs: []string{"m"},
				Attrs: []onnxtest.Attr{{Name: "axes", Kind: "ints", Ints: []int64{1}}, {Name: "keepdims", Kind: "i", Int: 1}}},
			{Op: "Mul", Inputs: []string{"m", "w"}, Outputs: []string{"text_embeds"}},
		},
	}.Write(t, dir, "text_model.onnx")
	onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V("pixel_values", onnxtest.Float, -1, 3, -1, -1)},
		Outputs: []onnxtest.Value{onnxtest.V("image_embeds", onnxtest.Float, -1, 3)},
		Nodes: []onnxtest.Node{{Op: "ReduceMean", Inputs: []string{"pixel_values"}, Outputs: []string{"image_embeds"},
			Attrs: []onnxtest.Attr{{Name: "axes", Kind: "ints", Ints: []int64{2, 3}}, {Name: "keepdims", Kind: "i", Int: 0}}}},
	}.Write(t, dir, "vision_model.onnx")
	return dir
}

// fakeTok: SOT, one id per byte, EOT; Pad cuts keeping SOT/EOT, pads 0.
type fakeTok struct{}

func (fakeTok) Encode(text string) ([]int64, error) {
	ids := []int64{49406}
	for i := range len(text) {
		ids = append(ids, 300+int64(text[i]))
	}
	return append(ids, 49407), nil
}

func (fakeTok) Pad(ids []int64, n int) ([]int64, []int64, int) {
	padded, mask := make([]int64, n), make([]int64, n)
	dropped := 0
	if len(ids) > n {
		dropped = len(ids) - n
		ids = append(append([]int64{}, ids[:n-1]...), ids[len(ids)-1])
	}
	copy(padded, ids)
	for i := range ids {
		mask[i] = 1
	}
	return padded, mask, dropped
}

// TestCLIPScoreFake checks the whole scorer against a Go recomputation:
// validator views, preprocessing, per-view cosines with the fake towers,
// alignment and the validator-clip score.
func TestCLIPScoreFake(t *testing.T) {
	t.Parallel()
	rt := testRuntime(t)
	cloud := testCloud(splat.GateMinGaussians)
	views, err := ValidatorViews(context.Background(), cloud, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, pre := range []Preprocess{PreprocessCLIP, PreprocessValidator} {
		for _, masked := range []bool{false, true} {
			if testing.Short() && masked == (pre == PreprocessCLIP) {
				continue
			}
			c, err := NewCLIP(context.Background(), rt, CLIPOptions{Dir: writeFakeTowers(t, masked), Tokenizer: fakeTok{}, Preprocess: pre, Threshold: 0.5}, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Score(context.Background(), cloud, "a red and blue ball", nil)
			c.Close()
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float64, len(views))
			for i, v := range views {
				x, _ := pre.Apply(v, splat.ValidatorSize, splat.ValidatorSize, CLIPInputSize)
				var mean [3]float32
				for ch := range 3 {
					var s float64
					for _, p := range x[ch*CLIPInputSize*CLIPInputSize : (ch+1)*CLIPInputSize*CLIPInputSize] {
						s += float64(p)
					}
					mean[ch] = float32(s / (CLIPInputSize * CLIPInputSize))
				}
				want[i] = cosine(mean[:], fakeTextDir)
			}
			if diff := cmp.Diff(want, res.PerView, cmpopts.EquateApprox(0, 1e-4)); diff != "" {
				t.Errorf("%s masked=%v: per-view cosines (-want +got):\n%s", pre, masked, diff)
			}
			align, _ := TextAlignment(res.PerView)
			wantScore := 0.0
			if align >= AlignmentGate {
				wantScore = min(align, 1)
			}
			if !res.Gate.OK || res.Alignment != align || res.Score != wantScore || res.Accept != (wantScore >= 0.5) || res.Truncated {
				t.Errorf("%s masked=%v: %+v, want alignment %v score %v", pre, masked, res, align, wantScore)
			}
			t.Logf("%s masked=%v: alignment %.4f score %.4f accept %v", pre, masked, res.Alignment, res.Score, res.Accept)
		}
	}
}

func TestCLIPGateAndPrompts(t *testing.T) {
	t.Parallel()
	c, err := NewCLIP(context.Background(), testRuntime(t), CLIPOptions{Dir: writeFakeTowers(t, false), Tokenizer: fakeTok{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	small := testCloud(500)
	res, err := c.Score(context.Background(), small, "a ball", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Gate.OK || res.Score != 0 || res.Accept || len(res.PerView) != 16 {
		t.Errorf("500 Gaussians: %+v, want a failed gate, score 0, 16 cosines still reported", res)
	}
	if _, err := c.Score(context.Background(), small, "  ", nil); err == nil || !strings.Contains(err.Error(), "empty prompt") {
		t.Errorf("empty prompt: %v", err)
	}
	res, err = c.Score(context.Background(), small, strings.Repeat("very long ", 30), nil)
	if err != nil || !res.Truncated {
		t.Errorf("long prompt: truncated=%v err=%v, want truncated", res.Truncated, err)
	}
	res, err = c.Score(context.Background(), splat.NewCloud(0, 0), "a ball", nil)
	if err != nil || res.Gate.OK || res.Score != 0 || res.PerView != nil {
		t.Errorf("empty cloud: %+v %v", res, err)
	}
}

// TestCLIPMismatch: both towers wrong → one error naming both files.
func TestCLIPMismatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	onnxtest.Signature(
		[]onnxtest.Value{onnxtest.V("ids", onnxtest.Int64, -1, 77)},
		[]onnxtest.Value{onnxtest.V("text_embeds", onnxtest.Float, -1, 512)}).Write(t, dir, "text_model.onnx")
	onnxtest.Signature(
		[]onnxtest.Value{onnxtest.V("pixel_values", onnxtest.Float, -1, 4, 224, 224)},
		[]onnxtest.Value{onnxtest.V("pooled", onnxtest.Float, -1, 512)}).Write(t, dir, "vision_model.onnx")
	_, err := NewCLIP(context.Background(), testRuntime(t), CLIPOptions{Dir: dir, Tokenizer: fakeTok{}}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		filepath.Join(dir, "text_model.onnx") + `: missing input "input_ids"`,
		`input "ids"`,
		filepath.Join(dir, "vision_model.onnx") + `: input "pixel_values": dimension 1 is 4, want 3`,
		`missing output "image_embeds"`,
		"4 problems",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := NewCLIP(context.Background(), testRuntime(t), CLIPOptions{Dir: t.TempDir(), Tokenizer: fakeTok{}}, nil); err == nil || !strings.Contains(err.Error(), "text_model.onnx not found") {
		t.Errorf("empty dir: %v", err)
	}
}

// TestCLIPTinyModels runs the exported tiny towers (testdata/models/clip-tiny,
// written by tools/make_tiny_models.py) through the scorer.
func TestCLIPTinyModels(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "testdata", "models", "clip-tiny")
	orttest.TestData(t, dir)
	rt := testRuntime(t)
	cloud := testCloud(splat.GateMinGaussians)
	for _, text := range []string{"text_model.onnx", "text_model_masked.onnx"} {
		c, err := NewCLIP(context.Background(), rt, CLIPOptions{
			TextModel: filepath.Join(dir, text), ImageModel: filepath.Join(dir, "vision_model.onnx"), Tokenizer: fakeTok{},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Score(context.Background(), cloud, "a red and blue ball", nil)
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.Score(context.Background(), cloud, "a red and blue ball", nil)
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(res.PerView, again.PerView); diff != "" {
			t.Errorf("%s: scoring twice differs:\n%s", text, diff)
		}
		if len(res.PerView) != 16 || math.IsNaN(res.Alignment) {
			t.Fatalf("%s: %+v", text, res)
		}
		for i, v := range res.PerView {
			if !(v >= -1 && v <= 1) {
				t.Errorf("%s: view %d cosine %v", text, i, v)
			}
		}
	}
}
