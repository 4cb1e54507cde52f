package models

import (
	"strings"
	"testing"
	"time"

	"github.com/splatbench/splatbench/pipeline/ort"
)

func TestRewriteHint(t *testing.T) {
	ran := func(provider string, ops ...string) *ort.Placement {
		p := &ort.Placement{Provider: provider, OpTime: map[string]time.Duration{}}
		for _, op := range ops {
			p.OpTime[op] = time.Millisecond
		}
		return p
	}
	for _, tc := range []struct {
		name, stage, path string
		p                 *ort.Placement
		want              []string // in the hint; none: no hint
	}{
		{"exported VAE on cuda", "flux/vae-decoder", "/m/flux/vae.opt/model.onnx", ran(ort.CUDA, "Conv", "InstanceNormalization"),
			[]string{"InstanceNormalization", "--groupnorm fused --fuse-from /m ", "1.45×"}},
		{"exported transformer on cuda", "flux/transformer", "/m/flux/transformer.opt/model.onnx", ran(ort.CUDA, "MatMul", "Softmax"),
			[]string{"Softmax", "--attention mha", "--norms fused", "--layout bsnh", "--fuse-from /m "}},
		{"a VAE outside a FLUX directory", "flux/vae-decoder", "/x/decoder.onnx", ran(ort.CUDA, "InstanceNormalization"),
			[]string{"--fuse-from DIR "}},
		{"fused VAE", "flux/vae-decoder", "/m/flux/vae.opt/model.onnx", ran(ort.CUDA, "Conv", "GroupNorm"), nil},
		{"fused transformer", "flux/transformer", "/m/flux/transformer.opt/model.onnx", ran(ort.CUDA, "MultiHeadAttention"), nil},
		{"on the CPU", "flux/vae-decoder", "/m/flux/vae.opt/model.onnx", ran(ort.CPU, "InstanceNormalization"), nil},
		{"another stage", "matte/isnet", "/m/isnet.onnx", ran(ort.CUDA, "InstanceNormalization", "Softmax"), nil},
		{"no probe", "flux/vae-decoder", "/m/flux/vae.opt/model.onnx", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rewriteHint(tc.stage, tc.path, tc.p)
			if (got != "") != (tc.want != nil) {
				t.Fatalf("rewriteHint = %q, want a hint: %v", got, tc.want != nil)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("rewriteHint = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

func TestGraphHint(t *testing.T) {
	placed := func(provider string, ops ...string) *ort.Placement {
		p := &ort.Placement{Provider: provider, Nodes: map[string]int{provider: 900, ort.CPU: 40}, OpTime: map[string]time.Duration{"MatMul": time.Millisecond}}
		for _, op := range ops {
			p.OpTime[op] = 0
		}
		return p
	}
	for _, tc := range []struct {
		name, stage string
		p           *ort.Placement
		want        string // in the hint; "": no hint
	}{
		{"shape arithmetic on the CPU, no copies", "flux/transformer", placed(ort.CUDA, "Shape", "Gather"), "can capture"},
		{"a copy to the host", "flux/transformer", placed(ort.CUDA, "MemcpyToHost"), "cannot capture it: ONNX Runtime refuses a CUDA graph whose run copies between the host and the GPU (MemcpyToHost)"},
		{"copies both ways", "flux/transformer", placed(ort.CUDA, "MemcpyToHost", "MemcpyFromHost"), "(MemcpyFromHost, MemcpyToHost)"},
		{"the VAE", "flux/vae-decoder", placed(ort.CUDA), ""},
		{"on the CPU provider", "flux/transformer", placed(ort.CPU), ""},
		{"no probe", "flux/transformer", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := graphHint(tc.stage, tc.p)
			if (got != "") != (tc.want != "") || !strings.Contains(got, tc.want) {
				t.Errorf("graphHint = %q, want %q in it (none: no hint)", got, tc.want)
			}
		})
	}
}
