package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/splatbench/splatbench/results"
	"github.com/splatbench/splatbench/results/table"
)

// MetaRows turns run metadata into the report's metadata table: run id,
// command line, times, host, GPUs, runtime versions and build.
func MetaRows(runID string, m results.Meta) []table.KeyValue {
	var rows []table.KeyValue
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, table.KeyValue{Key: k, Value: v})
		}
	}
	add("run", runID)
	add("command", strings.Join(m.CommandLine, " "))
	if !m.Start.IsZero() {
		add("started", m.Start.UTC().Format("2006-01-02 15:04:05 MST"))
	}
	if !m.End.IsZero() {
		add("finished", fmt.Sprintf("%s (%s)", m.End.UTC().Format("2006-01-02 15:04:05 MST"), m.End.Sub(m.Start).Round(1e9)))
	}
	h := m.Host
	host := h.Hostname
	if h.OS != "" {
		host = strings.TrimSpace(host + " " + h.OS + "/" + h.Arch)
	}
	add("host", host)
	cpu := []string{}
	if h.CPUModel != "" {
		cpu = append(cpu, h.CPUModel)
	}
	if h.Cores > 0 {
		cpu = append(cpu, fmt.Sprintf("%d logical cores", h.Cores))
	}
	add("cpu", strings.Join(cpu, ", "))
	if h.MemoryBytes > 0 {
		add("memory", gib(h.MemoryBytes))
	}
	for _, g := range h.GPUs {
		add(fmt.Sprintf("gpu %d", g.Index), fmt.Sprintf("%s, driver %s, %s", g.Name, g.Driver, gib(g.MemoryBytes)))
	}
	for _, k := range slices.Sorted(maps.Keys(m.Device)) {
		add("device "+k, m.Device[k])
	}
	add("onnx runtime", m.ORTVersion)
	add("cuda", m.CUDAVersion)
	add("splatbench", m.Version)
	add("go", m.GoVersion)
	add("git commit", m.GitCommit)
	return rows
}

func gib(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }
