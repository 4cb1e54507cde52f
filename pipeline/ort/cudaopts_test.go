package ort

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "prefer_nhwc=1", want: map[string]string{"prefer_nhwc": "1"}},
		{in: " prefer_nhwc = 1 , cudnn_conv_algo_search=HEURISTIC", want: map[string]string{"prefer_nhwc": "1", "cudnn_conv_algo_search": "HEURISTIC"}},
		{in: "prefer_nhwc", wantErr: "not key=value"},
		{in: "a=1,,b=2", wantErr: "not key=value"},
		{in: "=1", wantErr: "not key=value"},
		{in: "Prefer=1", wantErr: "lower-case"},
		{in: "a=1,a=2", wantErr: "given twice"},
	}
	for _, tt := range tests {
		got, err := parseOptions(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), EnvCUDAOptions) {
				t.Errorf("parseOptions(%q) error %v, want %q naming $%s", tt.in, err, tt.wantErr, EnvCUDAOptions)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseOptions(%q): %v", tt.in, err)
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("parseOptions(%q) (-want +got):\n%s", tt.in, d)
		}
	}
}

// TestCUDAOptionsMerge: a session's own options, with the environment's
// over them key by key; the session's map is not changed.
func TestCUDAOptionsMerge(t *testing.T) {
	own := map[string]string{"prefer_nhwc": "1", "cudnn_conv_algo_search": "EXHAUSTIVE"}
	tests := []struct {
		env  string
		own  map[string]string
		want map[string]string
	}{
		{"", nil, map[string]string{}},
		{"", own, own},
		{"prefer_nhwc=0,sdpa_kernel=1", own, map[string]string{"prefer_nhwc": "0", "cudnn_conv_algo_search": "EXHAUSTIVE", "sdpa_kernel": "1"}},
		{"sdpa_kernel=1", nil, map[string]string{"sdpa_kernel": "1"}},
	}
	for _, tt := range tests {
		t.Setenv(EnvCUDAOptions, tt.env)
		got, err := cudaOptions(tt.own)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("env %q (-want +got):\n%s", tt.env, d)
		}
	}
	if own["prefer_nhwc"] != "1" || len(own) != 2 {
		t.Errorf("the session's options changed: %v", own)
	}
	t.Setenv(EnvCUDAOptions, "bad")
	if _, err := cudaOptions(own); err == nil {
		t.Error("a bad $" + EnvCUDAOptions + " gave no error")
	}
}
