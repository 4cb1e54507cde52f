package results

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCPUModel(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"x86", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\nmodel name\t: AMD EPYC 9654 96-Core Processor\n", "AMD EPYC 9654 96-Core Processor"},
		{"arm", "processor\t: 0\nBogoMIPS\t: 50.00\n\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n", "Raspberry Pi 4 Model B Rev 1.4"},
		{"none", "processor: 0\n", ""},
	}
	for _, tt := range tests {
		got, err := parseCPUModel(strings.NewReader(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("%s: parseCPUModel = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestParseKBField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, field string
		want            uint64
		wantErr         string
	}{
		{"meminfo", "MemTotal:       16318264 kB\nMemFree:         1 kB\n", "MemTotal", 16318264 * 1024, ""},
		{"status", "Name:\tgo\nVmPeak:\t  100 kB\nVmHWM:\t    2048 kB\n", "VmHWM", 2048 * 1024, ""},
		{"prefix is not a match", "VmHWMX:  1 kB\n", "VmHWM", 0, "no VmHWM line"},
		{"bad unit", "VmHWM:  1 MB\n", "VmHWM", 0, `line 1: VmHWM: want "<n> kB", got "1 MB"`},
		{"bad number", "a: b\nVmHWM:  x kB\n", "VmHWM", 0, "line 2: VmHWM: strconv.ParseUint"},
	}
	for _, tt := range tests {
		got, err := parseKBField(strings.NewReader(tt.in), tt.field)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: = %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
}

func TestParseNvidiaSMI(t *testing.T) {
	t.Parallel()
	out := "0, NVIDIA H100 80GB HBM3, 580.65.06, 81559\n1, NVIDIA A10G, 535.104.05, [N/A]\n\n"
	got, err := parseNvidiaSMI(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []GPU{
		{Index: 0, Name: "NVIDIA H100 80GB HBM3", Driver: "580.65.06", MemoryBytes: 81559 << 20},
		{Index: 1, Name: "NVIDIA A10G", Driver: "535.104.05"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"0, H100, 580\n", "x, H100, 580, 1\n", "0, H100, 580, lots\n"} {
		if _, err := parseNvidiaSMI(bad); err == nil {
			t.Errorf("parseNvidiaSMI(%q) succeeded", bad)
		}
	}
	if got, err := parseNvidiaSMI(""); err != nil || got != nil {
		t.Errorf("empty output = %v, %v", got, err)
	}
}

func TestCollectHost(t *testing.T) {
	t.Parallel()
	h, err := CollectHost(context.Background())
	if err != nil {
		t.Logf("CollectHost warnings: %v", err)
	}
	if h.OS != runtime.GOOS || h.Arch != runtime.GOARCH || h.Cores < 1 || h.Hostname == "" {
		t.Errorf("host = %+v", h)
	}
	if runtime.GOOS == "linux" && h.MemoryBytes == 0 {
		t.Errorf("no memory total on linux: %+v", h)
	}
}

func TestPeakRSS(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM is Linux-only")
	}
	n, err := PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	if n < 1<<20 {
		t.Errorf("PeakRSS = %d bytes, implausibly small for a Go test binary", n)
	}
}
