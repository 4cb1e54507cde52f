package flux

import (
	"cmp"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/pipeline/cuda"
	"github.com/splatbench/splatbench/pipeline/ort"
)

// blockOf matches a node of one of the transformer's blocks, named by the
// TorchScript exporter after its module: "/doubles.3/…", "/singles.0/…".
var blockOf = regexp.MustCompile(`^/(doubles|singles)\.(\d+)/`)

// blockWork splits a profiled run of the transformer into its blocks'
// nodes: by block kind, the nodes of each block. A node without a block in
// its name (one a rewrite or ORT's optimiser made, "fused_gelu_2") counts
// for the block that ran before it, a top-level node ("/Concat_3") for
// neither.
func blockWork(nodes []ort.NodeWork) (blocks map[string][][]ort.NodeWork, rest []ort.NodeWork) {
	blocks = map[string][][]ort.NodeWork{}
	cur, idx := "", map[string]int{}
	for _, n := range nodes {
		switch m := blockOf.FindStringSubmatch(n.Name); {
		case m != nil:
			key := m[1] + "." + m[2]
			if _, ok := idx[key]; !ok {
				idx[key] = len(blocks[m[1]])
				blocks[m[1]] = append(blocks[m[1]], nil)
			}
			cur = key
		case strings.HasPrefix(n.Name, "/"):
			cur = ""
		}
		if cur == "" {
			rest = append(rest, n)
			continue
		}
		kind := cur[:strings.IndexByte(cur, '.')]
		blocks[kind][idx[cur]] = append(blocks[kind][idx[cur]], n)
	}
	return blocks, rest
}

// TestTransformerRoofline counts what the transformer of
// $SPLATBENCH_FLUX_DIR (a make_gpu_models.py export at any depth) allows at
// full depth: one step is profiled on the first of
// $SPLATBENCH_FLUX_PROVIDERS (default cpu) at each size of
// $SPLATBENCH_FLUX_RES (default 512,1024), every node counted for its
// block, and the step's FLOP floor and graph roofline given for 19 double
// + 38 single blocks at the H200's datasheet peaks; a float32 export's
// bytes are also given halved, as an fp16 export would move them. On the
// CUDA provider it counts the graph that provider runs. Skipped unless
// the directory is set (docs/perf/ort-gpu.md, session 8).
func TestTransformerRoofline(t *testing.T) {
	dir := os.Getenv("SPLATBENCH_FLUX_DIR")
	if dir == "" {
		t.Skip("SPLATBENCH_FLUX_DIR is not set")
	}
	provider := strings.Split(cmp.Or(os.Getenv("SPLATBENCH_FLUX_PROVIDERS"), "cpu"), ",")[0]
	rates, _ := cuda.RatesOf("NVIDIA H200")
	ct, tt := realTokenizers(t)
	ctx := context.Background()
	rt := testRuntime(t)
	for _, r := range strings.Split(cmp.Or(os.Getenv("SPLATBENCH_FLUX_RES"), "512,1024"), ",") {
		res, err := strconv.Atoi(r)
		if err != nil {
			t.Fatalf("SPLATBENCH_FLUX_RES: %v", err)
		}
		f, err := New(ctx, rt, Options{Dir: dir, Steps: 4, Resolution: res, Providers: []string{provider}}, ct, tt, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := f.sess[stageTransformer]
		p, err := rt.Probe(ctx, s.Path(), s.ProbeShapes(), s.OutputNames(), provider)
		half := f.latentT == ort.Float32
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		blocks, rest := blockWork(p.Work())
		if len(blocks["doubles"]) == 0 || len(blocks["singles"]) == 0 {
			t.Fatalf("%s: no nodes named /doubles.N/ and /singles.N/ (not a TorchScript export of make_gpu_models.py?)", dir)
		}
		for _, fp16 := range []bool{false, true} {
			if fp16 && !half {
				continue
			}
			bw := rates.Bandwidth
			if fp16 {
				bw *= 2 // half the bytes
			}
			var floor, roof float64 // ms
			add := func(nodes []ort.NodeWork, k float64) {
				c, r := ort.Floor(nodes, rates.FLOPs, bw)
				floor += k * c.Seconds() * 1e3
				roof += k * r.Seconds() * 1e3
			}
			add(rest, 1)
			for kind, full := range map[string]float64{"doubles": 19, "singles": 38} {
				for _, b := range blocks[kind] {
					add(b, full/float64(len(blocks[kind])))
				}
			}
			as := "as exported"
			if fp16 {
				as = "fp32 bytes halved"
			}
			t.Logf("%d px on %s, %d+%d blocks scaled to 19+38, %s, at the H200's datasheet peaks: FLOP floor %.1f ms, graph roofline %.1f ms (%.2fx) a step",
				res, provider, len(blocks["doubles"]), len(blocks["singles"]), as, floor, roof, roof/floor)
		}
	}
}

func TestBlockWork(t *testing.T) {
	n := func(name string) ort.NodeWork { return ort.NodeWork{Name: name} }
	blocks, rest := blockWork([]ort.NodeWork{n("/img_in/MatMul"), n("/doubles.0/Add"), n("fused_attention_0"),
		n("/doubles.1/Mul"), n("/Concat_3"), n("/singles.0/lin1/MatMul"), n("fused_gelu_2"), n("/final/MatMul")})
	want := map[string][][]ort.NodeWork{
		"doubles": {{n("/doubles.0/Add"), n("fused_attention_0")}, {n("/doubles.1/Mul")}},
		"singles": {{n("/singles.0/lin1/MatMul"), n("fused_gelu_2")}},
	}
	if d := gocmp.Diff(want, blocks); d != "" {
		t.Errorf("blocks (-want +got):\n%s", d)
	}
	if d := gocmp.Diff([]ort.NodeWork{n("/img_in/MatMul"), n("/Concat_3"), n("/final/MatMul")}, rest); d != "" {
		t.Errorf("rest (-want +got):\n%s", d)
	}
}
