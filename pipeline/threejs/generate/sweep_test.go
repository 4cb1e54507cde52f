package generate

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/scenes"
	"github.com/splatbench/splatbench/pipeline/threejs/proxy"
	"github.com/splatbench/splatbench/pipeline/threejs/render"
)

var sweep = flag.Bool("sweep", false, "TestSweep: one knob at a time over the reference scenes (slow)")

// TestSweep measures the module knobs one at a time against the defaults
// on six reference scenes (exact alpha, the judge's setup with the
// stand-in environment): mean proxy score, parts, literal bytes and time.
// The part budget and the other defaults in DefaultOptions come from it
// (docs/threejs.md).
func TestSweep(t *testing.T) {
	if !*sweep {
		t.Skip("-sweep")
	}
	v, r := tools(t, render.Options{})
	type setting struct {
		name string
		set  func(*Options)
	}
	settings := []setting{{"defaults", func(*Options) {}}}
	for _, n := range []int{1, 4, 24} {
		settings = append(settings, setting{fmt.Sprintf("parts=%d", n), func(o *Options) { o.Parts = n }})
	}
	settings = append(settings, setting{"profile-points=12", func(o *Options) { o.ProfilePoints = 12 }})
	settings = append(settings, setting{"texture=false", func(o *Options) { o.Texture = false }})
	settings = append(settings, setting{"fit-iters=0", func(o *Options) { o.FitIters = 0 }})
	var out strings.Builder
	fmt.Fprintln(&out, "| setting | mean proxy | mean IoU | mean ΔE | mean parts | mean literal bytes | mean time |")
	fmt.Fprintln(&out, "|---|---|---|---|---|---|---|")
	// six scenes of different kinds (the 2-core machine is shared)
	var all []scenes.Scene
	for _, name := range []string{"red-cube", "blue-mug", "sphere-on-box", "snowman", "lamp", "traffic-cone"} {
		s, err := scenes.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	for _, st := range settings {
		opt := DefaultOptions()
		opt.Valid, opt.Renderer = v, r
		st.set(&opt)
		var px, iou, de, parts, lit float64
		var el time.Duration
		for _, s := range all {
			p := prompt(t, s, render.Size)
			_, info, err := Generate(context.Background(), p, opt)
			if err != nil {
				t.Fatalf("%s %s: %v", st.name, s.Name, err)
			}
			sc, err := proxy.Compare(p, info.Render)
			if err != nil {
				t.Fatal(err)
			}
			px += sc.Proxy
			iou += sc.IoU
			de += sc.DeltaE
			parts += float64(info.Parts)
			lit += float64(info.LiteralBytes)
			el += info.Elapsed
		}
		n := float64(len(all))
		fmt.Fprintf(&out, "| %s | %.3f | %.3f | %.1f | %.1f | %.0f | %.1f s |\n", st.name, px/n, iou/n, de/n, parts/n, lit/n, el.Seconds()/n)
		t.Logf("%s done", st.name)
	}
	t.Logf("proxy for the judge (not its score), %d scenes\n%s", len(all), out.String())
}
