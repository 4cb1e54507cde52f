package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/splatbench/splatbench/results/atomicfile"
	"github.com/splatbench/splatbench/results/table"
)

// SchemaVersion is the run.json schema this build writes and reads. Bump it
// when a field changes meaning or disappears; adding an optional field does
// not need a bump.
const SchemaVersion = 1

// Meta is run.json: what ran, where, with what. Profile and Sweep are the
// caller's configuration as JSON, stored verbatim.
type Meta struct {
	// Schema is the run.json schema version; WriteMeta fills it in.
	Schema int `json:"schema"`
	// Version is the splatbench version (module version or "(devel)").
	Version string `json:"splatbench_version"`
	// Command is the subcommand ("bench", "tune", "mine", ...).
	Command string `json:"command"`
	// CommandLine is os.Args as the process saw it.
	CommandLine []string `json:"command_line"`
	// Profile is the profile the run used, as JSON (nil: none).
	Profile json.RawMessage `json:"profile,omitempty"`
	// Sweep is the sweep space of a tune run, as JSON (nil: none).
	Sweep json.RawMessage `json:"sweep,omitempty"`
	// Host describes the machine; see CollectHost.
	Host Host `json:"host"`
	// Device holds caller-supplied device facts that nvidia-smi does not
	// give (execution provider order, CUDA driver API version, dtype...).
	Device map[string]string `json:"device,omitempty"`
	// ORTVersion is the ONNX Runtime library version that was loaded.
	ORTVersion string `json:"ort_version,omitempty"`
	// CUDAVersion is the CUDA driver API version, when a GPU was used.
	CUDAVersion string `json:"cuda_version,omitempty"`
	// Caveats are what every reader of the run's numbers must know, one
	// sentence each (models with random weights ran: scores are noise).
	Caveats []string `json:"caveats,omitempty"`
	// GoVersion is the toolchain that built the binary.
	GoVersion string `json:"go_version"`
	// GitCommit is the VCS revision the binary was built from, with
	// "+dirty" when the tree had changes, or "unknown".
	GitCommit string `json:"git_commit"`
	// Start and End bound the run; End is zero while it is going on.
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
}

// NewMeta starts a Meta with the build facts (splatbench version, Go
// version, git commit) and the command filled in. Host, device and
// configuration are the caller's to add.
func NewMeta(command string, commandLine []string, start time.Time) Meta {
	b := ReadBuild()
	return Meta{
		Schema:      SchemaVersion,
		Version:     b.Version,
		Command:     command,
		CommandLine: commandLine,
		GoVersion:   b.GoVersion,
		GitCommit:   b.Commit,
		Start:       start.UTC(),
	}
}

// SchemaError reports a run.json written with a schema this build does not
// read.
type SchemaError struct {
	File string
	Got  int
	Want int
}

func (e *SchemaError) Error() string {
	if e.Got == 0 {
		return fmt.Sprintf("%s: no schema version, this splatbench reads %d", e.File, e.Want)
	}
	return fmt.Sprintf("%s: schema %d, this splatbench reads %d", e.File, e.Got, e.Want)
}

// ReadMetaFile reads a run.json file.
func ReadMetaFile(path string) (Meta, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Meta{}, fmt.Errorf("read run metadata: %w", err)
	}
	return DecodeMeta(filepath.Base(path), data)
}

// DecodeMeta parses run.json content; name is used in errors. The schema
// version is checked before anything else, so a file from a newer
// splatbench says so instead of failing on some renamed field.
func DecodeMeta(name string, data []byte) (Meta, error) {
	var head struct {
		Schema int `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Meta{}, fmt.Errorf("%s: %w", name, err)
	}
	if head.Schema != SchemaVersion {
		return Meta{}, &SchemaError{File: name, Got: head.Schema, Want: SchemaVersion}
	}
	var m Meta
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return Meta{}, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// WriteMetaFile writes m as indented JSON to path atomically (temporary
// file in the same directory, fsync, rename). The schema version is always
// set to SchemaVersion.
func WriteMetaFile(path string, m Meta) error {
	m.Schema = SchemaVersion
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	data = append(data, '\n')
	return atomicfile.WriteFile(path, data, 0o644)
}

// BenchConfig is the configuration header of a benchmark file (bench.txt)
// of this run: go test's goos, goarch, cpu and pkg, then the commit, the
// ONNX Runtime version and one "gpu" line per GPU (name, driver, memory),
// so that a GPU number always names its card.
func (m Meta) BenchConfig(pkg string) []table.KeyValue {
	cfg := append(table.BenchConfig(m.Host.CPUModel, pkg),
		table.KeyValue{Key: "commit", Value: m.GitCommit}, table.KeyValue{Key: "ort", Value: m.ORTVersion})
	for _, g := range m.Host.GPUs {
		cfg = append(cfg, table.KeyValue{Key: "gpu", Value: fmt.Sprintf("%s, driver %s, %d MiB", g.Name, g.Driver, g.MemoryBytes>>20)})
	}
	return cfg
}
