package ort

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvLibrary names the environment variable that points at the ONNX Runtime
// shared library.
const EnvLibrary = "SPLATBENCH_ORT_LIB"

// LibraryName is the file name scripts/setup.sh installs under <cache>/ort.
const LibraryName = "libonnxruntime.so.1"

// GPUDir is the cache folder scripts/setup-gpu.sh (`make setup-gpu`) fills
// with a core library and ONNX Runtime's CUDA provider beside it.
const GPUDir = "ort-gpu"

// nvidiaDevice is the device node whose presence says this machine has an
// NVIDIA driver loaded (a variable for tests).
var nvidiaDevice = "/dev/nvidiactl"

// CacheDir returns splatbench's cache directory, by the same rule as
// scripts/setup.sh: $SPLATBENCH_CACHE, else $XDG_CACHE_HOME/splatbench, else
// $HOME/.cache/splatbench. It returns "" when none of these can be formed.
func CacheDir() string {
	if d := os.Getenv("SPLATBENCH_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "splatbench")
	}
	if h := os.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "splatbench")
	}
	return ""
}

// FindLibrary locates the ONNX Runtime shared library: flagPath when it is
// not empty, then $SPLATBENCH_ORT_LIB, then, on a machine with an NVIDIA
// device, <CacheDir>/ort-gpu/libonnxruntime.so.1 (make setup-gpu), then
// <CacheDir>/ort/libonnxruntime.so.1. source says which of "flag", "env",
// "cache-gpu" or "cache" gave the path. A path given
// by the flag or the environment that does not exist is an error at once (the
// user asked for that file); the error lists every place tried.
func FindLibrary(flagPath string) (path, source string, err error) {
	var tried []string
	check := func(p, src string) bool {
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.Mode().IsRegular():
			return true
		case err == nil:
			tried = append(tried, fmt.Sprintf("%s %s (not a regular file)", src, p))
		case errors.Is(err, fs.ErrNotExist):
			tried = append(tried, fmt.Sprintf("%s %s (not found)", src, p))
		default:
			tried = append(tried, fmt.Sprintf("%s %s (%v)", src, p, err))
		}
		return false
	}
	fail := func() (string, string, error) {
		return "", "", fmt.Errorf("ONNX Runtime library not found; tried %s; run make setup (or pass the library path)",
			strings.Join(tried, ", "))
	}
	if flagPath != "" {
		if check(flagPath, "flag") {
			return flagPath, "flag", nil
		}
		return fail()
	}
	if p := os.Getenv(EnvLibrary); p != "" {
		if check(p, "$"+EnvLibrary) {
			return p, "env", nil
		}
		return fail()
	}
	tried = append(tried, "$"+EnvLibrary+" (unset)")
	dir := CacheDir()
	if dir == "" {
		tried = append(tried, "cache (no SPLATBENCH_CACHE, XDG_CACHE_HOME or HOME)")
		return fail()
	}
	if _, err := os.Stat(nvidiaDevice); err == nil {
		if p := filepath.Join(dir, GPUDir, LibraryName); check(p, "cache-gpu") {
			return p, "cache-gpu", nil
		}
	} else {
		tried = append(tried, fmt.Sprintf("cache-gpu (no NVIDIA device %s)", nvidiaDevice))
	}
	p := filepath.Join(dir, "ort", LibraryName)
	if check(p, "cache") {
		return p, "cache", nil
	}
	return fail()
}
