package flux

import (
	"errors"
	"strings"
)

// ModelFiles returns the path of each of the four models in dir (keyed by
// stage: "flux/clip", "flux/t5", "flux/vae-decoder", "flux/transformer"),
// the files New would load; an error lists the missing ones.
func ModelFiles(dir string) (map[string]string, error) {
	paths, probs := findFiles(dir)
	if len(probs) > 0 {
		return nil, errors.New("flux: " + dir + ": " + strings.Join(probs, "; "))
	}
	return paths, nil
}
