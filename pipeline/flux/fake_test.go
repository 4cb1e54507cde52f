package flux

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

// Fake FLUX models with the real signatures and bodies simple enough to
// compute the expected image in Go:
//
//	clip:        pooled[k]   = mean(ids)·wPool[k]
//	t5:          context     = ids[s]·wT5[d]
//	transformer: latent      = hidden_states·t + mean(pooled)
//	vae:         images[c]   = nearest-neighbour ×8 upsampling of latent channel c (c < 3)
//
// Float tensors on the boundary have element type dt (Float or BFloat16);
// inside, the graphs compute in float32, as the NVIDIA bf16 export's Cast
// boundary would look to the caller.

func fakePoolWeight() []float32 {
	w := make([]float32, 768)
	for i := range w {
		w[i] = float32(i%7) / 7000 // mean(w) = 3/7000
	}
	return w
}

const fakeSeq = 256

// castIn converts input name from dt to float32, returning the float name.
func castIn(m *onnxtest.Model, name string, dt int) string {
	if dt == onnxtest.Float {
		return name
	}
	m.Nodes = append(m.Nodes, onnxtest.Node{Op: "Cast", Inputs: []string{name}, Outputs: []string{name + "_f"},
		Attrs: []onnxtest.Attr{{Name: "to", Kind: "i", Int: onnxtest.Float}}})
	return name + "_f"
}

// castOut makes the last node's output (named name+"_f" when dt is not
// float) into output name of type dt.
func castOut(m *onnxtest.Model, name string, dt int) string {
	if dt == onnxtest.Float {
		return name
	}
	m.Nodes = append(m.Nodes, onnxtest.Node{Op: "Cast", Inputs: []string{name + "_f"}, Outputs: []string{name},
		Attrs: []onnxtest.Attr{{Name: "to", Kind: "i", Int: int64(dt)}}})
	return name + "_f"
}

func axes(name string, v ...int64) onnxtest.Init {
	return onnxtest.Init{Name: name, Shape: []int64{int64(len(v))}, Ints: v}
}

func fakeCLIP(dt int) onnxtest.Model {
	m := onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V("input_ids", onnxtest.Int64, -1, 77)},
		Outputs: []onnxtest.Value{onnxtest.V("pooled_embeddings", dt, -1, 768)},
		Inits:   []onnxtest.Init{{Name: "w", Shape: []int64{1, 768}, Values: fakePoolWeight()}},
	}
	m.Nodes = append(m.Nodes,
		onnxtest.Node{Op: "Cast", Inputs: []string{"input_ids"}, Outputs: []string{"ids"}, Attrs: []onnxtest.Attr{{Name: "to", Kind: "i", Int: onnxtest.Float}}},
		onnxtest.Node{Op: "ReduceMean", Inputs: []string{"ids"}, Outputs: []string{"m"},
			Attrs: []onnxtest.Attr{{Name: "axes", Kind: "ints", Ints: []int64{1}}, {Name: "keepdims", Kind: "i", Int: 1}}})
	out := "pooled_embeddings"
	if dt != onnxtest.Float {
		out += "_f"
	}
	m.Nodes = append(m.Nodes, onnxtest.Node{Op: "Mul", Inputs: []string{"m", "w"}, Outputs: []string{out}})
	castOut(&m, "pooled_embeddings", dt)
	return m
}

func fakeT5(dt int) onnxtest.Model {
	w := make([]float32, 4096)
	for i := range w {
		w[i] = float32(i%13-6) / 1e5
	}
	m := onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V("input_ids", onnxtest.Int64, -1, fakeSeq)},
		Outputs: []onnxtest.Value{onnxtest.V("text_embeddings", dt, -1, fakeSeq, 4096)},
		Inits:   []onnxtest.Init{{Name: "w", Shape: []int64{4096}, Values: w}, axes("ax2", 2)},
	}
	m.Nodes = append(m.Nodes,
		onnxtest.Node{Op: "Cast", Inputs: []string{"input_ids"}, Outputs: []string{"ids"}, Attrs: []onnxtest.Attr{{Name: "to", Kind: "i", Int: onnxtest.Float}}},
		onnxtest.Node{Op: "Unsqueeze", Inputs: []string{"ids", "ax2"}, Outputs: []string{"ids3"}})
	out := "text_embeddings"
	if dt != onnxtest.Float {
		out += "_f"
	}
	m.Nodes = append(m.Nodes, onnxtest.Node{Op: "Mul", Inputs: []string{"ids3", "w"}, Outputs: []string{out}})
	castOut(&m, "text_embeddings", dt)
	return m
}

