package pod

import (
	"context"
	"image"

	"github.com/splatbench/splatbench/pipeline/threejs/generate"
)

// ThreeJS is the image-to-module generator (pipeline/threejs/generate) with
// opt as a pod Generator. opt's renderer (colour fit) is used by one worker
// at a time only if each worker gets its own; the validator and the matte
// may be shared. The generator is deterministic: the round's seed is not
// needed.
func ThreeJS(opt generate.Options) Generator {
	return GeneratorFunc(func(ctx context.Context, img image.Image, _ string, _ int64) ([]byte, error) {
		src, _, err := generate.Generate(ctx, img, opt)
		return src, err
	})
}
