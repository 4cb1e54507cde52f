package pipeline

import (
	"context"
	"fmt"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/configs"

	"github.com/splatbench/splatbench/pipeline/imageeval"
	"github.com/splatbench/splatbench/pipeline/ort/orttest"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/prompts"
	"github.com/splatbench/splatbench/tuner"
)

// threejsProfile is the default profile with the Three.js output, its
// cheapest setting: no colour fit (the score stage renders once).
func threejsProfile() (p configs.Profile) {
	p = tinyProfile()
	p.Matte.Enabled = true
	p.Encoding.Format = FormatThreejs
	p.Threejs.Parts, p.Threejs.FitIters = 4, 0
	return p
}

// scenePrompt writes a reference scene's front picture, as the
// scene-images corpus has it, and returns it as an image prompt.
func scenePrompt(t testing.TB, name string) prompts.Prompt {
	t.Helper()
	sc, err := scenes.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageeval.Prompt(context.Background(), sc, imageeval.PromptSeed, 512, imageeval.PromptBackdrop(0))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return prompts.Image(path)
}

// TestThreejsOutput runs an image prompt through the Three.js output:
// matte -> module -> validator -> render in the judge's scene -> proxy
// score, and checks the module passes the validator and the record
// carries the proxy score under its kind. Then a module that breaks a
// rule goes through the same score stage: score 0 and the rule's code.
func TestThreejsOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ISNet and renders in headless Chromium (~30 s on 2 cores)")
	}
	orttest.Library(t)
	b := NewBuilder(slog.New(slog.DiscardHandler), "")
	defer b.Close()
	b.ReuseOutputs(2) // the tuner's trial below reuses the matte
	pl, err := b.Build(context.Background(), threejsProfile())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"text2img", "matte", "threejs", "score"}, pl.Stages()); diff != "" {
		t.Fatalf("stages (-want +got):\n%s", diff)
	}
	st, timings, err := pl.Run(context.Background(), Job{ID: "j", Prompt: scenePrompt(t, "blue-mug"), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(timings) != 4 || timings[2].Stage != "threejs" || timings[2].Seconds <= 0 {
		t.Errorf("timings %+v", timings)
	}
	if st.Format != FormatThreejs || !strings.Contains(string(st.Encoded), "export default function generate(THREE)") {
		t.Fatalf("format %q, module %.80q", st.Format, st.Encoded)
	}
	v, r, err := b.threejsTools(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v2, r2, err := b.threejsTools(context.Background()); err != nil || v2 != v || r2 != r {
		t.Errorf("a second call started new tools (%v): the Builder must share one validator and one Chromium", err)
	}
	rep, err := v.Check(context.Background(), st.Encoded)
	if err != nil || !rep.OK() {
		t.Fatalf("the module fails the validator: %v %v", err, rep.Err())
	}
	if st.ScoreKind != ScoreThreejsProxy || st.Scores["valid"] != 1 || len(st.Rules) != 0 {
		t.Errorf("kind %q valid %v rules %v", st.ScoreKind, st.Scores["valid"], st.Rules)
	}
	// A mug on a plain backdrop, its silhouette back-projected through
	// the judge's camera: the render must overlap the picture well.
	if st.Scores["score"] != st.Scores["proxy"] || st.Scores["mask_iou"] < 0.7 || st.Scores["proxy"] < 0.5 {
		t.Errorf("scores %v: want mask IoU ≥ 0.7 and proxy ≥ 0.5 as the score", st.Scores)
	}

	t.Logf("timings %+v\nscores %v", timings, st.Scores)

	// The same score stage on a module that leaves the unit box.
	score := pl.stages[3]
	bad := &State{Job: st.Job, Image: st.Image, RGBA: st.RGBA, Format: FormatThreejs, Scores: map[string]float64{}, Encoded: []byte(`export default function generate(THREE) {
  const m = new THREE.Mesh(new THREE.BoxGeometry(0.4, 0.4, 0.4), new THREE.MeshStandardMaterial());
  m.position.x = 0.4;
  return m;
}
`)}
	if err := score.Run(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	if bad.Scores["score"] != 0 || bad.Accepted || bad.Scores["rule:BOUNDING_BOX_OUT_OF_RANGE"] != 1 {
		t.Errorf("out-of-box module: scores %v accepted %v", bad.Scores, bad.Accepted)
	}
	if diff := cmp.Diff([]string{"BOUNDING_BOX_OUT_OF_RANGE"}, bad.Rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}

	// The tuner's view of the same output: the sweep's knobs applied to
	// the default profile, the trial's record with the proxy's kind.
	base := tinyProfile()
	base.Matte.Enabled = true
	ev := NewEvaluator(base, b)
	pt := tuner.NewPoint(map[string]any{"encode.format": "threejs", "threejs.parts": 1, "threejs.fit_iters": 1, "threejs.texture": false})
	out, err := ev.Evaluate(context.Background(), tuner.Trial{ID: "t", Point: pt, Prompt: tuner.Prompt{ID: "p", Image: st.Job.Prompt.Image}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range out.Stages {
		names = append(names, s.Name)
	}
	if diff := cmp.Diff([]string{"text2img", "matte", "threejs", "score"}, names); diff != "" {
		t.Errorf("trial stages (-want +got):\n%s", diff)
	}
	if out.ScoreKind != ScoreThreejsProxy || out.Scores["parts"] != 1 || out.Scores["fit_renders"] != 2 || out.Scores["score"] <= 0 {
		t.Errorf("trial: kind %q scores %v", out.ScoreKind, out.Scores)
	}
}

// BenchmarkThreejsStages times the Three.js output's own stages on one
// prepared picture (matte done): the module (fit_iters 0 and 4) and the
// score stage (validator, render in the judge's scene, proxy), Chromium
// already warm.
func BenchmarkThreejsStages(b *testing.B) {
	orttest.Library(b)
	bl := NewBuilder(slog.New(slog.DiscardHandler), "")
	defer bl.Close()
	pr := scenePrompt(b, "sphere-on-box")
	for _, fit := range []int{0, 4} {
		p := threejsProfile()
		p.Threejs.Parts, p.Threejs.FitIters = 12, fit
		pl, err := bl.Build(context.Background(), p)
		if err != nil {
			b.Fatal(err)
		}
		for _, stage := range []string{"threejs", "score"} {
			b.Run(fmt.Sprintf("fit_iters=%d/%s", fit, stage), func(b *testing.B) {
				st, s, err := pl.Prepare(context.Background(), Job{ID: "bench", Prompt: pr, Seed: 1}, stage)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Run(context.Background(), st); err != nil { // warms Chromium
					b.Fatal(err)
				}
				for b.Loop() {
					if err := s.Run(context.Background(), st); err != nil {
						b.Fatal(err)
					}
				}
				if stage == "score" {
					b.ReportMetric(st.Scores["score"], "proxy")
				}
			})
		}
	}
}
