package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/splatbench/splatbench/results/table"
)

func TestMetaRoundTrip(t *testing.T) {
	t.Parallel()
	r, err := Create(t.TempDir(), "tune", testNow)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMeta("tune", []string{"splatbench", "tune", "--out", "runs"}, testNow)
	m.Profile = json.RawMessage(`{"flux":{"steps":4}}`)
	m.Sweep = json.RawMessage(`{"flux.steps":[1,2,4]}`)
	m.Host = Host{Hostname: "h", OS: "linux", Arch: "amd64", CPUModel: "cpu", Cores: 2, MemoryBytes: 8 << 30,
		GPUs: []GPU{{Index: 0, Name: "NVIDIA H100 80GB HBM3", Driver: "580.65", MemoryBytes: 81559 << 20}}}
	m.Device = map[string]string{"providers": "CUDAExecutionProvider,CPUExecutionProvider"}
	m.ORTVersion = "1.30.0"
	m.End = testNow.Add(time.Hour).UTC()
	if err := r.WriteMeta(m); err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadMeta()
	if err != nil {
		t.Fatal(err)
	}
	// run.json is indented, so raw JSON comes back re-indented: compare compacted.
	compact := cmp.Transformer("compact", func(raw json.RawMessage) string {
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return "invalid: " + err.Error()
		}
		return b.String()
	})
	if diff := cmp.Diff(m, got, compact); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.Schema != SchemaVersion || got.GoVersion == "" || got.GitCommit == "" || !got.Start.Equal(testNow) {
		t.Errorf("NewMeta fields: %+v", got)
	}
	// The atomic write leaves no temporary files behind.
	entries, _ := os.ReadDir(r.Dir())
	if len(entries) != 1 || entries[0].Name() != MetaFile {
		t.Errorf("run dir holds %v, want only %s", entries, MetaFile)
	}
	// Overwriting (the end time at the end of a run) works too.
	m.End = m.End.Add(time.Minute)
	if err := r.WriteMeta(m); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.ReadMeta(); !got.End.Equal(m.End) {
		t.Errorf("rewritten End = %v, want %v", got.End, m.End)
	}
}

func TestDecodeMetaErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, want string
		schema           bool
	}{
		{"newer", `{"schema":3,"whatever":[]}`, "run.json: schema 3, this splatbench reads 1", true},
		{"older", `{"schema":-1}`, "run.json: schema -1, this splatbench reads 1", true},
		{"missing", `{"command":"tune"}`, "run.json: no schema version, this splatbench reads 1", true},
		{"garbage", `{"schema":`, "run.json: unexpected end of JSON input", false},
		{"bad field", `{"schema":1,"start":"yesterday"}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeMeta(MetaFile, []byte(tt.data))
			if err == nil {
				t.Fatal("no error")
			}
			var se *SchemaError
			if errors.As(err, &se) != tt.schema {
				t.Errorf("SchemaError = %v, want %v", errors.As(err, &se), tt.schema)
			}
			if tt.want != "" && err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
		})
	}
}

func TestReadMetaMissing(t *testing.T) {
	t.Parallel()
	_, err := ReadMetaFile(filepath.Join(t.TempDir(), MetaFile))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

func TestBuildFrom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		info debug.BuildInfo
		want Build
	}{
		{
			name: "clean",
			info: debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"},
				Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "false"}}},
			want: Build{Version: "v0.3.0", GoVersion: "go1.26.8", Commit: "abc123"},
		},
		{
			name: "dirty",
			info: debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: "abc123"}}},
			want: Build{Version: "(devel)", GoVersion: "go1.26.8", Commit: "abc123+dirty"},
		},
		{
			name: "no vcs",
			info: debug.BuildInfo{GoVersion: "go1.26.8"},
			want: Build{Version: "(devel)", GoVersion: "go1.26.8", Commit: "unknown"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, buildFrom(&tt.info)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestBenchConfig: bench.txt's header names the run's commit, ONNX Runtime
// and every GPU, so that a GPU number carries its card.
func TestBenchConfig(t *testing.T) {
	m := Meta{GitCommit: "abc123", ORTVersion: "1.29.0", Host: Host{CPUModel: "Xeon", GPUs: []GPU{
		{Index: 0, Name: "NVIDIA H100 80GB HBM3", Driver: "580.159.04", MemoryBytes: 81559 << 20},
	}}}
	got := m.BenchConfig("splatbench")
	want := append(table.BenchConfig("Xeon", "splatbench"),
		table.KeyValue{Key: "commit", Value: "abc123"}, table.KeyValue{Key: "ort", Value: "1.29.0"},
		table.KeyValue{Key: "gpu", Value: "NVIDIA H100 80GB HBM3, driver 580.159.04, 81559 MiB"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("BenchConfig (-want +got):\n%s", diff)
	}
}
