package serve

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/prompts"
)

// TestRealPipeline serves the embedded default pipeline (reference scenes,
// CPU fit, fidelity score) with matting off and a tiny fit: warm-up, a
// text prompt that names a reference scene, one that names none, and an
// image prompt.
func TestRealPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real pipeline (scene render, fit, score)")
	}
	p := configs.DefaultProfile()
	p.Matte.Enabled = false
	p.Text2Img.Resolution = 64
	p.Fit.Iterations = 5
	p.Fit.Resolution = 32
	p.Fit.InitCount = 8000 // five iterations do not densify: start above the validator's 7000
	log := slog.New(slog.DiscardHandler)
	b := pipeline.NewBuilder(log, "")
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	pl, err := b.Build(t.Context(), p)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	// The real pipeline's image path lifts and fits on the CPU: give it
	// the production timeout, not the fakes' 10 s, on a loaded 2-core CI.
	opts := testOptions()
	opts.RequestTimeout = DefaultOptions().RequestTimeout
	ts := newTestServer(t, opts, GeneratorFunc(pl.Run))

	if err := ts.Warmup(t.Context(), pipeline.Job{ID: "warmup", Prompt: prompts.Text("a red cube")}); err != nil {
		t.Fatalf("Warmup: %v", err)
	}
	if code, body := get(t, ts, "/health"); code != http.StatusOK {
		t.Fatalf("/health after warm-up: %d %s", code, body)
	}

	resp, body := postText(t, ts, url.Values{"prompt": {"a red cube"}, "seed": {"3"}})
	checkPLY(t, resp, body, 8000)
	if resp.Header.Get(HeaderKind) != "fidelity" || resp.Header.Get(HeaderScore) == "" {
		t.Errorf("score headers %q=%q %q=%q: want the fidelity score", HeaderKind, resp.Header.Get(HeaderKind),
			HeaderScore, resp.Header.Get(HeaderScore))
	}
	t.Logf("a red cube: %d bytes, score %s, accepted %s, %s s", len(body), resp.Header.Get(HeaderScore),
		resp.Header.Get(HeaderAccepted), resp.Header.Get(HeaderSeconds))

	resp, body = postText(t, ts, url.Values{"prompt": {"a purple elephant"}})
	// A prompt the profile cannot generate is the client's to change: 422.
	checkError(t, resp, body, http.StatusUnprocessableEntity, "unknown scene")

	// An image prompt either gives a PLY or fails naming the stage: the
	// weight-free fidelity score has no ground truth for an arbitrary
	// image, so with this profile it is the score stage.
	resp, body = postImage(t, ts, formPart{name: FieldImage, filename: "grey.png", data: pngBytes(t, 64, 64)}, formPart{name: FieldSeed, data: []byte("1")})
	switch resp.StatusCode {
	case http.StatusOK:
		checkPLY(t, resp, body, 0) // the lifted cloud's size, not the profile's initial count
	case http.StatusInternalServerError:
		checkError(t, resp, body, http.StatusInternalServerError, "stage score")
		t.Logf("image prompt with the default profile: %s", strings.TrimSpace(string(body)))
	default:
		t.Errorf("image prompt: status %d %s", resp.StatusCode, body)
	}
	if code, _ := get(t, ts, "/health"); code != http.StatusOK {
		t.Errorf("/health after failures: %d, want 200", code)
	}
}
