package miner

import (
	"strings"
	"testing"

	"github.com/splatbench/splatbench/configs"
	"github.com/splatbench/splatbench/pipeline"
)

// TestCheckTextCapability: a profile without free text mines only local
// validators unless the user accepts empty text results; the refusal
// names text2img.model, docs/models.md and the validators.
func TestCheckTextCapability(t *testing.T) {
	t.Parallel()
	scenes := pipeline.CapabilitiesOf(configs.DefaultProfile())
	flux := configs.DefaultProfile()
	flux.Text2Img.Source, flux.Text2Img.Model = "flux", "/models/flux"
	free := pipeline.CapabilitiesOf(flux)
	local := []Validator{{UID: 0, Address: "127.0.0.1:8092"}, {UID: 1, Address: "localhost:8093"}, {UID: 2, Address: "[::1]:8094"}}
	remote := append(append([]Validator(nil), local...), Validator{UID: 7, Address: "203.0.113.9:8091"})
	tests := []struct {
		name  string
		vals  []Validator
		caps  pipeline.Capabilities
		allow bool
		want  []string // nil: no error
	}{
		{"scenes, local validators only", local, scenes, false, nil},
		{"scenes, a subnet validator", remote, scenes, false, []string{"uid 7 at 203.0.113.9:8091", "text2img.model", "docs/models.md", "--allow-empty-text"}},
		{"scenes, a subnet validator, allowed", remote, scenes, true, nil},
		{"flux, a subnet validator", remote, free, false, nil},
	}
	for _, tc := range tests {
		err := CheckTextCapability(tc.vals, tc.caps, tc.allow)
		if (err != nil) != (tc.want != nil) {
			t.Errorf("%s: err = %v, want an error %v", tc.name, err, tc.want != nil)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not name %q", tc.name, err, w)
			}
		}
	}
}
