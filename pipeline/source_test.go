package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/splatbench/splatbench/pipeline/imagefile"
	"github.com/splatbench/splatbench/pipeline/imagefile/imagefiletest"
	"github.com/splatbench/splatbench/prompts"
)

// TestImagePromptBomb: an image prompt (the miner's image task, the
// tuner's image corpus) whose header declares 100000×100000 pixels is
// refused before any pixel buffer exists; before the shared decoder the
// run died with a fatal out-of-memory.
func TestImagePromptBomb(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.png")
	data := imagefiletest.BombPNG(100000, 100000)
	if len(data) != 67 {
		t.Fatalf("bomb is %d bytes, want 67", len(data))
	}
	if err := os.WriteFile(bomb, data, 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.png")
	if err := os.WriteFile(garbage, []byte("<html>not an image</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	pl, err := NewBuilder(slog.New(slog.DiscardHandler), "").Build(context.Background(), tinyProfile())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want error
	}{{bomb, imagefile.ErrTooLarge}, {garbage, imagefile.ErrFormat}} {
		_, _, err := pl.Run(context.Background(), Job{ID: "j", Prompt: prompts.Image(tc.path)})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", filepath.Base(tc.path), err, tc.want)
		}
	}
}

// TestCapabilities: a profile says what it can generate, and a prompt it
// cannot is an ErrCannotGenerate naming text2img.model and docs/models.md
// (before: the embedded default failed every validator prompt with a plain
// error that a service answered 500).
func TestCapabilities(t *testing.T) {
	t.Parallel()
	def := tinyProfile()
	flux := tinyProfile()
	flux.Text2Img.Source, flux.Text2Img.Model = "flux", "/models/flux"
	const validatorPrompt = "teal lego butterfly with open wings."
	tests := []struct {
		name     string
		c        Capabilities
		prompt   prompts.Prompt
		wantErr  bool
		freeText bool
	}{
		{"default, validator prompt", CapabilitiesOf(def), prompts.Text(validatorPrompt), true, false},
		{"default, scene name", CapabilitiesOf(def), prompts.Text("a red cube"), false, false},
		{"default, image", CapabilitiesOf(def), prompts.Image("x.png"), false, false},
		{"flux, validator prompt", CapabilitiesOf(flux), prompts.Text(validatorPrompt), false, true},
	}
	for _, tc := range tests {
		err := tc.c.Check(tc.prompt)
		if tc.c.FreeText != tc.freeText || !tc.c.Image {
			t.Errorf("%s: capabilities %+v", tc.name, tc.c)
		}
		if (err != nil) != tc.wantErr || err != nil && !errors.Is(err, ErrCannotGenerate) {
			t.Errorf("%s: Check = %v, want error %v wrapping ErrCannotGenerate", tc.name, err, tc.wantErr)
		}
		if err != nil && (!strings.Contains(err.Error(), "text2img.model") || !strings.Contains(err.Error(), "docs/models.md")) {
			t.Errorf("%s: %q does not name text2img.model and docs/models.md", tc.name, err)
		}
	}
	// The pipeline's own refusal is the same error.
	pl, err := NewBuilder(slog.New(slog.DiscardHandler), "").Build(context.Background(), def)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = pl.Run(context.Background(), Job{ID: "j", Prompt: prompts.Text(validatorPrompt)})
	if !errors.Is(err, ErrCannotGenerate) || !strings.Contains(err.Error(), "docs/models.md") {
		t.Errorf("Run with a free-text prompt: %v, want ErrCannotGenerate naming docs/models.md", err)
	}
}
