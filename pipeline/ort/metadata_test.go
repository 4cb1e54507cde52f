package ort

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	onnx "github.com/yalue/onnxruntime_go"

	"github.com/splatbench/splatbench/pipeline/ort/onnxtest"
)

// metadataModel is a small runnable model with md as its metadata_props.
func metadataModel(md map[string]string) onnxtest.Model {
	return onnxtest.Model{
		Inputs:   []onnxtest.Value{onnxtest.V("x", onnxtest.Float, 1, 4)},
		Outputs:  []onnxtest.Value{onnxtest.V("y", onnxtest.Float, 1, 4)},
		Nodes:    []onnxtest.Node{{Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}},
		Inits:    []onnxtest.Init{{Name: "w", Shape: []int64{256}, Values: make([]float32, 256)}},
		Metadata: md,
	}
}

// TestReadMetadataMatchesORT: what ReadMetadata finds is what ONNX
// Runtime's own parser finds (OrtModelMetadata's custom map), and Inspect
// carries it.
func TestReadMetadataMatchesORT(t *testing.T) {
	rt := testRuntime(t)
	tests := []struct {
		name string
		md   map[string]string
	}{
		{"none", nil},
		{"random weights", map[string]string{WeightsKey: RandomWeights, "splatbench.producer": "tools/make_gpu_models.py"}},
		{"unicode and empty", map[string]string{"größe": "12 GiB", "empty": "", "": "no key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := metadataModel(tc.md).Write(t, t.TempDir(), "m.onnx")
			got, err := ReadMetadata(path)
			if err != nil {
				t.Fatal(err)
			}
			mm, err := onnx.GetModelMetadata(path)
			if err != nil {
				t.Fatal(err)
			}
			defer mm.Destroy()
			keys, err := mm.GetCustomMetadataMapKeys()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for _, k := range keys {
				v, _, err := mm.LookupCustomMetadataMap(k)
				if err != nil {
					t.Fatal(err)
				}
				want[k] = v
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ReadMetadata differs from ONNX Runtime's reading (-ort +ours):\n%s", d)
			}
			sig, err := rt.Inspect(path)
			if err != nil {
				t.Fatal(err)
			}
			if r := sig.RandomWeights(); r != (tc.md[WeightsKey] == RandomWeights) {
				t.Errorf("RandomWeights() = %v with metadata %v", r, tc.md)
			}
		})
	}
}

// TestReadMetadataMalformed: a file that is not a protobuf at the top
// level, or whose fields run past its end, gives an error naming the file;
// oversized and surplus entries are skipped, not read.
func TestReadMetadataMalformed(t *testing.T) {
	good := metadataModel(map[string]string{WeightsKey: RandomWeights}).Bytes()
	entry := func(k, v string) []byte {
		e := binary.AppendUvarint([]byte{0x0a}, uint64(len(k)))
		e = append(e, k...)
		e = append(binary.AppendUvarint(append(e, 0x12), uint64(len(v))), v...)
		return append(binary.AppendUvarint([]byte{0x72}, uint64(len(e))), e...) // field 14, length-delimited
	}
	var many []byte
	for i := range maxMetadataEntries + 10 {
		many = append(many, entry(strings.Repeat("k", i+1), "v")...)
	}
	tests := []struct {
		name    string
		data    []byte
		wantErr bool
		wantLen int
	}{
		{"good", good, false, 1},
		{"text", []byte("this is a README, not a model\n"), true, 0},
		{"truncated", good[:len(good)-3], true, 0},
		{"length past the end", []byte{0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f}, true, 0},
		{"group wire type", []byte{0x0b}, true, 0},
		{"entry not UTF-8 skipped", append(entry("k", "\xff\xfe"), entry("k2", "v")...), false, 1},
		{"oversized entry skipped", append(entry("big", strings.Repeat("x", maxMetadataEntry)), entry("k", "v")...), false, 1},
		{"surplus entries skipped", many, false, maxMetadataEntries},
		{"empty", nil, false, 0},
	}
	if _, err := ReadMetadata(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadMetadata(a directory) = %v, want a not-a-regular-file error", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.onnx")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			md, err := ReadMetadata(path)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, errProtobuf) {
					t.Fatalf("ReadMetadata = %v, %v: want a malformed-protobuf error naming %s", md, err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(md) != tc.wantLen {
				t.Errorf("%d entries, want %d", len(md), tc.wantLen)
			}
		})
	}
}

// FuzzReadMetadata feeds arbitrary bytes to the metadata reader: an error
// or a bounded map, never a crash or an allocation the input asks for.
func FuzzReadMetadata(f *testing.F) {
	f.Add(metadataModel(map[string]string{WeightsKey: RandomWeights}).Bytes())
	f.Add(metadataModel(nil).Bytes())
	f.Add([]byte{0x72, 0x05, 0x0a, 0x01, 'k', 0x12, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := readMetadata(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, errProtobuf) {
				t.Errorf("error %v does not wrap errProtobuf", err)
			}
			return
		}
		if len(md) > maxMetadataEntries {
			t.Errorf("%d entries, more than %d", len(md), maxMetadataEntries)
		}
		for k, v := range md {
			if len(k)+len(v) > maxMetadataEntry {
				t.Errorf("entry of %d bytes, more than %d", len(k)+len(v), maxMetadataEntry)
			}
		}
	})
}

// TestRandomWeightModels: a session on a model marked random puts its path
// in the runtime's list and caveat; an unmarked one does not.
func TestRandomWeightModels(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	marked := metadataModel(map[string]string{WeightsKey: RandomWeights}).Write(t, dir, "marked.onnx")
	plain := metadataModel(map[string]string{WeightsKey: "trained"}).Write(t, dir, "plain.onnx")
	spec := Spec{Inputs: []Tensor{T("x", Float32, 1, 4)}, Outputs: []Tensor{T("y", Float32, 1, 4)}}
	for _, p := range []string{marked, plain} {
		s, err := rt.NewSession(t.Context(), p, spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	ms := rt.RandomWeightModels()
	if !slices.Contains(ms, marked) || slices.Contains(ms, plain) {
		t.Errorf("RandomWeightModels() = %v: want %s in it and not %s", ms, marked, plain)
	}
	if c := rt.RandomWeightsCaveat(); !strings.Contains(c, marked) || strings.Contains(c, plain) || !strings.Contains(c, "noise") {
		t.Errorf("caveat %q: want it to name %s (not %s) and say the outputs are noise", c, marked, plain)
	}
}
