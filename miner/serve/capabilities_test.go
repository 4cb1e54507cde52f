package serve

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
	"github.com/splatbench/splatbench/prompts"
)

// sceneProfile is the embedded default shrunk to run in a moment.
func sceneProfile() configs.Profile {
	p := configs.DefaultProfile()
	p.Matte.Enabled = false
	p.Fit.Iterations, p.Fit.InitCount, p.Fit.Resolution, p.Fit.Views = 4, 300, 32, 2
	p.Text2Img.Resolution, p.Score.FidelityViews = 64, 2
	return p
}

// TestCannotGenerateIs422: on the embedded default (reference scenes) a
// validator's free-text prompt is a 422 that says why and what to set, not
// a 500; /health lists what the service generates and the start logs a
// warning (before: 500, and /health said healthy and nothing else).
func TestCannotGenerateIs422(t *testing.T) {
	t.Parallel()
	p := sceneProfile()
	pl, err := pipeline.NewBuilder(slog.New(slog.DiscardHandler), "").Build(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	caps := pipeline.CapabilitiesOf(p)
	opts := testOptions()
	opts.Capabilities = &caps
	ts := newTestServer(t, opts, GeneratorFunc(pl.Run))

	resp, body := postText(t, ts, url.Values{"prompt": {"teal lego butterfly with open wings."}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("free-text prompt: %d %s, want 422", resp.StatusCode, body)
	}
	for _, want := range []string{"text2img.model", "docs/models.md"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("422 body %s does not name %s", body, want)
		}
	}
	if !strings.Contains(ts.logs.String(), "cannot generate free-text prompts") {
		t.Errorf("no start-up warning in the logs:\n%s", ts.logs.String())
	}

	hr, err := ts.http.Client().Get(ts.http.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer hr.Body.Close()
	var h struct {
		Generates *pipeline.Capabilities `json:"generates"`
	}
	if err := json.NewDecoder(hr.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if h.Generates == nil || h.Generates.FreeText || !h.Generates.Image || len(h.Generates.SceneNames) == 0 {
		t.Errorf("/health generates %+v, want scene names and images, no free text", h.Generates)
	}
}

// TestRunWarmBindsFirst: a busy address is an error at once, before the
// warm-up generation (before: found after the warm-up, 16 s on the
// embedded default).
func TestRunWarmBindsFirst(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	gen := &fakeGen{}
	s, err := New(testOptions(), gen, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.RunWarm(context.Background(), busy.Addr().String(), pipeline.Job{ID: "warmup", Prompt: prompts.Text("a red cube"), Seed: 1})
	var op *net.OpError
	if !errors.As(err, &op) || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Errorf("RunWarm on a busy address: %v, want a listen error naming it", err)
	}
	if n := gen.calls.Load(); n != 0 || time.Since(start) > 5*time.Second {
		t.Errorf("the warm-up ran %d times before the address was found busy", n)
	}
}
