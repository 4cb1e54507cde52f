package cuda

import "testing"

func TestRatesOf(t *testing.T) {
	tests := []struct {
		name  string
		flops float64 // 0: not in the table
		bw    float64
	}{
		{"NVIDIA H200", 989e12, 4.8e12},
		{"NVIDIA H200 NVL", 835e12, 4.8e12},
		{"NVIDIA H100 80GB HBM3", 989e12, 3.35e12},
		{"NVIDIA H100 PCIe", 756e12, 2.0e12},
		{"NVIDIA H100 NVL", 835e12, 3.9e12},
		{"NVIDIA A100-SXM4-80GB", 312e12, 2.039e12},
		{"NVIDIA A100-SXM4-40GB", 312e12, 1.555e12},
		{"NVIDIA A100 80GB PCIe", 312e12, 1.935e12},
		{"NVIDIA A100-PCIE-40GB", 312e12, 1.555e12},
		{"NVIDIA L40S", 362e12, 0.864e12},
		{"NVIDIA GeForce RTX 4090", 165e12, 1.008e12},
		{"NVIDIA GH200 480GB", 0, 0}, // not an H200
		{"Tesla T4", 0, 0},
		{"", 0, 0},
	}
	for _, tt := range tests {
		r, ok := RatesOf(tt.name)
		if ok != (tt.flops > 0) || r.FLOPs != tt.flops || r.Bandwidth != tt.bw {
			t.Errorf("RatesOf(%q) = %+v, %v; want %g FLOP/s, %g B/s", tt.name, r, ok, tt.flops, tt.bw)
		}
	}
}
