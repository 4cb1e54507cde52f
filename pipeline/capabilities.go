package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/prompts"
)

// ErrCannotGenerate is wrapped by the error of a job whose prompt the
// profile cannot generate at all (as opposed to a generation that failed):
// a service answers it 422, a miner knows retrying will not help.
var ErrCannotGenerate = errors.New("the profile cannot generate this prompt")

// Capabilities says which prompts a profile can generate.
type Capabilities struct {
	// FreeText is true when any text prompt can be generated (a
	// text-to-image model); false when only the built-in reference
	// scenes' names can.
	FreeText bool `json:"free_text"`
	// SceneNames lists the text prompts a profile without free text takes.
	SceneNames []string `json:"scene_names,omitempty"`
	// Image is true when image prompts can be generated.
	Image bool `json:"image"`
	// Note explains what is missing, naming the profile knob and the
	// document that says how to get it; empty when nothing is.
	Note string `json:"note,omitempty"`
}

// freeTextNote is what a profile without free text says.
const freeTextNote = "text2img.source is scenes: text prompts must name a built-in reference scene, and free text " +
	"(a validator's prompts, such as \"teal lego butterfly with open wings.\") cannot be generated; " +
	"set text2img.source: flux and text2img.model to a FLUX.1-schnell ONNX export (docs/models.md)"

// CapabilitiesOf returns what a (validated) profile can generate.
func CapabilitiesOf(p configs.Profile) Capabilities {
	c := Capabilities{Image: true} // every text2img source takes image prompts (imageSource)
	switch p.Text2Img.Source {
	case "flux":
		c.FreeText = true
	default:
		c.SceneNames = scenes.Names()
		c.Note = freeTextNote
	}
	return c
}

// Kinds lists what can be generated, for people: "free text, image" or
// "scene names only, image".
func (c Capabilities) Kinds() string {
	var k []string
	if c.FreeText {
		k = append(k, "free text")
	} else {
		k = append(k, "scene names only")
	}
	if c.Image {
		k = append(k, "image")
	}
	return strings.Join(k, ", ")
}

// Check says whether prompt can be generated; the error wraps
// ErrCannotGenerate and explains what the profile lacks.
func (c Capabilities) Check(prompt prompts.Prompt) error {
	switch {
	case prompt.IsImage():
		if !c.Image {
			return fmt.Errorf("%w: image prompts are not supported", ErrCannotGenerate)
		}
		return nil
	case c.FreeText:
		return nil
	}
	if _, err := scenes.Get(prompt.Text); err != nil {
		return fmt.Errorf("%w: %q is not a built-in scene; %s", ErrCannotGenerate, clipText(prompt.Text), c.Note)
	}
	return nil
}

func clipText(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
