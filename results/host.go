package results

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// Host describes the machine a run ran on.
type Host struct {
	Hostname string `json:"hostname"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	// CPUModel is "model name" from /proc/cpuinfo (empty where unknown).
	CPUModel string `json:"cpu_model,omitempty"`
	// Cores is runtime.NumCPU: the logical CPUs this process may use.
	Cores int `json:"cores"`
	// MemoryBytes is MemTotal from /proc/meminfo (0 where unknown).
	MemoryBytes uint64 `json:"memory_bytes,omitempty"`
	// GPUs lists what nvidia-smi reports; absent without nvidia-smi.
	GPUs []GPU `json:"gpus,omitempty"`
}

// GPU is one line of nvidia-smi --query-gpu output.
type GPU struct {
	Index       int    `json:"index"`
	Name        string `json:"name"`
	Driver      string `json:"driver"`
	MemoryBytes uint64 `json:"memory_bytes"`
}

// gpuQuery is the nvidia-smi query; parseNvidiaSMI reads its output.
var gpuQuery = []string{"--query-gpu=index,name,driver_version,memory.total", "--format=csv,noheader,nounits"}

// CollectHost gathers the host facts. Missing sources (no /proc on this
// OS, no nvidia-smi on PATH) leave their fields empty; the returned error
// lists what could not be read but the Host is still usable.
func CollectHost(ctx context.Context) (Host, error) {
	h := Host{OS: runtime.GOOS, Arch: runtime.GOARCH, Cores: runtime.NumCPU()}
	var errs []error
	var err error
	if h.Hostname, err = os.Hostname(); err != nil {
		errs = append(errs, fmt.Errorf("hostname: %w", err))
	}
	if runtime.GOOS == "linux" {
		if h.CPUModel, err = readProc("/proc/cpuinfo", parseCPUModel); err != nil {
			errs = append(errs, err)
		}
		if h.MemoryBytes, err = readProc("/proc/meminfo", parseMemTotal); err != nil {
			errs = append(errs, err)
		}
	}
	if h.GPUs, err = queryGPUs(ctx); err != nil {
		errs = append(errs, err)
	}
	return h, errors.Join(errs...)
}

func readProc[T any](path string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// parseCPUModel returns the first "model name" of /proc/cpuinfo; on
// architectures without one it falls back to "Model" or "cpu model".
func parseCPUModel(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	var fallback string
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "model name":
			return strings.TrimSpace(val), nil
		case "Model", "cpu model":
			if fallback == "" {
				fallback = strings.TrimSpace(val)
			}
		}
	}
	return fallback, sc.Err()
}

// parseMemTotal returns MemTotal from /proc/meminfo in bytes.
func parseMemTotal(r io.Reader) (uint64, error) {
	return parseKBField(r, "MemTotal")
}

// parseKBField finds "name:   1234 kB" in a /proc status-like file.
func parseKBField(r io.Reader, name string) (uint64, error) {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || key != name {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("line %d: %s: want \"<n> kB\", got %q", n, name, strings.TrimSpace(val))
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("line %d: %s: %w", n, name, err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s line", name)
}

// queryGPUs runs nvidia-smi when it is on PATH; without it there is no GPU
// to report and no error.
func queryGPUs(ctx context.Context) ([]GPU, error) {
	bin, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil, nil
	}
	out, err := exec.CommandContext(ctx, bin, gpuQuery...).Output()
	if err != nil {
		return nil, fmt.Errorf("nvidia-smi: %w", err)
	}
	gpus, err := parseNvidiaSMI(string(out))
	if err != nil {
		return nil, fmt.Errorf("nvidia-smi output: %w", err)
	}
	return gpus, nil
}

// parseNvidiaSMI reads "index, name, driver, memory MiB" lines, as
// nvidia-smi prints them with --format=csv,noheader,nounits. GPU names do
// not contain commas, so a plain split is enough.
func parseNvidiaSMI(out string) ([]GPU, error) {
	var gpus []GPU
	for n, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: want 4 fields (index, name, driver, memory), got %d: %q", n+1, len(f), line)
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		idx, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: index: %w", n+1, err)
		}
		g := GPU{Index: idx, Name: f[1], Driver: f[2]}
		// memory.total is "[N/A]" on some virtualised devices; keep 0 then.
		if mib, err := strconv.ParseUint(f[3], 10, 64); err == nil {
			g.MemoryBytes = mib << 20
		} else if !strings.Contains(f[3], "N/A") {
			return nil, fmt.Errorf("line %d: memory.total: %w", n+1, err)
		}
		gpus = append(gpus, g)
	}
	return gpus, nil
}
