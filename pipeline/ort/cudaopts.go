package ort

import (
	"fmt"
	"maps"
	"os"
	"strings"
)

// EnvCUDAOptions names the environment variable with extra options for ONNX
// Runtime's CUDA provider, "key=value,key=value" with the provider's own
// keys (prefer_nhwc=1, cudnn_conv_algo_search=HEURISTIC, ...). A bad value
// makes the CUDA provider fail to append: sessions fall back, and say why.
const EnvCUDAOptions = "SPLATBENCH_CUDA_OPTIONS"

// cudaOptions returns a new map: own (a session's options, WithCUDAOptions),
// then EnvCUDAOptions over them, key by key.
func cudaOptions(own map[string]string) (map[string]string, error) {
	env, err := parseOptions(os.Getenv(EnvCUDAOptions))
	if err != nil {
		return nil, err
	}
	out := maps.Clone(own)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, env)
	return out, nil
}

// parseOptions parses "k=v,k=v" (spaces around items ignored; empty: none).
// Keys are lower-case letters, digits and '_'; a key given twice is an error.
func parseOptions(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, item := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "" || v == "":
			return nil, fmt.Errorf("$%s: %q is not key=value", EnvCUDAOptions, item)
		case strings.IndexFunc(k, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') }) >= 0:
			return nil, fmt.Errorf("$%s: key %q: want lower-case letters, digits and _", EnvCUDAOptions, k)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("$%s: key %q given twice", EnvCUDAOptions, k)
		}
		out[k] = v
	}
	return out, nil
}