func fakeTransformer(dt int) onnxtest.Model {
	m := onnxtest.Model{
		Inputs: []onnxtest.Value{
			onnxtest.V("hidden_states", dt, -1, -1, 64),
			onnxtest.V("encoder_hidden_states", dt, -1, fakeSeq, 4096),
			onnxtest.V("pooled_projections", dt, -1, 768),
			onnxtest.V("timestep", dt, -1),
			onnxtest.V("img_ids", onnxtest.Float, -1, 3),
			onnxtest.V("txt_ids", onnxtest.Float, fakeSeq, 3),
		},
		Outputs: []onnxtest.Value{onnxtest.V("latent", dt, -1, -1, 64)},
		Inits:   []onnxtest.Init{axes("ax12", 1, 2), axes("ax2", 2)},
	}
	h := castIn(&m, "hidden_states", dt)
	p := castIn(&m, "pooled_projections", dt)
	ts := castIn(&m, "timestep", dt)
	out := "latent"
	if dt != onnxtest.Float {
		out += "_f"
	}
	m.Nodes = append(m.Nodes,
		onnxtest.Node{Op: "Unsqueeze", Inputs: []string{ts, "ax12"}, Outputs: []string{"t3"}},
		onnxtest.Node{Op: "Mul", Inputs: []string{h, "t3"}, Outputs: []string{"ht"}},
		onnxtest.Node{Op: "ReduceMean", Inputs: []string{p}, Outputs: []string{"pm"},
			Attrs: []onnxtest.Attr{{Name: "axes", Kind: "ints", Ints: []int64{1}}, {Name: "keepdims", Kind: "i", Int: 1}}},
		onnxtest.Node{Op: "Unsqueeze", Inputs: []string{"pm", "ax2"}, Outputs: []string{"pm3"}},
		onnxtest.Node{Op: "Add", Inputs: []string{"ht", "pm3"}, Outputs: []string{out}})
	castOut(&m, "latent", dt)
	return m
}

func fakeVAE(dt int) onnxtest.Model {
	w := make([]float32, 16*3*8*8)
	for c := range 3 {
		for k := range 64 {
			w[(c*3+c)*64+k] = 1
		}
	}
	m := onnxtest.Model{
		Inputs:  []onnxtest.Value{onnxtest.V("latent", dt, -1, 16, -1, -1)},
		Outputs: []onnxtest.Value{onnxtest.V("images", dt, -1, 3, -1, -1)},
		Inits:   []onnxtest.Init{{Name: "w", Shape: []int64{16, 3, 8, 8}, Values: w}},
	}
	in := castIn(&m, "latent", dt)
	out := "images"
	if dt != onnxtest.Float {
		out += "_f"
	}
	m.Nodes = append(m.Nodes, onnxtest.Node{Op: "ConvTranspose", Inputs: []string{in, "w"}, Outputs: []string{out},
		Attrs: []onnxtest.Attr{{Name: "kernel_shape", Kind: "ints", Ints: []int64{8, 8}}, {Name: "strides", Kind: "ints", Ints: []int64{8, 8}}}})
	castOut(&m, "images", dt)
	return m
}

// writeFakeDir writes the four fake models in BFL's layout under a new
// temporary directory and returns it.
func writeFakeDir(t testing.TB, dt int) string {
	t.Helper()
	dir := t.TempDir()
	for rel, m := range map[string]onnxtest.Model{
		"clip.opt": fakeCLIP(dt), "t5.opt": fakeT5(dt), "transformer.opt": fakeTransformer(dt), "vae.opt": fakeVAE(dt),
	} {
		sub := filepath.Join(dir, rel)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		m.Write(t, sub, "model.onnx")
	}
	return dir
}

// fakeTok is a deterministic stand-in for pipeline/tokenizer: SOT 1, one
// id per byte (3 + byte), EOT 2; Pad cuts the content keeping SOT and EOT
// and pads with 0.
type fakeTok struct{}

func (fakeTok) Encode(text string) ([]int64, error) {
	ids := []int64{1}
	for i := range len(text) {
		ids = append(ids, 3+int64(text[i]))
	}
	return append(ids, 2), nil
}

func (fakeTok) Pad(ids []int64, n int) ([]int64, []int64, int) {
	padded, mask := make([]int64, n), make([]int64, n)
	dropped := 0
	if len(ids) > n {
		dropped = len(ids) - n
		ids = append(append([]int64{}, ids[:n-1]...), ids[len(ids)-1])
	}
	copy(padded, ids)
	for i := range ids {
		mask[i] = 1
	}
	return padded, mask, dropped
}

// expectedFake computes the image the fake models should produce, in Go.
func expectedFake(prompt string, seed int64, steps, res int) []float32 {
	raw, _ := fakeTok{}.Encode(prompt)
	ids, _, _ := fakeTok{}.Pad(raw, 77)
	var mean float64
	for _, id := range ids {
		mean += float64(id)
	}
	mean /= 77
	var pm float64
	for _, w := range fakePoolWeight() {
		pm += float64(float32(mean) * w)
	}
	pm /= 768
	g, _ := NewGrid(res, res)
	x := Pack(Noise(seed, g), g)
	ts, _ := Schedule(steps)
	for i := range steps {
		t := float32(ts[i])
		dt := float32(ts[i+1] - ts[i])
		for j := range x {
			x[j] += dt * (x[j]*t + float32(pm))
		}
	}
	z := Unpack(x, g)
	ToVAE(z)
	img := make([]float32, 3*res*res)
	for c := range 3 {
		for y := range res {
			for xx := range res {
				img[(c*res+y)*res+xx] = z[(c*g.H+y/8)*g.W+xx/8]
			}
		}
	}
	return img
}
