package generate

import (
	"context"
	"testing"

	"github.com/splatbench/splatbench/pipeline/scenes"
)

// BenchmarkGenerateNoRender times the picture → module path without the
// renders and the check (grid, decomposition, writing), on the mug.
func BenchmarkGenerateNoRender(b *testing.B) {
	s, err := scenes.Get("blue-mug")
	if err != nil {
		b.Fatal(err)
	}
	p := prompt(b, s, 1024)
	opt := DefaultOptions()
	for b.Loop() {
		mod, info, err := Generate(context.Background(), p, opt)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(mod)), "module-bytes")
		b.ReportMetric(float64(info.Parts), "parts")
	}
}
